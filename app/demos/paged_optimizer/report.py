"""The paged-optimizer demo's result: per optimizer, whether it completed under the cap
or ran out of memory (and at which step), its step time, PyTorch's peak, the device-wide
memory it used and its state bytes. No torch here.

Off a GPU with bitsandbytes nothing is measured: every figure is NaN, ``measured`` is 0
and the conclusion says what would measure it (claims show "not measurable here").
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.paged_optimizer.params import ARMS, GB, PagedOptimizerParams, weights_and_grads_bytes
from app.demos.paged_optimizer.summary import figure_units, headline_of, summary_of

NAN = math.nan
PER_ARM = (
    "completed",  # 1 finished every step, 0 ran out of memory
    "steps_done",  # steps finished before the end or the OOM
    "oom_step",  # the step (1-based) that ran out of memory; 0 when none did
    "step_time_ms",  # mean wall time of the steps after the first (which allocates the state)
    "torch_peak_gb",  # torch.cuda.max_memory_allocated over the arm, above its start
    "torch_reserved_gb",  # torch.cuda.max_memory_reserved over the arm, above its start
    "device_used_gb",  # device-wide used memory (cudaMemGetInfo), peak above the arm's start
    "outside_torch_gb",  # device_used_gb − torch_reserved_gb: memory PyTorch does not hold
    "state_gb",  # bytes of the optimizer's state tensors (at the end or at the OOM)
    "paged_state_gb",  # of which allocated by bitsandbytes as paged (unified memory)
)
FIGURES = (
    "measured",
    "cap_gb",
    "params",
    "weights_and_grads_gb",
    "device_total_gb",
    *(f"{figure}_{arm}" for arm in ARMS for figure in PER_ARM),
)
NOT_MEASURABLE = "needs a CUDA GPU with bitsandbytes"


def figure_names(params: PagedOptimizerParams) -> Collection[str]:
    """The same names for every parameter choice: an optimizer not run (or not measured
    off a GPU) has NaN figures."""
    return FIGURES


@dataclass
class ArmOutcome:
    name: str
    completed: bool = False
    steps_done: int = 0
    oom_step: int = 0
    step_times_s: list[float] = field(default_factory=list)
    torch_peak_bytes: int = 0
    torch_reserved_bytes: int = 0
    device_used_bytes: int = 0
    state_bytes: int = 0
    paged_state_bytes: int = 0
    note: str = ""  # the OOM's first line, or why the arm was not run


@dataclass
class Measured:
    measured: bool = False
    reason: str = ""  # why nothing was measured
    device_total_bytes: int = 0
    arms: dict[str, ArmOutcome] = field(default_factory=dict)


def _mean_after_first(times: list[float]) -> float:
    later = times[1:]
    return 1000 * sum(later) / len(later) if later else NAN


def arm_figures(a: ArmOutcome) -> dict[str, float]:
    torch_reserved = a.torch_reserved_bytes / GB
    device_used = a.device_used_bytes / GB
    return {
        "completed": float(a.completed),
        "steps_done": float(a.steps_done),
        "oom_step": float(a.oom_step),
        "step_time_ms": _mean_after_first(a.step_times_s),
        "torch_peak_gb": a.torch_peak_bytes / GB,
        "torch_reserved_gb": torch_reserved,
        "device_used_gb": device_used,
        "outside_torch_gb": device_used - torch_reserved,
        "state_gb": a.state_bytes / GB,
        "paged_state_gb": a.paged_state_bytes / GB,
    }


def figures_of(p: PagedOptimizerParams, m: Measured) -> dict[str, float]:
    n = p.layers * p.width * p.width
    figures = {
        "measured": float(m.measured),
        "cap_gb": p.cap_gb,
        "params": float(n),
        "weights_and_grads_gb": weights_and_grads_bytes(p.width, p.layers) / GB,
        "device_total_gb": m.device_total_bytes / GB if m.measured else NAN,
    }
    for arm in ARMS:
        outcome = m.arms.get(arm) if m.measured else None
        # An arm refused before it ran (its note says why) is not measured either.
        ran = outcome is not None and (outcome.completed or outcome.oom_step > 0)
        values = arm_figures(outcome) if ran and outcome else dict.fromkeys(PER_ARM, NAN)
        figures.update({f"{figure}_{arm}": values[figure] for figure in PER_ARM})
    return figures


def outcome_words(arm: str, f: dict[str, float], m: Measured) -> str:
    if math.isnan(f[f"completed_{arm}"]):
        note = m.arms[arm].note if arm in m.arms else "not run"
        return f"{arm}: not measured ({note})"
    if f[f"completed_{arm}"] == 1:
        head = (
            f"{arm}: completed {f[f'steps_done_{arm}']:.0f} steps, "
            f"{f[f'step_time_ms_{arm}']:.1f} ms/step"
        )
    else:
        head = f"{arm}: OOM at step {f[f'oom_step_{arm}']:.0f}"
    return (
        f"{head} (PyTorch peak {f[f'torch_peak_gb_{arm}']:.3f} GB, device-wide "
        f"{f[f'device_used_gb_{arm}']:.3f} GB, state {f[f'state_gb_{arm}']:.3f} GB of which "
        f"paged {f[f'paged_state_gb_{arm}']:.3f} GB)"
    )


def checks_of(p: PagedOptimizerParams, m: Measured, f: dict[str, float]) -> list[Check]:
    if not m.measured:
        return []
    checks: list[Check] = []
    expected_oom = {
        "adamw": "AdamW (two fp32 states per parameter) runs out of memory under the cap",
        "adamw8bit": "8-bit AdamW without paging runs out of memory under the cap",
    }
    for arm, name in expected_oom.items():
        if arm in p.arm_names and not math.isnan(f[f"completed_{arm}"]):
            checks.append(
                Check(name=name, passed=f[f"completed_{arm}"] == 0, detail=outcome_words(arm, f, m))
            )
    for arm, label in (("paged_adamw8bit", "8-bit"), ("paged_adamw32bit", "32-bit")):
        if arm not in p.arm_names:
            continue
        checks.append(
            Check(
                name=f"Paged {label} AdamW completes every step under the same cap",
                passed=f[f"completed_{arm}"] == 1,
                detail=outcome_words(arm, f, m),
            )
        )
        checks.append(
            Check(
                name=f"Paged {label} AdamW's large states are paged (CUDA unified memory)",
                passed=f[f"paged_state_gb_{arm}"] > 0.5 * f[f"state_gb_{arm}"] > 0,
                detail=f"{f[f'paged_state_gb_{arm}']:.3f} of {f[f'state_gb_{arm}']:.3f} GB of "
                "state allocated by bitsandbytes as paged",
            )
        )
    return checks


def series_of(p: PagedOptimizerParams, m: Measured, f: dict[str, float]) -> list[Series]:
    if not m.measured:
        return []
    ran = [arm for arm in ARMS if not math.isnan(f[f"completed_{arm}"])]
    axis = "optimizer: " + ", ".join(f"{i} {arm}" for i, arm in enumerate(ran))
    xs = [float(i) for i in range(len(ran))]
    series = [
        Series(
            name=label,
            x=xs,
            y=[f[f"{figure}_{arm}"] for arm in ran],
            kind="bar",
            x_label=axis,
            y_label="GB",
            chart="memory",
        )
        for figure, label in (
            ("torch_peak_gb", "PyTorch's peak allocated (what max_memory_allocated sees)"),
            ("device_used_gb", "device-wide used memory (cudaMemGetInfo, unified memory too)"),
            ("state_gb", "optimizer state"),
        )
    ]
    series += [
        Series(
            name=f"{arm} step time",
            x=[float(s) for s in range(1, len(m.arms[arm].step_times_s) + 1)],
            y=[1000 * t for t in m.arms[arm].step_times_s],
            x_label="step",
            y_label="ms",
            chart="step_time",
        )
        for arm in ran
        if m.arms[arm].step_times_s
    ]
    return series


def conclusion_of(p: PagedOptimizerParams, m: Measured, f: dict[str, float]) -> str:
    setup = (
        f"{p.layers} layers of {p.width}² ({f['params'] / 1e6:.0f}M fp32 parameters; weights and "
        f"gradients {f['weights_and_grads_gb']:.3f} GB) trained for {p.steps} steps while "
        f"PyTorch's allocator may hold {p.cap_gb:g} GB"
    )
    if not m.measured:
        return (
            f"Not measured: {m.reason}. Paging is a GPU effect (bitsandbytes allocates the "
            f"paged states in CUDA unified memory); this demo {NOT_MEASURABLE} to show it: "
            f"{setup}, AdamW and 8-bit AdamW are expected to run out of memory and the paged "
            "optimizers to complete."
        )
    text = f"{setup}. " + "; ".join(outcome_words(arm, f, m) for arm in p.arm_names) + ". "
    paged_ok = [a for a in ("paged_adamw8bit", "paged_adamw32bit") if f[f"completed_{a}"] == 1]
    if paged_ok and f["completed_adamw8bit"] == 0:
        text += (
            "Under the same cap, 8-bit AdamW without paging ran out of memory while "
            f"{' and '.join(paged_ok)} completed: the paged states live in CUDA unified memory, "
            "outside PyTorch's capped pool. "
        )
    for arm in paged_ok:
        state, outside = f[f"paged_state_gb_{arm}"], f[f"outside_torch_gb_{arm}"]
        where = (
            "resident on the GPU (the card had room, so the driver evicted nothing to host RAM)"
            if outside >= 0.5 * state
            else "mostly not resident on the GPU (in host RAM)"
        )
        text += (
            f"{arm}: {outside:.3f} GB of device memory outside PyTorch's allocator for "
            f"{state:.3f} GB of paged state, {where}. "
        )
    text += (
        "The cap limits PyTorch's allocator only; paging moves states to host RAM when the GPU "
        "itself runs out, which this demo does not provoke (over-subscribing managed memory "
        "can hang a shared GPU), and it does not lower the memory the training needs."
    )
    return text


def result_of(p: PagedOptimizerParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m, figures),
        checks=checks_of(p, m, figures),
        conclusion=conclusion_of(p, m, figures),
        headline=headline_of(p, figures),
        summary=summary_of(figures),
        figure_units=figure_units(figures),
    )
