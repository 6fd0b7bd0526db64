"""In a real browser against `serve`: the claims' run is queued at start and run by the
local workers; the question page then shows the verdicts beside the quotes, and a click
on a badge opens the evidence."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Server, screenshot

QUESTION = "/questions/llm-sft-2e76f170"  # 啥是矩阵的秩？秩和LORA有啥关系？


def test_click_a_badge_and_see_the_evidence(claims_server: Server, browser: Any) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})  # a phone
    page.goto(claims_server.url + QUESTION)
    badge = page.locator('.answer button.claim-badge[data-claim="rank-bound"]')
    # Pending until the workers (which import torch first) finish the queued run.
    for _ in range(60):
        if badge.get_attribute("data-verdict") != "pending":
            break
        page.wait_for_timeout(1000)
        page.reload()
    assert badge.get_attribute("data-verdict") == "supported"
    refuted = page.locator('.answer button.claim-badge[data-claim="rank-grows-with-r"]')
    assert refuted.get_attribute("data-verdict") == "refuted"
    marked = page.locator('.answer mark[data-claim="rank-bound"]').all_inner_texts()
    assert "".join("".join(marked).split()) == "秩≤min(行数,列数)"

    evidence = page.locator("#claim-rank-bound")
    assert not evidence.is_visible()
    badge.click()
    evidence.wait_for(state="visible")
    assert "rank 3 of a 8-column matrix" in evidence.inner_text()
    screenshot(page, "claim-evidence")
    link = evidence.locator("a.button")
    assert link.get_attribute("href", timeout=1000).startswith("/demos/rank?")
    link.click()
    page.wait_for_url("**/demos/rank?**")
    assert page.input_value("input[name=m]") == "12"
