"""The spike_remedies demo's headline, summary table and figure units: what a reader sees
first (issue 16). No torch here."""

from __future__ import annotations

from app.demos.spike_remedies.params import AFTER, SpikeRemediesParams
from app.demos.text import N_, Cell, Table, Text, Unit, q, t

ARM_TITLES: dict[str, str] = {
    "adamw": N_("AdamW (reference)"),
    "adamw_clip": N_("AdamW + gradient clipping"),
    "sgd": N_("SGD"),
    "sgd_clip": N_("SGD + gradient clipping"),
    "adamw_cosine": N_("AdamW + cosine decay"),
    "adamw_init_small": N_("AdamW, small init std"),
    "adamw_init_large": N_("AdamW, large init std"),
    "adamw_rmsnorm": N_("AdamW + RMSNorm"),
    "adamw_rewind": N_("AdamW + rewind and skip (PaLM)"),
}
_UNIT_BY_PREFIX: tuple[tuple[str, Unit], ...] = (
    ("final_loss", "loss"),
    ("max_loss_over_initial", "x"),
    ("post_bad_batch_loss_ratio", "x"),
    ("max_update_norm", "plain"),
    ("update_norm", "x"),
    ("adam_v_inflation", "x"),
    ("adam_v_rms", "plain"),
    ("fp16_max", "plain"),
    ("fp16_stable_softmax_max_abs_err", "plain"),
)


def figure_units(figures: dict[str, float]) -> dict[str, Unit]:
    """Counts (spikes, rewinds, 0/1 flags) unless a prefix says otherwise."""
    return {
        name: next((u for prefix, u in _UNIT_BY_PREFIX if name.startswith(prefix)), "count")
        for name in figures
    }


PER_ARM_LABELS = {
    "max_loss_over_initial": N_("%(arm)s: largest loss on a clean batch / initial loss"),
    "final_loss": N_("%(arm)s: mean loss over the last tenth of the steps"),
    "spikes": N_("%(arm)s: spikes flagged (loss above k × the running median)"),
    "spikes_on_clean_batches": N_("%(arm)s: spikes flagged on clean batches"),
    "max_update_norm": N_(r"%(arm)s: largest update norm $\|\Delta\theta\|$"),
    "weights_finite": N_("%(arm)s: weights finite at the end (1 = yes)"),
}


def figure_labels() -> dict[str, Text]:
    """Every arm's figures (whichever arms ran), Adam's $v$ around the bad batch, what
    clipping did, rewind-and-skip's counts and the fp16 softmax check."""
    labels: dict[str, Text] = {}
    for arm, title in ARM_TITLES.items():
        name = t(title)
        labels |= {f"{key}_{arm}": t(msg, arm=name) for key, msg in PER_ARM_LABELS.items()}
        labels[f"post_bad_batch_loss_ratio_{arm}"] = t(
            "%(arm)s: mean loss over the %(n)s steps after the bad batch / the %(n)s before",
            arm=name,
            n=AFTER,
        )
    reference = t(ARM_TITLES["adamw"])
    labels |= {
        "adam_v_rms_before_bad_batch": t(
            "%(arm)s: square root of mean $v$ the step before the bad batch", arm=reference
        ),
        "adam_v_rms_after_bad_batch": t(
            "%(arm)s: square root of mean $v$ after the bad batch's step", arm=reference
        ),
        "adam_v_inflation": t(
            "%(arm)s: square root of mean $v$ after the bad batch / before it", arm=reference
        ),
        f"adam_v_inflation_after_{AFTER}_steps": t(
            "%(arm)s: square root of mean $v$ %(n)s steps after the bad batch / before it",
            arm=reference,
            n=AFTER,
        ),
        "update_norm_ratio_after_bad_batch": t(
            "%(arm)s: mean update norm over the %(n)s steps after the bad batch / the %(n)s before",
            arm=reference,
            n=AFTER,
        ),
        "update_norm_clip_ratio_adamw": t(
            "%(opt)s: largest update norm with gradient clipping / without", opt="AdamW"
        ),
        "update_norm_clip_ratio_sgd": t(
            "%(opt)s: largest update norm with gradient clipping / without", opt="SGD"
        ),
        "rewinds_adamw_rewind": t("%(arm)s: rewinds", arm=t(ARM_TITLES["adamw_rewind"])),
        "skipped_batches_adamw_rewind": t(
            "%(arm)s: batches skipped", arm=t(ARM_TITLES["adamw_rewind"])
        ),
        "fp16_max": t("fp16: largest finite value"),
        "fp16_exp12_overflows": t("fp16: $e^{12}$ overflows to inf (1 = yes)"),
        "fp16_naive_softmax_finite": t("fp16: naive softmax finite (1 = yes)"),
        "fp16_stable_softmax_finite": t(
            "fp16: softmax with the max subtracted first finite (1 = yes)"
        ),
        "fp16_stable_softmax_max_abs_err": t(
            r"fp16: max $|\Delta|$, softmax with the max subtracted first vs fp64"
        ),
        "fp16_logsumexp_finite": t(
            "fp16: logsumexp with the max subtracted first finite (1 = yes)"
        ),
    }
    return labels


