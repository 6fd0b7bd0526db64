"""The LoRA demo's result: the report's figures, checks, charts and conclusion, opened by
a headline (the answer in one or two sentences) and a summary table of the methods. No
torch here."""

from __future__ import annotations

from app.demos.base import DemoResult
from app.demos.lora.params import LoRAParams
from app.demos.lora.report import Measured, checks_of, conclusion_of, figures_of, series_of
from app.demos.lora.words import figure_labels, figure_units, method_name
from app.demos.text import Arg, Cell, Table, Text, q, t


def headline_of(p: LoRAParams, m: Measured, figures: dict[str, float]) -> Text:
    """Best LoRA rank against full fine-tuning (accuracy and trainable parameters), and
    merged LoRA's forward time; for a broken init, what the init did instead."""
    best = min(m.ranks, key=lambda r: m.losses[f"lora_r{r}"])
    key = f"lora_r{best}"
    if p.init == "both_zero":
        return t(
            "With $A = B = 0$ LoRA never learns: both gradients are zero, so every rank stays "
            "at the base model's task-2 accuracy %(acc_base)s while full fine-tuning reaches "
            "%(acc_full)s.",
            acc_base=q(m.acc_base, "ratio"), acc_full=q(m.accs["full"], "ratio"),
        )  # fmt: skip
    args: dict[str, Arg] = {
        "r": best, "acc_lora": q(m.accs[key], "ratio"), "n_lora": q(m.trainable[key], "params"),
        "acc_full": q(m.accs["full"], "ratio"), "n_full": q(m.trainable["full"], "params"),
        "acc_base": q(m.acc_base, "ratio"),
        "merged": q(figures["latency_ratio_merged_vs_base"], "x"),
        "unmerged": q(figures["latency_ratio_unmerged_vs_base"], "x"),
    }  # fmt: skip
    if p.init == "both_random":
        return t(
            "With $A$ and $B$ both random the output moves before training starts; LoRA "
            "$r$ = %(r)s still reaches %(acc_lora)s task-2 accuracy with %(n_lora)s "
            "trainable parameters, against %(acc_full)s for full fine-tuning with %(n_full)s "
            "(before adapting: %(acc_base)s).",
            **args,
        )
    return t(
        "LoRA $r$ = %(r)s reaches %(acc_lora)s task-2 accuracy training %(n_lora)s "
        "parameters, against %(acc_full)s for full fine-tuning's %(n_full)s (before "
        "adapting: %(acc_base)s). Merged into $W$ it takes %(merged)s the base model's "
        "forward time; unmerged, %(unmerged)s.",
        **args,
    )


def table_of(m: Measured) -> Table:
    """Method × trainable parameters × task-2 accuracy × held-out loss × training memory."""
    rows: list[list[Cell]] = [
        [t("before adapting"), "–", q(m.acc_base, "ratio"), q(m.loss_base, "loss"), "–"]
    ]
    for key in ["full", *(f"lora_r{r}" for r in m.ranks)]:
        rows.append(
            [
                method_name(key),
                q(m.trainable[key], "params"),
                q(m.accs[key], "ratio"),
                q(m.losses[key], "loss"),
                q(m.memory[key], "bytes"),
            ]
        )
    memory = t("Peak GPU memory") if m.on_cuda else t("Training state (weights, grads, Adam)")
    columns: list[Text | str] = [
        t("Method"), t("Trainable parameters"), t("Task-2 accuracy"), t("Held-out loss"), memory,
    ]  # fmt: skip
    return Table(columns=columns, rows=rows)


def result_of(p: LoRAParams, m: Measured) -> DemoResult:
    """Figures named for the claims feature, checks per identity, charts, conclusion,
    and the headline and summary table the page opens with."""
    figures = figures_of(m)
    keys = ["full", *(f"lora_r{r}" for r in m.ranks)]
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
        headline=headline_of(p, m, figures),
        summary=table_of(m),
        figure_units=figure_units(list(figures)),
        figure_labels=figure_labels(keys, m.ranks),
    )
