"""The paged-optimizer demo's headline, summary table and figure units: what a reader sees
first (issue 16). No torch here."""

from __future__ import annotations

import math

from app.demos.paged_optimizer.params import ARMS, PagedOptimizerParams
from app.demos.text import N_, Cell, Table, Text, Unit, q, t

ARM_TITLES: dict[str, str] = {
    "adamw": "AdamW",
    "adamw8bit": N_("8-bit AdamW"),
    "paged_adamw8bit": N_("paged 8-bit AdamW"),
    "paged_adamw32bit": N_("paged 32-bit AdamW"),
}
_UNITS: dict[str, Unit] = {
    "completed": "count",
    "steps_done": "count",
    "oom_step": "count",
    "step_time_ms": "ms",
    "params": "params",
    "measured": "count",
}


PER_ARM_LABELS = {
    "completed": N_("%(arm)s: completed every step (1 = yes, 0 = ran out of memory)"),
    "steps_done": N_("%(arm)s: steps finished"),
    "oom_step": N_("%(arm)s: step that ran out of memory (0: none)"),
    "step_time_ms": N_("%(arm)s: mean step time, the first step left out"),
    "torch_peak_gb": N_("%(arm)s: PyTorch's peak allocated, above its start"),
    "torch_reserved_gb": N_("%(arm)s: PyTorch's peak reserved, above its start"),
    "device_used_gb": N_("%(arm)s: device-wide used memory, peak above its start"),
    "outside_torch_gb": N_("%(arm)s: device memory outside PyTorch's allocator"),
    "state_gb": N_("%(arm)s: optimizer state"),
    "paged_state_gb": N_("%(arm)s: optimizer state allocated as paged (unified memory)"),
}


def figure_labels() -> dict[str, Text]:
    """The run's setup and every optimizer's figures (NaN where it was not measured)."""
    labels = {
        "measured": t("measured on a CUDA GPU with bitsandbytes (1 = yes)"),
        "cap_gb": t("cap on PyTorch's allocator for each optimizer's run"),
        "params": t("fp32 parameters"),
        "weights_and_grads_gb": t("fp32 weights and gradients"),
        "device_total_gb": t("GPU memory"),
    }
    for arm in ARMS:
        name = Text(msg=ARM_TITLES[arm])
        labels |= {f"{key}_{arm}": t(msg, arm=name) for key, msg in PER_ARM_LABELS.items()}
    return labels


def figure_units(figures: dict[str, float]) -> dict[str, Unit]:
    """GB for every *_gb figure, else by the figure's stem."""
    units: dict[str, Unit] = {}
    for name in figures:
        stem = next((s for s in _UNITS if name == s or name.startswith(s + "_")), "")
        units[name] = "gb" if "_gb" in name or name.endswith("gb") else _UNITS.get(stem, "plain")
    return units


def _outcome(arm: str, f: dict[str, float]) -> Text:
    if math.isnan(f[f"completed_{arm}"]):
        return t("not measured")
    if f[f"completed_{arm}"] == 1:
        return t("completed %(steps)s steps", steps=q(f[f"steps_done_{arm}"], "count"))
    return t("out of memory at step %(step)s", step=q(f[f"oom_step_{arm}"], "count"))


def headline_of(p: PagedOptimizerParams, f: dict[str, float]) -> Text:
    if f["measured"] != 1:
        return t(
            "Not measured here: paging is a GPU effect, so this demo needs a CUDA GPU with "
            "bitsandbytes. Expected: under a %(cap)s cap, AdamW and 8-bit AdamW run out of "
            "memory while the paged optimizers complete.",
            cap=q(p.cap_gb, "gb"),
        )
    return t(
        "Under the same %(cap)s cap on PyTorch's allocator, 8-bit AdamW: %(plain)s; paged 8-bit "
        "AdamW: %(paged)s (its states live in CUDA unified memory, outside the cap).",
        cap=q(p.cap_gb, "gb"),
        plain=_outcome("adamw8bit", f),
        paged=_outcome("paged_adamw8bit", f),
    )


def _gb(value: float) -> Cell:
    """A size, or a dash where nothing was measured (a NaN is stored as null)."""
    return "—" if math.isnan(value) else q(value, "gb")


def summary_of(f: dict[str, float]) -> Table:
    """One row per optimizer: outcome, PyTorch's peak, device-wide use, optimizer state."""
    rows: list[list[Cell]] = [
        [
            Text(msg=ARM_TITLES[arm]),
            _outcome(arm, f),
            *(
                _gb(f[f"{figure}_{arm}"])
                for figure in ("torch_peak_gb", "device_used_gb", "state_gb")
            ),
        ]
        for arm in ARMS
    ]
    return Table(
        columns=[
            t("Optimizer"),
            t("Outcome"),
            t("PyTorch peak"),
            t("Device-wide used"),
            t("Optimizer state"),
        ],
        rows=rows,
    )