def _arms(f: dict[str, float]) -> list[str]:
    return [arm for arm in ARM_TITLES if f"final_loss_{arm}" in f]


def headline_of(p: SpikeRemediesParams, f: dict[str, float]) -> Text:
    """The reference arm's spike, the arm with the lowest peak, and what clipping did to
    SGD's and AdamW's updates (where those arms ran)."""
    arms = _arms(f)
    best = min(arms, key=lambda arm: f[f"max_loss_over_initial_{arm}"])
    spike = t(
        "At lr %(lr)s, AdamW's loss jumped to %(peak)s its start on clean batches and ended at "
        "%(final)s.",
        lr=q(p.lr, "plain"), peak=q(f["max_loss_over_initial_adamw"], "x"),
        final=q(f["final_loss_adamw"], "loss"),
    )  # fmt: skip
    if best != "adamw":
        spike = t(
            "%(spike)s The lowest peak, %(best_peak)s, came from %(best)s.",
            spike=spike, best_peak=q(f[f"max_loss_over_initial_{best}"], "x"),
            best=Text(msg=ARM_TITLES[best]),
        )  # fmt: skip
    if "max_update_norm_sgd" not in f:
        return spike
    return t(
        r"%(spike)s Clipping cut SGD's largest update from %(sgd)s to %(sgd_clip)s but left "
        r"AdamW's at %(adamw_clip)s against %(adamw)s: Adam divides by $\sqrt{v}$.",
        spike=spike, sgd=q(f["max_update_norm_sgd"], "plain"),
        sgd_clip=q(f["max_update_norm_sgd_clip"], "plain"),
        adamw=q(f["max_update_norm_adamw"], "plain"),
        adamw_clip=q(f["max_update_norm_adamw_clip"], "plain"),
    )  # fmt: skip


def summary_of(f: dict[str, float]) -> Table:
    """One row per arm: peak loss over the start, largest update, final loss (the
    detector's spike counts are in the details: on the bank's answers it flags none, as
    the blow-up comes before it has the five losses it needs)."""
    rows: list[list[Cell]] = [
        [
            Text(msg=ARM_TITLES[arm]),
            q(f[f"max_loss_over_initial_{arm}"], "x"),
            q(f[f"max_update_norm_{arm}"], "plain"),
            q(f[f"final_loss_{arm}"], "loss"),
        ]
        for arm in _arms(f)
    ]
    return Table(
        columns=[
            t("Run"),
            t("Peak loss / initial loss"),
            t("Largest update norm"),
            t("Final loss"),
        ],
        rows=rows,
    )
