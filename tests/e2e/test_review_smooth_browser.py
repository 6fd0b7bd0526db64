"""In a real browser: a rating or an undo brings the next card in without a page load
(review.js posts the form by fetch and swaps the review section), the server records
each review once with its duration, and anything but the next card falls back to a
plain navigation; without script the forms work as they always did."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.models import ReviewLog
from app.study import review
from app.users.service import local_user
from tests.e2e.checks import PHONE
from tests.e2e.conftest import Server
from tests.e2e.test_review_browser import due_count, make_due_cards

NEXT_CARD = """shown => (document.querySelector('#card')?.dataset.question ?? shown) !== shown"""


def reviews_since(server: Server, since: dt.datetime) -> list[tuple[str, int, int | None]]:
    """The review page's reviews recorded since ``since``: question, rating, duration."""
    with server.db() as session:
        rows = session.execute(
            select(ReviewLog.question_id, ReviewLog.rating, ReviewLog.duration_ms)
            .where(ReviewLog.reviewed_at >= since, ReviewLog.source == "review")
            .order_by(ReviewLog.id)
        )
        return [(q, r, d) for q, r, d in rows]


def phone_page(browser: Any, javascript: bool = True) -> Any:
    context = browser.new_context(
        viewport=PHONE,
        locale="en-US",
        is_mobile=True,
        has_touch=True,
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.on("console", browser._console)  # CSP violations fail the test (conftest)
    return page


def watch_loads(page: Any) -> list[str]:
    """Full document loads from now on (a swap is none), and a mark that a load wipes."""
    loads: list[str] = []
    page.on("domcontentloaded", lambda p: loads.append(p.url))
    page.evaluate("window.__stayed = true")
    return loads


def stayed(page: Any) -> bool:
    return bool(page.evaluate("window.__stayed === true"))


def shown(page: Any) -> str:
    return str(page.locator("#card").get_attribute("data-question"))


def rate_by_tap(page: Any, rating: int) -> str:
    """Show the answer, read it a little further down, tap a rating; the next card."""
    first = shown(page)
    page.locator("#reveal").tap()
    page.evaluate("window.scrollTo(0, 300)")
    page.locator(f"#ratings .rate-{rating}").tap()
    page.wait_for_function(NEXT_CARD, arg=first)
    return first


def test_ratings_and_undo_bring_the_next_card_without_a_page_load(
    server: Server, browser: Any
) -> None:
    make_due_cards(server, 4)
    since = dt.datetime.now(dt.UTC)
    page = phone_page(browser)
    page.goto(server.url + "/review")
    loads = watch_loads(page)
    assert due_count(page) == 4

    # By tap: Good, after reading the answer a while.
    first = shown(page)
    page.locator("#reveal").tap()
    page.wait_for_timeout(1500)
    page.locator("#ratings .rate-3").tap()
    page.wait_for_function(NEXT_CARD, arg=first)
    assert stayed(page) and loads == []
    assert due_count(page) == 3
    assert page.locator("#done-count").inner_text() == "1"
    # The next card as a page load would show it: at the top, its answer hidden, the
    # undo offered; its question has the focus (for a screen reader).
    assert page.evaluate("window.scrollY") == 0
    assert page.locator("#reveal").is_visible() and not page.locator("#back").is_visible()
    assert not page.locator("#ratings").is_visible()
    assert page.locator("#undo").is_visible()
    assert page.evaluate("document.activeElement === document.querySelector('#card .front')")
    assert page.url == server.url + "/review"

    # By key: Space shows the answer, 2 rates Hard; then Enter and 4 (Easy).
    second = shown(page)
    page.keyboard.press(" ")
    assert page.locator("#back").is_visible()
    page.wait_for_timeout(300)
    page.keyboard.press("2")
    page.wait_for_function(NEXT_CARD, arg=second)
    third = shown(page)
    page.keyboard.press("Enter")
    page.keyboard.press("4")
    page.wait_for_function(NEXT_CARD, arg=third)
    assert stayed(page) and loads == []
    assert due_count(page) == 1
    assert page.locator("#done-count").inner_text() == "3"

    # Each review recorded once, with the time its own card was shown: the clock
    # restarts with each card (the second took well under the first's 1.5 s).
    reviews = reviews_since(server, since)
    assert [(q, r) for q, r, _d in reviews] == [(first, 3), (second, 2), (third, 4)]
    durations = [d for _q, _r, d in reviews]
    assert all(d is not None for d in durations), durations
    assert durations[0] is not None and durations[0] >= 1500
    assert durations[1] is not None and 300 <= durations[1] < 1500

    # u takes the last rating back: the third card again, the counts with it.
    page.keyboard.press("u")
    page.wait_for_function(
        "q => document.querySelector('#card')?.dataset.question === q", arg=third
    )
    assert stayed(page) and loads == []
    assert due_count(page) == 2
    assert page.locator("#done-count").inner_text() == "2"
    assert f"show={third}" in page.url
    # The language switch brings the reader back to this card, as after a page load.
    assert f"show%3D{third}" in str(page.locator("header .lang a").get_attribute("href"))
    assert [q for q, _r, _d in reviews_since(server, since)] == [first, second]

    # Rated again after the undo, by tap: recorded once more, and the queue moves on.
    assert rate_by_tap(page, 3) == third
    assert stayed(page) and loads == []
    assert page.evaluate("window.scrollY") == 0
    assert page.url == server.url + "/review"
    reviews = reviews_since(server, since)
    assert [(q, r) for q, r, _d in reviews] == [(first, 3), (second, 2), (third, 3)]


def test_what_is_not_the_next_card_falls_back_to_a_page_load(server: Server, browser: Any) -> None:
    make_due_cards(server, 3)
    with server.db() as session:  # the due cards only: no new card after them
        review.set_study_settings(session=session, user=local_user(session=session), new_per_day=0)
    since = dt.datetime.now(dt.UTC)
    page = phone_page(browser)
    page.goto(server.url + "/review")

    # The server takes the rating but its answer is lost on the way: the page posts the
    # form the plain way, and the server, seeing the same showing, records it once.
    def lose_the_answer(route: Any) -> None:
        if route.request.resource_type == "fetch":
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/review/rate", lose_the_answer)
    loads = watch_loads(page)
    first = rate_by_tap(page, 3)
    page.wait_for_load_state()
    assert not stayed(page) and loads, "a plain page load"
    assert due_count(page) == 2
    assert [q for q, _r, _d in reviews_since(server, since)] == [first]
    page.unroute("**/review/rate")

    # An error page in answer to the post (a refused CSRF token, say): posted the plain
    # way, so the browser shows what the server says, as without script.
    page.route(
        "**/review/rate",
        lambda route: (
            route.fulfill(status=403, body="no", content_type="text/html")
            if route.request.resource_type == "fetch"
            else route.continue_()
        ),
    )
    loads = watch_loads(page)
    second = rate_by_tap(page, 3)
    page.wait_for_load_state()
    assert not stayed(page) and loads
    assert [q for q, _r, _d in reviews_since(server, since)] == [first, second]
    page.unroute("**/review/rate")

    # The undo's answer lost: the page is loaded again, never a second undo sent.
    page.route(
        "**/review/undo",
        lambda route: (
            (route.fetch(), route.abort())
            if route.request.resource_type == "fetch"
            else route.continue_()
        ),
    )
    loads = watch_loads(page)
    page.keyboard.press("u")
    page.wait_for_function("() => !window.__stayed && document.readyState === 'complete'")
    assert loads
    assert [q for q, _r, _d in reviews_since(server, since)] == [first]
    page.unroute("**/review/undo")

    # The last card rated, the empty queue is a page of its own: a page load to it.
    for _ in range(due_count(page)):
        loads = watch_loads(page)
        before = shown(page)
        page.locator("#reveal").tap()
        page.locator("#ratings .rate-3").tap()
        page.wait_for_function(
            "q => document.querySelector('#done') || document.querySelector('#card')"
            "?.dataset.question !== q",
            arg=before,
        )
    page.locator("#done").wait_for()
    assert not stayed(page) and loads
    assert len(reviews_since(server, since)) == 3


def test_without_script_a_rating_is_a_plain_form_post(server: Server, browser: Any) -> None:
    make_due_cards(server, 2)
    since = dt.datetime.now(dt.UTC)
    page = phone_page(browser, javascript=False)
    page.goto(server.url + "/review")
    first = shown(page)
    assert page.locator("#back").is_visible() and page.locator("#ratings").is_visible()
    with page.expect_navigation():
        page.locator("#ratings .rate-3").tap()
    assert shown(page) != first
    assert due_count(page) == 1
    with page.expect_navigation():
        page.locator("#undo button").tap()
    assert shown(page) == first
    assert reviews_since(server, since) == []
    with page.expect_navigation():
        page.locator("#ratings .rate-4").tap()
    assert reviews_since(server, since) == [(first, 4, None)]  # no script, no duration
