"""lora_vs_full's report: what ``model.measure`` measured, turned into named figures (the
claims feature reads them), checks, charts and a conclusion that quotes the numbers
whichever way they fall. No torch here: plain floats in, result out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.demos.base import Check, Series
from app.demos.lora_vs_full.params import CLASSES, LR_GRID, LoRAVsFullParams, ranks_of
from app.demos.lora_vs_full.words import method_name
from app.demos.text import Text, q, t


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
    edge, unlearned = _grid_edges(m)
    counts = _joined(
        [
            t("%(method)s: %(n)s", method=_short(key), n=q(m.arms[key].trainable, "count"))
            for key in m.keys()
        ],
        ", ",
    )
    grid = ", ".join(f"{lr:g}" for lr in LR_GRID)
    return [
        Check(
            name=t("Removing the adapter gives back the base exactly ($W$ never trains)"),
            passed=m.adapter_removed_diff == 0.0 and m.adapter_removed_task1_diff == 0.0,
            detail=t(
                "Largest $|W - W_0|$ %(diff)s; the task-1 loss without the adapter differs "
                "from the base's by %(loss)s",
                diff=q(m.adapter_removed_diff, "plain"),
                loss=q(m.adapter_removed_task1_diff, "plain"),
            ),
        ),
        Check(
            name=t("Merging then unmerging restores $W$ (fp32)"),
            passed=m.unmerge_diff < unmerge_tol,
            detail=t(
                "Largest $|W - W_0|$ %(diff)s (tolerance %(tol)s)",
                diff=q(m.unmerge_diff, "plain"), tol=q(unmerge_tol, "plain"),
            ),
        ),
        Check(
            name=t(
                r"Full fine-tuning and LoRA adapt the same matrix: $h^2$ against $2 r h$ "
                "parameters (hidden width $h$)"
            ),
            passed=lora_ok and m.arms["full"].trainable == p.hidden**2,
            detail=t("Trainable parameters: %(counts)s", counts=counts),
        ),
        Check(
            name=t("Every method that learned task 2 chose a learning rate inside the grid"),
            passed=not edge,
            detail=_edge_detail(edge, unlearned, grid),
        ),
    ]  # fmt: skip


def _grid_edges(m: Measured) -> tuple[list[str], list[str]]:
    """The methods whose chosen lr is at an edge of the grid, and apart from them those
    that learned nothing at any lr: at the top edge, with no run better than a uniform
    guess over the classes (the loss of a run that collapsed; a larger lr would not make
    it learn, so the grid did not limit it)."""
    chance = math.log(CLASSES)
    edge, unlearned = [], []
    for key in m.keys():
        arm = m.arms[key]
        if arm.lr == LR_GRID[-1] and min(arm.val_losses) >= chance:
            unlearned.append(key)
        elif arm.lr in (LR_GRID[0], LR_GRID[-1]):
            edge.append(key)
    return edge, unlearned


def _edge_detail(edge: list[str], unlearned: list[str], grid: str) -> Text:
    if edge:
        found = t(
            "At the grid's edge: %(edge)s (grid %(grid)s)",
            edge=_joined([_short(key) for key in edge], ", "),
            grid=grid,
        )
    elif unlearned:
        found = t("None that learned at an edge (grid %(grid)s)", grid=grid)
    else:
        return t("None at an edge (grid %(grid)s)", grid=grid)
    if not unlearned:
        return found
    return t(
        "%(found)s. No better than a uniform guess (loss %(chance)s) at any learning rate, "
        "so its least bad run is at the top edge: %(arms)s",
        found=found,
        chance=q(math.log(CLASSES), "loss"),
        arms=_joined([_short(key) for key in unlearned], ", "),
    )


def _short(key: str) -> Text:
    """A method's short name inside a list: "Full fine-tuning", "r = 4"."""
    if key == "full":
        return t("Full fine-tuning")
    return t("$r$ = %(r)s", r=int(key.removeprefix("lora_r")))


def _curve_series(m: Measured) -> list[Series]:
    """One training-loss line per method, at the learning rate it was picked at."""
    return [
        Series(
            name=t("%(method)s, lr %(lr)s", method=method_name(key), lr=q(m.arms[key].lr, "plain")),
            x=[float(i) for i in range(len(m.arms[key].curve))],
            y=m.arms[key].curve,
            x_label=t("adaptation step"),
            y_label=t("training loss (task 2)"),
            chart="loss_curves",
            unit="loss",
        )
        for key in m.keys()
    ]  # fmt: skip


