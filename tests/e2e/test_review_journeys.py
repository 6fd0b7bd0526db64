"""Review journeys in a real browser, at phone and desktop sizes: review by mouse (or
thumb) and by keyboard with the rating bar in reach on a long answer, and the empty
queue leading to custom study, in both languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Question
from app.study import review
from app.users.service import local_user
from tests.e2e.checks import SIZES, assert_fits, visible_english
from tests.e2e.conftest import OUTPUT, Server


def longest_answer(server: Server) -> str:
    with server.db() as session:
        return str(
            session.scalars(
                select(Question.id).order_by(func.length(Question.answer_html).desc()).limit(1)
            ).one()
        )


def learn(server: Server, count: int, *, hours_ago: float) -> list[str]:
    """Learn ``count`` questions ``hours_ago``: Review cards due days after that."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    with server.db() as session:
        user = local_user(session=session)
        ids = list(session.scalars(select(Question.id).order_by(Question.position).limit(count)))
        for qid in ids:
            for version, minutes in enumerate((0, 10)):
                review.rate(
                    session=session,
                    user=user,
                    question_id=qid,
                    rating=3,
                    version=version,
                    duration_ms=1000,
                    now=start + dt.timedelta(minutes=minutes),
                )
        review.set_study_settings(session=session, user=user, new_per_day=0)
    return ids


NEXT_CARD_OR_DONE = """shown => document.querySelector('#done') !== null
  || (document.querySelector('#card')?.dataset.question ?? shown) !== shown"""


def screenshot(page: Any, name: str) -> Path:
    """What the screen shows (not the full page: the review bar is fixed to the screen)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def english(page: Any) -> list[str]:
    """Visible English of the Chinese interface, less the language switch's own name."""
    return [w for w in visible_english(page) if w != "English"]


def new_page(browser: Any, server: Server, size: str, lang: str, dark: bool = False) -> Any:
    phone = size == "phone"
    context = browser.new_context(
        viewport=SIZES[size],
        locale="zh-CN" if lang == "zh" else "en-US",
        is_mobile=phone,
        has_touch=phone,
        color_scheme="dark" if dark else "light",
    )
    context.add_cookies([{"name": "lang", "value": lang, "url": server.url}])
    page = context.new_page()
    page.on("console", browser._console)  # CSP violations fail the test (conftest)
    return page


def in_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


def nothing_hidden_under_the_bar(page: Any) -> None:
    """Scrolled to the bottom, the page's last line ends above the review bar."""
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = page.locator("#back > p").last.bounding_box()
    bar = page.locator("#review-bar").bounding_box()
    assert last is not None and bar is not None
    assert last["y"] + last["height"] <= bar["y"], "the last line is under the review bar"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_review_a_long_answer_by_mouse_or_thumb(server: Server, browser: Any, size: str) -> None:
    long = longest_answer(server)
    page = new_page(browser, server, size, "en")
    page.goto(f"{server.url}/review?show={long}")
    assert page.locator("#card").get_attribute("data-question") == long
    assert page.locator("#reveal").is_visible() and in_viewport(page, "#reveal")
    assert not page.locator("#ratings").is_visible()
    page.locator("#reveal").click()
    # The answer is long, yet all four buttons are in view without scrolling.
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollHeight") > SIZES[size]["height"]
    for rating in (1, 2, 3, 4):
        button = f"#ratings .rate-{rating}"
        assert in_viewport(page, button), f"{button} is out of view"
        box = page.locator(button).bounding_box()
        assert box is not None and box["height"] >= 44  # thumb-sized
    # Coloured: four different backgrounds.
    colours = page.locator("#ratings .rate").evaluate_all(
        "bs => bs.map(b => getComputedStyle(b).backgroundColor)"
    )
    assert len(set(colours)) == 4
    # Key hints only where there is a keyboard.
    assert page.locator("#ratings .rate-3 kbd").is_visible() == (size == "desktop")
    assert page.locator("p.keys").is_visible() == (size == "desktop")
    # Claims and the checklist are folded.
    assert page.locator("details#recall").get_attribute("open") is None
    assert_fits(page, f"review {size}")
    screenshot(page, f"review-journey-{size}-answer")
    nothing_hidden_under_the_bar(page)
    # The checklist, unfolded: each box beside its point, nested bullets keep markers.
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#recall summary").click()
    box = page.locator("li.recall-item > input.recall-box").first
    point = page.locator("li.recall-item > .point").first
    b, p = box.bounding_box(), point.bounding_box()
    assert b is not None and p is not None
    assert b["x"] + b["width"] <= p["x"] and abs(b["y"] - p["y"]) < 16, "box above its point"
    nested = page.locator("li.recall-item li").first
    assert nested.evaluate("li => getComputedStyle(li).listStyleType") != "none"
    assert_fits(page, f"checklist {size}")
    box.check()
    assert page.locator("#ratings .rate.suggested").count() == 1
    screenshot(page, f"review-journey-{size}-checklist")
    page.locator("#ratings .rate-3").click()
    page.wait_for_function(
        "first => document.querySelector('#card')?.dataset.question !== first", arg=long
    )
    assert page.locator("#done-count").inner_text() == "1"
    assert page.locator("#undo").is_visible()


