"""The LoRA demo's report: what ``demo.run`` measured, turned into named figures
(the claims feature reads them), one check per identity, charts and a conclusion that
quotes the numbers, whichever way they fall. No torch here: plain floats in, result out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.lora.params import RANKS, LoRAParams

LATENCY_REPEATS = 25  # forward passes per model; the median resists scheduler noise


@dataclass
class Measured:
    """What ``run`` measured, keyed by method: "full" or "lora_r<k>"."""

    ranks: list[int]
    on_cuda: bool
    agreement: float  # share of inputs the two teachers label alike
    pretrain_acc: float  # the student on task 1, held out
    loss_base: float  # the pretrained student on task 2, before adapting
    acc_base: float
    losses: dict[str, float] = field(default_factory=dict)  # held-out cross-entropy
    accs: dict[str, float] = field(default_factory=dict)
    curves: dict[str, list[float]] = field(default_factory=dict)  # training loss per step
    memory: dict[str, float] = field(default_factory=dict)
    trainable: dict[str, float] = field(default_factory=dict)
    formula_ok: bool = True
    step0: dict[int, tuple[float, float, float]] = field(default_factory=dict)  # diff, ‖∇A‖, ‖∇B‖
    delta_norms: dict[int, float] = field(default_factory=dict)  # ‖ΔW‖_F after training
    stuck: dict[int, bool] = field(default_factory=dict)  # final training loss = step 0's
    sigma: list[float] = field(default_factory=list)  # singular values of full FT's ΔW
    energy_top: dict[int, float] = field(default_factory=dict)
    merge_diff: float = 0.0
    output_scale: float = 1.0  # max |unmerged output|: fp32 rounding grows with it
    unmerge_diff: float = 0.0
    weight_scale: float = 1.0  # max |W + ΔW|, likewise for unmerge
    latency_ms: dict[str, float] = field(default_factory=dict)


def _step0(m: Measured) -> tuple[float, float, float]:
    """Worst cases over ranks at step 0: max output change, max ‖∇A‖, min ‖∇B‖ ("nonzero"
    must hold at every rank)."""
    diff0 = max(d for d, _, _ in m.step0.values())
    grad_a0 = max(a for _, a, _ in m.step0.values())
    grad_b0 = min(b for _, _, b in m.step0.values())
    return diff0, grad_a0, grad_b0


def figures_of(m: Measured) -> dict[str, float]:
    """The fixed figures, then per method and per rank; names as ``figure_names`` lists."""
    diff0, grad_a0, grad_b0 = _step0(m)
    lat = m.latency_ms
    figures: dict[str, float] = {
        "step0_max_output_diff": diff0,
        "step0_grad_a_norm": grad_a0,
        "step0_grad_b_norm": grad_b0,
        "grad_a_zero_at_step0": float(grad_a0 == 0.0),
        "grad_b_nonzero_at_step0": float(grad_b0 > 0.0),
        "final_delta_w_norm": max(m.delta_norms.values()),
        "lora_params_formula_ok": float(m.formula_ok),
        "task_label_agreement": m.agreement,
        "pretrain_accuracy": m.pretrain_acc,
        "loss_base": m.loss_base,
        "accuracy_base": m.acc_base,
        "merge_max_abs_diff": m.merge_diff,
        "unmerge_max_abs_diff": m.unmerge_diff,
        "latency_base_ms": lat["base"],
        "latency_unmerged_ms": lat["unmerged"],
        "latency_merged_ms": lat["merged"],
        "latency_ratio_unmerged_vs_base": lat["unmerged"] / lat["base"],
        "latency_ratio_merged_vs_base": lat["merged"] / lat["base"],
        "memory_is_cuda_peak": float(m.on_cuda),
    }
    for key in ["full", *(f"lora_r{r}" for r in m.ranks)]:
        figures[f"trainable_params_{key}"] = m.trainable[key]
        figures[f"loss_{key}"] = m.losses[key]
        figures[f"accuracy_{key}"] = m.accs[key]
        figures[f"peak_memory_bytes_{key}"] = m.memory[key]
    for k, share in m.energy_top.items():
        figures[f"energy_top_{k}"] = share
    return figures


def _identity_checks(p: LoRAParams, m: Measured) -> list[Check]:
    # fp32 rounding is relative: the tolerances scale with the values once they pass 1.
    merge_tol = 1e-4 * max(1.0, m.output_scale)
    unmerge_tol = 1e-5 * max(1.0, m.weight_scale)
    return [
        Check(
            name="merged W + (alpha/r)·BA gives the unmerged outputs (fp32)",
            passed=m.merge_diff < merge_tol,
            detail=f"max |difference| {m.merge_diff:.2e} at r = {m.ranks[-1]} "
            f"(tolerance {merge_tol:.1e})",
        ),
        Check(
            name="unmerge restores the pretrained W",
            passed=m.unmerge_diff < unmerge_tol,
            detail=f"max |W − W₀| {m.unmerge_diff:.2e} after merge then unmerge "
            f"(tolerance {unmerge_tol:.1e})",
        ),
        Check(
            name="LoRA trains r·(d_in + d_out) parameters per adapted matrix",
            passed=m.formula_ok,
            detail=", ".join(f"r={r}: {m.trainable[f'lora_r{r}']:.0f}" for r in m.ranks)
            + f" (d_in = d_out = {p.hidden})",
        ),
    ]


def _init_checks(p: LoRAParams, m: Measured) -> list[Check]:
    """What the chosen init implies at step 0 (and, for A = B = 0, ever after)."""
    diff0, grad_a0, grad_b0 = _step0(m)
    if p.init == "standard":
        return [
            Check(
                name="B = 0: the adapted model's output equals the base model's at step 0",
                passed=diff0 == 0.0,
                detail=f"max |difference| {diff0:.2e} over all ranks",
            ),
            Check(
                name="B = 0: the gradient of A is exactly zero at step 0",
                passed=grad_a0 == 0.0,
                detail=f"largest ‖∇A‖ {grad_a0:.2e}",
            ),
            Check(
                name="A random: the gradient of B is nonzero at step 0",
                passed=grad_b0 > 0.0,
                detail=f"smallest ‖∇B‖ {grad_b0:.2e}",
            ),
        ]
    if p.init == "both_random":
        return [
            Check(
                name="A and B random: the output already changes at step 0",
                passed=diff0 > 0.0,
                detail=f"max |difference| from the base model {diff0:.3g}",
            )
        ]
    delta_norm = max(m.delta_norms.values())
    return [
        Check(
            name="A = B = 0: both gradients are zero at step 0",
            passed=grad_a0 == 0.0 and max(b for _, _, b in m.step0.values()) == 0.0,
            detail=f"‖∇A‖ {grad_a0:.2e}, ‖∇B‖ {grad_b0:.2e}",
        ),
        Check(
            name="A = B = 0: nothing ever learns (ΔW stays 0, the loss does not move)",
            passed=delta_norm == 0.0 and all(m.stuck.values()),
            detail=f"‖ΔW‖_F {delta_norm:.2e} after {p.steps} steps",
        ),
    ]


def checks_of(p: LoRAParams, m: Measured) -> list[Check]:
    return _identity_checks(p, m) + _init_checks(p, m)


def _curve_series(p: LoRAParams, m: Measured) -> list[Series]:
    stride = max(1, p.steps // 200)  # at most ~200 points per curve for the page
    xs = [float(i + 1) for i in range(0, p.steps, stride)]
    return [
        Series(
            name="full fine-tuning" if key == "full" else f"LoRA r={key.removeprefix('lora_r')}",
            x=xs,
            y=curve[::stride],
            x_label="adaptation step",
            y_label="training cross-entropy (task 2)",
            chart="loss_curves",
        )
        for key, curve in m.curves.items()
    ]


def series_of(p: LoRAParams, m: Measured) -> list[Series]:
    """Loss curves, full fine-tuning's singular values, held-out loss by rank."""
    positive = [sv for sv in m.sigma if sv > 0]
    return [
        *_curve_series(p, m),
        Series(
            name="singular values of full fine-tuning's ΔW (fc2)",
            x=[float(i) for i in range(1, len(m.sigma) + 1)],
            y=m.sigma,
            kind="bar",
            x_label="i",
            y_label="σ_i",
            log_y=len(positive) == len(m.sigma),  # a log axis cannot draw an exact zero
            chart="delta_w_singular_values",
        ),
        Series(
            name="LoRA rank r",
            x=[float(r) for r in m.ranks],
            y=[m.losses[f"lora_r{r}"] for r in m.ranks],
            kind="scatter",
            x_label="rank r",
            y_label="held-out cross-entropy (task 2)",
            chart="loss_by_rank",
        ),
        Series(
            name="full fine-tuning",
            x=[float(r) for r in m.ranks],
            y=[m.losses["full"]] * len(m.ranks),
            x_label="rank r",
            y_label="held-out cross-entropy (task 2)",
            chart="loss_by_rank",
        ),
    ]


