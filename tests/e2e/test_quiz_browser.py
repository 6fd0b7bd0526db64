"""In a real browser: take a 3-question quiz to the end and see the results page."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Server, screenshot


def test_a_three_question_quiz_to_the_results(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 420, "height": 900})
    page.goto(server.url + "/quizzes")
    page.fill("input[name=count]", "3")
    page.click("form.quiz-new button[type=submit]")
    for n in range(1, 4):
        page.wait_for_function(
            "t => document.querySelector('#progress')?.textContent === t", arg=f"Question {n} of 3"
        )
        kind = page.locator("section.quiz").get_attribute("data-type")
        if kind == "takeaway":
            page.locator("input[name=choice]").first.check()
            page.click("#answer-form button[type=submit]")
        elif kind == "cloze":
            page.fill("input[name=text]", "LoRA")
            page.click("#answer-form button[type=submit]")
        else:
            page.fill("textarea[name=text]", "低秩分解 LoRA")
            page.click("#answer-form button[type=submit]")
            page.wait_for_selector(".recall-check")
            page.click("button[name=self_grade][value=true]")
        if n == 1:
            screenshot(page, "quiz")
    page.wait_for_selector("#score")
    assert page.locator("h1").inner_text() == "Quiz results"
    assert page.locator("#score").inner_text().endswith("/3")
    screenshot(page, "quiz-results")
