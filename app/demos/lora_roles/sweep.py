"""lora_roles' learning-rate sweep, the report side: each init that starts at the base
(B = 0, A = 0 with B at its own Kaiming scale, A = 0 with B₀ = A₀ᵀ) trained at every rate
of ``LR_GRID``, so each is compared at its own best rate (Hayou et al. 2024 find B = 0
takes larger rates and learns better). No torch here: plain floats in, figures and
charts out."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.demos.base import Series
from app.demos.lora_roles.params import LR_GRID, SWEEP
from app.demos.lora_roles.words import sweep_name
from app.demos.text import Quantity, Text, q, t


@dataclass
class SweepArm:
    final_losses: list[float]  # task-2 training loss after ``steps`` steps, per rate of LR_GRID
    stable: list[bool]  # per rate: the loss stayed finite and never rose above its step-0 value


def best_index(arm: SweepArm) -> int | None:
    """The rate with the lowest final training loss (None when every run diverged)."""
    finite = [i for i, loss in enumerate(arm.final_losses) if math.isfinite(loss)]
    return min(finite, key=lambda i: arm.final_losses[i]) if finite else None


def max_stable_lr(arm: SweepArm) -> float:
    """The largest rate of the grid whose run stayed stable; 0 when none did."""
    return max((lr for lr, ok in zip(LR_GRID, arm.stable, strict=True) if ok), default=0.0)


def sweep_figures(sweep: dict[str, SweepArm]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name in SWEEP:
        arm = sweep[name]
        best = best_index(arm)
        figures[f"best_train_loss_{name}"] = math.nan if best is None else arm.final_losses[best]
        figures[f"best_lr_{name}"] = math.nan if best is None else LR_GRID[best]
        figures[f"max_stable_lr_{name}"] = max_stable_lr(arm)
    for name in SWEEP[1:]:  # the paired gap, per seed: B = 0 minus the A = 0 init
        gap = figures["best_train_loss_standard"] - figures[f"best_train_loss_{name}"]
        figures[f"best_train_loss_standard_minus_{name}"] = gap
    return figures


SWEEP_FIGURES = (
    *(f"{f}_{name}" for name in SWEEP for f in ("best_train_loss", "best_lr", "max_stable_lr")),
    *(f"best_train_loss_standard_minus_{name}" for name in SWEEP[1:]),
)


def sweep_series(sweep: dict[str, SweepArm]) -> list[Series]:
    """Final training loss per learning rate, one bar set per init."""
    rates: list[Text | str] = [f"{lr:g}" for lr in LR_GRID]
    return [
        Series(
            name=sweep_name(name), x=[float(i) for i in range(len(LR_GRID))],
            y=sweep[name].final_losses, kind="bar", x_label=t("Adam learning rate"),
            y_label=t("training loss (task 2) after the last step"), chart="lr_sweep",
            categories=rates, unit="loss",
        )
        for name in SWEEP
    ]  # fmt: skip


def sweep_labels() -> dict[str, Text]:
    labels: dict[str, Text] = {}
    for name in SWEEP:
        method = sweep_name(name)
        labels[f"best_train_loss_{name}"] = t(
            "Sweep: lowest training loss after the last step, at its best rate, %(method)s",
            method=method,
        )
        labels[f"best_lr_{name}"] = t("Sweep: the best learning rate, %(method)s", method=method)
        labels[f"max_stable_lr_{name}"] = t(
            "Sweep: largest learning rate that stayed stable, %(method)s", method=method
        )
    for name in SWEEP[1:]:
        labels[f"best_train_loss_standard_minus_{name}"] = t(
            "Sweep: lowest training loss, %(standard)s minus %(method)s",
            standard=sweep_name("standard"), method=sweep_name(name),
        )  # fmt: skip
    return labels


def _stable_rate(figures: dict[str, float], name: str) -> Text | Quantity:
    rate = figures[f"max_stable_lr_{name}"]
    return q(rate, "plain") if rate > 0 else t("none of the grid")


def sweep_conclusion(hidden: int, figures: dict[str, float]) -> Text:
    """The sweep's result and what a random start does to task 1, in numbers."""
    f = figures
    return t(
        "The step counts above share one learning rate. Trained at every rate of %(grid)s "
        "instead, each init at its own best rate ends at training loss %(std)s ($B = 0$, "
        "lr %(lr_std)s), %(zero)s ($A = 0$, $B$ at its own scale, lr %(lr_zero)s) and "
        "%(matched)s ($A = 0$, $B_0 = A_0^\\top$, lr %(lr_matched)s); the largest rate that "
        "stayed stable: %(st_std)s, %(st_zero)s and %(st_matched)s. Hayou et al. (2024) find "
        "that $B = 0$ takes larger rates than $A = 0$ and on average learns better; their "
        "theory is a large-width limit, and this layer is %(hidden)s wide. Before any step, "
        "$A$ and $B$ both random move the base's own task (task 1): its loss rises by "
        "%(rise)s and its accuracy falls by %(drop)s; with $B = 0$ the rise is %(rise_std)s.",
        grid=", ".join(f"{lr:g}" for lr in LR_GRID),
        std=q(f["best_train_loss_standard"], "loss"), lr_std=q(f["best_lr_standard"], "plain"),
        zero=q(f["best_train_loss_a_zero"], "loss"), lr_zero=q(f["best_lr_a_zero"], "plain"),
        matched=q(f["best_train_loss_a_zero_matched"], "loss"),
        lr_matched=q(f["best_lr_a_zero_matched"], "plain"),
        st_std=_stable_rate(f, "standard"), st_zero=_stable_rate(f, "a_zero"),
        st_matched=_stable_rate(f, "a_zero_matched"), hidden=hidden,
        rise=q(f["step0_task1_loss_rise_both_random"], "loss"),
        drop=q(f["step0_task1_accuracy_drop_both_random"], "ratio"),
        rise_std=q(f["step0_task1_loss_rise_standard"], "loss"),
    )  # fmt: skip