def _init_words(p: LoRAParams, m: Measured) -> str:
    diff0, grad_a0, grad_b0 = _step0(m)
    if p.init == "standard":
        return (
            f"With A random and B = 0 the adapted model starts at the base model "
            f"(max |output difference| {diff0:.1e}), ‖∇A‖ = {grad_a0:.1e} and ‖∇B‖ ≥ {grad_b0:.2e} "
            "at step 0."
        )
    if p.init == "both_random":
        return (
            f"With A and B both random the output moves before any training "
            f"(max |output difference| {diff0:.3g})."
        )
    return (
        f"With A = B = 0 both gradients are {grad_a0:.1e} and {grad_b0:.1e} at step 0 and "
        f"‖ΔW‖_F is still {max(m.delta_norms.values()):.1e} after {p.steps} steps: nothing learns."
    )


def conclusion_of(p: LoRAParams, m: Measured, figures: dict[str, float]) -> str:
    memory_kind = (
        "CUDA allocator peak above the memory live before each method"
        if m.on_cuda
        else "bytes of parameters, gradients and Adam states (CPU)"
    )
    r_max = m.ranks[-1]
    best = min(m.ranks, key=lambda r: m.losses[f"lora_r{r}"])
    k_top = max(k for k in m.ranks if k <= p.shift_rank)  # the rank nearest the true shift
    return (
        f"{_init_words(p, m)} Adapting the pretrained student (task-1 accuracy "
        f"{m.pretrain_acc:.1%}) "
        f"to task 2 (the teachers agree on {m.agreement:.0%} of inputs): before adapting, "
        f"accuracy {m.acc_base:.1%}; full fine-tuning reaches {m.accs['full']:.1%} "
        f"(held-out loss {m.losses['full']:.3f}) training {m.trainable['full']:.0f} parameters; "
        f"LoRA's best, r = {best}, reaches {m.accs[f'lora_r{best}']:.1%} "
        f"(loss {m.losses[f'lora_r{best}']:.3f}) with {m.trainable[f'lora_r{best}']:.0f}; "
        f"r = 1 reaches {m.accs['lora_r1']:.1%}. Full fine-tuning's ΔW of fc2 holds "
        f"{m.energy_top[k_top]:.1%} of its energy in its top {k_top} singular "
        f"direction(s). Memory ({memory_kind}): full {m.memory['full']:.0f} B, LoRA r = {r_max} "
        f"{m.memory[f'lora_r{r_max}']:.0f} B. Merging changes outputs by at most "
        f"{m.merge_diff:.1e}; forward latency relative to the base model: unmerged "
        f"{figures['latency_ratio_unmerged_vs_base']:.2f}×, merged "
        f"{figures['latency_ratio_merged_vs_base']:.2f}× (median of {LATENCY_REPEATS})."
    )


