"""In a real browser: the stats page draws its charts, and a coverage cell opens a
review of exactly its questions."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import quote

from app.content.tags import fold
from tests.e2e.conftest import Server, screenshot


def test_a_coverage_cell_opens_a_review_of_its_questions(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 1000, "height": 1400})
    page.goto(server.url + "/stats")
    # Chart.js drew into the canvases (a drawn canvas gets a width from the library).
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas.stats-chart')]"
        ".every(c => Chart.getChart(c) !== undefined)"
    )
    screenshot(page, "stats")
    cell = page.locator("#coverage-company td.cov[data-row]").first
    company, topic = cell.get_attribute("data-row"), cell.get_attribute("data-topic")
    assert company and topic
    cell.locator("a.cov-review").click()
    page.wait_for_url("**/review?**")
    question_id = page.locator("#card").get_attribute("data-question")
    assert question_id
    chips = [c.strip().rstrip("×").strip() for c in page.locator(".chip.filter").all_inner_texts()]
    assert chips == [company, topic]
    with urllib.request.urlopen(f"{server.url}/api/questions/{quote(question_id)}") as response:
        question = json.load(response)
    assert company in [a["company"] for a in question["asked"]]
    assert fold(topic) in [fold(t) for t in question["tags"]]
