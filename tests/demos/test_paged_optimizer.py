"""The paged-optimizer demo: off a GPU with bitsandbytes it measures nothing and says so
(every figure NaN, stored as null); its parameter rules; the report's verdicts from an
arm's outcome; the managed memory it would ask for; and, on a CUDA GPU (skipped without
one), 8-bit AdamW running out of memory under the default cap while the paged optimizers
complete."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch

from app.demos import get_demo
from app.demos.base import RunContext, validate_params
from app.demos.paged_optimizer.measure import managed_bytes
from app.demos.paged_optimizer.params import ARMS, GB, PagedOptimizerParams
from app.demos.paged_optimizer.report import ArmOutcome, Measured, result_of
from app.errors import Unprocessable
from app.web.demo_view import parse_result
from app.worker.execute import json_safe
from tests.demos.english import english

DEMO = get_demo("paged_optimizer")


def params(**raw: Any) -> PagedOptimizerParams:
    validated = validate_params(DEMO, raw)
    assert isinstance(validated, PagedOptimizerParams)
    return validated


def context(device: str) -> RunContext:
    return RunContext(device=device, report=lambda step, total, m: None)


# ---- the CPU: not measured, and says what would measure it ------------------------------


def test_on_the_cpu_nothing_is_measured_and_the_conclusion_says_it_needs_a_gpu() -> None:
    result = DEMO.run(params(), context("cpu"))
    f = result.figures
    assert DEMO.figure_names is not None
    assert set(f) == set(DEMO.figure_names(params()))
    assert set(f) <= set(result.figure_labels)  # the page labels every figure
    assert f["measured"] == 0
    per_arm = [name for name in f if name.endswith(ARMS)]
    assert len(per_arm) == 4 * 10 and all(math.isnan(f[name]) for name in per_arm)
    assert math.isnan(f["device_total_gb"])
    # The definitions still hold: 201M parameters, 1.61 GB of weights and gradients.
    assert f["params"] == 12 * 4096 * 4096
    assert f["weights_and_grads_gb"] == pytest.approx(1.6106, abs=1e-4)
    assert result.checks == [] and result.series == []
    assert english(result.conclusion).startswith("Not measured: needs a CUDA GPU with bitsandbytes")
    # The worker stores the unmeasured figures as null.
    stored = json_safe(result.model_dump(mode="json"))
    json.dumps(stored, allow_nan=False)
    assert stored["figures"]["completed_paged_adamw8bit"] is None
    # ...and the page reads it back: the headline, the summary and the conclusion show.
    shown = parse_result(json.loads(json.dumps(stored)))
    assert shown is not None and shown.headline is not None and shown.summary is not None
    assert math.isnan(shown.figures["completed_paged_adamw8bit"])


# ---- parameters ----------------------------------------------------------------------------


def test_the_defaults_are_sized_to_show_paging() -> None:
    """The cap holds the weights, gradients and paged 8-bit AdamW's small non-paged part,
    not 8-bit AdamW's states on top; the paged states are far below a GPU's memory."""
    p = params()
    weights_and_grads = 8 * p.layers * p.width**2
    state_8bit = 2 * p.layers * p.width**2
    assert weights_and_grads + 0.1 * GB < p.cap_gb * GB < weights_and_grads + state_8bit - 0.1 * GB
    assert managed_bytes("paged_adamw8bit", p) == state_8bit
    assert managed_bytes("paged_adamw32bit", p) == 4 * state_8bit
    assert managed_bytes("adamw8bit", p) == 0
    assert managed_bytes("paged_adamw32bit", p) < 2 * GB  # 1.61 GB


def test_a_cap_that_cannot_hold_the_weights_is_refused_naming_cap_gb() -> None:
    with pytest.raises(Unprocessable) as refused:
        params(cap_gb=1.6)  # 12 × 4096² × 8 bytes = 1.611 GB
    assert refused.value.field == "cap_gb"
    assert "must exceed the weights and gradients, 1.611 GB" in refused.value.message
    assert params(width=2048, cap_gb=1.6).cap_gb == 1.6  # 0.403 GB fits


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("adamw,sgd", "unknown optimizer 'sgd'"), (" , ", "name at least one of")],
)
def test_unknown_or_no_arms_are_refused_naming_arms(raw: str, problem: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        params(arms=raw)
    assert refused.value.field == "arms" and problem in refused.value.message


def test_arms_are_put_in_a_canonical_order_without_repeats() -> None:
    p = params(arms="Paged_AdamW8bit, adamw8bit,paged_adamw8bit")
    assert p.arms == "adamw8bit,paged_adamw8bit"
    assert p.arm_names == ("adamw8bit", "paged_adamw8bit")


# ---- the report's verdicts from the arms' outcomes ----------------------------------------


def test_the_report_calls_an_oom_and_a_completed_paged_run_what_they_are() -> None:
    p = params(arms="adamw8bit,paged_adamw8bit")
    m = Measured(measured=True, device_total_bytes=150 * GB)
    m.arms["adamw8bit"] = ArmOutcome(
        name="adamw8bit", oom_step=1, torch_peak_bytes=int(1.2 * GB), state_bytes=0
    )
    m.arms["paged_adamw8bit"] = ArmOutcome(
        name="paged_adamw8bit",
        completed=True,
        steps_done=10,
        step_times_s=[0.5] + [0.01] * 9,
        torch_peak_bytes=int(1.1 * GB),
        torch_reserved_bytes=int(1.12 * GB),
        device_used_bytes=int(1.42 * GB),
        state_bytes=int(0.272 * GB),
        paged_state_bytes=int(0.268 * GB),
    )
    result = result_of(p, m)
    f = result.figures
    assert f["completed_adamw8bit"] == 0 and f["oom_step_adamw8bit"] == 1
    assert f["completed_paged_adamw8bit"] == 1 and f["steps_done_paged_adamw8bit"] == 10
    assert f["step_time_ms_paged_adamw8bit"] == pytest.approx(10.0)  # the first step left out
    assert f["outside_torch_gb_paged_adamw8bit"] == pytest.approx(0.30)
    assert set(f) <= set(result.figure_labels)
    # Arms not asked for are not measured.
    assert math.isnan(f["completed_adamw"]) and math.isnan(f["completed_paged_adamw32bit"])
    assert [c.passed for c in result.checks] == [True, True, True]
    conclusion = english(result.conclusion)
    assert "8-bit AdamW: out of memory at step 1" in conclusion
    assert "8-bit AdamW without paging ran out of memory while paged 8-bit AdamW completed" in (
        conclusion
    )
    assert "resident on the GPU" in conclusion

    # A cap large enough for 8-bit AdamW: its check fails instead of claiming an OOM.
    m.arms["adamw8bit"] = ArmOutcome(name="adamw8bit", completed=True, steps_done=10)
    checks = result_of(p, m).checks
    assert not checks[0].passed and "completed 10 steps" in english(checks[0].detail)


def test_an_arm_refused_for_its_managed_memory_is_not_measured() -> None:
    p = params(arms="paged_adamw32bit")
    m = Measured(measured=True, device_total_bytes=24 * GB)
    m.arms["paged_adamw32bit"] = ArmOutcome(name="paged_adamw32bit", note="not run: it would ask")
    result = result_of(p, m)
    assert math.isnan(result.figures["completed_paged_adamw32bit"])
    assert not result.checks[0].passed
    assert "paged 32-bit AdamW: not measured (not run: it would ask)" in english(result.conclusion)


# ---- on a GPU ------------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_under_the_default_cap_only_the_paged_optimizers_complete() -> None:  # pragma: no cover
    pytest.importorskip("bitsandbytes")
    fraction = getattr(torch.cuda, "get_per_process_memory_fraction", lambda: 1.0)
    before = fraction()
    result = DEMO.run(params(), context("cuda"))
    f = result.figures
    assert f["measured"] == 1, result.conclusion
    assert f["completed_adamw"] == 0 and f["oom_step_adamw"] >= 1
    assert f["completed_adamw8bit"] == 0 and f["oom_step_adamw8bit"] >= 1
    for arm in ("paged_adamw8bit", "paged_adamw32bit"):
        assert f[f"completed_{arm}"] == 1 and f[f"steps_done_{arm}"] == 10
        assert f[f"torch_peak_gb_{arm}"] <= 1.8
        assert f[f"paged_state_gb_{arm}"] > 0.5 * f[f"state_gb_{arm}"]
    assert all(check.passed for check in result.checks), result.checks
    assert fraction() == before  # the cap is lifted
