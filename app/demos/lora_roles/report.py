"""lora_roles' report: what ``model.measure`` measured, turned into named figures (the
claims feature reads them), checks, charts and a conclusion that quotes the numbers
whichever way they fall. No torch here: plain floats in, result out."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demos.base import Check, Series
from app.demos.lora_roles.params import ARMS, INITS, LoRARolesParams
from app.demos.lora_roles.sweep import (
    SWEEP_FIGURES,
    SweepArm,
    sweep_conclusion,
    sweep_figures,
    sweep_series,
)
from app.demos.lora_roles.words import arm_name
from app.demos.text import Quantity, Text, q, t


@dataclass
class ArmResult:
    curve: list[float]  # task-2 training loss before each step (curve[0]: step 0)
    loss: float  # task-2 held-out loss after training
    grad_a0: float  # ‖∇A‖_F at step 0
    grad_b0: float  # ‖∇B‖_F at step 0
    trainable: float
    a_max_abs_change: float  # max |A_T − A_0|


@dataclass
class Measured:
    loss_base_train: float  # the base's task-2 training loss (what step 0 is compared with)
    loss_base: float = 0.0  # the base's task-2 held-out loss
    arms: dict[str, ArmResult] = field(default_factory=dict)  # INITS + "lora_fa"
    a_relative_change: float = 0.0  # ‖A_T − A_0‖_F / ‖A_0‖_F (standard arm)
    a_cosine: float = 0.0  # cos(A_T, A_0), flattened
    b_final_norm: float = 0.0  # ‖B_T‖_F
    delta_w_norm: float = 0.0  # ‖(alpha/r)·B_T A_T‖_F
    delta_w_a_change_share: float = 0.0  # ‖(alpha/r)·B_T (A_T − A_0)‖_F / ‖ΔW‖_F
    arithmetic: dict[str, float] = field(default_factory=dict)
    base_task1: tuple[float, float] = (0.0, 0.0)  # the base's task-1 held-out (loss, accuracy)
    step0_task1: dict[str, tuple[float, float]] = field(default_factory=dict)  # per INITS
    sweep: dict[str, SweepArm] = field(default_factory=dict)  # per SWEEP


def target_loss(p: LoRARolesParams, m: Measured) -> float:
    """``target_fraction`` of the way from the base's training loss to the lowest final
    training loss of any init."""
    best = min(m.arms[name].curve[-1] for name in INITS)
    return m.loss_base_train - p.target_fraction * (m.loss_base_train - best)


def steps_to(curve: list[float], target: float) -> int | None:
    """The first step whose loss (before its update) is at or under ``target``."""
    return next((i for i, loss in enumerate(curve) if loss <= target), None)


def interference_pct(m: Measured, task: str) -> float:
    """Share of a task's own LoRA gain lost when the other task's ΔW is added, in %."""
    a = m.arithmetic
    gain = a[f"loss_base_{task}"] - a[f"loss_alone_{task}"]
    return 100 * (a[f"loss_sum_{task}"] - a[f"loss_alone_{task}"]) / gain


def _role_figures(m: Measured) -> dict[str, float]:
    standard, fa = m.arms["standard"], m.arms["lora_fa"]
    return {
        "a_relative_change": m.a_relative_change,
        "a_cosine": m.a_cosine,
        "b_final_norm": m.b_final_norm,
        "delta_w_norm": m.delta_w_norm,
        "delta_w_a_change_share": m.delta_w_a_change_share,
        "loss_lora_fa_minus_standard": fa.loss - standard.loss,
        "lora_fa_a_max_abs_change": fa.a_max_abs_change,
    }


def _init_figures(p: LoRARolesParams, m: Measured) -> dict[str, float]:
    target = target_loss(p, m)
    figures = {"loss_base": m.loss_base, "loss_base_train": m.loss_base_train}
    figures["target_loss"] = target
    for name in ARMS:
        arm = m.arms[name]
        reached = steps_to(arm.curve, target)
        figures[f"loss_{name}"] = arm.loss
        figures[f"trainable_params_{name}"] = arm.trainable
        figures[f"step0_loss_{name}"] = arm.curve[0]
        figures[f"step0_loss_diff_{name}"] = abs(arm.curve[0] - m.loss_base_train)
        figures[f"step0_grad_a_norm_{name}"] = arm.grad_a0
        figures[f"step0_grad_b_norm_{name}"] = arm.grad_b0
        figures[f"final_train_loss_{name}"] = arm.curve[-1]
        figures[f"steps_to_target_{name}"] = float(p.steps if reached is None else reached)
        figures[f"reached_target_{name}"] = float(reached is not None)
    return figures


def _task1_figures(m: Measured) -> dict[str, float]:
    """What each start does to the base's own task before any step."""
    loss_1, accuracy_1 = m.base_task1
    figures = {"loss_base_task1": loss_1, "accuracy_base_task1": accuracy_1}
    for name in INITS:
        loss, accuracy = m.step0_task1[name]
        figures[f"step0_task1_loss_rise_{name}"] = loss - loss_1
        figures[f"step0_task1_accuracy_drop_{name}"] = accuracy_1 - accuracy
    return figures


