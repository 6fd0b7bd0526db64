"""The rank demo's numbers on small CPU sizes: exact rank without noise, full rank with
noise, Eckart–Young agreement, determinism under a seed and the progress it reports."""

from __future__ import annotations

from typing import Any

import pytest

from app.demos import get_demo
from app.demos.base import DemoResult, RunContext, validate_params
from tests.demos.english import english, msgid
from tests.demos.support import Recorder


def run_rank(recorder: Recorder | None = None, **raw: Any) -> DemoResult:
    demo = get_demo("rank")
    params = validate_params(demo, raw)
    return demo.run(params, RunContext(device="cpu", report=recorder or Recorder()))


def checks_of(result: DemoResult) -> dict[str, bool]:
    return {msgid(check.name): check.passed for check in result.checks}


@pytest.mark.parametrize(("m", "n", "r"), [(12, 9, 3), (9, 12, 1), (8, 8, 8), (2, 2, 1)])
def test_product_of_rank_r_factors_has_rank_r(m: int, n: int, r: int) -> None:
    result = run_rank(m=m, n=n, r=r, seed=1)
    assert result.figures["rank"] == r
    assert result.figures["min_dim"] == min(m, n)
    assert result.figures["r"] == r
    assert result.figures["error_rank_r"] < 1e-12
    assert all(checks_of(result).values()), result.checks
    assert r"$\mathrm{rank}(UV) \le r$" in checks_of(result)


def test_noise_makes_the_matrix_full_rank_but_close_to_rank_r() -> None:
    result = run_rank(m=20, n=14, r=3, noise=0.05, seed=2)
    assert result.figures["rank"] == 14
    assert 0 < result.figures["error_rank_r"] < 0.1
    assert result.figures["sigma_r_plus_1"] < result.figures["sigma_r"] / 10
    # The rank-r checks only apply without noise.
    assert r"$\mathrm{rank}(UV) \le r$" not in checks_of(result)
    assert all(checks_of(result).values()), result.checks


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_eckart_young_matches_the_truncated_svd(noise: float) -> None:
    result = run_rank(m=16, n=10, r=4, noise=noise)
    assert result.figures["max_eckart_young_gap"] < 1e-8
    by_name = {msgid(series.name): series for series in result.series}
    errors = by_name["error of the truncated SVD"]
    tail = by_name["Eckart–Young prediction"]
    assert errors.x == tail.x == [float(k) for k in range(11)]
    assert errors.chart == tail.chart
    assert errors.y == pytest.approx(tail.y, abs=1e-8 * errors.y[0])
    assert tail.y[-1] == 0.0
    sigmas = by_name["singular values"].y
    assert sigmas == sorted(sigmas, reverse=True)
    assert result.figures["sigma_1"] == sigmas[0]
    assert result.figures["sigma_r"] == sigmas[3]
    assert result.figures["sigma_r_plus_1"] == sigmas[4]


def test_sigma_r_plus_1_is_zero_when_r_is_the_smaller_dimension() -> None:
    result = run_rank(m=6, n=5, r=5)
    assert result.figures["sigma_r_plus_1"] == 0.0
    assert result.figures["rank"] == 5


def test_same_seed_gives_the_same_figures() -> None:
    first = run_rank(m=10, n=7, r=2, noise=0.1, seed=42)
    again = run_rank(m=10, n=7, r=2, noise=0.1, seed=42)
    other = run_rank(m=10, n=7, r=2, noise=0.1, seed=43)
    assert first.figures == again.figures
    assert first.model_dump() == again.model_dump()
    assert first.figures["sigma_1"] != other.figures["sigma_1"]


def test_progress_steps_increase_and_end_at_total() -> None:
    recorder = Recorder()
    run_rank(recorder, m=9, n=6, r=2)
    steps = [step for step, _, _ in recorder.reports]
    totals = {total for _, total, _ in recorder.reports}
    assert totals == {3 + 7}  # build, rank, SVD, then k = 0 .. 6
    assert steps == sorted(set(steps))
    assert steps[-1] == 10
    k_reports = [metrics for _, _, metrics in recorder.reports if "k" in metrics]
    assert [metrics["k"] for metrics in k_reports] == list(range(7))
    assert all(
        isinstance(value, float | int) for _, _, m in recorder.reports for value in m.values()
    )


def test_result_is_json_ready_and_concludes_with_the_numbers() -> None:
    result = run_rank(m=12, n=9, r=3)
    conclusion = english(result.conclusion)
    assert "rank 3" in conclusion
    assert "Eckart–Young" in conclusion
    # The page opens with the answer: rank and exactness, and a table of the numbers.
    assert result.headline is not None and result.summary is not None
    headline = english(result.headline)
    assert "12 × 9 matrix built from rank-3 factors has rank 3" in headline
    assert [english(row[0]) for row in result.summary.rows][0] == "rank of A"
    assert set(result.figure_units) == set(result.figures)
    DemoResult.model_validate_json(result.model_dump_json())
