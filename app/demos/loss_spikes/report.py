"""The loss-spikes demo's report: the two arms' step logs turned into named figures (the
claims feature reads them), checks on the run's own numbers, the loss / gradient-norm /
range charts and a conclusion quoting the numbers, whichever way they fall. No torch
here: plain floats in, result out.
"""

from __future__ import annotations

import math
import statistics

from app.demos.base import Check, DemoResult
from app.demos.loss_spikes.charts import series_of
from app.demos.loss_spikes.detector import running_medians
from app.demos.loss_spikes.logs import (
    ARMS,
    BF16_MAX,
    FP16_MAX,
    NONFINITE_AS,
    PROBE,
    ArmLog,
    Measured,
    finite,
)
from app.demos.loss_spikes.params import LossSpikesParams
from app.demos.loss_spikes.summary import figure_labels, figure_units, headline_of, summary_of
from app.demos.text import Quantity, Text, q, t

CORRUPT_WINDOW = 2  # a spike at corrupt_step … corrupt_step + 2 counts as "at" it
AFTER = 10  # steps before and after the corrupted batch compared for its aftermath
_finite = finite


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
        "final_loss_scale": log.final_scale,
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
            name=t("The first corrupted batch is flagged as a spike (baseline)"),
            passed=base["spike_at_corrupt_step"] == 1.0,
            detail=t(
                "loss %(loss)s at step %(step)s; %(flagged)s of %(n)s corrupted batches flagged",
                loss=q(base["loss_at_corrupt_step"], "loss"),
                step=p.corrupt_step,
                flagged=q(base["corrupt_batches_flagged"], "count"),
                n=p.corrupt_batches,
            ),
        )  # fmt: skip
    ]
    if p.skip_guard:
        checks.append(
            Check(
                name=t("The guard skipped every corrupted batch, leaving the weights unchanged"),
                passed=conf["skipped_corrupt_batches"] == p.corrupt_batches
                and conf["max_update_norm_on_corrupt_batches"] == 0.0,
                detail=t(
                    "%(skipped)s of %(n)s skipped; largest update norm %(conf)s (configured) "
                    "against %(base)s (baseline)",
                    skipped=q(conf["skipped_corrupt_batches"], "count"),
                    n=p.corrupt_batches,
                    conf=q(conf["max_update_norm_on_corrupt_batches"], "plain"),
                    base=q(base["max_update_norm_on_corrupt_batches"], "plain"),
                ),
            )  # fmt: skip
        )
    return checks


def _remedy_checks(p: LossSpikesParams, m: Measured, arm: Arms) -> list[Check]:
    """The configured arm against the baseline, and finite weights under low precision."""
    base, conf = arm["baseline"], arm["configured"]
    checks = []
    if not m.identical:
        checks += [
            Check(
                name=t("The remedies leave no more spikes on clean batches than the baseline"),
                passed=conf["spikes_on_clean_batches"] <= base["spikes_on_clean_batches"],
                detail=t(
                    "%(conf)s configured against %(base)s baseline",
                    conf=q(conf["spikes_on_clean_batches"], "count"),
                    base=q(base["spikes_on_clean_batches"], "count"),
                ),
            ),
            Check(
                name=t("The remedies end at a loss no higher than the baseline's"),
                passed=conf["final_loss"] <= base["final_loss"],
                detail=t(
                    "final loss %(conf)s against %(base)s",
                    conf=_loss(conf["final_loss"]),
                    base=_loss(base["final_loss"]),
                ),
            ),
        ]
    if p.precision != "fp32":
        checks.append(
            Check(
                name=t("The weights stay finite under %(precision)s", precision=p.precision),
                passed=base["weights_finite"] == 1.0 and conf["weights_finite"] == 1.0,
                detail=t(
                    "steps with NaN/inf gradients: %(base)s baseline, %(conf)s configured; "
                    "the GradScaler skipped %(scaler)s",
                    base=q(base["nonfinite_grad_steps"], "count"),
                    conf=q(conf["nonfinite_grad_steps"], "count"),
                    scaler=q(conf["scaler_skipped_steps"], "count"),
                ),
            )
        )
    return checks


def checks_of(p: LossSpikesParams, m: Measured, arm: Arms) -> list[Check]:
    return [
        Check(
            name=t(
                r"The flagged steps are those whose loss is above $k$ × the running median "
                "or NaN/inf"
            ),
            passed=all(_flags_match(p, log) for log in (m.baseline, m.configured)),
            detail=t(
                r"$k$ = %(k)s, window = %(window)s steps, recomputed from the logged losses",
                k=q(p.spike_k, "plain"), window=p.median_window,
            ),
        ),
        Check(
            name=t(
                "%(probe)s overflows to inf in fp16 but stays finite in bf16",
                probe=q(PROBE, "plain"),
            ),
            passed=math.isinf(m.fp16_of_probe) and math.isfinite(m.bf16_of_probe),
            detail=t(
                "fp16: %(fp16)s, bf16: %(bf16)s (fp16's largest value is %(max)s)",
                fp16=_shown(m.fp16_of_probe), bf16=q(m.bf16_of_probe, "plain"),
                max=q(FP16_MAX, "plain"),
            ),
        ),
        *_corrupt_checks(p, arm),
        *_remedy_checks(p, m, arm),
    ]  # fmt: skip


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
        figure_labels=figure_labels(PROBE, AFTER, CORRUPT_WINDOW),
    )


