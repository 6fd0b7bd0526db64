"""The mla_cost report: formula figures, the FLOP counter's check of them, the SVD
conversion's errors; checks, charts and a conclusion quoting the numbers. No torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.demos.base import Check, DemoResult, Series
from app.demos.mla_cost.formulas import costs, formula_figures
from app.demos.mla_cost.params import (
    CHECK_CONTEXTS,
    CHECK_SHAPE,
    CONTEXT_GRID,
    CONV_VOCAB,
    FLOP_SCHEMES,
    FLOP_TITLES,
    SCHEMES,
    TOLERANCE,
    MLACostParams,
)

ARMS = ("random", "trained")


@dataclass
class ArmFigures:
    """One converted layer, as plain floats (``convert.ArmMeasured`` without torch)."""

    rel_error: dict[int, float]
    rel_error_after_ft: dict[int, float]
    energy_kept: dict[int, float]
    task_loss: dict[int, float]
    task_loss_after_ft: dict[int, float]
    task_loss_mha: float
    sigma: list[float]


@dataclass
class Measured:
    counted: dict[str, float]  # FlopCounterMode on CHECK_SHAPE: "<scheme>_ctx<T>", diffs
    max_rel_diff_formula: float  # over CHECK_SHAPE and its variant without a query latent
    arms: dict[str, ArmFigures]
    train_losses: list[float]


def check_figures(m: Measured) -> dict[str, float]:
    c = costs(CHECK_SHAPE)
    f = {"flop_check_max_rel_diff": m.max_rel_diff_formula}
    f["flop_check_naive_vs_absorbed_max_abs_diff"] = m.counted["naive_vs_absorbed_max_abs_diff"]
    for k in FLOP_SCHEMES:
        for T in CHECK_CONTEXTS:
            f[f"flop_check_counted_{k}_ctx{T}"] = m.counted[f"{k}_ctx{T}"]
            f[f"flop_check_formula_{k}_ctx{T}"] = c[k].at(T)
    return f


def conversion_figures(p: MLACostParams, m: Measured) -> dict[str, float]:
    f = {
        "conv_full_rank": float(p.conv_full_rank()),
        "task_loss_chance": math.log(CONV_VOCAB),
        # Without training steps, the "trained" layer is the random one.
        "train_final_loss": m.train_losses[-1]
        if m.train_losses
        else m.arms["random"].task_loss_mha,
    }
    for k in p.latents():
        f[f"conv_cache_fraction_dc{k}"] = k / (2 * p.conv_heads * p.conv_head_dim)
    for arm in ARMS:
        a = m.arms[arm]
        f[f"task_loss_mha_{arm}"] = a.task_loss_mha
        for k in p.latents():
            f[f"svd_rel_error_{arm}_dc{k}"] = a.rel_error[k]
            f[f"svd_rel_error_after_ft_{arm}_dc{k}"] = a.rel_error_after_ft[k]
            f[f"kv_energy_kept_{arm}_dc{k}"] = a.energy_kept[k]
            f[f"task_loss_mla_{arm}_dc{k}"] = a.task_loss[k]
            f[f"task_loss_mla_after_ft_{arm}_dc{k}"] = a.task_loss_after_ft[k]
    return f


def figures_of(p: MLACostParams, m: Measured) -> dict[str, float]:
    f = formula_figures(p.shape(), p.gqa_kv_heads, p.dtype, list(CONTEXT_GRID))
    return f | check_figures(m) | conversion_figures(p, m)


def checks_of(p: MLACostParams, f: dict[str, float], m: Measured) -> list[Check]:
    full = p.conv_full_rank()
    exact = max(f[f"svd_rel_error_{arm}_dc{full}"] for arm in ARMS)
    half = full // 2
    return [
        Check(
            name="The FLOP formulas equal FlopCounterMode's count of a real decode step "
            "(MHA, MLA naive, MLA absorbed; with and without a query latent)",
            passed=f["flop_check_max_rel_diff"] == 0.0,
            detail=f"largest relative difference {f['flop_check_max_rel_diff']:.1e} at "
            f"T = {', '.join(map(str, CHECK_CONTEXTS))} on d = {CHECK_SHAPE.d_model}, "
            f"n_h = {CHECK_SHAPE.n_heads}, d_h = {CHECK_SHAPE.head_dim}, "
            f"d_c = {CHECK_SHAPE.d_latent}, d_c' = {CHECK_SHAPE.q_latent}",
        ),
        Check(
            name="The counted naive and absorbed MLA layers compute the same output",
            passed=f["flop_check_naive_vs_absorbed_max_abs_diff"]
            <= TOLERANCE * max(1.0, m.counted["output_max_abs"]),
            detail=f"max |Δ| {f['flop_check_naive_vs_absorbed_max_abs_diff']:.1e}",
        ),
        Check(
            name="SVD at full rank reproduces the MHA layer exactly",
            passed=exact <= TOLERANCE,
            detail=f"relative output error {exact:.1e} at d_c = {full}",
        ),
        Check(
            name="Truncating the latent costs output error (half rank, trained layer)",
            passed=half < 1 or f[f"svd_rel_error_trained_dc{max(p.latents()[0], half)}"] > 0,
            detail=", ".join(
                f"d_c {k}: {f[f'svd_rel_error_trained_dc{k}']:.3f}" for k in p.latents()
            ),
        ),
    ]


def series_of(p: MLACostParams, f: dict[str, float], m: Measured) -> list[Series]:
    grid = [float(n) for n in CONTEXT_GRID]
    series = [
        Series(
            name=scheme.upper(), x=[float(i)], y=[f[f"kv_bytes_per_token_{scheme}"]],
            kind="bar", x_label="scheme", y_label=f"KV bytes read per cached token ({p.dtype})",
            log_y=True, chart="kv_bytes_per_token",
        )
        for i, scheme in enumerate(SCHEMES)
    ]  # fmt: skip
    series += [
        Series(
            name=FLOP_TITLES[k], x=grid,
            y=[f[f"flops_per_token_{k}_ctx{n}"] for n in CONTEXT_GRID],
            x_label="context (tokens)", y_label="FLOPs per decoded token, one layer",
            log_y=True, chart="flops_vs_context",
        )
        for k in FLOP_SCHEMES
    ]  # fmt: skip
    latents = [float(k) for k in p.latents()]
    for arm in ARMS:
        for after in (False, True):
            key = "svd_rel_error_after_ft" if after else "svd_rel_error"
            series.append(
                Series(
                    name=f"{arm} layer" + (", after fine-tune" if after else ""),
                    x=latents,
                    y=[f[f"{key}_{arm}_dc{k}"] for k in p.latents()],
                    x_label="latent d_c",
                    y_label="relative output error",
                    chart="svd_error",
                )  # fmt: skip
            )
    return series


def _count(x: float) -> str:
    return f"{x / 1e6:.1f}M" if x >= 1e6 else f"{x:,.0f}"


def conclusion_of(p: MLACostParams, f: dict[str, float], m: Measured) -> str:
    s = p.shape()
    name = "DeepSeek-V2" if p.preset == "deepseek-v2" else "The custom shape"
    cross = f["flops_crossover_context"]
    where = (
        f"absorbed MLA does fewer FLOPs than MHA only below {cross:,.0f} tokens of context"
        if cross > 0 and f["flops_attn_ratio_mla_absorbed_over_mha"] > 1
        else f"the FLOP lines cross at {cross:,.0f} tokens"
        if cross > 0
        else "the FLOP lines do not cross at a positive context"
    )
    full, half = p.conv_full_rank(), max(1, p.conv_full_rank() // 2)
    return (
        f"{name} (d = {s.d_model}, n_h = {s.n_heads}, d_h = {s.head_dim}, d_c = {s.d_latent}, "
        f"d_c' = {s.q_latent}, d_h^R = {s.d_rope}), per decoded token and layer: MLA reads "
        f"{f['kv_bytes_per_token_mla']:,.0f} B per cached token against MHA's "
        f"{f['kv_bytes_per_token_mha']:,.0f} B ({f['kv_bytes_ratio_mha_over_mla']:.1f}× less), "
        f"but absorbed attention costs {_count(f['flops_attn_per_ctx_token_mla_absorbed'])} "
        f"FLOPs per cached token against MHA's {_count(f['flops_attn_per_ctx_token_mha'])} "
        f"({f['flops_attn_ratio_mla_absorbed_over_mha']:.2f}×), with projections of "
        f"{_count(f['flops_proj_per_token_mla_absorbed'])} against "
        f"{_count(f['flops_proj_per_token_mha'])}: {where}; at 32K tokens MLA does "
        f"{f['flops_ratio_mla_absorbed_over_mha_ctx32768']:.2f}× MHA's FLOPs. Rebuilding K "
        f"and V from the latent would cost {_count(f['flops_attn_per_ctx_token_mla_naive'])} "
        f"per cached token. The formulas match FlopCounterMode's count of a real layer "
        f"(largest relative difference {f['flop_check_max_rel_diff']:.1e}). Converting a "
        f"trained MHA layer by SVD: relative output error "
        f"{f[f'svd_rel_error_trained_dc{half}']:.3f} at d_c = {half} "
        f"({f[f'svd_rel_error_after_ft_trained_dc{half}']:.3f} after {p.ft_steps} fine-tuning "
        f"steps; random layer {f[f'svd_rel_error_random_dc{half}']:.3f}), "
        f"{f[f'svd_rel_error_trained_dc{full}']:.0e} at full rank {full}; the copy task's loss "
        f"goes from {f['task_loss_mha_trained']:.3g} to {f[f'task_loss_mla_trained_dc{half}']:.3g}"
        f" at d_c = {half} ({f[f'task_loss_mla_after_ft_trained_dc{half}']:.3g} after "
        f"fine-tuning; chance {f['task_loss_chance']:.3g})."
    )


def result_of(p: MLACostParams, m: Measured) -> DemoResult:
    f = figures_of(p, m)
    return DemoResult(
        figures=f, series=series_of(p, f, m), checks=checks_of(p, f, m),
        conclusion=conclusion_of(p, f, m),
    )  # fmt: skip


def figure_names(p: MLACostParams) -> list[str]:
    """Fixed names, plus one set per latent d_c tried (``p.latents()``)."""
    names = [
        *("shape_d_model", "shape_n_heads", "shape_head_dim", "shape_d_latent"),
        *("shape_q_latent", "shape_d_rope", "shape_gqa_kv_heads", "bytes_per_element"),
        *(f"kv_bytes_per_token_{k}" for k in SCHEMES),
        "kv_bytes_ratio_mha_over_mla",
    ]
    for scheme in FLOP_SCHEMES:
        names += [f"flops_proj_per_token_{scheme}", f"flops_attn_per_ctx_token_{scheme}"]
        names += [f"flops_per_token_{scheme}_ctx{n}" for n in CONTEXT_GRID]
    names += [f"flops_ratio_mla_absorbed_over_mha_ctx{n}" for n in CONTEXT_GRID]
    names += [
        "flops_attn_ratio_mla_absorbed_over_mha", "flops_crossover_context",
        "flops_crossover_context_naive_vs_absorbed", "attn_flops_per_kv_byte_mha",
        "attn_flops_per_kv_byte_mla_absorbed", "flop_check_max_rel_diff",
        "flop_check_naive_vs_absorbed_max_abs_diff",
    ]  # fmt: skip
    for scheme in FLOP_SCHEMES:
        for T in CHECK_CONTEXTS:
            names += [f"flop_check_counted_{scheme}_ctx{T}", f"flop_check_formula_{scheme}_ctx{T}"]
    names += ["conv_full_rank", "task_loss_chance", "train_final_loss"]
    names += [f"conv_cache_fraction_dc{k}" for k in p.latents()]
    for arm in ARMS:
        names.append(f"task_loss_mha_{arm}")
        for k in p.latents():
            names += [
                f"svd_rel_error_{arm}_dc{k}", f"svd_rel_error_after_ft_{arm}_dc{k}",
                f"kv_energy_kept_{arm}_dc{k}", f"task_loss_mla_{arm}_dc{k}",
                f"task_loss_mla_after_ft_{arm}_dc{k}",
            ]  # fmt: skip
    return names
