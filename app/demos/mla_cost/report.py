"""The mla_cost report: formula figures, the FLOP counter's check of them, the SVD
conversion's errors; checks, charts and a conclusion quoting the numbers. No torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.demos.base import Check, DemoResult, Series
from app.demos.mla_cost.formulas import costs, formula_figures
from app.demos.mla_cost.labels import arm_title, figure_labels
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
from app.demos.text import Cell, Table, Text, Unit, q, t

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


def _listed(items: list[Text]) -> Text:
    """``a, b, c`` as nested texts."""
    out = items[0]
    for item in items[1:]:
        out = t("%(a)s, %(b)s", a=out, b=item)
    return out


def checks_of(p: MLACostParams, f: dict[str, float], m: Measured) -> list[Check]:
    full = p.conv_full_rank()
    exact = max(f[f"svd_rel_error_{arm}_dc{full}"] for arm in ARMS)
    half = full // 2
    s = CHECK_SHAPE
    return [
        Check(
            name=t(
                "The FLOP formulas equal FlopCounterMode's count of a real decode step "
                "(MHA, MLA naive, MLA absorbed; with and without a query latent)"
            ),
            passed=f["flop_check_max_rel_diff"] == 0.0,
            detail=t(
                "largest relative difference %(diff)s at $T$ = %(contexts)s on $d$ = %(d)s, "
                "$n_h$ = %(nh)s, $d_h$ = %(dh)s, $d_c$ = %(dc)s, $d_c'$ = %(dq)s",
                diff=q(f["flop_check_max_rel_diff"], "plain"),
                contexts=", ".join(map(str, CHECK_CONTEXTS)),
                d=s.d_model,
                nh=s.n_heads,
                dh=s.head_dim,
                dc=s.d_latent,
                dq=s.q_latent,
            ),  # fmt: skip
        ),
        Check(
            name=t("The counted naive and absorbed MLA layers compute the same output"),
            passed=f["flop_check_naive_vs_absorbed_max_abs_diff"]
            <= TOLERANCE * max(1.0, m.counted["output_max_abs"]),
            detail=t(
                r"max $|\Delta|$ %(diff)s",
                diff=q(f["flop_check_naive_vs_absorbed_max_abs_diff"], "plain"),
            ),
        ),
        Check(
            name=t("SVD at full rank reproduces the MHA layer exactly"),
            passed=exact <= TOLERANCE,
            detail=t(
                "relative output error %(err)s at $d_c$ = %(full)s",
                err=q(exact, "plain"),
                full=full,
            ),  # fmt: skip
        ),
        Check(
            name=t("Truncating the latent costs output error (half rank, trained layer)")
            if p.train_steps
            else t("Truncating the latent costs output error (half rank, untrained layer)"),
            passed=half < 1 or f[f"svd_rel_error_trained_dc{max(p.latents()[0], half)}"] > 0,
            detail=_listed(
                [
                    t(
                        r"$d_c$ = %(k)s: %(err)s",
                        k=k,
                        err=q(f[f"svd_rel_error_trained_dc{k}"], "ratio"),
                    )
                    for k in p.latents()
                ]
            ),
        ),
    ]


def series_of(p: MLACostParams, f: dict[str, float], m: Measured) -> list[Series]:
    grid = [float(n) for n in CONTEXT_GRID]
    schemes: list[Text | str] = [scheme.upper() for scheme in SCHEMES]
    series = [
        Series(
            name=scheme.upper(), x=[float(i)], y=[f[f"kv_bytes_per_token_{scheme}"]],
            kind="bar", x_label=t("attention scheme"),
            y_label=t("KV bytes read per cached token (%(dtype)s)", dtype=p.dtype),
            log_y=True, chart="kv_bytes_per_token", categories=schemes, unit="bytes",
        )
        for i, scheme in enumerate(SCHEMES)
    ]  # fmt: skip
    series += [
        Series(
            name=t(FLOP_TITLES[k]), x=grid,
            y=[f[f"flops_per_token_{k}_ctx{n}"] for n in CONTEXT_GRID],
            x_label=t("context length (tokens)"),
            y_label=t("FLOPs per decoded token, one layer"),
            log_y=True, chart="flops_vs_context", unit="flops",
        )
        for k in FLOP_SCHEMES
    ]  # fmt: skip
    latents = [float(k) for k in p.latents()]
    for arm in ARMS:
        for after in (False, True):
            key = "svd_rel_error_after_ft" if after else "svd_rel_error"
            series.append(
                Series(
                    name=t(arm_title(p, arm, after=after)),
                    x=latents,
                    y=[f[f"{key}_{arm}_dc{k}"] for k in p.latents()],
                    x_label=t("latent $d_c$"),
                    y_label=t("relative output error"),
                    chart="svd_error",
                    unit="ratio",
                )  # fmt: skip
            )
    return series


def model_name(p: MLACostParams) -> Text | str:
    return "DeepSeek-V2" if p.preset == "deepseek-v2" else t("The custom shape")


def _where(f: dict[str, float]) -> Text:
    """Where absorbed MLA's FLOP line crosses MHA's, in words."""
    cross = f["flops_crossover_context"]
    if cross > 0 and f["flops_attn_ratio_mla_absorbed_over_mha"] > 1:
        return t(
            "absorbed MLA does fewer FLOPs than MHA only below %(cross)s tokens of context",
            cross=round(cross),
        )
    if cross > 0:
        return t("the FLOP lines cross at %(cross)s tokens", cross=round(cross))
    return t("the FLOP lines do not cross at a positive context")


def _converted(p: MLACostParams) -> Text:
    """The layer the conclusion's conversion figures are of, as its sentence names it."""
    if p.train_steps:
        return t("a trained MHA layer")
    return t("the untrained MHA layer (0 training steps)")


