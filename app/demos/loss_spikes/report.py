"""The loss-spikes demo's report: the two arms' step logs turned into named figures (the
claims feature reads them), checks on the run's own numbers, the loss / gradient-norm /
range charts and a conclusion quoting the numbers, whichever way they fall. No torch
here: plain floats in, result out.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.loss_spikes.detector import running_medians
from app.demos.loss_spikes.params import LossSpikesParams
from app.demos.loss_spikes.summary import figure_units, headline_of, summary_of

FP16_MAX = 65504.0  # torch.finfo(torch.float16).max: 2^15 · (2 − 2^−10)
BF16_MAX = 3.3895313892515355e38  # torch.finfo(torch.bfloat16).max: fp32's exponent range
PROBE = 70000.0  # just past fp16's largest value
NONFINITE_AS = 1e30  # a NaN/inf loss or norm enters max_* and final_loss_* as this
CORRUPT_WINDOW = 2  # a spike at corrupt_step … corrupt_step + 2 counts as "at" it
AFTER = 10  # steps before and after the corrupted batch compared for its aftermath
ARMS = ("baseline", "configured")


@dataclass
class ArmLog:
    """Per step (index step - 1): what one arm measured."""

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)  # before clipping, unscaled
    spikes: list[bool] = field(default_factory=list)  # the detector's flag
    skipped: list[bool] = field(default_factory=list)  # the guard skipped the update
    scaler_skipped: list[bool] = field(default_factory=list)  # GradScaler found inf/NaN
    update_norms: list[float] = field(default_factory=list)  # ‖θ_after − θ_before‖
    peak_activations: list[float] = field(default_factory=list)  # TinyGPT.peak_activation
    scales: list[float] = field(default_factory=list)  # loss scale (1 without a scaler)
    weights_finite: bool = True


@dataclass
class Measured:
    """What ``run`` measured: the corpus, and the two arms' step logs."""

    corpus_chars: int
    vocab_size: int
    unk_chars: int
    identical: bool  # every remedy off: configured is baseline, trained once
    baseline: ArmLog
    configured: ArmLog
    fp16_of_probe: float  # float(torch.tensor(PROBE).half()): inf
    bf16_of_probe: float  # float(torch.tensor(PROBE).bfloat16()): 70144


def _finite(value: float) -> float:
    return value if math.isfinite(value) else NONFINITE_AS


