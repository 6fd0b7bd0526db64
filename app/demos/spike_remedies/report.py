"""The spike_remedies report: per-arm figures, Adam's second moment around the bad batch,
what clipping did to each optimizer's updates, the fp16 softmax check; checks, charts and
a conclusion quoting the numbers. No torch here."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.loss_spikes.logs import NONFINITE_AS
from app.demos.spike_remedies.params import AFTER, SpikeRemediesParams
from app.demos.spike_remedies.summary import (
    ARM_TITLES,
    figure_labels,
    figure_units,
    headline_of,
    summary_of,
)
from app.demos.text import N_, Text, q, t

FP16_MAX = 65504.0


@dataclass
class ArmLog:
    losses: list[float] = field(default_factory=list)  # measured before each update
    spikes: list[bool] = field(default_factory=list)
    update_norms: list[float] = field(default_factory=list)  # ‖θ_after − θ_before‖
    v_rms: list[float] = field(default_factory=list)  # √mean(Adam's v) after the step
    rewinds: int = 0
    skipped_batches: int = 0
    weights_finite: bool = True


@dataclass
class SoftmaxCheck:
    naive_finite: bool
    stable_finite: bool
    stable_max_abs_err: float
    logsumexp_finite: bool
    exp_max_logit_fp16: float  # exp(12) in fp16: inf


@dataclass
class Measured:
    logs: dict[str, ArmLog]  # arm name -> its log, in p.arms() order
    softmax: SoftmaxCheck


def _finite(x: float) -> float:
    return x if math.isfinite(x) else NONFINITE_AS


def _mean(values: list[float]) -> float:
    return statistics.fmean(_finite(v) for v in values) if values else 0.0


def arm_figures(p: SpikeRemediesParams, name: str, log: ArmLog) -> dict[str, float]:
    tail = max(1, len(log.losses) // 10)
    bad = p.corrupt_step - 1  # 0-based; -1 when none
    clean = [s for i, s in enumerate(log.spikes) if i != bad]
    # The bad batch's own loss is high whatever the arm: the max is over clean batches.
    clean_losses = [_finite(x) for i, x in enumerate(log.losses) if i != bad]
    f = {
        "max_loss_over_initial": _finite(max(clean_losses) / log.losses[0]),
        "final_loss": _mean(log.losses[-tail:]),
        "spikes": float(sum(log.spikes)),
        "spikes_on_clean_batches": float(sum(clean)),
        "max_update_norm": max(_finite(u) for u in log.update_norms),
        "weights_finite": float(log.weights_finite),
    }
    if p.corrupt_step:
        before, after = log.losses[max(0, bad - AFTER) : bad], log.losses[bad + 1 : bad + 1 + AFTER]
        f["post_bad_batch_loss_ratio"] = _finite(_mean(after) / _mean(before))
    return {f"{key}_{name}": value for key, value in f.items()}


def adam_figures(p: SpikeRemediesParams, log: ArmLog) -> dict[str, float]:
    """The reference AdamW arm around the bad batch: v jumps at it and decays slowly
    (β2 = 0.999), so the updates after it shrink."""
    bad = p.corrupt_step - 1
    v_before = log.v_rms[bad - 1]
    later = min(len(log.v_rms) - 1, bad + AFTER)
    before = log.update_norms[max(0, bad - AFTER) : bad]
    after = log.update_norms[bad + 1 : bad + 1 + AFTER]
    return {
        "adam_v_rms_before_bad_batch": v_before,
        "adam_v_rms_after_bad_batch": log.v_rms[bad],
        "adam_v_inflation": _finite(log.v_rms[bad] / v_before),
        f"adam_v_inflation_after_{AFTER}_steps": _finite(log.v_rms[later] / v_before),
        "update_norm_ratio_after_bad_batch": _finite(_mean(after) / _mean(before)),
    }


def figures_of(p: SpikeRemediesParams, m: Measured) -> dict[str, float]:
    f: dict[str, float] = {}
    for name, log in m.logs.items():
        f |= arm_figures(p, name, log)
    if p.corrupt_step:
        f |= adam_figures(p, m.logs["adamw"])
    for opt in ("adamw", "sgd"):
        if f"{opt}_clip" in m.logs:
            f[f"update_norm_clip_ratio_{opt}"] = (
                f[f"max_update_norm_{opt}_clip"] / f[f"max_update_norm_{opt}"]
            )
    if "adamw_rewind" in m.logs:
        f["rewinds_adamw_rewind"] = float(m.logs["adamw_rewind"].rewinds)
        f["skipped_batches_adamw_rewind"] = float(m.logs["adamw_rewind"].skipped_batches)
    s = m.softmax
    f |= {
        "fp16_max": FP16_MAX,
        "fp16_exp12_overflows": float(math.isinf(s.exp_max_logit_fp16)),
        "fp16_naive_softmax_finite": float(s.naive_finite),
        "fp16_stable_softmax_finite": float(s.stable_finite),
        "fp16_stable_softmax_max_abs_err": s.stable_max_abs_err,
        "fp16_logsumexp_finite": float(s.logsumexp_finite),
    }
    return f


def checks_of(p: SpikeRemediesParams, f: dict[str, float], m: Measured) -> list[Check]:
    checks = [
        Check(
            name=t(
                r"$e^{12}$ overflows fp16 (largest value 65504): a naive softmax turns NaN, "
                "one that subtracts the max first stays finite"
            ),
            passed=f["fp16_exp12_overflows"] == 1
            and f["fp16_naive_softmax_finite"] == 0
            and f["fp16_stable_softmax_finite"] == 1,
            detail=t(
                "the stable softmax is within %(err)s of fp64",
                err=q(f["fp16_stable_softmax_max_abs_err"], "plain"),
            ),
        ),
    ]
    if "adamw_rewind" in m.logs:
        checks.append(
            Check(
                name=t("Rewind-and-skip rewound on each spike it saw"),
                passed=(f["rewinds_adamw_rewind"] > 0) == (f["spikes_adamw"] > 0)
                or f["rewinds_adamw_rewind"] > 0,
                detail=t(
                    "%(rewinds)s rewinds, %(skipped)s batches skipped",
                    rewinds=q(f["rewinds_adamw_rewind"], "count"),
                    skipped=q(f["skipped_batches_adamw_rewind"], "count"),
                ),
            )
        )
    return checks


def _arm_name(arm: str) -> Text:
    return Text(msg=ARM_TITLES[arm])


def series_of(p: SpikeRemediesParams, m: Measured, f: dict[str, float]) -> list[Series]:
    """The loss of every arm over the steps, each arm's peak loss over its start (bars,
    arms named) and Adam's √v over the steps."""
    series = []
    for name, log in m.logs.items():
        steps = [float(i) for i, v in enumerate(log.losses, 1) if math.isfinite(v)]
        series.append(
            Series(
                name=_arm_name(name),
                x=steps,
                y=[v for v in log.losses if math.isfinite(v)],
                x_label=t("training step"),
                y_label=t("loss (cross-entropy)"),
                chart="loss",
                unit="loss",
            )  # fmt: skip
        )
    arms = list(m.logs)
    series.append(
        Series(
            name=t("largest loss on a clean batch / initial loss"),
            x=[float(i) for i in range(len(arms))],
            y=[f[f"max_loss_over_initial_{arm}"] for arm in arms],
            kind="bar",
            x_label=t("arm"),
            y_label=t("peak loss / initial loss"),
            chart="peak_by_arm",
            categories=[_arm_name(arm) for arm in arms],
            unit="x",
        )  # fmt: skip
    )
    if "adamw" in m.logs:
        log = m.logs["adamw"]
        series.append(
            Series(
                name=t("square root of the mean of Adam's $v$, AdamW (reference)"),
                x=[float(i) for i in range(1, len(log.v_rms) + 1)],
                y=log.v_rms,
                x_label=t("training step"),
                y_label=t("square root of mean $v$"),
                log_y=min(log.v_rms, default=0) > 0,
                chart="adam_v",
                unit="plain",
            )  # fmt: skip
        )
    return series


