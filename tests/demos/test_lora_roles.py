"""lora_roles on small CPU sizes: with B = 0 the step-0 loss is the base's exactly and ∇A
is zero (with A = 0, ∇B is), a random start moves the base's own task and B = 0 does not,
LoRA-FA leaves A unchanged and trains half the parameters, the learning-rate sweep starts
every init at the base and reports each at its own best rate, the A/B figures and
interference are what their formulas say, adding two task LoRAs is W + ΔW₂ + ΔW₃, seeded
determinism, and the cross-field rules."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from app.demos import registry
from app.demos.base import DemoResult, RunContext, validate_params
from app.demos.lora.layers import MLP
from app.demos.lora_roles import DEMO
from app.demos.lora_roles.model import combine, sweep_starts
from app.demos.lora_roles.params import ARMS, LR_GRID, SWEEP
from app.demos.lora_roles.report import Measured, interference_pct, steps_to
from app.demos.lora_roles.sweep import SweepArm, best_index, max_stable_lr
from app.demos.lora_roles.words import PHASES
from app.demos.text import q, t
from app.errors import Unprocessable
from tests.demos.english import english
from tests.demos.support import Recorder

SMALL: dict[str, Any] = {"hidden": 8, "pretrain_steps": 30, "steps": 20}


def run(**raw: Any) -> DemoResult:
    params = validate_params(DEMO, raw)
    return DEMO.run(params, RunContext(device="cpu", report=Recorder()))


@pytest.fixture(scope="module")
def small() -> DemoResult:
    return run(**SMALL)


def test_is_registered_and_uses_the_lora_package() -> None:
    assert registry()["lora_roles"] is DEMO
    assert DEMO.uses == ("app.demos.lora",)


def test_b_zero_starts_exactly_at_the_base_and_only_b_gets_a_gradient(small: DemoResult) -> None:
    f = small.figures
    assert f["step0_loss_standard"] == f["loss_base_train"]
    assert f["step0_loss_diff_standard"] == 0.0
    assert f["step0_grad_a_norm_standard"] == 0.0 and f["step0_grad_b_norm_standard"] > 0
    # A = 0 also gives ΔW = 0, with the roles of the gradients swapped.
    assert f["step0_loss_diff_a_zero"] == 0.0
    assert f["step0_grad_b_norm_a_zero"] == 0.0 and f["step0_grad_a_norm_a_zero"] > 0
    # Both random: the model has moved before any training.
    assert f["step0_loss_diff_both_random"] > 0


def test_a_random_start_moves_the_base_s_own_task_and_b_zero_does_not(
    small: DemoResult,
) -> None:
    f = small.figures
    for exact in ("standard", "a_zero"):  # ΔW = 0: task 1 is the base's, bit for bit
        assert f[f"step0_task1_loss_rise_{exact}"] == 0.0
        assert f[f"step0_task1_accuracy_drop_{exact}"] == 0.0
    assert f["step0_task1_loss_rise_both_random"] > 0
    assert 0 < f["accuracy_base_task1"] <= 1
    checks = {english(c.name): c.passed for c in small.checks}
    assert checks["With B=0 the base's own task (task 1) is untouched at step 0"]


def test_the_sweep_starts_every_init_at_the_base_with_the_factor_it_names() -> None:
    gen = torch.Generator().manual_seed(0)
    A_0, B_0 = torch.rand(4, 16, generator=gen), torch.rand(16, 4, generator=gen)
    starts = sweep_starts(A_0, B_0)
    assert list(starts) == list(SWEEP)
    for A, B in starts.values():
        assert not (B @ A).any()  # ΔW = 0: every init starts at the base model
    assert torch.equal(starts["standard"][0], A_0)
    assert torch.equal(starts["a_zero"][1], B_0)
    # Matched: A = 0's random factor holds exactly the numbers B = 0 puts in A.
    assert torch.equal(starts["a_zero_matched"][1], A_0.T)


def test_the_sweep_reports_each_init_at_its_own_best_rate(small: DemoResult) -> None:
    f = small.figures
    bars = {english(s.name): s for s in small.series if s.chart == "lr_sweep"}
    assert list(bars) == [
        "A random, B=0 (PEFT)",
        "A=0, B random at its own scale",
        "A=0, B random with A's numbers",
    ]
    for name, series in zip(SWEEP, bars.values(), strict=True):
        assert [english(c) for c in series.categories or []] == [f"{lr:g}" for lr in LR_GRID]
        assert f[f"best_train_loss_{name}"] == min(series.y)
        assert f[f"best_lr_{name}"] == LR_GRID[series.y.index(min(series.y))]
        assert f[f"max_stable_lr_{name}"] in (0.0, *LR_GRID)
        assert f[f"best_train_loss_{name}"] < f["loss_base_train"]  # it learned something
    for name in ("a_zero", "a_zero_matched"):
        gap = f["best_train_loss_standard"] - f[f"best_train_loss_{name}"]
        assert f[f"best_train_loss_standard_minus_{name}"] == gap


def test_best_rate_skips_diverged_runs_and_stable_is_the_largest_stable_rate() -> None:
    nan = float("nan")
    arm = SweepArm(final_losses=[0.5, 0.3, nan, 0.2, 0.9], stable=[True, True, False, True, False])
    assert best_index(arm) == 3 and max_stable_lr(arm) == LR_GRID[3]
    diverged = SweepArm(final_losses=[nan] * 5, stable=[False] * 5)
    assert best_index(diverged) is None and max_stable_lr(diverged) == 0.0


def test_lora_fa_leaves_a_unchanged_and_trains_only_b(small: DemoResult) -> None:
    f = small.figures
    assert f["lora_fa_a_max_abs_change"] == 0.0
    assert f["trainable_params_lora_fa"] == 8 * 4 == f["trainable_params_standard"] / 2
    assert f["loss_lora_fa_minus_standard"] == pytest.approx(f["loss_lora_fa"] - f["loss_standard"])
    assert f["step0_loss_lora_fa"] == f["step0_loss_standard"]  # the same start
    assert all(c.passed for c in small.checks), small.checks


def test_a_and_b_figures_are_in_range(small: DemoResult) -> None:
    f = small.figures
    assert f["a_relative_change"] > 0 and -1 <= f["a_cosine"] <= 1
    assert f["b_final_norm"] > 0 and f["delta_w_norm"] > 0
    assert f["delta_w_a_change_share"] >= 0
    for arm in ("standard", "both_random", "a_zero", "lora_fa"):
        assert f[f"reached_target_{arm}"] in (0.0, 1.0)
        assert 0 <= f[f"steps_to_target_{arm}"] <= SMALL["steps"]


def test_steps_to_and_interference_follow_their_definitions() -> None:
    assert steps_to([3.0, 2.0, 1.0, 0.5], 1.0) == 2
    assert steps_to([3.0, 2.0], 1.0) is None
    m = Measured(loss_base_train=0.0)
    m.arithmetic = {"loss_base_task2": 2.0, "loss_alone_task2": 1.0, "loss_sum_task2": 1.25}
    assert interference_pct(m, "task2") == pytest.approx(25.0)  # a quarter of the gain lost


def test_adding_two_task_loras_is_w_plus_both_deltas() -> None:
    base = MLP(3, 4, 2, torch.Generator().manual_seed(0))
    d2, d3 = torch.ones(4, 4), 2 * torch.eye(4)
    both = combine(base, [d2, d3])
    assert isinstance(both.fc2, nn.Linear) and isinstance(base.fc2, nn.Linear)
    assert torch.equal(both.fc2.weight, base.fc2.weight + d2 + d3)


def test_same_seed_same_figures_and_another_seed_differs(small: DemoResult) -> None:
    assert run(**SMALL).figures == small.figures
    assert run(**SMALL, seed=1).figures["loss_standard"] != small.figures["loss_standard"]


@pytest.mark.parametrize("field", ["r", "shift_rank"])
def test_rank_above_hidden_is_refused_naming_the_field(field: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        validate_params(DEMO, {"hidden": 4, field: 8})
    assert refused.value.field == field


@pytest.mark.slow  # the default-size run: ~2 s alone on one core
def test_default_run_passes_every_check() -> None:
    result = run()
    assert all(c.passed for c in result.checks), result.checks
    f = result.figures
    # Separated task domains: adding the other task's ΔW costs some of each task's gain.
    assert f["loss_sum_task2"] > f["loss_alone_task2"]


def test_the_page_opens_with_the_answer_and_a_summary_table(small: DemoResult) -> None:
    f = small.figures
    assert small.headline is not None and small.summary is not None
    assert small.headline.args["i2"] == q(f["interference_pct_task2"], "pct")
    assert small.headline.args["fa"] == q(f["loss_lora_fa"], "loss")
    rows = small.summary.rows
    assert [english(row[0]) for row in rows] == [
        "A random, B=0 (PEFT)",
        "A and B random",
        "A=0, B random",
        "LoRA-FA (A frozen, B=0)",
    ]
    for row, arm in zip(rows, ARMS, strict=True):
        assert row[1] == q(f[f"step0_loss_{arm}"], "loss")
        reached = f[f"reached_target_{arm}"]
        steps = q(f[f"steps_to_target_{arm}"], "count")
        assert row[2] == (steps if reached else t("not within %(steps)s", steps=20))
    assert set(small.figure_units) == set(f)
    bars = [s for s in small.series if s.chart == "task_arithmetic"]
    assert len(bars) == 3
    assert [english(c) for c in bars[0].categories or []] == ["task 2", "task 3"]


def test_every_figure_has_a_label(small: DemoResult) -> None:
    """The page's figure table shows a label, never a raw figure name (the figures do not
    depend on the parameters: four arms, two tasks)."""
    assert set(small.figures) <= set(small.figure_labels)


def test_the_live_loss_is_one_series_per_phase() -> None:
    recorder = Recorder()
    DEMO.run(validate_params(DEMO, SMALL), RunContext(device="cpu", report=recorder))
    assert all(len(metrics) == 1 for _, _, metrics in recorder.reports)
    names = list(dict.fromkeys(next(iter(m)) for _, _, m in recorder.reports))
    assert names == list(PHASES.values())
