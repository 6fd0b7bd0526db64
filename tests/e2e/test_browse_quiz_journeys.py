"""Browse and quiz journeys in a real browser, at phone and desktop sizes: filter the
list, search, switch language (the filters stay), and take a quiz of each kind with
only that kind ticked. Every page fits its viewport and the Chinese interface shows
no English outside content and names. Screenshots in dark theme."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.e2e.checks import SIZES, assert_fits, visible_english
from tests.e2e.conftest import Server, screenshot


def new_page(browser: Any, server: Server, size: str, lang: str) -> Any:
    page = browser.new_page(viewport=SIZES[size])
    page.context.add_cookies([{"name": "lang", "value": lang, "url": server.url}])
    page.emulate_media(color_scheme="dark")
    return page


def query(page: Any) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(page.url).query, keep_blank_values=True)


def check_page(page: Any, what: str, chinese: bool) -> None:
    assert_fits(page, what)
    if chinese:
        assert visible_english(page) == [], what


@pytest.mark.parametrize("size", list(SIZES))
def test_browse_with_filters_search_and_a_language_switch(
    server: Server, browser: Any, size: str
) -> None:
    page = new_page(browser, server, size, "en")
    page.goto(server.url + "/questions")
    page.select_option("select[name=company]", "阿里")  # applies at once
    page.wait_for_url("**company=*")
    assert query(page) == [("company", "阿里")]  # no empty fields in the address
    assert page.input_value("select[name=company]") == "阿里"  # kept, not the placeholder
    lora = page.locator("select[name=tag] option[value=LORA]").inner_text()
    assert lora == "LORA (2)" and page.locator("li.question-item").count() == 3

    page.fill("input[name=q]", "低秩 分解")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**q=*")
    assert dict(query(page)) == {"company": "阿里", "q": "低秩 分解"}
    assert all(value for _, value in query(page))
    assert page.locator("li.question-item").count() >= 1
    assert page.locator(".snippet mark").count() >= 1
    assert page.locator(".card-state").first.inner_text() == "New"
    check_page(page, f"browse {size}", chinese=False)

    page.click("header .lang a[hreflang=zh]")
    page.wait_for_load_state()
    assert dict(query(page)) == {"company": "阿里", "q": "低秩 分解"}  # filters kept
    assert page.input_value("select[name=company]") == "阿里"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    check_page(page, f"browse in Chinese {size}", chinese=True)
    screenshot(page, f"browse-filtered-zh-{size}")

    # A tag chip is a link to the questions with that tag.
    page.locator("li.question-item .chip.tag a").first.click()
    page.wait_for_url("**tag=*")
    assert [name for name, _ in query(page)] == ["tag"]
    check_page(page, f"browse by tag {size}", chinese=True)


def wait_for_claims(server: Server) -> None:
    """Until the seed claims' run has given them a verdict (the workers import torch)."""
    for _ in range(90):
        with urllib.request.urlopen(server.url + "/api/claims", timeout=5) as response:
            claims = json.load(response)
        if claims and all(c["verdict"] != "pending" for c in claims):
            return
        time.sleep(1)
    pytest.fail("the claims' run gave no verdict in 90 s")


def answer(page: Any, kind: str, wrong: bool) -> None:
    if kind == "takeaway":
        page.locator("label.choice").nth(1 if wrong else 0).click()
        page.click("#answer-form button[type=submit]")
    elif kind == "cloze":
        page.fill("input[name=text]", "不对" if wrong else "LoRA")
        page.click("#answer-form button[type=submit]")
    elif kind == "truefalse":
        # The seed claims: "秩 ≤ min(行数, 列数)" holds, "秩越大…" is refuted.
        holds = "min" in page.locator("blockquote.statement").inner_text()
        page.click(f"button[name=choice][value='{int(holds != wrong)}']")
    else:
        page.fill("textarea[name=text]", "低秩分解 LoRA")
        page.click("#answer-form button[type=submit]")
        page.wait_for_selector(".recall-check")
        page.click("button[name=self_grade][value=false]")


@pytest.mark.slow
@pytest.mark.parametrize("size", list(SIZES))
def test_a_quiz_of_each_kind_in_chinese(claims_server: Server, browser: Any, size: str) -> None:
    wait_for_claims(claims_server)
    page = new_page(browser, claims_server, size, "zh")
    for kind in ("recall", "takeaway", "cloze", "truefalse"):
        page.goto(claims_server.url + "/quizzes")
        check_page(page, f"new quiz {size}", chinese=True)
        assert page.locator("select[multiple]").count() == 0
        page.locator("details.facet[data-facet=tag] summary").click()  # chips, no Ctrl-click
        for other in ("recall", "takeaway", "cloze", "truefalse"):
            box = page.locator(f"input[name=types][value={other}]")
            box.set_checked(other == kind)
        page.fill("input[name=count]", "2")
        if kind == "recall":
            screenshot(page, f"quiz-new-zh-{size}")
        page.click("form.quiz-new button[type=submit]")
        seen: list[str] = []
        while True:
            page.wait_for_selector("section.quiz, #score")
            if page.locator("#score").count():
                break
            current = page.locator("section.quiz").get_attribute("data-type")
            seen.append(str(current))
            check_page(page, f"{kind} item {size}", chinese=True)
            if len(seen) == 1:
                screenshot(page, f"quiz-{kind}-zh-{size}")
            answer(page, str(current), wrong=True)
            page.wait_for_load_state()
            if page.locator("#feedback").count():
                check_page(page, f"{kind} feedback {size}", chinese=True)
        assert seen and set(seen) == {kind}, seen  # only the ticked kind
        check_page(page, f"{kind} results {size}", chinese=True)
        mistakes = page.locator("li.mistake")
        for i in range(mistakes.count()):
            mistake = mistakes.nth(i)
            assert mistake.locator("dd.given").count() == 1
            # What was right beside it: the answer, or for written recall the key terms
            # (a question may have none) and always the reference answer.
            assert mistake.locator("section.answer").count() == 1
            if kind != "recall":
                assert mistake.locator("dd.expected").count() == 1
        if kind == "truefalse":
            assert page.locator("li.mistake dd.statement").count() >= 1
        screenshot(page, f"quiz-results-{kind}-zh-{size}")
