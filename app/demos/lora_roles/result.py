"""lora_roles' result: the report's figures, checks, charts and conclusion, opened by a
headline (what A and B did, LoRA-FA, task arithmetic) and a summary table of the arms.
No torch here."""

from __future__ import annotations

from app.demos.base import DemoResult
from app.demos.lora_roles.params import ARMS, LoRARolesParams
from app.demos.lora_roles.report import (
    Measured,
    checks_of,
    conclusion_of,
    figures_of,
    reach,
    series_of,
)
from app.demos.lora_roles.sweep import sweep_labels
from app.demos.lora_roles.words import arm_name, figure_labels, figure_units
from app.demos.text import Cell, Table, Text, q, t


def headline_of(p: LoRARolesParams, m: Measured, figures: dict[str, float]) -> Text:
    fa, standard = m.arms["lora_fa"], m.arms["standard"]
    return t(
        "After %(steps)s steps $B$ grew from 0 to $\\|B\\|_F$ = %(b)s while $A$ moved "
        "%(a_move)s of its initial norm; freezing $A$ (LoRA-FA) ends at held-out loss %(fa)s "
        "against %(std)s, training %(n_fa)s of %(n_std)s parameters. Adding a LoRA trained "
        "on task 3 to task 2's loses %(i2)s of task 2's gain.",
        steps=p.steps, b=q(m.b_final_norm, "plain"), a_move=q(m.a_relative_change, "ratio"),
        fa=q(fa.loss, "loss"), std=q(standard.loss, "loss"), n_fa=q(fa.trainable, "params"),
        n_std=q(standard.trainable, "params"), i2=q(figures["interference_pct_task2"], "pct"),
    )  # fmt: skip


def table_of(p: LoRARolesParams, m: Measured, figures: dict[str, float]) -> Table:
    """Arm × step-0 loss × steps to the target × held-out loss (a phone shows 4 columns)."""
    rows: list[list[Cell]] = [
        [
            arm_name(name),
            q(m.arms[name].curve[0], "loss"),
            reach(p, figures, name),
            q(m.arms[name].loss, "loss"),
        ]
        for name in ARMS
    ]
    columns: list[Text | str] = [
        t("Initialisation"),
        t("Step-0 loss (base: %(base)s)", base=q(m.loss_base_train, "loss")),
        t("Steps to loss %(target)s", target=q(figures["target_loss"], "loss")),
        t("Held-out loss"),
    ]
    return Table(columns=columns, rows=rows)


def result_of(p: LoRARolesParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
        headline=headline_of(p, m, figures),
        summary=table_of(p, m, figures),
        figure_units=figure_units(list(figures)),
        figure_labels={**figure_labels(ARMS), **sweep_labels()},
    )