def result_of(p: LoRAParams, m: Measured) -> DemoResult:
    """Figures named for the claims feature, checks per identity, charts, conclusion."""
    figures = figures_of(m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
    )


FIXED_FIGURES = (
    "step0_max_output_diff",
    "step0_grad_a_norm",
    "step0_grad_b_norm",
    "grad_a_zero_at_step0",
    "grad_b_nonzero_at_step0",
    "final_delta_w_norm",
    "lora_params_formula_ok",
    "task_label_agreement",
    "pretrain_accuracy",
    "loss_base",
    "accuracy_base",
    "merge_max_abs_diff",
    "unmerge_max_abs_diff",
    "latency_base_ms",
    "latency_unmerged_ms",
    "latency_merged_ms",
    "latency_ratio_unmerged_vs_base",
    "latency_ratio_merged_vs_base",
    "memory_is_cuda_peak",
)


def figure_names(params: LoRAParams) -> list[str]:
    """The fixed figures, then per method (``full``, ``lora_r<k>`` for each rank k ≤
    hidden) its trainable parameters, loss, accuracy and peak memory, and the energy share
    of full fine-tuning's top-k singular directions."""
    ranks = [k for k in RANKS if k <= params.hidden]
    per_method = ("trainable_params", "loss", "accuracy", "peak_memory_bytes")
    keys = ["full", *(f"lora_r{k}" for k in ranks)]
    return [
        *FIXED_FIGURES,
        *(f"{figure}_{key}" for key in keys for figure in per_method),
        *(f"energy_top_{k}" for k in ranks),
    ]