def conclusion_of(p: MLACostParams, f: dict[str, float], m: Measured) -> Text:
    s = p.shape()
    full, half = p.conv_full_rank(), max(1, p.conv_full_rank() // 2)
    return t(
        r"%(model)s ($d$ = %(d)s, $n_h$ = %(nh)s, $d_h$ = %(dh)s, $d_c$ = %(dc)s, $d_c'$ = "
        r"%(dq)s, $d_h^R$ = %(dr)s), per decoded token and layer: MLA reads %(mla_b)s per "
        "cached token against MHA's %(mha_b)s (%(ratio)s less), but absorbed attention costs "
        "%(abs_f)s FLOPs per cached token against MHA's %(mha_f)s (%(f_ratio)s), with "
        "projections of %(abs_p)s against %(mha_p)s: %(where)s; at 32,768 tokens MLA does "
        "%(r32)s MHA's FLOPs. Rebuilding $K$ and $V$ from the latent would cost %(naive)s per "
        "cached token. The formulas match FlopCounterMode's count of a real layer (largest "
        "relative difference %(diff)s). Converting %(layer)s by SVD: relative output "
        "error %(err)s at $d_c$ = %(half)s (%(err_ft)s after %(ft)s fine-tuning steps; random "
        "layer %(err_rand)s), %(err_full)s at full rank %(full)s; the copy task's loss goes "
        "from %(loss)s to %(loss_half)s at $d_c$ = %(half)s (%(loss_ft)s after fine-tuning; "
        "chance %(chance)s).",
        model=model_name(p), d=s.d_model, nh=s.n_heads, dh=s.head_dim, dc=s.d_latent,
        dq=s.q_latent, dr=s.d_rope, mla_b=q(f["kv_bytes_per_token_mla"], "bytes"),
        mha_b=q(f["kv_bytes_per_token_mha"], "bytes"),
        ratio=q(f["kv_bytes_ratio_mha_over_mla"], "x"),
        abs_f=q(f["flops_attn_per_ctx_token_mla_absorbed"], "flops"),
        mha_f=q(f["flops_attn_per_ctx_token_mha"], "flops"),
        f_ratio=q(f["flops_attn_ratio_mla_absorbed_over_mha"], "x"),
        abs_p=q(f["flops_proj_per_token_mla_absorbed"], "flops"),
        mha_p=q(f["flops_proj_per_token_mha"], "flops"), where=_where(f),
        r32=q(f["flops_ratio_mla_absorbed_over_mha_ctx32768"], "x"),
        naive=q(f["flops_attn_per_ctx_token_mla_naive"], "flops"),
        diff=q(f["flop_check_max_rel_diff"], "plain"),
        err=q(f[f"svd_rel_error_trained_dc{half}"], "loss"), half=half,
        err_ft=q(f[f"svd_rel_error_after_ft_trained_dc{half}"], "loss"), ft=p.ft_steps,
        err_rand=q(f[f"svd_rel_error_random_dc{half}"], "loss"),
        err_full=q(f[f"svd_rel_error_trained_dc{full}"], "plain"), full=full,
        loss=q(f["task_loss_mha_trained"], "loss"),
        loss_half=q(f[f"task_loss_mla_trained_dc{half}"], "loss"),
        loss_ft=q(f[f"task_loss_mla_after_ft_trained_dc{half}"], "loss"),
        chance=q(f["task_loss_chance"], "loss"), layer=_converted(p),
    )  # fmt: skip


def headline_of(p: MLACostParams, f: dict[str, float]) -> Text:
    half = max(1, p.conv_full_rank() // 2)
    return t(
        "%(model)s: MLA reads %(ratio)s fewer KV bytes per cached token than MHA (%(mla_b)s "
        "against %(mha_b)s), but absorbed attention does %(f_ratio)s MHA's FLOPs per cached "
        "token: %(where)s (%(r32)s MHA's FLOPs at 32,768 tokens). Converting %(layer)s to MLA "
        "by SVD at half the latent costs %(err)s relative output error "
        "(%(err_ft)s after %(ft)s fine-tuning steps).",
        model=model_name(p), ratio=q(f["kv_bytes_ratio_mha_over_mla"], "x"),
        mla_b=q(f["kv_bytes_per_token_mla"], "bytes"),
        mha_b=q(f["kv_bytes_per_token_mha"], "bytes"),
        f_ratio=q(f["flops_attn_ratio_mla_absorbed_over_mha"], "x"), where=_where(f),
        r32=q(f["flops_ratio_mla_absorbed_over_mha_ctx32768"], "x"),
        err=q(f[f"svd_rel_error_trained_dc{half}"], "ratio"),
        err_ft=q(f[f"svd_rel_error_after_ft_trained_dc{half}"], "ratio"), ft=p.ft_steps,
        layer=_converted(p),
    )  # fmt: skip


def summary_of(p: MLACostParams, f: dict[str, float]) -> Table:
    rows: list[list[Cell]] = [
        [scheme.upper(), q(f[f"kv_bytes_per_token_{scheme}"], "bytes"), t("—"), t("—")]
        for scheme in ("mha", "gqa", "mqa")
    ]
    rows[0][2:] = [
        q(f["flops_attn_per_ctx_token_mha"], "flops"),
        q(f["flops_per_token_mha_ctx32768"], "flops"),
    ]
    rows += [
        [
            t(FLOP_TITLES[k]),
            q(f["kv_bytes_per_token_mla"], "bytes"),
            q(f[f"flops_attn_per_ctx_token_{k}"], "flops"),
            q(f[f"flops_per_token_{k}_ctx32768"], "flops"),
        ]  # fmt: skip
        for k in ("mla_naive", "mla_absorbed")
    ]
    columns: list[Text | str] = [
        t("Scheme"), t("KV bytes read per cached token (%(dtype)s)", dtype=p.dtype),
        t("Attention FLOPs per cached token"), t("FLOPs per decoded token at 32,768 tokens"),
    ]  # fmt: skip
    return Table(columns=columns, rows=rows)


_UNIT_PREFIXES: tuple[tuple[str, Unit], ...] = (
    ("shape_", "count"),
    ("bytes_per_element", "bytes"),
    ("kv_bytes_per_token_", "bytes"),
    ("kv_bytes_ratio", "x"),
    ("flops_ratio", "x"),
    ("flops_attn_ratio", "x"),
    ("flops_crossover", "count"),
    ("flops_", "flops"),
    ("attn_flops_per_kv_byte", "plain"),
    ("flop_check_counted", "flops"),
    ("flop_check_formula", "flops"),
    ("flop_check_", "plain"),
    ("conv_full_rank", "count"),
    ("conv_cache_fraction", "ratio"),
    ("svd_rel_error", "ratio"),
    ("kv_energy_kept", "ratio"),
    ("task_loss", "loss"),
    ("train_final_loss", "loss"),
)


def figure_units(p: MLACostParams) -> dict[str, Unit]:
    return {
        name: next(unit for prefix, unit in _UNIT_PREFIXES if name.startswith(prefix))
        for name in figure_names(p)
    }


def result_of(p: MLACostParams, m: Measured) -> DemoResult:
    f = figures_of(p, m)
    return DemoResult(
        figures=f, series=series_of(p, f, m), checks=checks_of(p, f, m),
        conclusion=conclusion_of(p, f, m), headline=headline_of(p, f),
        summary=summary_of(p, f), figure_units=figure_units(p), figure_labels=figure_labels(p),
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
