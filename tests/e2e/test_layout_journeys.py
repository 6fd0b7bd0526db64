"""In a real browser: every page fits a phone (390 px) and a desktop (1280 px) without
horizontal scrolling, the Chinese interface shows no English outside content and names,
and the plan with two interviews (one at a company the bank never saw) shows both."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.e2e.checks import SIZES, assert_fits, visible_english
from tests.e2e.conftest import Server, screenshot

PAGES = [
    "/",
    "/questions",
    "/questions/llm-sft-2e76f170",
    "/review",
    "/quizzes",
    "/demos",
    "/demos/rank",
    "/claims",
    "/stats",
    "/interviews",
    "/data",
    "/settings",
    "/docs",
]


def zh_page(browser: Any, server: Server, size: str, dark: bool = False) -> Any:
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": "zh", "url": server.url}])
    page = context.new_page()
    page.emulate_media(color_scheme="dark" if dark else "light")
    return page


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_fits_and_speaks_chinese(server: Server, browser: Any, size: str) -> None:
    page = zh_page(browser, server, size, dark=size == "phone")
    # A quiz, its results and a run, so their pages exist.
    page.goto(server.url + "/quizzes")
    page.fill("input[name=count]", "1")
    page.click("form.quiz-new button[type=submit]")
    page.wait_for_selector("section.quiz")
    quiz = page.url
    page.goto(server.url + "/demos/rank")
    page.click("form.demo-form button[type=submit]")
    page.wait_for_url("**/runs/*")
    run = page.url
    english: dict[str, list[str]] = {}
    for path in [*PAGES, quiz, run, "/stats/cards/llm-sft-2e76f170"]:
        url = path if path.startswith("http") else server.url + path
        page.goto(url)
        page.wait_for_load_state("load")
        name = path.replace(server.url, "").strip("/").replace("/", "-") or "home"
        assert_fits(page, f"{path} at {size}")
        if path != "/docs":  # Swagger UI is the API's own reference, in English
            words = visible_english(page)
            if words:
                english[path] = words
        screenshot(page, f"layout-{size}-{name}")
    assert not english, "\n".join(f"{k}: {v}" for k, v in english.items())
    if size == "phone":
        # Today's square of the heatmap is in view inside its scrolling box.
        page.goto(server.url + "/stats")
        today = page.locator("#heatmap .heat").last
        box = today.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= SIZES[size]["width"]


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_plan_with_two_interviews(server: Server, browser: Any, size: str) -> None:
    page = zh_page(browser, server, size)
    today = dt.date.today()
    for company, days in [("阿里", 10), ("无名公司", 2)]:
        page.goto(server.url + "/interviews")
        page.fill("input[name=company]", company)
        page.fill("input[name=date]", (today + dt.timedelta(days=days)).isoformat())
        page.click("#add-interview button[type=submit]")
        page.wait_for_url("**/interviews")
    page.goto(server.url + "/")
    blocks = page.locator("#plan .plan-interview")
    assert blocks.count() == 2
    assert page.locator("#plan .plan-empty").count() == 1
    assert page.locator("#plan .plan-share").count() == 1
    assert page.locator("header nav a[aria-current=page]").count() == 0
    assert_fits(page, f"home with two interviews at {size}")
    assert not visible_english(page), visible_english(page)
    screenshot(page, f"layout-{size}-plan-two-interviews")
    page.goto(server.url + "/interviews")
    assert page.locator("header nav a[aria-current=page]").get_attribute("href") == "/interviews"