def _shown(value: float) -> Quantity | str:
    """A value that may be NaN/inf (or stand for one): "NaN/inf", else the number."""
    if not math.isfinite(value) or value >= NONFINITE_AS:
        return "NaN/inf"
    return q(value, "plain")


def _loss(value: float) -> Quantity | str:
    return "NaN/inf" if value >= NONFINITE_AS else q(value, "loss")


def _sentences(parts: list[Text]) -> Text:
    out = parts[0]
    for part in parts[1:]:
        out = t("%(a)s %(b)s", a=out, b=part)
    return out


def _outcome(p: LossSpikesParams, a: dict[str, float]) -> Text:
    """One arm's spikes, largest and final loss (and NaN/inf gradient steps)."""
    spikes = (
        t("%(n)s spikes (%(clean)s on clean batches)", n=q(a["spikes"], "count"),
          clean=q(a["spikes_on_clean_batches"], "count"))
        if p.corrupt_step
        else t("%(n)s spikes", n=q(a["spikes"], "count"))
    )  # fmt: skip
    losses = t(
        "%(spikes)s, a largest loss of %(peak)s and a final loss of %(final)s",
        spikes=spikes, peak=_loss(a["max_loss"]), final=_loss(a["final_loss"]),
    )  # fmt: skip
    if not a["nonfinite_grad_steps"]:
        return losses
    return t(
        "%(losses)s, with %(n)s steps of NaN/inf gradients",
        losses=losses, n=q(a["nonfinite_grad_steps"], "count"),
    )  # fmt: skip


def _setup(p: LossSpikesParams) -> Text:
    if not p.corrupt_step:
        return t("At lr %(lr)s in %(precision)s", lr=q(p.lr, "plain"), precision=p.precision)
    return t(
        "At lr %(lr)s in %(precision)s with %(n)s batch(es) of random characters from step "
        "%(step)s",
        lr=q(p.lr, "plain"), precision=p.precision, n=p.corrupt_batches, step=p.corrupt_step,
    )  # fmt: skip


def _aftermath(p: LossSpikesParams, m: Measured, arm: Arms) -> Text:
    base, conf = arm["baseline"], arm["configured"]
    if m.identical:
        return t(
            "Over the %(after)s steps after the bad data the loss was %(base)s that before it.",
            after=AFTER, base=q(base["post_corrupt_loss_ratio"], "x"),
        )  # fmt: skip
    return t(
        "Over the %(after)s steps after the bad data the loss was %(base)s that before it in "
        "the baseline and %(conf)s in the configured run.",
        after=AFTER, base=q(base["post_corrupt_loss_ratio"], "x"),
        conf=q(conf["post_corrupt_loss_ratio"], "x"),
    )  # fmt: skip


def _range(p: LossSpikesParams, m: Measured, arm: Arms) -> Text:
    base, conf = arm["baseline"], arm["configured"]
    largest = max(base["max_abs_activation"], conf["max_abs_activation"])
    text = t(
        "The largest finite |activation| was %(largest)s%(past)s; %(probe)s becomes inf in fp16 "
        "(largest value %(max)s) and %(bf16)s in bf16.",
        largest=q(largest, "plain"),
        past=t(", past fp16's largest value") if largest > FP16_MAX else "",
        probe=q(PROBE, "plain"), max=q(FP16_MAX, "plain"), bf16=q(m.bf16_of_probe, "plain"),
    )  # fmt: skip
    if p.precision != "fp16_scaler":
        return text
    scaler = t(
        "The GradScaler skipped %(n)s steps in the baseline, ending at a scale of %(scale)s.",
        n=q(base["scaler_skipped_steps"], "count"), scale=q(base["final_loss_scale"], "plain"),
    )  # fmt: skip
    return _sentences([text, scaler])


def conclusion_of(p: LossSpikesParams, m: Measured, arm: Arms) -> Text:
    base, conf = arm["baseline"], arm["configured"]
    parts = [
        t(
            "%(setup)s, the baseline (no warmup, clipping or guard) had %(outcome)s.",
            setup=_setup(p), outcome=_outcome(p, base),
        )
    ]  # fmt: skip
    if m.identical:
        parts.append(t("Every remedy is off, so the configured run is the baseline."))
    elif p.skip_guard:
        parts.append(
            t(
                "With the remedies as set it had %(outcome)s, skipping %(n)s steps.",
                outcome=_outcome(p, conf), n=q(conf["skipped_steps"], "count"),
            )
        )  # fmt: skip
    else:
        parts.append(t("With the remedies as set it had %(outcome)s.", outcome=_outcome(p, conf)))
    if p.corrupt_step:
        parts.append(_aftermath(p, m, arm))
    parts.append(_range(p, m, arm))
    return _sentences(parts)