def _arm_figures(p: LossSpikesParams, log: ArmLog) -> dict[str, float]:
    tail = max(1, len(log.losses) // 10)
    # Each loss over the running median the detector compared it with (where it had one).
    medians = running_medians(log.losses, p.median_window)
    ratios = [
        _finite(loss / median) if median > 0 else NONFINITE_AS
        for loss, median in zip(log.losses, medians, strict=True)
        if median is not None
    ]
    peak = max(x if math.isfinite(x) else math.inf for x in log.losses)
    # The loss of a corrupted batch is measured before its update, so it is high whatever
    # the remedy: the spikes a remedy can remove are those on clean batches.
    bad_steps = set(p.corrupt_steps)
    clean_spikes = [flag for step, flag in enumerate(log.spikes, 1) if step not in bad_steps]
    figures = {
        "spikes": float(sum(log.spikes)),
        "spikes_on_clean_batches": float(sum(clean_spikes)),
        "max_loss": _finite(peak),
        "max_loss_over_initial": _finite(peak / log.losses[0]),
        "max_loss_to_median": max(ratios, default=1.0),
        "final_loss": statistics.fmean(_finite(x) for x in log.losses[-tail:]),
        "nonfinite_loss_steps": float(sum(not math.isfinite(x) for x in log.losses)),
        "nonfinite_grad_steps": float(sum(not math.isfinite(x) for x in log.grad_norms)),
        "skipped_steps": float(sum(log.skipped)),
        "max_grad_norm": max(_finite(x) for x in log.grad_norms),
        # The largest finite one; an inf one (fp16 overflowed) counts as over the max.
        "max_abs_activation": max(
            (x for x in log.peak_activations if math.isfinite(x)), default=0.0
        ),
        "activation_over_fp16_max": float(any(x > FP16_MAX for x in log.peak_activations)),
        "scaler_skipped_steps": float(sum(log.scaler_skipped)),
        "final_loss_scale": log.scales[-1],
        "weights_finite": float(log.weights_finite),
    }
    if p.corrupt_step:
        first, last = p.corrupt_steps[0] - 1, p.corrupt_steps[-1] - 1  # 0-based indices
        bad = slice(first, last + 1)
        before = [_finite(x) for x in log.losses[max(0, first - AFTER) : first]]
        after = [_finite(x) for x in log.losses[last + 1 : last + 1 + AFTER]]
        figures |= {
            "spike_at_corrupt_step": float(any(log.spikes[first : first + CORRUPT_WINDOW + 1])),
            "loss_at_corrupt_step": _finite(log.losses[first]),
            "corrupt_batches_flagged": float(sum(log.spikes[bad])),
            "skipped_corrupt_batches": float(sum(log.skipped[bad])),
            "max_update_norm_on_corrupt_batches": max(_finite(x) for x in log.update_norms[bad]),
            "post_corrupt_loss_ratio": statistics.fmean(after) / statistics.fmean(before),
        }
    return figures


def _flags_match(p: LossSpikesParams, log: ArmLog) -> bool:
    """The loop's spike flags equal the definition applied to its logged losses."""
    medians = running_medians(log.losses, p.median_window)
    expected = [
        not math.isfinite(loss) or (median is not None and loss > p.spike_k * median)
        for loss, median in zip(log.losses, medians, strict=True)
    ]
    return expected == log.spikes


def figure_names(params: LossSpikesParams) -> list[str]:
    """The fixed figures, then every per-arm figure once per arm (``<name>_baseline``,
    ``<name>_configured``); the corrupted-batch figures only when corrupt_step > 0."""
    per_arm = [
        "spikes", "spikes_on_clean_batches", "max_loss", "max_loss_over_initial",
        "max_loss_to_median", "final_loss", "nonfinite_loss_steps", "nonfinite_grad_steps",
        "skipped_steps", "max_grad_norm", "max_abs_activation", "activation_over_fp16_max",
        "scaler_skipped_steps", "final_loss_scale", "weights_finite",
    ]  # fmt: skip
    if params.corrupt_step:
        per_arm += [
            "spike_at_corrupt_step", "loss_at_corrupt_step", "corrupt_batches_flagged",
            "skipped_corrupt_batches", "max_update_norm_on_corrupt_batches",
            "post_corrupt_loss_ratio",
        ]  # fmt: skip
    fixed = [
        "corpus_chars", "vocab_size", "unk_chars", "arms_identical", "spikes_removed",
        "fp16_max", "bf16_max", "overflow_fp16_inf", "bf16_value",
    ]  # fmt: skip
    return [*fixed, *(f"{name}_{arm}" for arm in ARMS for name in per_arm)]


def _points(
    name: str, steps: list[int], values: list[float], chart: str, y_label: str, **kw: bool
) -> Series:
    """One series over steps, NaN/inf points left out."""
    keep = [(s, v) for s, v in zip(steps, values, strict=True) if math.isfinite(v)]
    return Series(
        name=name,
        x=[float(s) for s, _ in keep],
        y=[v for _, v in keep],
        kind="scatter" if kw.pop("scatter", False) else "line",
        x_label="step",
        y_label=y_label,
        chart=chart,
        **kw,
    )


def _shown_arms(m: Measured) -> dict[str, ArmLog]:
    """The arms drawn: the baseline alone when the configured run is the baseline."""
    logs = {"baseline": m.baseline, "configured": m.configured}
    return {arm: logs[arm] for arm in (ARMS[:1] if m.identical else ARMS)}


def _loss_series(p: LossSpikesParams, m: Measured) -> list[Series]:
    """The loss chart: each arm's loss, its flagged spikes, the guard's skips and the
    corrupted batches."""
    logs, all_steps = _shown_arms(m), list(range(1, p.steps + 1))
    finite_losses = [x for log in logs.values() for x in log.losses if math.isfinite(x)]
    top = max(finite_losses, default=1.0)
    log_loss = top > 20 * min(finite_losses, default=1.0)
    series = [
        _points(f"loss, {arm}", all_steps, log.losses, "loss", "loss", log_y=log_loss)
        for arm, log in logs.items()
    ]
    for arm, log in logs.items():
        flagged = [s for s in all_steps if log.spikes[s - 1]]
        # A NaN/inf loss is drawn at the top of the chart, where the curve cannot go.
        y = [log.losses[s - 1] if math.isfinite(log.losses[s - 1]) else top for s in flagged]
        series.append(_points(f"spikes, {arm}", flagged, y, "loss", "loss", scatter=True))
    skipped = [s for s in all_steps if m.configured.skipped[s - 1]]
    if skipped:
        y = [min(_finite(m.configured.losses[s - 1]), top) for s in skipped]
        series.append(_points("skipped by the guard", skipped, y, "loss", "loss", scatter=True))
    if p.corrupt_step:
        bad = list(p.corrupt_steps)
        y = [min(_finite(m.baseline.losses[s - 1]), top) for s in bad]
        series.append(_points("corrupted batches", bad, y, "loss", "loss", scatter=True))
    return series


def _norm_and_range_series(p: LossSpikesParams, m: Measured) -> list[Series]:
    """The gradient-norm chart (with the clip threshold) and the range chart: the largest
    activation against fp16's max, and the GradScaler's scale."""
    logs, all_steps, ends = _shown_arms(m), list(range(1, p.steps + 1)), [1, p.steps]
    series = [
        _points(f"gradient norm, {arm}", all_steps, log.grad_norms, "grad_norm", "‖g‖", log_y=True)
        for arm, log in logs.items()
    ]
    if p.clip > 0:
        series.append(
            _points("clip threshold", ends, [p.clip, p.clip], "grad_norm", "‖g‖", log_y=True)
        )
    series += [
        _points(
            f"largest |activation|, {arm}",
            all_steps,
            log.peak_activations,
            "range",
            "|value|",
            log_y=True,
        )  # fmt: skip
        for arm, log in logs.items()
    ]
    fp16 = [FP16_MAX, FP16_MAX]
    series.append(_points("fp16 max (65504)", ends, fp16, "range", "|value|", log_y=True))
    if p.precision == "fp16_scaler":
        series += [
            _points(
                f"GradScaler scale, {arm}", all_steps, log.scales, "range", "|value|", log_y=True
            )
            for arm, log in logs.items()
        ]
    return series


def series_of(p: LossSpikesParams, m: Measured) -> list[Series]:
    return _loss_series(p, m) + _norm_and_range_series(p, m)


Arms = dict[str, dict[str, float]]  # arm -> its figures, unsuffixed


def arms_of(p: LossSpikesParams, m: Measured) -> Arms:
    return {"baseline": _arm_figures(p, m.baseline), "configured": _arm_figures(p, m.configured)}


def figures_of(m: Measured, arm: Arms) -> dict[str, float]:
    figures: dict[str, float] = {
        "corpus_chars": float(m.corpus_chars),
        "vocab_size": float(m.vocab_size),
        "unk_chars": float(m.unk_chars),
        "arms_identical": float(m.identical),
        "spikes_removed": (
            arm["baseline"]["spikes_on_clean_batches"]
            - arm["configured"]["spikes_on_clean_batches"]
        ),
        "fp16_max": FP16_MAX,
        "bf16_max": BF16_MAX,
        "overflow_fp16_inf": float(math.isinf(m.fp16_of_probe)),
        "bf16_value": m.bf16_of_probe,
    }
    for name in ARMS:
        figures |= {f"{key}_{name}": value for key, value in arm[name].items()}
    return figures


def _corrupt_checks(p: LossSpikesParams, arm: Arms) -> list[Check]:
    """The corrupted batches: flagged (baseline), and skipped by the guard (configured)."""
    base, conf = arm["baseline"], arm["configured"]
    if not p.corrupt_step:
        return []
    checks = [
        Check(
            name="the first corrupted batch is flagged as a spike (baseline)",
            passed=base["spike_at_corrupt_step"] == 1.0,
            detail=(
                f"loss {base['loss_at_corrupt_step']:.3g} at step {p.corrupt_step}; "
                f"{base['corrupt_batches_flagged']:g} of {p.corrupt_batches} corrupted "
                "batches flagged"
            ),
        )
    ]
    if p.skip_guard:
        checks.append(
            Check(
                name="the guard skipped every corrupted batch, leaving the weights unchanged",
                passed=conf["skipped_corrupt_batches"] == p.corrupt_batches
                and conf["max_update_norm_on_corrupt_batches"] == 0.0,
                detail=(
                    f"{conf['skipped_corrupt_batches']:g} of {p.corrupt_batches} skipped; "
                    f"largest update norm {conf['max_update_norm_on_corrupt_batches']:.3g} "
                    f"(configured) vs {base['max_update_norm_on_corrupt_batches']:.3g} "
                    "(baseline)"
                ),
            )
        )
    return checks


def _remedy_checks(p: LossSpikesParams, m: Measured, arm: Arms) -> list[Check]:
    """The configured arm against the baseline, and finite weights under low precision."""
    base, conf = arm["baseline"], arm["configured"]
    checks = []
    if not m.identical:
        checks += [
            Check(
                name="the remedies leave no more spikes on clean batches than the baseline",
                passed=conf["spikes_on_clean_batches"] <= base["spikes_on_clean_batches"],
                detail=(
                    f"{conf['spikes_on_clean_batches']:g} configured vs "
                    f"{base['spikes_on_clean_batches']:g} baseline"
                ),
            ),
            Check(
                name="the remedies end at a loss no higher than the baseline's",
                passed=conf["final_loss"] <= base["final_loss"],
                detail=f"final loss {conf['final_loss']:.4g} vs {base['final_loss']:.4g}",
            ),
        ]
    if p.precision != "fp32":
        checks.append(
            Check(
                name=f"the weights stay finite under {p.precision}",
                passed=base["weights_finite"] == 1.0 and conf["weights_finite"] == 1.0,
                detail=(
                    f"non-finite gradient steps: {base['nonfinite_grad_steps']:g} baseline, "
                    f"{conf['nonfinite_grad_steps']:g} configured; scaler skipped "
                    f"{conf['scaler_skipped_steps']:g}"
                ),
            )
        )
    return checks


def checks_of(p: LossSpikesParams, m: Measured, arm: Arms) -> list[Check]:
    return [
        Check(
            name="the flagged steps are those whose loss is above k × the running median "
            "or NaN/inf",
            passed=all(_flags_match(p, log) for log in (m.baseline, m.configured)),
            detail=f"k = {p.spike_k:g}, window = {p.median_window}, recomputed from the losses",
        ),
        Check(
            name=f"{PROBE:g} overflows to inf in fp16 but stays finite in bf16",
            passed=math.isinf(m.fp16_of_probe) and math.isfinite(m.bf16_of_probe),
            detail=f"fp16: {m.fp16_of_probe}, bf16: {m.bf16_of_probe:g} (fp16 max {FP16_MAX:g})",
        ),
        *_corrupt_checks(p, arm),
        *_remedy_checks(p, m, arm),
    ]


def result_of(p: LossSpikesParams, m: Measured) -> DemoResult:
    """Figures named for the claims feature, checks, charts and the conclusion."""
    arm = arms_of(p, m)
    figures = figures_of(m, arm)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m, arm),
        conclusion=conclusion_of(p, m, arm),
        headline=headline_of(p, figures),
        summary=summary_of(figures),
        figure_units=figure_units(figures),
    )


