"""The loss-spikes demo's charts: loss, gradient norm and numeric range over the steps,
one series per arm (baseline, configured), the flagged spikes, the guard's skips and the
corrupted batches marked. No torch here."""

from __future__ import annotations

import math

from app.demos.base import Series
from app.demos.loss_spikes.logs import ARMS, FP16_MAX, ArmLog, Measured, finite
from app.demos.loss_spikes.params import LossSpikesParams
from app.demos.text import N_, Text, Unit, t

# Series names per arm: whole phrases, so that a translation reads naturally.
LOSS = {"baseline": N_("loss, baseline (no remedy)"), "configured": N_("loss, configured run")}
SPIKES = {
    "baseline": N_("flagged spikes, baseline"),
    "configured": N_("flagged spikes, configured run"),
}
GRAD_NORM = {
    "baseline": N_("gradient norm, baseline"),
    "configured": N_("gradient norm, configured run"),
}
ACTIVATION = {
    "baseline": N_("largest |activation|, baseline"),
    "configured": N_("largest |activation|, configured run"),
}
SCALE = {
    "baseline": N_("GradScaler scale, baseline"),
    "configured": N_("GradScaler scale, configured run"),
}


def _points(
    name: str | Text,
    steps: list[int],
    values: list[float],
    chart: str,
    y_label: Text,
    unit: Unit,
    **kw: bool,
) -> Series:
    """One series over steps, NaN/inf points left out."""
    keep = [(s, v) for s, v in zip(steps, values, strict=True) if math.isfinite(v)]
    return Series(
        name=Text(msg=name) if isinstance(name, str) else name,
        x=[float(s) for s, _ in keep],
        y=[v for _, v in keep],
        kind="scatter" if kw.pop("scatter", False) else "line",
        x_label=t("training step"),
        y_label=y_label,
        chart=chart,
        unit=unit,
        **kw,
    )


def shown_arms(m: Measured) -> dict[str, ArmLog]:
    """The arms drawn: the baseline alone when the configured run is the baseline."""
    logs = {"baseline": m.baseline, "configured": m.configured}
    return {arm: logs[arm] for arm in (ARMS[:1] if m.identical else ARMS)}


def _loss_series(p: LossSpikesParams, m: Measured) -> list[Series]:
    """The loss chart: each arm's loss, its flagged spikes, the guard's skips and the
    corrupted batches."""
    logs, all_steps = shown_arms(m), list(range(1, p.steps + 1))
    finite_losses = [x for log in logs.values() for x in log.losses if math.isfinite(x)]
    top = max(finite_losses, default=1.0)
    log_loss = top > 20 * min(finite_losses, default=1.0)
    label = t("loss (cross-entropy)")
    series = [
        _points(LOSS[arm], all_steps, log.losses, "loss", label, "loss", log_y=log_loss)
        for arm, log in logs.items()
    ]
    for arm, log in logs.items():
        flagged = [s for s in all_steps if log.spikes[s - 1]]
        # A NaN/inf loss is drawn at the top of the chart, where the curve cannot go.
        y = [log.losses[s - 1] if math.isfinite(log.losses[s - 1]) else top for s in flagged]
        series.append(_points(SPIKES[arm], flagged, y, "loss", label, "loss", scatter=True))
    skipped = [s for s in all_steps if m.configured.skipped[s - 1]]
    if skipped:
        y = [min(finite(m.configured.losses[s - 1]), top) for s in skipped]
        name = t("skipped by the guard")
        series.append(_points(name, skipped, y, "loss", label, "loss", scatter=True))
    if p.corrupt_step:
        bad = list(p.corrupt_steps)
        y = [min(finite(m.baseline.losses[s - 1]), top) for s in bad]
        name = t("corrupted batches")
        series.append(_points(name, bad, y, "loss", label, "loss", scatter=True))
    return series


def _norm_and_range_series(p: LossSpikesParams, m: Measured) -> list[Series]:
    """The gradient-norm chart (with the clip threshold) and the range chart: the largest
    activation against fp16's max, and the GradScaler's scale."""
    logs, all_steps, ends = shown_arms(m), list(range(1, p.steps + 1)), [1, p.steps]
    norm = t(r"gradient norm $\|g\|$ (before clipping)")
    series = [
        _points(GRAD_NORM[arm], all_steps, log.grad_norms, "grad_norm", norm, "plain", log_y=True)
        for arm, log in logs.items()
    ]
    if p.clip > 0:
        name = t("clip threshold")
        series.append(_points(name, ends, [p.clip] * 2, "grad_norm", norm, "plain", log_y=True))
    value = t("largest |value| (log scale)")
    series += [
        _points(
            ACTIVATION[arm], all_steps, log.peak_activations, "range", value, "plain", log_y=True
        )
        for arm, log in logs.items()
    ]
    fp16 = t("fp16 max (65504)")
    series.append(_points(fp16, ends, [FP16_MAX] * 2, "range", value, "plain", log_y=True))
    if p.precision == "fp16_scaler":
        series += [
            _points(SCALE[arm], all_steps, log.scales, "range", value, "plain", log_y=True)
            for arm, log in logs.items()
        ]
    return series


def series_of(p: LossSpikesParams, m: Measured) -> list[Series]:
    return _loss_series(p, m) + _norm_and_range_series(p, m)