def _clean_spikes(names: list[str], f: dict[str, float]) -> Text:
    """The runs that spiked on a clean batch, with their counts (the table above already
    gives every run's peak and final loss)."""
    spiked = [name for name in names if f[f"spikes_on_clean_batches_{name}"] > 0]
    if not spiked:
        return t("no run spiked on a clean batch")
    counts = [
        t("%(arm)s %(n)s", arm=_arm_name(name), n=q(f[f"spikes_on_clean_batches_{name}"], "count"))
        for name in spiked
    ]
    listed = _sentences(counts, N_("%(a)s; %(b)s"))
    if len(spiked) == len(names):
        return t("spikes on clean batches: %(counts)s", counts=listed)
    return t(
        "spikes on clean batches: %(counts)s (none in the other %(others)s runs)",
        counts=listed,
        others=len(names) - len(spiked),
    )


def _sentences(parts: list[Text], joiner: str = "%(a)s %(b)s") -> Text:
    out = parts[0]
    for part in parts[1:]:
        out = Text(msg=joiner, args={"a": out, "b": part})
    return out


def conclusion_of(p: SpikeRemediesParams, f: dict[str, float], m: Measured) -> Text:
    arms = _clean_spikes(list(m.logs), f)
    parts = [
        t(
            "At AdamW lr %(lr)s (SGD %(sgd)s) over %(steps)s steps, %(arms)s.",
            lr=q(p.lr, "plain"),
            sgd=q(p.sgd_lr, "plain"),
            steps=p.steps,
            arms=arms,
        )  # fmt: skip
    ]
    if "update_norm_clip_ratio_sgd" in f:
        parts.append(
            t(
                r"Clipping at %(clip)s scaled SGD's largest update by %(sgd)s and AdamW's by "
                r"%(adamw)s (Adam divides by $\sqrt{v}$, undoing most of it).",
                clip=q(p.clip, "plain"),
                sgd=q(f["update_norm_clip_ratio_sgd"], "x"),
                adamw=q(f["update_norm_clip_ratio_adamw"], "x"),
            )  # fmt: skip
        )
    if p.corrupt_step:
        parts.append(
            t(
                r"After the bad batch at step %(step)s, Adam's $\sqrt{v}$ rose %(rise)s and was "
                "still %(later)s %(after)s steps later; the next %(after)s updates were %(ratio)s "
                "the size of the %(after)s before.",
                step=p.corrupt_step,
                rise=q(f["adam_v_inflation"], "x"),
                later=q(f[f"adam_v_inflation_after_{AFTER}_steps"], "x"),
                after=AFTER,
                ratio=q(f["update_norm_ratio_after_bad_batch"], "x"),
            )  # fmt: skip
        )
    if "rewinds_adamw_rewind" in f:
        parts.append(
            t(
                "Rewind-and-skip rewound %(n)s times (%(skipped)s batches skipped).",
                n=q(f["rewinds_adamw_rewind"], "count"),
                skipped=q(f["skipped_batches_adamw_rewind"], "count"),
            )
        )
    parts.append(
        t(
            r"In fp16, $e^{12}$ is inf, so a naive softmax gives NaN; subtracting the max first "
            "keeps it finite."
        )
    )
    return _sentences(parts)


