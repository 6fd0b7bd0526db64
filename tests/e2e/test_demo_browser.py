"""In a real browser against `serve` with its local worker processes: run the rank demo
from its page, watch it finish, and see the chart and the result."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Server, screenshot


def test_run_the_rank_demo_from_its_page(server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 900, "height": 1200})
    page.goto(server.url + "/demos")
    page.click("li.demo-item[data-demo=rank] a")
    page.fill("input[name=m]", "40")
    page.fill("input[name=n]", "30")
    page.fill("input[name=r]", "5")
    page.click("form.demo-form button[type=submit]")
    page.wait_for_url("**/runs/*")
    # The worker processes import torch first: allow them time to start.
    page.wait_for_selector("#status.status-succeeded", timeout=60_000)
    assert page.locator("#headline").inner_text()
    figures = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#figures tr')]"
        ".map(tr => [tr.dataset.figure, tr.querySelector('td').textContent]))"
    )
    assert float(figures["rank"]) == 5
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas.result-chart')]"
        ".every(c => window.Chart && Chart.getChart(c))"
    )
    assert page.locator("canvas.result-chart").count() >= 1
    screenshot(page, "demo-rank")
