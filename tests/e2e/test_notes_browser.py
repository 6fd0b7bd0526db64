"""In a real browser: keep a note and your own answer on the question page, on a phone
(390 px, dark) and a desktop (1280 px, light), in Chinese; the page fits, the bank's
answer stays folded under yours, markup in a note never runs, and the review card's
back shows both."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.checks import SIZES, assert_fits, visible_english
from tests.e2e.conftest import Server, screenshot

QUESTION = "/questions/llm-sft-2e76f170"
# A long unbroken line too: a note must wrap, not widen the page.
NOTE = (
    "**面试时先说结论**：秩 $r \\ll d$。\n\n"
    "- 第一点\n- 第二点\n\n"
    + "x" * 300
    + '\n\n<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>'
)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_keep_a_note_and_your_own_answer(server: Server, browser: Any, size: str) -> None:
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": "zh", "url": server.url}])
    page = context.new_page()
    page.emulate_media(color_scheme="dark" if size == "phone" else "light")
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)

    page.goto(server.url + QUESTION)
    bank_text = page.locator("article > section.answer").inner_text()
    page.locator("#edit-note summary").click()
    assert_fits(page, f"note form at {size}")
    assert visible_english(page) == []
    page.fill("#note-text", NOTE)
    page.locator("#note-form button[type=submit]").click()
    page.wait_for_selector("#my-note")

    note = page.locator("#my-note .note-body")
    assert note.locator("strong").first.inner_text() == "面试时先说结论"
    assert note.locator("math").count() == 1 and note.locator("li").count() == 2
    assert page.evaluate("() => window.__xss") is None and not dialogs
    assert_fits(page, f"question page with a note at {size}")

    # Your own answer, on its own page: the form starts with the bank's text.
    page.locator("a#edit-own").click()
    page.wait_for_selector("#own-form")
    assert page.input_value("#own-answer").startswith("**1. 矩阵的秩**")
    assert_fits(page, f"own answer form at {size}")
    assert visible_english(page) == []
    page.fill("#own-answer", "我的答案：**先讲定义**，再举例。")
    page.fill("#own-takeaway", "我的要点")
    page.locator("#own-form button[type=submit]").click()
    page.wait_for_selector("#my-answer")

    assert page.locator("#my-answer strong").inner_text() == "先讲定义"
    assert page.locator("#my-takeaway mark").inner_text() == "我的要点"
    folded = page.locator("details#bank-answer")
    assert not folded.locator("section.answer").is_visible()
    folded.locator("summary").click()
    assert folded.locator("section.answer").inner_text() == bank_text
    assert_fits(page, f"own answer with the bank's open at {size}")
    assert visible_english(page) == []
    screenshot(page, f"question-notes-{size}")

    # The review card's back (the question is the first new card).
    page.goto(server.url + "/review?show=llm-sft-2e76f170")
    page.keyboard.press(" ")
    back = page.locator("#back")
    assert back.locator("#my-note strong").first.inner_text() == "面试时先说结论"
    assert back.locator("#my-answer").is_visible()
    assert_fits(page, f"card back at {size}")
    assert page.evaluate("() => window.__xss") is None and not dialogs
    screenshot(page, f"review-notes-{size}")
    context.close()
