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
from app.demos.paged_optimizer.summary import (
    ARM_TITLES,
    figure_labels,
    figure_units,
    headline_of,
    summary_of,
)
from app.demos.text import N_, Text, q, t

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
    note: Text | str = ""  # the OOM's first line, or why the arm was not run


@dataclass
class Measured:
    measured: bool = False
    reason: Text | str = ""  # why nothing was measured
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


def outcome_words(arm: str, f: dict[str, float], m: Measured) -> Text:
    name = Text(msg=ARM_TITLES[arm])
    if math.isnan(f[f"completed_{arm}"]):
        note = m.arms[arm].note if arm in m.arms else ""
        if not note:
            return t("%(arm)s: not run", arm=name)
        return t("%(arm)s: not measured (%(note)s)", arm=name, note=note)
    if f[f"completed_{arm}"] == 1:
        head = t(
            "%(arm)s: completed %(steps)s steps at %(time)s per step",
            arm=name, steps=q(f[f"steps_done_{arm}"], "count"),
            time=q(f[f"step_time_ms_{arm}"], "ms"),
        )  # fmt: skip
    else:
        head = t(
            "%(arm)s: out of memory at step %(step)s",
            arm=name,
            step=q(f[f"oom_step_{arm}"], "count"),
        )
    return t(
        "%(head)s (PyTorch peak %(peak)s, device-wide %(device)s, optimizer state %(state)s, of "
        "which paged %(paged)s)",
        head=head, peak=q(f[f"torch_peak_gb_{arm}"], "gb"),
        device=q(f[f"device_used_gb_{arm}"], "gb"), state=q(f[f"state_gb_{arm}"], "gb"),
        paged=q(f[f"paged_state_gb_{arm}"], "gb"),
    )  # fmt: skip


def checks_of(p: PagedOptimizerParams, m: Measured, f: dict[str, float]) -> list[Check]:
    if not m.measured:
        return []
    checks: list[Check] = []
    expected_oom = {
        "adamw": t("AdamW (two fp32 states per parameter) runs out of memory under the cap"),
        "adamw8bit": t("8-bit AdamW without paging runs out of memory under the cap"),
    }
    for arm, name in expected_oom.items():
        if arm in p.arm_names and not math.isnan(f[f"completed_{arm}"]):
            checks.append(
                Check(name=name, passed=f[f"completed_{arm}"] == 0, detail=outcome_words(arm, f, m))
            )
    for arm in ("paged_adamw8bit", "paged_adamw32bit"):
        if arm not in p.arm_names:
            continue
        name = Text(msg=ARM_TITLES[arm])
        checks.append(
            Check(
                name=t("%(arm)s completes every step under the same cap", arm=name),
                passed=f[f"completed_{arm}"] == 1,
                detail=outcome_words(arm, f, m),
            )
        )
        checks.append(
            Check(
                name=t("%(arm)s's large states are paged (CUDA unified memory)", arm=name),
                passed=f[f"paged_state_gb_{arm}"] > 0.5 * f[f"state_gb_{arm}"] > 0,
                detail=t(
                    "%(paged)s of %(state)s of optimizer state allocated by bitsandbytes as paged",
                    paged=q(f[f"paged_state_gb_{arm}"], "gb"),
                    state=q(f[f"state_gb_{arm}"], "gb"),
                ),
            )  # fmt: skip
        )
    return checks


_MEMORY_SERIES = (
    ("torch_peak_gb", N_("PyTorch's peak allocated (what max_memory_allocated sees)")),
    ("device_used_gb", N_("device-wide used memory (cudaMemGetInfo, unified memory too)")),
    ("state_gb", N_("optimizer state")),
)


