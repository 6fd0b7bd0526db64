"""The loss_spikes demo's headline, summary table and figure units: what a reader sees
first (issue 16). No torch here."""

from __future__ import annotations

from app.demos.loss_spikes.params import LossSpikesParams
from app.demos.text import Cell, Table, Text, Unit, q, t

ARMS = ("baseline", "configured")
_UNIT_BY_PREFIX: tuple[tuple[str, Unit], ...] = (
    ("final_loss_scale", "plain"),
    ("final_loss", "loss"),
    ("loss_at_corrupt_step", "loss"),
    ("max_loss_over_initial", "x"),
    ("max_loss_to_median", "x"),
    ("post_corrupt_loss_ratio", "x"),
    ("max_loss", "loss"),
    ("max_grad_norm", "plain"),
    ("max_update_norm", "plain"),
    ("max_abs_activation", "plain"),
    ("fp16_max", "plain"),
    ("bf16_max", "plain"),
    ("bf16_value", "plain"),
)


def figure_units(figures: dict[str, float]) -> dict[str, Unit]:
    """Counts (spikes, skipped steps, characters, 0/1 flags) unless a prefix says otherwise."""
    return {
        name: next((u for prefix, u in _UNIT_BY_PREFIX if name.startswith(prefix)), "count")
        for name in figures
    }


def headline_of(p: LossSpikesParams, f: dict[str, float]) -> Text:
    return t(
        "Without remedies the loss peaked at %(base_peak)s its start, with %(base_spikes)s "
        "spikes on clean batches; the configured run (warmup, clipping, skip guard as set) "
        "peaked at %(conf_peak)s with %(conf_spikes)s, and ended at %(conf_final)s against "
        "%(base_final)s.",
        base_peak=q(f["max_loss_over_initial_baseline"], "x"),
        base_spikes=q(f["spikes_on_clean_batches_baseline"], "count"),
        conf_peak=q(f["max_loss_over_initial_configured"], "x"),
        conf_spikes=q(f["spikes_on_clean_batches_configured"], "count"),
        conf_final=q(f["final_loss_configured"], "loss"),
        base_final=q(f["final_loss_baseline"], "loss"),
    )


def summary_of(f: dict[str, float]) -> Table:
    """The two arms: peak loss over the start, spikes, skipped steps, final loss."""
    titles = {"baseline": t("Baseline (no remedy)"), "configured": t("Configured run")}
    rows: list[list[Cell]] = [
        [
            titles[arm],
            q(f[f"max_loss_over_initial_{arm}"], "x"),
            q(f[f"spikes_on_clean_batches_{arm}"], "count"),
            q(f[f"skipped_steps_{arm}"], "count"),
            q(f[f"final_loss_{arm}"], "loss"),
        ]
        for arm in ARMS
    ]
    return Table(
        columns=[
            t("Run"),
            t("Peak loss / initial loss"),
            t("Spikes on clean batches"),
            t("Skipped steps"),
            t("Final loss"),
        ],
        rows=rows,
    )