def _arithmetic_figures(m: Measured) -> dict[str, float]:
    figures = dict(m.arithmetic)
    for task in ("task2", "task3"):
        figures[f"interference_pct_{task}"] = interference_pct(m, task)
    return figures


def figures_of(p: LoRARolesParams, m: Measured) -> dict[str, float]:
    return {
        **_role_figures(m),
        **_init_figures(p, m),
        **_task1_figures(m),
        **sweep_figures(m.sweep),
        **_arithmetic_figures(m),
    }


ROLE_FIGURES = (
    "a_relative_change",
    "a_cosine",
    "b_final_norm",
    "delta_w_norm",
    "delta_w_a_change_share",
    "loss_lora_fa_minus_standard",
    "lora_fa_a_max_abs_change",
)
PER_ARM = (
    "loss",
    "trainable_params",
    "step0_loss",
    "step0_loss_diff",
    "step0_grad_a_norm",
    "step0_grad_b_norm",
    "final_train_loss",
    "steps_to_target",
    "reached_target",
)
TASK1_PER_INIT = ("step0_task1_loss_rise", "step0_task1_accuracy_drop")
ARITHMETIC_FIGURES = tuple(
    f"{figure}_{task}"
    for task in ("task2", "task3")
    for figure in ("loss_base", "loss_alone", "loss_sum", "interference_pct")
) + ("task_delta_cosine",)


def figure_names(params: LoRARolesParams) -> list[str]:
    """The same names for every parameter set: A/B roles, per arm (standard, both_random,
    a_zero, lora_fa) its figures, per init what its start does to task 1, the learning-rate
    sweep's figures, and the task-arithmetic figures."""
    return [
        *ROLE_FIGURES,
        "loss_base",
        "loss_base_train",
        "target_loss",
        *(f"{figure}_{arm}" for arm in ARMS for figure in PER_ARM),
        "loss_base_task1",
        "accuracy_base_task1",
        *(f"{figure}_{arm}" for arm in INITS for figure in TASK1_PER_INIT),
        *SWEEP_FIGURES,
        *ARITHMETIC_FIGURES,
    ]


def checks_of(p: LoRARolesParams, m: Measured) -> list[Check]:
    standard, a_zero, fa = m.arms["standard"], m.arms["a_zero"], m.arms["lora_fa"]
    return [
        Check(
            name=t("With $B = 0$ the step-0 loss is exactly the base model's"),
            passed=standard.curve[0] == m.loss_base_train,
            detail=t(
                "%(step0)s against the base model's %(base)s",
                step0=repr(standard.curve[0]), base=repr(m.loss_base_train),
            ),
        ),
        Check(
            name=t(r"With $B = 0$, $\nabla A$ is exactly zero at step 0 and $\nabla B$ is not"),
            passed=standard.grad_a0 == 0.0 and standard.grad_b0 > 0.0,
            detail=t(
                r"Gradient norms: $\|\nabla A\|$ %(a)s, $\|\nabla B\|$ %(b)s",
                a=q(standard.grad_a0, "plain"), b=q(standard.grad_b0, "plain"),
            ),
        ),
        Check(
            name=t(
                r"With $A = 0$ ($B$ random), $\nabla B$ is exactly zero at step 0 and "
                r"$\nabla A$ is not"
            ),
            passed=a_zero.grad_b0 == 0.0 and a_zero.grad_a0 > 0.0,
            detail=t(
                r"Gradient norms: $\|\nabla A\|$ %(a)s, $\|\nabla B\|$ %(b)s",
                a=q(a_zero.grad_a0, "plain"), b=q(a_zero.grad_b0, "plain"),
            ),
        ),
        Check(
            name=t("With $B = 0$ the base's own task (task 1) is untouched at step 0"),
            passed=m.step0_task1["standard"] == m.base_task1,
            detail=t(
                "Task-1 loss %(step0)s against the base model's %(base)s",
                step0=repr(m.step0_task1["standard"][0]), base=repr(m.base_task1[0]),
            ),
        ),
        Check(
            name=t("In LoRA-FA, $A$ is unchanged after training"),
            passed=fa.a_max_abs_change == 0.0,
            detail=t(
                "Largest $|A_T - A_0|$ %(diff)s; trains %(fa)s of %(standard)s parameters",
                diff=q(fa.a_max_abs_change, "plain"), fa=q(fa.trainable, "params"),
                standard=q(standard.trainable, "params"),
            ),
        ),
    ]  # fmt: skip