def _by_rank(
    m: Measured, chart: str, y_label: Text, lora: list[float], full: float
) -> list[Series]:
    """LoRA's value per rank and full fine-tuning's beside it, as bars named by rank."""
    categories: list[Text | str] = [t("LoRA r = %(r)s", r=r) for r in m.ranks]
    xs = [float(i) for i in range(len(m.ranks))]
    return [
        Series(
            name=name, x=xs, y=y, kind="bar", x_label=t("LoRA rank"), y_label=y_label,
            chart=chart, categories=categories, unit="loss",
        )
        for name, y in ((t("LoRA"), lora), (method_name("full"), [full] * len(m.ranks)))
    ]  # fmt: skip


def series_of(p: LoRAVsFullParams, m: Measured) -> list[Series]:
    lora = [m.arms[f"lora_r{r}"] for r in m.ranks]
    full = m.arms["full"]
    sweep = _by_rank(
        m, "rank_sweep", t("held-out loss (task 2)"), [a.loss for a in lora], full.loss
    )
    forgetting = _by_rank(
        m, "forgetting", t("task-1 loss after adapting minus before"),
        [a.task1_loss - m.task1_loss_base for a in lora], full.task1_loss - m.task1_loss_base,
    )  # fmt: skip
    lrs: list[Text | str] = [f"{lr:g}" for lr in LR_GRID]
    tuning = [
        Series(
            name=method_name(key), x=[float(i) for i in range(len(LR_GRID))],
            y=m.arms[key].val_losses, kind="bar", x_label=t("learning rate"),
            y_label=t("validation loss (task 2)"), chart="lr_tuning", categories=lrs,
            unit="loss",
        )
        for key in m.keys()
    ]  # fmt: skip
    return [*_curve_series(m), *sweep, *forgetting, *tuning]


def conclusion_of(p: LoRAVsFullParams, m: Measured, figures: dict[str, float]) -> Text:
    full = m.arms["full"]
    return t(
        "Task 2's teacher differs from task 1's by a rank-%(shift)s change to fc2, on inputs "
        "moved by %(domain)s. Every method adapts only fc2 of the same pretrained student for "
        "%(steps)s Adam steps, at the learning rate (of %(grid)s) with the lowest validation "
        "loss. Task-2 held-out loss: before %(loss_base)s (accuracy %(acc_base)s); full "
        "fine-tuning %(loss_full)s (%(n_full)s parameters; its task-1 loss goes from "
        "%(t1_base)s to %(t1_full)s); LoRA by rank, with its loss relative to full "
        "fine-tuning's and the change of its task-1 loss: %(per_rank)s. Removing the "
        "adapter gives back the base exactly (largest $|W - W_0|$ %(removed)s); merging "
        "then unmerging leaves %(unmerge)s. One seed (%(seed)s): compare seeds before "
        "reading a small gap.",
        shift=p.shift_rank, domain=q(p.domain_shift, "plain"), steps=p.steps,
        grid=", ".join(f"{lr:g}" for lr in LR_GRID), loss_base=q(m.loss_base, "loss"),
        acc_base=q(m.accuracy_base, "ratio"), loss_full=q(full.loss, "loss"),
        n_full=q(full.trainable, "params"), t1_base=q(m.task1_loss_base, "loss"),
        t1_full=q(full.task1_loss, "loss"), per_rank=_per_rank(m, figures),
        removed=q(m.adapter_removed_diff, "plain"), unmerge=q(m.unmerge_diff, "plain"),
        seed=p.seed,
    )  # fmt: skip


def _per_rank(m: Measured, figures: dict[str, float]) -> Text:
    """ "r = 1: 2.086 (+150 %, +2.101); r = 2: ..." as one text whose numbers the page
    formats: each rank's task-2 loss, relative gap to full fine-tuning, forgetting."""
    parts = [
        t(
            "$r$ = %(r)s: %(loss)s (against full: %(gap)s; task-1 loss change "
            "%(forgetting)s)",
            r=r, loss=q(m.arms[f"lora_r{r}"].loss, "loss"),
            gap=q(figures[f"relative_gap_lora_r{r}"], "ratio"),
            forgetting=q(figures[f"forgetting_lora_r{r}"], "loss"),
        )
        for r in m.ranks
    ]  # fmt: skip
    return _joined(parts, "; ")


def _joined(items: list[Text], separator: str) -> Text:
    """``a; b; c`` or ``a, b, c`` as nested texts: a translation writes its own marks."""
    out = items[0]
    for item in items[1:]:
        if separator == "; ":
            out = t("%(a)s; %(b)s", a=out, b=item)
        else:
            out = t("%(a)s, %(b)s", a=out, b=item)
    return out
