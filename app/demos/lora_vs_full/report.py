"""lora_vs_full's report: what ``model.measure`` measured, turned into named figures (the
claims feature reads them), checks, charts and a conclusion that quotes the numbers
whichever way they fall. No torch here: plain floats in, result out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.lora_vs_full.params import LR_GRID, LoRAVsFullParams, ranks_of


@dataclass
class Arm:
    """One method at the learning rate the validation loss picked."""

    lr: float
    loss: float  # task 2, held-out cross-entropy
    accuracy: float  # task 2, held out
    task1_loss: float  # task 1, held out, after adapting to task 2
    curve: list[float]  # training loss before each step
    trainable: float  # parameters the optimizer updates
    val_losses: list[float]  # task-2 validation loss at each lr of LR_GRID


@dataclass
class Measured:
    ranks: list[int]
    loss_base: float  # task 2, before adapting
    accuracy_base: float
    task1_loss_base: float  # task 1, before adapting
    task1_accuracy_base: float
    arms: dict[str, Arm] = field(default_factory=dict)  # "full", "lora_r<k>"
    unmerge_diff: float = 0.0  # max |W − W₀| after merge then unmerge, worst rank
    weight_scale: float = 1.0  # max |W + ΔW|: fp32 rounding of unmerge grows with it
    adapter_removed_diff: float = 0.0  # max |W − W₀| of the frozen weight after training
    adapter_removed_task1_diff: float = 0.0  # |task-1 loss without the adapter − base's|

    def keys(self) -> list[str]:
        return ["full", *(f"lora_r{r}" for r in self.ranks)]


def _relative_gap(m: Measured, key: str) -> float:
    """(LoRA's task-2 loss − full fine-tuning's) / full fine-tuning's: 0.05 = 5% worse."""
    return (m.arms[key].loss - m.arms["full"].loss) / m.arms["full"].loss


def figures_of(p: LoRAVsFullParams, m: Measured) -> dict[str, float]:
    figures: dict[str, float] = {
        "shift_rank": float(p.shift_rank),
        "loss_base": m.loss_base,
        "accuracy_base": m.accuracy_base,
        "task1_loss_base": m.task1_loss_base,
        "task1_accuracy_base": m.task1_accuracy_base,
        "unmerge_max_abs_diff": m.unmerge_diff,
        "adapter_removed_max_abs_diff": m.adapter_removed_diff,
        "adapter_removed_task1_loss_diff": m.adapter_removed_task1_diff,
        "best_lora_rank": float(min(m.ranks, key=lambda r: m.arms[f"lora_r{r}"].loss)),
    }
    for key in m.keys():
        arm = m.arms[key]
        figures[f"loss_{key}"] = arm.loss
        figures[f"accuracy_{key}"] = arm.accuracy
        figures[f"lr_{key}"] = arm.lr
        figures[f"trainable_params_{key}"] = arm.trainable
        figures[f"task1_loss_after_{key}"] = arm.task1_loss
        figures[f"forgetting_{key}"] = arm.task1_loss - m.task1_loss_base
    for r in m.ranks:
        key = f"lora_r{r}"
        figures[f"gap_full_minus_lora_r{r}"] = m.arms["full"].loss - m.arms[key].loss
        figures[f"relative_gap_lora_r{r}"] = _relative_gap(m, key)
    return figures


FIXED_FIGURES = (
    "shift_rank",
    "loss_base",
    "accuracy_base",
    "task1_loss_base",
    "task1_accuracy_base",
    "unmerge_max_abs_diff",
    "adapter_removed_max_abs_diff",
    "adapter_removed_task1_loss_diff",
    "best_lora_rank",
)
PER_ARM = ("loss", "accuracy", "lr", "trainable_params", "task1_loss_after", "forgetting")
PER_RANK = ("gap_full_minus_lora", "relative_gap_lora")


def figure_names(params: LoRAVsFullParams) -> list[str]:
    """The fixed figures; per arm (``full``, ``lora_r<k>``) its task-2 loss and accuracy,
    chosen lr, trainable parameters, task-1 loss after adapting and forgetting; per rank
    the gap to full fine-tuning (full − LoRA, and LoRA's excess relative to full's loss)."""
    ranks = ranks_of(params)
    keys = ["full", *(f"lora_r{r}" for r in ranks)]
    return [
        *FIXED_FIGURES,
        *(f"{figure}_{key}" for key in keys for figure in PER_ARM),
        *(f"{figure}_r{r}" for r in ranks for figure in PER_RANK),
    ]