def series_of(p: LoRARolesParams, m: Measured) -> list[Series]:
    """One training-loss line per arm; task arithmetic as bars per task."""
    curves = [
        Series(
            name=arm_name(name),
            x=[float(i) for i in range(len(m.arms[name].curve))],
            y=m.arms[name].curve,
            x_label=t("adaptation step"),
            y_label=t("training loss (task 2)"),
            chart="loss_curves",
            unit="loss",
        )
        for name in ARMS
    ]
    a = m.arithmetic
    tasks: list[Text | str] = [t("task 2"), t("task 3")]
    bars = [
        Series(
            name=what, x=[0.0, 1.0], y=[a[f"{key}_task2"], a[f"{key}_task3"]], kind="bar",
            x_label=t("task"), y_label=t("held-out loss"), chart="task_arithmetic",
            categories=tasks, unit="loss",
        )
        for what, key in (
            (t("base model"), "loss_base"),
            (t("its own LoRA alone"), "loss_alone"),
            (t(r"both LoRAs added: $\Delta W_2 + \Delta W_3$"), "loss_sum"),
        )
    ]  # fmt: skip
    return [*curves, *sweep_series(m.sweep), *bars]


def reach(p: LoRARolesParams, figures: dict[str, float], name: str) -> Text | Quantity:
    """Steps an arm took to the target loss, or that it did not reach it."""
    if not figures[f"reached_target_{name}"]:
        return t("not within %(steps)s", steps=p.steps)
    return q(figures[f"steps_to_target_{name}"], "count")


def conclusion_of(p: LoRARolesParams, m: Measured, figures: dict[str, float]) -> Text:
    return t(
        "%(a)s %(b)s", a=_roles_conclusion(p, m, figures), b=sweep_conclusion(p.hidden, figures)
    )


def _roles_conclusion(p: LoRARolesParams, m: Measured, figures: dict[str, float]) -> Text:
    fa, standard = m.arms["lora_fa"], m.arms["standard"]
    return t(
        "LoRA $r$ = %(r)s on fc2 for %(steps)s Adam steps (lr %(lr)s): $A$ moved %(a_move)s "
        "of its initial norm ($\\cos(A_T, A_0)$ = %(a_cos)s) while $B$ grew from 0 to "
        "$\\|B\\|_F$ = %(b)s; $A$'s move accounts for %(a_share)s of $\\|\\Delta W\\|_F$. "
        "LoRA-FA ($A$ frozen) reaches held-out loss %(fa)s against %(std)s for standard "
        "LoRA, training %(n_fa)s of %(n_std)s parameters. Step-0 loss: base %(base0)s, "
        "standard %(std0)s, both random %(rand0)s, $A = 0$ %(zero0)s. Steps to the target "
        "loss %(target)s: standard %(reach_std)s, both random %(reach_rand)s, $A = 0$ "
        "%(reach_zero)s, LoRA-FA %(reach_fa)s. Adding the task-3 LoRA's $\\Delta W$ to task "
        "2's (cosine %(cos)s, domains %(sep)s apart) loses %(i2)s of task 2's gain and "
        "%(i3)s of task 3's. One seed (%(seed)s): compare seeds before reading a small gap.",
        r=p.r, steps=p.steps, lr=q(p.lr, "plain"), a_move=q(m.a_relative_change, "ratio"),
        a_cos=q(m.a_cosine, "plain"), b=q(m.b_final_norm, "plain"),
        a_share=q(m.delta_w_a_change_share, "ratio"), fa=q(fa.loss, "loss"),
        std=q(standard.loss, "loss"), n_fa=q(fa.trainable, "params"),
        n_std=q(standard.trainable, "params"), base0=q(m.loss_base_train, "loss"),
        std0=q(standard.curve[0], "loss"), rand0=q(m.arms["both_random"].curve[0], "loss"),
        zero0=q(m.arms["a_zero"].curve[0], "loss"), target=q(figures["target_loss"], "loss"),
        reach_std=reach(p, figures, "standard"), reach_rand=reach(p, figures, "both_random"),
        reach_zero=reach(p, figures, "a_zero"), reach_fa=reach(p, figures, "lora_fa"),
        cos=q(figures["task_delta_cosine"], "plain"), sep=q(p.task_separation, "plain"),
        i2=q(figures["interference_pct_task2"], "pct"),
        i3=q(figures["interference_pct_task3"], "pct"), seed=p.seed,
    )  # fmt: skip