def _shown(value: float) -> str:
    return "NaN/inf" if value >= NONFINITE_AS else f"{value:.3g}"


def conclusion_of(p: LossSpikesParams, m: Measured, arm: Arms) -> str:
    base, conf = arm["baseline"], arm["configured"]

    def outcome(a: dict[str, float]) -> str:
        text = f"{a['spikes']:g} spikes"
        if p.corrupt_step:
            text += f" ({a['spikes_on_clean_batches']:g} on clean batches)"
        text += f", a largest loss of {_shown(a['max_loss'])}, a final loss of "
        text += _shown(a["final_loss"])
        if a["nonfinite_grad_steps"]:
            text += f" and {a['nonfinite_grad_steps']:g} steps of NaN/inf gradients"
        return text

    setup = f"At lr {p.lr:g} in {p.precision}"
    if p.corrupt_step:
        setup += f" with {p.corrupt_batches} batch(es) of random characters from step "
        setup += str(p.corrupt_step)
    first = f"{setup}, the baseline (no warmup, clipping or guard) had {outcome(base)}."
    if m.identical:
        second = "Every remedy is off, so the configured run is the baseline."
    else:
        second = f"With the remedies as set it had {outcome(conf)}"
        second += f", skipping {conf['skipped_steps']:g} steps." if p.skip_guard else "."
    if p.corrupt_step:
        second += (
            f" The loss over the {AFTER} steps after the bad data was "
            f"{base['post_corrupt_loss_ratio']:.3g}× that before it in the baseline"
            + ("" if m.identical else f", {conf['post_corrupt_loss_ratio']:.3g}× configured")
            + "."
        )
    largest = max(base["max_abs_activation"], conf["max_abs_activation"])
    third = (
        f"The largest finite |activation| was {largest:.3g}"
        + (", past fp16's max" if largest > FP16_MAX else "")
        + f"; {PROBE:g} becomes inf in fp16 (max {FP16_MAX:g}) and {m.bf16_of_probe:g} in bf16"
    )
    if p.precision == "fp16_scaler":
        third += (
            f"; the GradScaler skipped {base['scaler_skipped_steps']:g} steps (baseline), "
            f"ending at scale {base['final_loss_scale']:g}"
        )
    return f"{first} {second} {third}."