def checks_of(p: LoRAVsFullParams, m: Measured) -> list[Check]:
    unmerge_tol = 1e-5 * max(1.0, m.weight_scale)
    lora_ok = all(m.arms[f"lora_r{r}"].trainable == 2 * r * p.hidden for r in m.ranks)
    edge = [key for key in m.keys() if m.arms[key].lr in (LR_GRID[0], LR_GRID[-1])]
    return [
        Check(
            name="removing the adapter gives back the base exactly (W never trains)",
            passed=m.adapter_removed_diff == 0.0 and m.adapter_removed_task1_diff == 0.0,
            detail=f"max |W − W₀| {m.adapter_removed_diff:.1e}; task-1 loss without the "
            f"adapter differs from the base's by {m.adapter_removed_task1_diff:.1e}",
        ),
        Check(
            name="merge then unmerge restores W (fp32)",
            passed=m.unmerge_diff < unmerge_tol,
            detail=f"max |W − W₀| {m.unmerge_diff:.1e} (tolerance {unmerge_tol:.1e})",
        ),
        Check(
            name="full fine-tuning and LoRA adapt the same matrix: hidden² vs 2·r·hidden",
            passed=lora_ok and m.arms["full"].trainable == p.hidden**2,
            detail=", ".join(f"{key}: {m.arms[key].trainable:.0f}" for key in m.keys()),
        ),
        Check(
            name="every method's chosen learning rate lies inside the grid",
            passed=not edge,
            detail=(f"at the grid's edge: {', '.join(edge)}" if edge else "none at an edge")
            + f" (grid {', '.join(f'{lr:g}' for lr in LR_GRID)})",
        ),
    ]


def _label(key: str) -> str:
    return "full fine-tuning (fc2)" if key == "full" else f"LoRA r = {key.removeprefix('lora_r')}"


def series_of(p: LoRAVsFullParams, m: Measured) -> list[Series]:
    ranks = [float(r) for r in m.ranks]
    curves = [
        Series(
            name=f"{_label(key)}, lr {m.arms[key].lr:g}",
            x=[float(i) for i in range(len(m.arms[key].curve))],
            y=m.arms[key].curve,
            x_label="step",
            y_label="training cross-entropy (task 2)",
            chart="loss_curves",
        )
        for key in m.keys()
    ]
    lora = [m.arms[f"lora_r{r}"] for r in m.ranks]
    full = m.arms["full"]
    sweep = [
        Series(
            name="LoRA", x=ranks, y=[a.loss for a in lora], x_label="rank r",
            y_label="held-out cross-entropy (task 2)", chart="rank_sweep",
        ),
        Series(
            name="full fine-tuning (fc2)", x=ranks, y=[full.loss] * len(ranks),
            x_label="rank r", y_label="held-out cross-entropy (task 2)", chart="rank_sweep",
        ),
        Series(
            name="LoRA", x=ranks, y=[a.task1_loss - m.task1_loss_base for a in lora],
            x_label="rank r", y_label="task-1 loss after − before", chart="forgetting",
        ),
        Series(
            name="full fine-tuning (fc2)", x=ranks,
            y=[full.task1_loss - m.task1_loss_base] * len(ranks),
            x_label="rank r", y_label="task-1 loss after − before", chart="forgetting",
        ),
    ]  # fmt: skip
    log_lrs = [math.log10(lr) for lr in LR_GRID]
    tuning = [
        Series(
            name=_label(key), x=log_lrs, y=m.arms[key].val_losses, kind="scatter",
            x_label="log10 learning rate", y_label="validation cross-entropy (task 2)",
            chart="lr_tuning",
        )
        for key in m.keys()
    ]  # fmt: skip
    return [*curves, *sweep, *tuning]


def conclusion_of(p: LoRAVsFullParams, m: Measured, figures: dict[str, float]) -> str:
    full = m.arms["full"]
    per_rank = "; ".join(
        f"r = {r}: {m.arms[f'lora_r{r}'].loss:.3f} "
        f"({figures[f'relative_gap_lora_r{r}']:+.1%} vs full, "
        f"forgetting {figures[f'forgetting_lora_r{r}']:+.3f})"
        for r in m.ranks
    )
    return (
        f"Task 2's teacher differs from task 1's by a rank-{p.shift_rank} change to fc2, on "
        f"inputs moved by {p.domain_shift:g}. Every method adapts only fc2 of the same "
        f"pretrained student for {p.steps} Adam steps, at the learning rate (of "
        f"{', '.join(f'{lr:g}' for lr in LR_GRID)}) with the lowest validation loss. Task-2 "
        f"held-out loss: before {m.loss_base:.3f} (accuracy {m.accuracy_base:.0%}); "
        f"full fine-tuning {full.loss:.3f} ({full.trainable:.0f} parameters, forgetting of "
        f"task 1: its loss {m.task1_loss_base:.3f} → {full.task1_loss:.3f}); LoRA "
        f"{per_rank}. Removing the adapter gives back the base exactly (max |W − W₀| "
        f"{m.adapter_removed_diff:.1e}); merging then "
        f"unmerging leaves {m.unmerge_diff:.1e}. One seed ({p.seed}): compare seeds before "
        "reading a small gap."
    )


def result_of(p: LoRAVsFullParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
    )