def series_of(p: PagedOptimizerParams, m: Measured, f: dict[str, float]) -> list[Series]:
    """Memory per optimizer (bars, optimizers named) and each optimizer's step time."""
    if not m.measured:
        return []
    ran = [arm for arm in ARMS if not math.isnan(f[f"completed_{arm}"])]
    names: list[Text | str] = [Text(msg=ARM_TITLES[arm]) for arm in ran]
    xs = [float(i) for i in range(len(ran))]
    series = [
        Series(
            name=Text(msg=label),
            x=xs,
            y=[f[f"{figure}_{arm}"] for arm in ran],
            kind="bar",
            x_label=t("optimizer"),
            y_label=t("memory (GB)"),
            chart="memory",
            categories=names,
            unit="gb",
        )  # fmt: skip
        for figure, label in _MEMORY_SERIES
    ]
    series += [
        Series(
            name=t("%(arm)s, step time", arm=Text(msg=ARM_TITLES[arm])),
            x=[float(s) for s in range(1, len(m.arms[arm].step_times_s) + 1)],
            y=[1000 * secs for secs in m.arms[arm].step_times_s],
            x_label=t("training step"),
            y_label=t("step time (ms)"),
            chart="step_time",
            unit="ms",
        )  # fmt: skip
        for arm in ran
        if m.arms[arm].step_times_s
    ]
    return series


def _sentences(parts: list[Text], joiner: str = "%(a)s %(b)s") -> Text:
    out = parts[0]
    for part in parts[1:]:
        out = Text(msg=joiner, args={"a": out, "b": part})
    return out


def _setup(p: PagedOptimizerParams, f: dict[str, float]) -> Text:
    return t(
        "%(layers)s layers of %(width)s² (%(params)s fp32 parameters; weights and gradients "
        "%(wg)s) trained for %(steps)s steps while PyTorch's allocator may hold %(cap)s",
        layers=p.layers, width=p.width, params=q(f["params"], "params"),
        wg=q(f["weights_and_grads_gb"], "gb"), steps=p.steps, cap=q(p.cap_gb, "gb"),
    )  # fmt: skip


def _residency(arm: str, f: dict[str, float]) -> Text:
    state, outside = f[f"paged_state_gb_{arm}"], f[f"outside_torch_gb_{arm}"]
    where = (
        t("resident on the GPU (the card had room, so the driver evicted nothing to host RAM)")
        if outside >= 0.5 * state
        else t("mostly not resident on the GPU (in host RAM)")
    )
    return t(
        "%(arm)s: %(outside)s of device memory outside PyTorch's allocator for %(state)s of "
        "paged state, %(where)s.",
        arm=Text(msg=ARM_TITLES[arm]), outside=q(outside, "gb"), state=q(state, "gb"), where=where,
    )  # fmt: skip


def conclusion_of(p: PagedOptimizerParams, m: Measured, f: dict[str, float]) -> Text:
    if not m.measured:
        return t(
            "Not measured: %(reason)s. Paging is a GPU effect: bitsandbytes allocates the paged "
            "states in CUDA unified memory. On such a GPU, %(setup)s, AdamW and 8-bit AdamW are "
            "expected to run out of memory and the paged optimizers to complete.",
            reason=m.reason, setup=_setup(p, f),
        )  # fmt: skip
    outcomes = _sentences([outcome_words(arm, f, m) for arm in p.arm_names], N_("%(a)s; %(b)s"))
    parts = [t("%(setup)s. %(outcomes)s.", setup=_setup(p, f), outcomes=outcomes)]
    paged_ok = [a for a in ("paged_adamw8bit", "paged_adamw32bit") if f[f"completed_{a}"] == 1]
    if paged_ok and f["completed_adamw8bit"] == 0:
        done = _sentences([Text(msg=ARM_TITLES[a]) for a in paged_ok], N_("%(a)s and %(b)s"))
        parts.append(
            t(
                "Under the same cap, 8-bit AdamW without paging ran out of memory while %(done)s "
                "completed: the paged states live in CUDA unified memory, outside PyTorch's "
                "capped pool.",
                done=done,
            )
        )
    parts += [_residency(arm, f) for arm in paged_ok]
    parts.append(
        t(
            "The cap limits PyTorch's allocator only; paging moves states to host RAM when the "
            "GPU itself runs out, which this demo does not provoke (over-subscribing managed "
            "memory can hang a shared GPU), and it does not lower the memory the training needs."
        )
    )
    return _sentences(parts)


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
        figure_labels=figure_labels(),
    )
