"""lora_vs_full's result: the report's figures, checks, charts and conclusion, opened by
a headline (the answer in one or two sentences) and a summary table of the methods. No
torch here."""

from __future__ import annotations

from app.demos.base import DemoResult
from app.demos.lora_vs_full.params import LoRAVsFullParams
from app.demos.lora_vs_full.report import (
    Measured,
    checks_of,
    conclusion_of,
    figures_of,
    series_of,
)
from app.demos.lora_vs_full.words import figure_labels, figure_units, method_name
from app.demos.text import Arg, Cell, Table, Text, q, t


def headline_of(m: Measured, figures: dict[str, float]) -> Text:
    """The best LoRA rank against full fine-tuning of the same matrix, both at their tuned
    learning rates: task-2 loss, trainable parameters, and what each does to task 1."""
    best = int(figures["best_lora_rank"])
    lora, full = m.arms[f"lora_r{best}"], m.arms["full"]
    gap = figures[f"relative_gap_lora_r{best}"]
    args: dict[str, Arg] = {
        "r": best, "lora": q(lora.loss, "loss"), "full": q(full.loss, "loss"),
        "gap": q(abs(gap), "ratio"), "n_lora": q(lora.trainable, "params"),
        "n_full": q(full.trainable, "params"), "t1_base": q(m.task1_loss_base, "loss"),
        "t1_lora": q(lora.task1_loss, "loss"), "t1_full": q(full.task1_loss, "loss"),
    }  # fmt: skip
    if gap <= 0:
        return t(
            "Each at its tuned learning rate, LoRA's best rank, $r$ = %(r)s, ends %(gap)s "
            "below full fine-tuning of the same matrix on task 2 (held-out loss %(lora)s "
            "against %(full)s), training %(n_lora)s parameters instead of %(n_full)s. Task "
            "1's loss goes from %(t1_base)s to %(t1_lora)s with LoRA and to %(t1_full)s with "
            "full fine-tuning.",
            **args,
        )
    return t(
        "Each at its tuned learning rate, LoRA's best rank, $r$ = %(r)s, ends %(gap)s above "
        "full fine-tuning of the same matrix on task 2 (held-out loss %(lora)s against "
        "%(full)s), training %(n_lora)s parameters instead of %(n_full)s. Task 1's loss goes "
        "from %(t1_base)s to %(t1_lora)s with LoRA and to %(t1_full)s with full fine-tuning.",
        **args,
    )


def table_of(m: Measured) -> Table:
    """Method × trainable parameters × chosen lr × task-2 loss × task-1 loss after."""
    rows: list[list[Cell]] = [
        [t("before adapting"), "–", "–", q(m.loss_base, "loss"), q(m.task1_loss_base, "loss")]
    ]
    for key in m.keys():
        arm = m.arms[key]
        rows.append(
            [
                method_name(key),
                q(arm.trainable, "params"),
                q(arm.lr, "plain"),
                q(arm.loss, "loss"),
                q(arm.task1_loss, "loss"),
            ]
        )
    columns: list[Text | str] = [
        t("Method"), t("Trainable parameters"), t("Learning rate"), t("Task-2 loss"),
        t("Task-1 loss (forgetting)"),
    ]  # fmt: skip
    return Table(columns=columns, rows=rows)


def result_of(p: LoRAVsFullParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
        headline=headline_of(m, figures),
        summary=table_of(m),
        figure_units=figure_units(list(figures)),
        figure_labels=figure_labels(m.keys(), m.ranks),
    )
