"""The loss_spikes demo's headline, summary table, figure units and labels: what a reader
sees first (issue 16). No torch here."""

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


def arm_name(arm: str) -> Text:
    """An arm ("baseline", "configured") in words, for the figure labels."""
    return t("baseline (no remedy)") if arm == "baseline" else t("configured run")


def _arm_labels(arm: str, after: int, window: int) -> dict[str, Text]:
    """The labels of one arm's figures, named without the arm's suffix."""
    a = arm_name(arm)
    return {
        "spikes": t(
            r"Spikes flagged (loss above $k$ × its running median, or NaN/inf), %(arm)s", arm=a
        ),
        "spikes_on_clean_batches": t("Spikes flagged on clean batches, %(arm)s", arm=a),
        "max_loss": t("Largest training loss, %(arm)s", arm=a),
        "max_loss_over_initial": t("Largest loss / the first step's loss, %(arm)s", arm=a),
        "max_loss_to_median": t("Largest loss / its running median, %(arm)s", arm=a),
        "final_loss": t("Final loss (mean over the last tenth of the steps), %(arm)s", arm=a),
        "nonfinite_loss_steps": t("Steps with a NaN/inf loss, %(arm)s", arm=a),
        "nonfinite_grad_steps": t("Steps with NaN/inf gradients, %(arm)s", arm=a),
        "skipped_steps": t("Steps the guard skipped, %(arm)s", arm=a),
        "max_grad_norm": t("Largest gradient norm (before clipping), %(arm)s", arm=a),
        "max_abs_activation": t("Largest finite |activation|, %(arm)s", arm=a),
        "activation_over_fp16_max": t(
            "An activation went past fp16's largest value (1 = yes), %(arm)s", arm=a
        ),
        "scaler_skipped_steps": t("Steps the GradScaler skipped, %(arm)s", arm=a),
        "final_loss_scale": t(
            "GradScaler's loss scale after the last step's update (1 without a scaler), %(arm)s",
            arm=a,
        ),
        "weights_finite": t("Weights finite after training (1 = yes), %(arm)s", arm=a),
        "spike_at_corrupt_step": t(
            "A spike flagged at the first corrupted batch or the %(n)s steps after (1 = yes), "
            "%(arm)s",
            n=window, arm=a,
        ),
        "loss_at_corrupt_step": t("Loss on the first corrupted batch, %(arm)s", arm=a),
        "corrupt_batches_flagged": t("Corrupted batches flagged as spikes, %(arm)s", arm=a),
        "skipped_corrupt_batches": t("Corrupted batches the guard skipped, %(arm)s", arm=a),
        "max_update_norm_on_corrupt_batches": t(
            "Largest weight update on a corrupted batch, %(arm)s", arm=a
        ),
        "post_corrupt_loss_ratio": t(
            "Mean loss over the %(n)s steps after the bad data / the %(n)s before, %(arm)s",
            n=after, arm=a,
        ),
    }  # fmt: skip


def figure_labels(probe: float, after: int, window: int) -> dict[str, Text]:
    """Every figure's label: the corpus, the fp16/bf16 range probe, and each arm's
    figures (``<name>_<arm>``, the corrupted-batch ones too: a label for a figure a run
    does not have is never shown). ``probe``: the value cast to fp16 and bf16; ``after``:
    the steps compared around the bad data; ``window``: the steps after the first
    corrupted batch where a spike counts as at it."""
    labels: dict[str, Text] = {
        "corpus_chars": t("Characters of the answers trained on"),
        "vocab_size": t("Vocabulary size (characters, with the unknown-character id)"),
        "unk_chars": t("Characters of the text mapped to the unknown-character id"),
        "arms_identical": t("Every remedy off, so the configured run is the baseline (1 = yes)"),
        "spikes_removed": t("Spikes on clean batches the remedies removed (baseline − configured)"),
        "fp16_max": t("fp16's largest value"),
        "bf16_max": t("bf16's largest value"),
        "overflow_fp16_inf": t("%(probe)s becomes inf in fp16 (1 = yes)", probe=q(probe, "plain")),
        "bf16_value": t("%(probe)s stored in bf16", probe=q(probe, "plain")),
    }
    for arm in ARMS:
        labels |= {
            f"{name}_{arm}": label for name, label in _arm_labels(arm, after, window).items()
        }
    return labels
