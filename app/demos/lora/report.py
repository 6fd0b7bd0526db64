"""The LoRA demo's report: what ``demo.run`` measured, turned into named figures
(the claims feature reads them), one check per identity, charts and a conclusion that
quotes the numbers, whichever way they fall. No torch here: plain floats in, result out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demos.base import Check, Series
from app.demos.lora.params import RANKS, LoRAParams
from app.demos.lora.words import method_name
from app.demos.text import Text, q, t

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


def _commas(items: list[Text]) -> Text:
    """``a, b, c`` as nested texts: a translation writes its own comma (，)."""
    out = items[0]
    for item in items[1:]:
        out = t("%(a)s, %(b)s", a=out, b=item)
    return out


def _identity_checks(p: LoRAParams, m: Measured) -> list[Check]:
    # fp32 rounding is relative: the tolerances scale with the values once they pass 1.
    merge_tol = 1e-4 * max(1.0, m.output_scale)
    unmerge_tol = 1e-5 * max(1.0, m.weight_scale)
    counts = _commas(
        [t("$r$ = %(r)s: %(n)s", r=r, n=int(m.trainable[f"lora_r{r}"])) for r in m.ranks]
    )
    return [
        Check(
            name=t(r"Merged $W + \frac{\alpha}{r} BA$ gives the unmerged outputs (fp32)"),
            passed=m.merge_diff < merge_tol,
            detail=t(
                "Largest difference %(diff)s at $r$ = %(r)s (tolerance %(tol)s)",
                diff=q(m.merge_diff, "plain"), r=m.ranks[-1], tol=q(merge_tol, "plain"),
            ),
        ),
        Check(
            name=t("Unmerging restores the pretrained $W$"),
            passed=m.unmerge_diff < unmerge_tol,
            detail=t(
                "Largest $|W - W_0|$ after merging then unmerging: %(diff)s (tolerance %(tol)s)",
                diff=q(m.unmerge_diff, "plain"), tol=q(unmerge_tol, "plain"),
            ),
        ),
        Check(
            name=t(r"LoRA trains $r \cdot (d_{in} + d_{out})$ parameters per adapted matrix"),
            passed=m.formula_ok,
            detail=t(
                "%(counts)s ($d_{in} = d_{out}$ = %(d)s)", counts=counts, d=p.hidden
            ),
        ),
    ]  # fmt: skip


def _standard_checks(diff0: float, grad_a0: float, grad_b0: float) -> list[Check]:
    return [
        Check(
            name=t("With $B = 0$ the adapted model's output equals the base model's at step 0"),
            passed=diff0 == 0.0,
            detail=t("Largest difference over all ranks: %(diff)s", diff=q(diff0, "plain")),
        ),
        Check(
            name=t("With $B = 0$ the gradient of $A$ is exactly zero at step 0"),
            passed=grad_a0 == 0.0,
            detail=t(r"Largest $\|\nabla A\|$: %(g)s", g=q(grad_a0, "plain")),
        ),
        Check(
            name=t("With $A$ random the gradient of $B$ is nonzero at step 0"),
            passed=grad_b0 > 0.0,
            detail=t(r"Smallest $\|\nabla B\|$: %(g)s", g=q(grad_b0, "plain")),
        ),
    ]


def _init_checks(p: LoRAParams, m: Measured) -> list[Check]:
    """What the chosen init implies at step 0 (and, for A = B = 0, ever after)."""
    diff0, grad_a0, grad_b0 = _step0(m)
    if p.init == "standard":
        return _standard_checks(diff0, grad_a0, grad_b0)
    if p.init == "both_random":
        return [
            Check(
                name=t("With $A$ and $B$ random the output already changes at step 0"),
                passed=diff0 > 0.0,
                detail=t(
                    "Largest difference from the base model: %(diff)s", diff=q(diff0, "plain")
                ),
            )
        ]
    delta_norm = max(m.delta_norms.values())
    return [
        Check(
            name=t("With $A = B = 0$ both gradients are zero at step 0"),
            passed=grad_a0 == 0.0 and max(b for _, _, b in m.step0.values()) == 0.0,
            detail=t(
                r"Gradient norms: $\|\nabla A\|$ %(a)s, $\|\nabla B\|$ %(b)s",
                a=q(grad_a0, "plain"), b=q(grad_b0, "plain"),
            ),
        ),
        Check(
            name=t(
                r"With $A = B = 0$ nothing ever learns ($\Delta W$ stays 0, the loss does not move)"
            ),
            passed=delta_norm == 0.0 and all(m.stuck.values()),
            detail=t(
                r"After %(steps)s steps $\|\Delta W\|_F$ is %(norm)s",
                norm=q(delta_norm, "plain"), steps=p.steps,
            ),
        ),
    ]  # fmt: skip


def checks_of(p: LoRAParams, m: Measured) -> list[Check]:
    return _identity_checks(p, m) + _init_checks(p, m)


def _curve_series(p: LoRAParams, m: Measured) -> list[Series]:
    """One training-loss line per method (full fine-tuning, each rank)."""
    stride = max(1, p.steps // 200)  # at most ~200 points per curve for the page
    xs = [float(i + 1) for i in range(0, p.steps, stride)]
    return [
        Series(
            name=method_name(key),
            x=xs,
            y=curve[::stride],
            x_label=t("adaptation step"),
            y_label=t("training loss (task 2)"),
            chart="loss_curves",
            unit="loss",
        )
        for key, curve in m.curves.items()
    ]


def _rank_series(m: Measured) -> list[Series]:
    """Held-out loss per rank (bars), full fine-tuning's as a line across them."""
    categories: list[Text | str] = [method_name(f"lora_r{r}") for r in m.ranks]
    xs = [float(i) for i in range(len(m.ranks))]
    lora = [m.losses[f"lora_r{r}"] for r in m.ranks]
    return [
        Series(
            name=name, x=xs, y=y, kind=kind, x_label=t("LoRA rank"),
            y_label=t("held-out loss (task 2)"), chart="loss_by_rank", categories=categories,
            unit="loss",
        )
        for name, y, kind in (
            (t("LoRA"), lora, "bar"),
            (t("full fine-tuning"), [m.losses["full"]] * len(m.ranks), "line"),
        )
    ]  # fmt: skip


