"""lora_roles' report: what ``model.measure`` measured, turned into named figures (the
claims feature reads them), checks, charts and a conclusion that quotes the numbers
whichever way they fall. No torch here: plain floats in, result out."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.lora_roles.params import ARMS, INITS, LoRARolesParams


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


def _arithmetic_figures(m: Measured) -> dict[str, float]:
    figures = dict(m.arithmetic)
    for task in ("task2", "task3"):
        figures[f"interference_pct_{task}"] = interference_pct(m, task)
    return figures


def figures_of(p: LoRARolesParams, m: Measured) -> dict[str, float]:
    return {**_role_figures(m), **_init_figures(p, m), **_arithmetic_figures(m)}


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
ARITHMETIC_FIGURES = tuple(
    f"{figure}_{task}"
    for task in ("task2", "task3")
    for figure in ("loss_base", "loss_alone", "loss_sum", "interference_pct")
) + ("task_delta_cosine",)


def figure_names(params: LoRARolesParams) -> list[str]:
    """The same names for every parameter set: A/B roles, per arm (standard, both_random,
    a_zero, lora_fa) its figures, and the task-arithmetic figures."""
    return [
        *ROLE_FIGURES,
        "loss_base",
        "loss_base_train",
        "target_loss",
        *(f"{figure}_{arm}" for arm in ARMS for figure in PER_ARM),
        *ARITHMETIC_FIGURES,
    ]


def checks_of(p: LoRARolesParams, m: Measured) -> list[Check]:
    standard, a_zero, fa = m.arms["standard"], m.arms["a_zero"], m.arms["lora_fa"]
    return [
        Check(
            name="B = 0: the step-0 loss is the base's exactly",
            passed=standard.curve[0] == m.loss_base_train,
            detail=f"{standard.curve[0]!r} vs the base's {m.loss_base_train!r}",
        ),
        Check(
            name="B = 0: ∇A is exactly zero at step 0, ∇B is not",
            passed=standard.grad_a0 == 0.0 and standard.grad_b0 > 0.0,
            detail=f"‖∇A‖ {standard.grad_a0:.1e}, ‖∇B‖ {standard.grad_b0:.2e}",
        ),
        Check(
            name="A = 0 (B random): ∇B is exactly zero at step 0, ∇A is not",
            passed=a_zero.grad_b0 == 0.0 and a_zero.grad_a0 > 0.0,
            detail=f"‖∇A‖ {a_zero.grad_a0:.2e}, ‖∇B‖ {a_zero.grad_b0:.1e}",
        ),
        Check(
            name="LoRA-FA: A is unchanged after training",
            passed=fa.a_max_abs_change == 0.0,
            detail=f"max |A_T − A_0| {fa.a_max_abs_change:.1e}; trains {fa.trainable:.0f} of "
            f"{standard.trainable:.0f} parameters",
        ),
    ]


def series_of(p: LoRARolesParams, m: Measured) -> list[Series]:
    labels = {
        "standard": "A random, B = 0 (PEFT)",
        "both_random": "A and B random",
        "a_zero": "A = 0, B random",
        "lora_fa": "LoRA-FA (A frozen, B = 0)",
    }
    curves = [
        Series(
            name=labels[name],
            x=[float(i) for i in range(len(m.arms[name].curve))],
            y=m.arms[name].curve,
            x_label="step",
            y_label="training cross-entropy (task 2)",
            chart="loss_curves",
        )
        for name in ARMS
    ]
    a = m.arithmetic
    bars = [
        Series(
            name=what, x=[2.0, 3.0], y=[a[f"{key}_task2"], a[f"{key}_task3"]], kind="bar",
            x_label="task", y_label="held-out cross-entropy", chart="task_arithmetic",
        )
        for what, key in (
            ("base", "loss_base"), ("own LoRA alone", "loss_alone"), ("ΔW₂ + ΔW₃", "loss_sum"),
        )
    ]  # fmt: skip
    return [*curves, *bars]


def conclusion_of(p: LoRARolesParams, m: Measured, figures: dict[str, float]) -> str:
    fa, standard = m.arms["lora_fa"], m.arms["standard"]

    def reach(name: str) -> str:
        if not figures[f"reached_target_{name}"]:
            return f"{name} not within {p.steps}"
        return f"{name} {figures[f'steps_to_target_{name}']:.0f}"

    return (
        f"LoRA r = {p.r} on fc2 for {p.steps} Adam steps (lr {p.lr:g}): A moved "
        f"{m.a_relative_change:.1%} of its initial norm (cos(A_T, A_0) = {m.a_cosine:.3f}) "
        f"while B grew from 0 to ‖B‖_F = {m.b_final_norm:.3g}; A's move accounts for "
        f"{m.delta_w_a_change_share:.1%} of ‖ΔW‖_F. LoRA-FA (A frozen) reaches held-out loss "
        f"{fa.loss:.3f} against {standard.loss:.3f} for standard LoRA, training "
        f"{fa.trainable:.0f} of {standard.trainable:.0f} parameters. Step-0 loss: base "
        f"{m.loss_base_train:.4f}, standard {standard.curve[0]:.4f}, both random "
        f"{m.arms['both_random'].curve[0]:.4f}, A = 0 {m.arms['a_zero'].curve[0]:.4f}. Steps "
        f"to the target loss {figures['target_loss']:.3f}: {reach('standard')}, "
        f"{reach('both_random')}, {reach('a_zero')}, {reach('lora_fa')}. Adding the task-3 "
        f"LoRA's ΔW to task 2's (cosine {figures['task_delta_cosine']:.2f}, domains "
        f"{p.task_separation:g} apart) loses {figures['interference_pct_task2']:.0f}% of task "
        f"2's gain and {figures['interference_pct_task3']:.0f}% of task 3's. One seed "
        f"({p.seed}): compare seeds before reading a small gap."
    )


def result_of(p: LoRARolesParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
    )
