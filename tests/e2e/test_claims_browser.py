"""In a real browser against `serve`: the claims' run is queued at start and run by the
local workers; the question page then shows the verdicts beside the quotes, and a click
on a badge opens the evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.checks import SIZES, assert_fits, visible_english
from tests.e2e.conftest import Server, screenshot, serve

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


# A measured claim, one that needs a GPU, and one in halves (one holds, one is cited the
# other way): each shows a verdict and, but for the first, a reason.
MIXED_CLAIMS = """
- id: rank-bound
  question: llm-sft-2e76f170
  quote: "秩 ≤ min(行数, 列数)"
  demo: rank
  params: {m: 12, n: 8, r: 3}
  supported: "rank <= min_dim"
  explanation: {en: "rank {rank:.0f} of a {min_dim:.0f}-column matrix", zh: "秩 {rank:.0f}，列数 {min_dim:.0f}"}
- id: needs-a-gpu
  question: llm-sft-2e76f170
  quote: "秩越大，矩阵能表示的线性组合越丰富"
  kind: not-measurable-here
  needs: {en: "a GPU run of the paged optimizer", zh: "需要在 GPU 上运行分页优化器"}
  explanation: {en: "Needs a GPU.", zh: "需要 GPU。"}
- id: in-halves
  question: llm-sft-2e76f170
  quote: "秩 ≤ min(行数, 列数)"
  demo: rank
  params: {m: 12, n: 8, r: 3}
  parts:
    - label: "秩 ≤ min"
      kind: definition
      supported: "rank <= min_dim"
      explanation: {en: "rank {rank:.0f}", zh: "秩 {rank:.0f}"}
    - label: "(行数, 列数)"
      kind: cited
      verdict: refuted
      sources: ["a made-up source"]
      explanation: {en: "cited the other way", zh: "文献相反"}
"""
REASON_WORDS = re.compile(
    r"\b(?:supported|refuted|nuanced|pending|undecided|no verdict|error|holds|does not hold"
    r"|no run of its demo|runs not made|is queued|is running|failed|cancelled"
    r"|inside the spread|too few runs)\b"
)


@pytest.fixture
def mixed_server(tmp_path: Path) -> Iterator[Server]:
    yield from serve(tmp_path, claims=MIXED_CLAIMS)


def test_the_chinese_claims_page_has_no_english_but_names(
    mixed_server: Server, browser: Any
) -> None:
    for size, viewport in SIZES.items():
        page = browser.new_page(locale="zh-CN", viewport=viewport)
        page.set_extra_http_headers({"Accept-Language": "zh-CN"})
        page.goto(mixed_server.url + "/claims")
        card = page.locator('[data-claim="rank-bound"]').first
        for _ in range(60):  # until the workers have run the rank demo
            if card.get_attribute("data-verdict") != "pending":
                break
            page.wait_for_timeout(1000)
            page.reload()
        verdicts = {
            c: page.locator(f'li[data-claim="{c}"]').get_attribute("data-verdict")
            for c in ("rank-bound", "needs-a-gpu", "in-halves")
        }
        assert verdicts == {
            "rank-bound": "supported",
            "needs-a-gpu": "undecided",
            "in-halves": "nuanced",
        }
        screenshot(page, f"claims-zh-{size}")
        assert_fits(page, f"claims zh {size}")
        assert visible_english(page) == []
        # The reasons and explanations are marked as content (they quote the answer and
        # the claim file), so they are checked here: no English reason or verdict word.
        shown = " ".join(page.locator("#claims .notice, #claims [data-content]").all_inner_texts())
        assert "成立：秩 ≤ min · 不成立：(行数, 列数)" in shown
        assert "需要在 GPU 上运行分页优化器" in shown
        assert "[秩 ≤ min — 成立]" in shown
        assert not REASON_WORDS.findall(shown), REASON_WORDS.findall(shown)
        assert "Matrix rank" not in shown  # the demo's title is in Chinese too
        page.close()
