"""In a real browser, with the server's own worker processes: the settings page's
"Fit to my reviews" section starts the job, shows its progress by polling and swaps in
the result by itself; it fits a phone and a desktop, light and dark, and reads in
Chinese without stray English."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.models import Question
from app.study import review
from app.users.service import local_user
from tests.e2e.checks import assert_fits, visible_english
from tests.e2e.conftest import Server, screenshot

# The workers start and import torch before the job runs: allow for a slow machine.
RESULT_TIMEOUT_MS = 120_000


def review_for_a_week(server: Server, count: int) -> None:
    """``count`` cards learned a week ago (Good, Good 10 minutes later) and reviewed
    again three days later: a review the fit can score."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    offsets = (dt.timedelta(0), dt.timedelta(minutes=10), dt.timedelta(days=3))
    with server.db() as session:
        user = local_user(session=session)
        ids = session.scalars(select(Question.id).order_by(Question.position).limit(count)).all()
        for qid in ids:
            for version, offset in enumerate(offsets):
                review.rate(
                    session=session,
                    user=user,
                    question_id=qid,
                    rating=3,
                    version=version,
                    duration_ms=8000,
                    now=start + offset,
                )


def test_the_fit_section_runs_its_job_and_shows_the_workload(server: Server, browser: Any) -> None:
    review_for_a_week(server, 4)
    page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    page.goto(server.url + "/settings")
    assert page.locator("#fit-start button").inner_text().strip() == "Simulate my workload"
    page.locator("#fit-start button").click()
    page.wait_for_url("**/settings#fit")
    # No reload: the page polls the section until the worker has written the result.
    page.wait_for_selector("table.fit-workload", timeout=RESULT_TIMEOUT_MS)
    assert page.locator("#fit").get_attribute("data-running") == "false"
    assert page.locator("table.fit-workload tbody tr").count() == 6
    assert page.locator("table.fit-workload tr.current th").inner_text().startswith("90%")
    assert_fits(page, "settings with a fit, 390 px")
    screenshot(page, "settings-fit-390-light")

    for width, theme, locale in ((390, "dark", "zh-CN"), (1280, "light", "en-US")):
        page = browser.new_page(
            locale=locale, viewport={"width": width, "height": 900}, color_scheme=theme
        )
        page.goto(server.url + "/settings")
        assert page.locator("table.fit-scores").is_visible()
        assert_fits(page, f"settings with a fit, {width} px, {theme}")
        if locale == "zh-CN":
            assert page.locator("#fit-title").inner_text() == "根据我的复习拟合"
            assert visible_english(page) == []
        screenshot(page, f"settings-fit-{width}-{theme}")