def result_of(p: SpikeRemediesParams, m: Measured) -> DemoResult:
    f = figures_of(p, m)
    return DemoResult(
        figures=f, series=series_of(p, m, f), checks=checks_of(p, f, m),
        conclusion=conclusion_of(p, f, m), headline=headline_of(p, f),
        summary=summary_of(f), figure_units=figure_units(f), figure_labels=figure_labels(),
    )  # fmt: skip


def figure_names(p: SpikeRemediesParams) -> list[str]:
    per_arm = ["max_loss_over_initial", "final_loss", "spikes", "spikes_on_clean_batches",
               "max_update_norm", "weights_finite"]  # fmt: skip
    if p.corrupt_step:
        per_arm.append("post_bad_batch_loss_ratio")
    arms = [a.name for a in p.arms()]
    names = [f"{key}_{arm}" for arm in arms for key in per_arm]
    if p.corrupt_step:
        names += [
            "adam_v_rms_before_bad_batch", "adam_v_rms_after_bad_batch", "adam_v_inflation",
            f"adam_v_inflation_after_{AFTER}_steps", "update_norm_ratio_after_bad_batch",
        ]  # fmt: skip
    if p.compare_optimizers:
        names += ["update_norm_clip_ratio_adamw", "update_norm_clip_ratio_sgd"]
    if p.compare_rewind:
        names += ["rewinds_adamw_rewind", "skipped_batches_adamw_rewind"]
    names += [
        "fp16_max", "fp16_exp12_overflows", "fp16_naive_softmax_finite",
        "fp16_stable_softmax_finite", "fp16_stable_softmax_max_abs_err", "fp16_logsumexp_finite",
    ]  # fmt: skip
    return names
