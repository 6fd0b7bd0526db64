"""The spike_remedies demo's headline, summary table and figure units: what a reader sees
first (issue 16). No torch here."""

from __future__ import annotations

from app.demos.spike_remedies.params import SpikeRemediesParams
from app.demos.text import N_, Cell, Table, Text, Unit, q, t

ARM_TITLES: dict[str, str] = {
    "adamw": N_("AdamW (reference)"),
    "adamw_clip": N_("AdamW + gradient clipping"),
    "sgd": "SGD",
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


def _arms(f: dict[str, float]) -> list[str]:
    return [arm for arm in ARM_TITLES if f"final_loss_{arm}" in f]


def headline_of(p: SpikeRemediesParams, f: dict[str, float]) -> Text:
    """The largest update an optimizer took, with and without clipping, where both ran."""
    if "max_update_norm_sgd" in f:
        return t(
            "Against a bad batch, SGD's largest update was %(sgd)s and its loss peaked at "
            "%(sgd_peak)s its start; clipping cut SGD's update to %(sgd_clip)s, while AdamW's "
            "normalised update was %(adamw)s without clipping and %(adamw_clip)s with it.",
            sgd=q(f["max_update_norm_sgd"], "plain"),
            sgd_peak=q(f["max_loss_over_initial_sgd"], "x"),
            sgd_clip=q(f["max_update_norm_sgd_clip"], "plain"),
            adamw=q(f["max_update_norm_adamw"], "plain"),
            adamw_clip=q(f["max_update_norm_adamw_clip"], "plain"),
        )
    return t(
        "AdamW's loss peaked at %(peak)s its start and ended at %(final)s; each remedy below "
        "changes one thing against it.",
        peak=q(f["max_loss_over_initial_adamw"], "x"),
        final=q(f["final_loss_adamw"], "loss"),
    )


def summary_of(f: dict[str, float]) -> Table:
    """One row per arm: peak loss over the start, spikes, largest update, final loss."""
    rows: list[list[Cell]] = [
        [
            Text(msg=ARM_TITLES[arm]),
            q(f[f"max_loss_over_initial_{arm}"], "x"),
            q(f[f"spikes_{arm}"], "count"),
            q(f[f"max_update_norm_{arm}"], "plain"),
            q(f[f"final_loss_{arm}"], "loss"),
        ]
        for arm in _arms(f)
    ]
    return Table(
        columns=[
            t("Run"),
            t("Peak loss / initial loss"),
            t("Spikes"),
            t("Largest update norm"),
            t("Final loss"),
        ],
        rows=rows,
    )