def test_review_by_keyboard_on_a_desktop(server: Server, browser: Any) -> None:
    long = longest_answer(server)
    page = new_page(browser, server, "desktop", "en")
    page.goto(f"{server.url}/review?show={long}")
    assert page.locator("#reveal kbd").is_visible()
    page.keyboard.press(" ")
    assert page.locator("#ratings").is_visible() and in_viewport(page, "#ratings .rate-4")
    page.keyboard.press("4")
    page.wait_for_function(
        "first => document.querySelector('#card')?.dataset.question !== first", arg=long
    )
    page.keyboard.press("u")
    page.wait_for_function(
        "first => document.querySelector('#card')?.dataset.question === first", arg=long
    )
    assert page.locator("#done-count").inner_text() == "0"


@pytest.mark.parametrize(("size", "lang"), [("phone", "zh"), ("desktop", "en"), ("phone", "en")])
def test_the_empty_queue_leads_to_custom_study(
    server: Server, browser: Any, size: str, lang: str
) -> None:
    learned = learn(server, 2, hours_ago=2)
    page = new_page(browser, server, size, lang, dark=size == "phone")
    page.goto(server.url + "/review")
    assert page.locator("#done").is_visible()
    due = page.locator("#next-due").inner_text()
    assert ("后到期" in due) if lang == "zh" else due.startswith("Next card due in")
    assert page.locator("#done-filters").count() == 0  # no filter set, none mentioned
    assert_fits(page, f"empty queue {size} {lang}")
    if lang == "zh":
        assert english(page) == []
    screenshot(page, f"review-empty-{size}-{lang}")
    page.locator("#practise").click()
    for _ in learned:
        assert page.locator("#card").get_attribute("data-question") in learned
        assert page.locator("#practise-note").is_visible()
        page.locator("#reveal").click()
        assert in_viewport(page, "#ratings .rate-3")
        assert_fits(page, f"custom study {size} {lang}")
        if lang == "zh":
            assert english(page) == []
            screenshot(page, f"review-ahead-{size}-{lang}")
        shown = page.locator("#card").get_attribute("data-question")
        page.locator("#ratings .rate-3").click()
        # The next card comes in without a page load; the empty queue is a page load.
        page.wait_for_function(NEXT_CARD_OR_DONE, arg=shown)
    # Each card practised once: the session is over, and says so.
    assert page.locator("#done").is_visible()
    assert page.locator("#practise").count() == 0
    assert "ahead=" in page.url


def test_a_filtered_empty_queue_lists_its_filters(server: Server, browser: Any) -> None:
    learn(server, 1, hours_ago=2)
    page = new_page(browser, server, "phone", "zh")
    page.goto(server.url + "/review?company=快手")
    assert "快手" in page.locator("#done-filters").inner_text()
    page.locator("#practise-new").click()
    assert page.locator("#card").is_visible()  # a new question, on request
    assert_fits(page, "custom study with new questions")
