"""A claim's measured figures read as on the run page: in the unit the demo declares
(13.5 GB, 341 万, 4.13 比特, a ratio in percent), mean ± SD over seeds in that unit, a
figure without a unit as a number."""

from __future__ import annotations

import re
import shutil
import statistics
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import Engine

from tests.web.conftest import MakeClient, soup
from tests.web.test_claims_pages import CLAIMS, FAST, QLORA, run_claims

# The rank demo over three seeds: its rank-r error (a ratio) differs from seed to seed.
SEEDED = """
- id: rank-error-over-seeds
  question: llm-sft-2e76f170
  quote: "秩 ≤ min(行数, 列数)"
  demo: rank
  params: {m: 24, n: 16, r: 2, noise: 0.1}
  seeds: [0, 1, 2]
  supported: "mean(error_rank_r) >= 0"
  refuted: "mean(error_rank_r) < 0"
  explanation: {en: "rank-r error over {n} seeds", zh: "秩 r 误差（{n} 个种子）"}
"""


def figures_of(page: BeautifulSoup) -> dict[str, dict[str, str]]:
    """Each claim's figures as its card shows them: {claim: {figure: text}}."""
    return {
        str(li["data-claim"]): {
            str(tr["data-figure"]): tr.select_one("td").get_text()  # type: ignore[union-attr]
            for tr in li.select("table.figures tr[data-figure]")
        }
        for li in page.select("#claims > li")
    }


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_each_claims_figure_reads_as_on_its_run_page(
    make_client: MakeClient, content_dir: Path, engine: Engine, language: str
) -> None:
    (content_dir / "claims").mkdir()
    shutil.copy(CLAIMS, content_dir / "claims" / CLAIMS.name)
    client = make_client(language=language)
    run_claims(engine, FAST)
    page = soup(client.get("/claims"))
    shown = figures_of(page)
    compared = 0
    for claim in client.get("/api/claims").json():
        if claim["verdict"] == "pending" or len(claim["run_ids"]) != 1:
            continue
        run = soup(client.get(f"/runs/{claim['run_ids'][0]}"))
        on_run_page = {
            str(tr["data-figure"]): tr.select_one("td").get_text()  # type: ignore[union-attr]
            for tr in run.select("#figures tr[data-figure]")
        }
        for name, text in shown[claim["id"]].items():
            assert text == on_run_page[name], (claim["id"], name)
            compared += 1
    assert compared > 20
    fourteen = shown["seven-b-fp16-is-14-gb"]
    assert fourteen["weights_gb_fp16"] == "13.5 GB" and fourteen["weights_gib_fp16"] == "12.6 GiB"
    assert shown["prompt-tuning-under-0-1-percent"]["trainable_pct_prompt"] == "0.00122 %"
    bits = "4.13 比特" if language == "zh-CN" else "4.13 bits"
    assert shown["double-quantization-saves-memory"]["linear_bits_per_weight_nf4_dq"] == bits
    total = "67.4 亿" if language == "zh-CN" else "6.74 B"
    assert fourteen["total_params"] == total
    # The question page's evidence (the claim's popover) writes them the same way.
    question = soup(client.get(f"/questions/{QLORA}"))
    popover = question.select_one(
        '#claim-seven-b-fp16-is-14-gb tr[data-figure="weights_gb_fp16"] td'
    )
    assert popover is not None and popover.get_text() == "13.5 GB"


@pytest.mark.parametrize(("language", "runs"), [("en-US", "over 3 runs"), ("zh-CN", "3 次运行")])
def test_mean_and_sd_over_seeds_read_in_percent_for_a_ratio(
    make_client: MakeClient, content_dir: Path, engine: Engine, language: str, runs: str
) -> None:
    (content_dir / "claims").mkdir()
    (content_dir / "claims" / "units.yaml").write_text(SEEDED, "utf-8")
    client = make_client(language=language)
    run_claims(engine, {"rank"})
    [claim] = client.get("/api/claims").json()
    [spread] = [s for s in claim["spread"] if s["name"] == "error_rank_r"]
    assert spread["n"] == 3 and spread["sd"] > 0
    page = soup(client.get("/claims"))
    text = figures_of(page)["rank-error-over-seeds"]["error_rank_r"]
    found = re.fullmatch(r"([\d.]+) % ± ([\d.]+) % (.+)", text)
    assert found, text
    assert runs in found.group(3)
    # Each part stays on one line on a phone: a value with its unit, the SD, the runs.
    td = page.select_one('li[data-claim="rank-error-over-seeds"] tr[data-figure="error_rank_r"] td')
    assert td is not None
    parts = [span.get_text() for span in td.select("span.figure-value")]
    assert parts == [f"{found.group(1)} %", f"± {found.group(2)} %", found.group(3)]
    mean, sd = float(found.group(1)), float(found.group(2))
    # Percent of the runs' own values, to the digits shown (3 for the mean, 2 for the SD).
    values = spread["values"]
    assert mean == pytest.approx(100 * statistics.fmean(values), rel=5e-3)
    assert sd == pytest.approx(100 * statistics.stdev(values), rel=5e-2)
