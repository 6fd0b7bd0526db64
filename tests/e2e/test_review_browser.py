"""In a real browser: review with the keyboard, and screenshots of the main pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.models import Question
from app.study import review
from app.users.service import local_user
from tests.e2e.conftest import Server, screenshot


def make_due_cards(server: Server, count: int) -> None:
    """Give ``count`` questions a history that makes them due review cards now."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    with server.db() as session:
        user = local_user(session=session)
        ids = session.scalars(select(Question.id).order_by(Question.position).limit(count)).all()
        for qid in ids:
            for version, offset in enumerate((dt.timedelta(0), dt.timedelta(hours=1))):
                review.rate(
                    session=session,
                    user=user,
                    question_id=qid,
                    rating=3,
                    version=version,
                    duration_ms=1000,
                    now=start + offset,
                )


def due_count(page: Any) -> int:
    return int(page.locator("#due-count").inner_text())


def test_review_with_the_keyboard(server: Server, browser: Any) -> None:
    make_due_cards(server, 3)
    page = browser.new_page(locale="en-US", viewport={"width": 420, "height": 900})
    page.goto(server.url + "/review")
    assert due_count(page) == 3
    first = page.locator("#card").get_attribute("data-question")
    assert not page.locator("#back").is_visible()
    page.keyboard.press(" ")
    assert page.locator("#back").is_visible()
    assert page.locator("section.answer math").count() >= 0  # the answer is shown
    screenshot(page, "review-revealed")
    page.keyboard.press("3")
    page.wait_for_url("**/review**")
    page.wait_for_function(
        "first => document.querySelector('#card')?.dataset.question !== first", arg=first
    )
    assert due_count(page) == 2
    assert page.locator("#done-count").inner_text() == "1"
    screenshot(page, "review")

    # u undoes the last rating: the first card is back, and so is its due count.
    page.keyboard.press("u")
    page.wait_for_function(
        "first => document.querySelector('#card')?.dataset.question === first", arg=first
    )
    assert due_count(page) == 3
    assert page.locator("#done-count").inner_text() == "0"


def test_ticking_recalled_points_suggests_a_rating(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US")
    page.goto(server.url + "/review")
    page.keyboard.press("Enter")
    page.locator("#recall summary").click()  # the checklist is folded
    boxes = page.locator("#back input.recall-box")
    boxes.first.wait_for(state="attached")  # count() does not wait for the script
    assert boxes.count() >= 2, "the answer's top-level points become a checklist"
    suggested = page.locator("#ratings button.suggested")
    boxes.nth(0).check()
    assert suggested.get_attribute("data-rating") in ("1", "2", "3")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    assert suggested.get_attribute("data-rating") == "4"


def test_question_page_screenshot(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="zh-CN", viewport={"width": 1000, "height": 1200})
    page.goto(server.url + "/questions?q=矩阵的秩")
    page.locator("li.question-item a.title").first.click()
    page.wait_for_selector("section.answer math")
    assert page.locator("section.answer mark").count() == 1
    path = screenshot(page, "question")
    assert path.stat().st_size > 10_000
    page.goto(server.url + "/")
    screenshot(page, "home")
