"""spike_remedies: a small run's arms and figures, the fp16 softmax check, clipping on SGD
vs AdamW, Adam's v around the bad batch, rewind-and-skip, determinism, the cross-field
rules, and a default-size run."""

from __future__ import annotations

from typing import Any

import pytest

from app.demos.base import DemoResult, validate_params
from app.demos.spike_remedies import DEMO
from app.demos.spike_remedies.summary import figure_labels
from app.errors import Unprocessable
from tests.demos.support import small_context

# lr 0.03 (the default is 0.3, spike-prone on the real bank): on the made-up bank it learns
# fast, so the bad batch stands out as a flagged spike.
SMALL: dict[str, Any] = {"steps": 40, "corrupt_step": 30, "rewind_steps": 3, "lr": 0.03}


def run(**raw: Any) -> DemoResult:
    params = validate_params(DEMO, raw)
    return DEMO.run(params, small_context(DEMO))


def test_naive_fp16_softmax_overflows_and_the_stable_one_does_not() -> None:
    from app.demos.spike_remedies.model import softmax_check

    s = softmax_check("cpu")
    assert s.exp_max_logit_fp16 == float("inf")
    assert not s.naive_finite
    assert s.stable_finite and s.logsumexp_finite
    assert s.stable_max_abs_err < 1e-3


def test_small_run_has_every_arm_and_clipping_caps_sgd_more_than_adamw() -> None:
    result = run(**SMALL)
    f = result.figures
    for arm in ("adamw", "adamw_clip", "sgd", "sgd_clip", "adamw_cosine", "adamw_init_small",
                "adamw_init_large", "adamw_rmsnorm", "adamw_rewind"):  # fmt: skip
        assert f[f"final_loss_{arm}"] > 0
    assert f["max_update_norm_sgd_clip"] < f["max_update_norm_sgd"]
    assert f["update_norm_clip_ratio_sgd"] < f["update_norm_clip_ratio_adamw"]
    assert f["adam_v_rms_after_bad_batch"] > f["adam_v_rms_before_bad_batch"]
    assert all(check.passed for check in result.checks), result.checks
    assert set(f) <= set(result.figure_labels)  # the page labels every figure


def test_rewind_arm_rewinds_on_the_bad_batch_spike() -> None:
    f = run(**SMALL).figures
    assert f["spikes_adamw"] >= 1  # the bad batch is flagged
    assert f["rewinds_adamw_rewind"] >= 1
    assert f["skipped_batches_adamw_rewind"] >= 4  # rewind_steps + the spiking batch


def test_params_choose_the_arms() -> None:
    raw = {"steps": 20, "corrupt_step": 0, "compare_optimizers": False, "compare_init": False,
           "compare_norm": False, "compare_rewind": False}  # fmt: skip
    f = run(**raw).figures
    assert "final_loss_adamw_cosine" in f and "final_loss_sgd" not in f
    assert "adam_v_inflation" not in f


def test_every_figure_name_has_a_label() -> None:
    """Whichever arms the switches select, with or without a bad batch, every figure the
    page lists has a label (no run: the demo's own list of names)."""
    assert DEMO.figure_names is not None
    for raw in ({}, {"steps": 20, "corrupt_step": 0, "compare_optimizers": False}):
        params = validate_params(DEMO, raw)
        assert set(DEMO.figure_names(params)) <= set(figure_labels()), raw


def test_same_seed_same_figures() -> None:
    raw = SMALL | {"compare_init": False, "compare_norm": False}
    assert run(**raw).figures == run(**raw).figures
    assert run(**raw).figures != run(**raw | {"seed": 1}).figures


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"steps": 20, "corrupt_step": 20}, "corrupt_step"),
        ({"steps": 20, "corrupt_step": 10, "rewind_steps": 20}, "rewind_steps"),
        ({"init_large": 0.01}, "init_large"),
        ({"init_small": 0.05}, "init_large"),
    ],
)
def test_cross_field_rules_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        validate_params(DEMO, raw)
    assert refused.value.field == field


@pytest.mark.slow
def test_default_run_passes_its_checks() -> None:
    # Its wall time against DEMO.time_limit_s is bench/demos_bench.py's (not a timed test).
    result = run()
    assert all(check.passed for check in result.checks)