def series_of(p: LoRAParams, m: Measured) -> list[Series]:
    """Loss curves, full fine-tuning's singular values, held-out loss by rank."""
    positive = [sv for sv in m.sigma if sv > 0]
    return [
        *_curve_series(p, m),
        Series(
            name=t(r"singular values of full fine-tuning's $\Delta W$ (fc2)"),
            x=[float(i) for i in range(1, len(m.sigma) + 1)],
            y=m.sigma,
            kind="line",  # an index, not named categories: the axis thins its ticks
            x_label=t("index $i$ (largest first)"),
            y_label=t(r"singular value $\sigma_i$"),
            log_y=len(positive) == len(m.sigma),  # a log axis cannot draw an exact zero
            chart="delta_w_singular_values",
            unit="plain",
        ),
        *_rank_series(m),
    ]


def _init_words(p: LoRAParams, m: Measured) -> Text:
    diff0, grad_a0, grad_b0 = _step0(m)
    if p.init == "standard":
        return t(
            r"With $A$ random and $B = 0$ the adapted model starts at the base model (largest "
            r"output difference %(diff)s), $\|\nabla A\|$ = %(a)s and $\|\nabla B\| \ge$ "
            "%(b)s at step 0.",
            diff=q(diff0, "plain"),
            a=q(grad_a0, "plain"),
            b=q(grad_b0, "plain"),
        )
    if p.init == "both_random":
        return t(
            "With $A$ and $B$ both random the output moves before any training (largest "
            "output difference %(diff)s).",
            diff=q(diff0, "plain"),
        )
    return t(
        r"With $A = B = 0$ both gradients are %(a)s and %(b)s at step 0 and $\|\Delta W\|_F$ "
        "is still %(norm)s after %(steps)s steps: nothing learns.",
        a=q(grad_a0, "plain"), b=q(grad_b0, "plain"),
        norm=q(max(m.delta_norms.values()), "plain"), steps=p.steps,
    )  # fmt: skip


def conclusion_of(p: LoRAParams, m: Measured, figures: dict[str, float]) -> Text:
    memory_kind = (
        t("the CUDA allocator's peak above the memory live before each method")
        if m.on_cuda
        else t("bytes of parameters, gradients and Adam states, CPU")
    )
    r_max = m.ranks[-1]
    best = min(m.ranks, key=lambda r: m.losses[f"lora_r{r}"])
    k_top = max(k for k in m.ranks if k <= p.shift_rank)  # the rank nearest the true shift
    return t(
        "%(init)s Adapting the pretrained student (task-1 accuracy %(pre)s) to task 2 (the "
        "teachers agree on %(agree)s of inputs): before adapting, accuracy %(acc_base)s; full "
        "fine-tuning reaches %(acc_full)s (held-out loss %(loss_full)s) training %(n_full)s "
        "parameters; LoRA's best, $r$ = %(best)s, reaches %(acc_best)s (loss %(loss_best)s) "
        "with %(n_best)s; $r$ = 1 reaches %(acc_r1)s. Full fine-tuning's $\\Delta W$ of fc2 "
        "holds %(energy)s of its energy in its top %(k)s singular directions. Memory "
        "(%(memory_kind)s): full %(mem_full)s, LoRA $r$ = %(r_max)s %(mem_lora)s. Merging "
        "changes outputs by at most %(merge)s; forward time relative to the base model: "
        "unmerged %(unmerged)s, merged %(merged)s (median of %(repeats)s).",
        init=_init_words(p, m), pre=q(m.pretrain_acc, "ratio"), agree=q(m.agreement, "ratio"),
        acc_base=q(m.acc_base, "ratio"), acc_full=q(m.accs["full"], "ratio"),
        loss_full=q(m.losses["full"], "loss"), n_full=q(m.trainable["full"], "params"),
        best=best, acc_best=q(m.accs[f"lora_r{best}"], "ratio"),
        loss_best=q(m.losses[f"lora_r{best}"], "loss"),
        n_best=q(m.trainable[f"lora_r{best}"], "params"), acc_r1=q(m.accs["lora_r1"], "ratio"),
        energy=q(m.energy_top[k_top], "ratio"), k=k_top, memory_kind=memory_kind,
        mem_full=q(m.memory["full"], "bytes"), r_max=r_max,
        mem_lora=q(m.memory[f"lora_r{r_max}"], "bytes"), merge=q(m.merge_diff, "plain"),
        unmerged=q(figures["latency_ratio_unmerged_vs_base"], "x"),
        merged=q(figures["latency_ratio_merged_vs_base"], "x"), repeats=LATENCY_REPEATS,
    )  # fmt: skip


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
