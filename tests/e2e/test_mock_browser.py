"""A whole mock interview in a real browser, at desktop and phone sizes: an interview
added to the plan, a five-question mock interview for it (by keyboard on the desktop,
by taps on the phone), the report, and a question's attempt history. Every page fits
its viewport; the phone runs in Chinese and the dark theme, with no English outside
content and names."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.e2e.checks import SIZES, assert_fits, visible_english
from tests.e2e.conftest import Server, screenshot

COUNT = 5


def add_interview(page: Any, server: Server) -> None:
    page.goto(server.url + "/interviews")
    page.fill("#add-interview input[name=company]", "阿里国际")
    page.fill("#add-interview input[name=stage]", "一面")
    day = dt.date.today() + dt.timedelta(days=7)
    page.fill("#add-interview input[name=date]", day.isoformat())
    page.click("#add-interview button[type=submit]")
    page.wait_for_selector("li.interview")


def check(page: Any, what: str, chinese: bool) -> None:
    assert_fits(page, what)
    if chinese:
        assert visible_english(page) == [], what


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_five_question_mock_interview_for_an_interview_of_the_plan(
    server: Server, browser: Any, size: str
) -> None:
    phone = size == "phone"
    page = browser.new_page(
        locale="zh-CN" if phone else "en-US",
        viewport=SIZES[size],
        color_scheme="dark" if phone else "light",
        has_touch=phone,
        is_mobile=phone,
    )
    add_interview(page, server)
    page.click("header nav a[href='/mock']")
    page.check("input[name=interview_id]:not([value=''])")
    page.fill("input[name=count]", str(COUNT))
    page.fill("input[name=minutes]", "30")
    check(page, "new mock", phone)
    screenshot(page, f"mock-new-{size}")
    page.click("#mock-new button[type=submit]")
    asked: list[str] = []
    for n in range(COUNT):
        page.wait_for_selector("section#mock[data-step=answer]")
        assert int(page.get_attribute("section#mock", "data-position") or -1) == n
        if n == 0:
            # The clock runs: a second later the question's time has moved on.
            before = page.inner_text("#question-time")
            page.wait_for_function(
                "t => document.querySelector('#question-time').textContent !== t", arg=before
            )
            assert page.inner_text("#total-left").startswith("29:")
            check(page, "question", phone)
            screenshot(page, f"mock-question-{size}")
        answer = "LoRA 低秩分解：量化后的 LORA，4-bit，全零初始化"
        if phone:
            page.fill("#answer-text", answer)
            page.click("#answer-form button[type=submit]")
        else:
            page.click("#answer-text")
            page.keyboard.type(answer)
            page.keyboard.press("Control+Enter")
        page.wait_for_selector("section#mock[data-step=grade]")
        question_id = page.get_attribute("section#mock", "data-question") or ""
        asked.append(question_id)
        assert page.inner_text("#your-answer .given") == answer
        if n == 0:
            check(page, "comparison", phone)
            screenshot(page, f"mock-compare-{size}")
        boxes = page.locator("#key-points input[name=covered]")
        if boxes.count():
            boxes.last.check()  # a point said in other words, ticked by hand
        if phone:
            page.click("#ratings button[data-rating='3']")
        else:
            page.keyboard.press("3")  # focus on the ticked box: a digit still grades
    page.wait_for_selector("#mock-report")
    assert page.locator("#mock-items tbody tr").count() == COUNT
    grades = page.locator("#mock-items tbody td.grade").all_inner_texts()
    assert grades == ["良好" if phone else "Good"] * COUNT
    assert len(set(asked)) == COUNT
    check(page, "report", phone)
    screenshot(page, f"mock-report-{size}")
    # The first question's history, from its page.
    page.goto(server.url + f"/questions/{asked[0]}")
    page.click(".attempts-link a[href$='/attempts']")
    page.wait_for_selector("#attempts li.attempt")
    assert page.locator("#attempts li.attempt").count() == 1
    assert "LoRA 低秩分解" in page.inner_text("#attempts li.attempt .given")
    check(page, "history", phone)
    screenshot(page, f"mock-history-{size}")
