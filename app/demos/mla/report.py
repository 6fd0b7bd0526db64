"""The MLA demo's report: the layer experiment's figures, checks against the identities,
charts and a conclusion quoting the numbers. No torch here."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demos.base import Check, DemoResult, Series
from app.demos.mla.formulas import kv_elements_per_token
from app.demos.mla.params import (
    BASELINE_BITS,
    CONTEXT_GRID,
    DEEPSEEK_67B_ELEMENTS,
    DEPLOYED_BITS,
    GB,
    PRESETS,
    SCHEME_TITLES,
    SCHEMES,
    TOLERANCE,
    MLAParams,
)


@dataclass
class LayerMeasured:
    """What the layer experiment measured (plain floats: the report needs no torch)."""

    output_scale: float = 0.0  # max |u| of the full forward
    decode_diff: float = 0.0  # token-by-token decode from the latent cache vs full
    absorbed_decode_diff: float = 0.0  # the same, with the absorbed attention
    absorbed_diff: float = 0.0  # absorbed full forward vs full
    mha_diff: float = 0.0  # equivalent MHA vs full
    cache_names: tuple[str, ...] = ()  # what the cache object holds
    cache_shapes: tuple[tuple[int, ...], ...] = ()
    cache_bytes_measured: float = 0.0  # per token, one layer
    element_bytes: int = 0
    key_rank: int = 0
    value_rank: int = 0
    key_sigma: list[float] = field(default_factory=list)  # singular values of W_K


def layer_figures(p: MLAParams, m: LayerMeasured) -> dict[str, float]:
    return {
        "layer_output_max_abs": m.output_scale,
        "decode_vs_full_max_abs_diff": m.decode_diff,
        "absorbed_decode_vs_full_max_abs_diff": m.absorbed_decode_diff,
        "absorbed_max_abs_diff": m.absorbed_diff,
        "mla_vs_mha_max_abs_diff": m.mha_diff,
        "key_projection_rank": float(m.key_rank),
        "value_projection_rank": float(m.value_rank),
        "latent_dim": float(p.layer_d_latent),
        "key_projection_full_rank": float(min(p.layer_d_model, p.layer_heads * p.layer_head_dim)),
        "cache_bytes_per_token_measured": m.cache_bytes_measured,
        "cache_bytes_per_token_formula": float(
            (p.layer_d_latent + p.layer_d_rope) * m.element_bytes
        ),
        "layer_mha_cache_bytes_per_token_formula": float(
            2 * p.layer_heads * p.layer_head_dim * m.element_bytes
        ),
    }


def _cache_size_checks(p: MLAParams, f: dict[str, float]) -> list[Check]:
    """The formulas: MLA's cache against MHA's, DeepSeek-V2's against GQA's and 67B's."""
    s = p.shape()
    checks = [
        Check(
            name="MLA caches fewer elements per token than MHA",
            passed=f["mla_reduction_pct_vs_mha"] > 0,
            detail=f"{f['kv_elements_per_token_mla']:.0f} vs {f['kv_elements_per_token_mha']:.0f}"
            f" ({f['mla_reduction_pct_vs_mha']:.2f}% less)",
        ),
    ]
    if p.preset == "deepseek-v2":
        checks.append(
            Check(
                name="DeepSeek-V2: (d_c + d_h^R)·l = 9/2·d_h·l, the cache of GQA with 2.25 groups "
                "(Table 1)",
                passed=s.d_latent + s.d_rope == 4.5 * s.head_dim
                and f["gqa_equivalent_groups"] == 2.25,
                detail=f"d_c + d_h^R = {s.d_latent + s.d_rope}, d_h = {s.head_dim}, "
                f"groups {f['gqa_equivalent_groups']:g}",
            )
        )
    six_bit = f["deepseek_v2_vs_67b_reduction_pct_6bit"]
    same = f["deepseek_v2_vs_67b_reduction_pct_same_precision"]
    v2 = kv_elements_per_token(PRESETS["deepseek-v2"], 1)["mla"]
    checks.append(
        Check(
            name="The paper's 93.3% (vs DeepSeek 67B) is MLA plus 6-bit elements, not MLA alone",
            passed=round(six_bit, 1) == 93.3 and round(same, 1) != 93.3,
            detail=f"DeepSeek-V2's {v2:,} elements at "
            f"{DEPLOYED_BITS} bits vs 67B's {DEEPSEEK_67B_ELEMENTS:,} at {BASELINE_BITS}: "
            f"{six_bit:.2f}% less; at equal precision {same:.2f}% less",
        )
    )
    return checks


def _layer_checks(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> list[Check]:
    """The layer built here: what it caches, and that every form computes the same output."""
    tol = TOLERANCE * max(1.0, m.output_scale)
    return [
        Check(
            name="The layer's cache holds only c_KV and k^R: measured bytes per token = "
            "(d_c + d_h^R) × bytes per element",
            passed=m.cache_names == ("c_kv", "k_rope")
            and m.cache_bytes_measured == f["cache_bytes_per_token_formula"],
            detail=f"{dict(zip(m.cache_names, m.cache_shapes, strict=True))}; "
            f"{m.cache_bytes_measured:g} B measured, {f['cache_bytes_per_token_formula']:g} B "
            f"formula (MHA: {f['layer_mha_cache_bytes_per_token_formula']:g} B)",
        ),
        Check(
            name="Decoding token by token from the latent cache gives the full forward's output",
            passed=max(m.decode_diff, m.absorbed_decode_diff) <= tol,
            detail=f"max |Δ| {m.decode_diff:.1e} (K, V rebuilt), {m.absorbed_decode_diff:.1e} "
            f"(absorbed); tolerance {tol:.0e}",
        ),
        Check(
            name="MHA with full W_K = W_UK W_DKV and W_V = W_UV W_DKV computes the same output",
            passed=m.mha_diff <= tol,
            detail=f"max |Δ| {m.mha_diff:.1e}, outputs up to {m.output_scale:.2f}",
        ),
        Check(
            name="Absorbed form (W_UK folded into the queries, W_UV applied after attention, "
            "as if merged into W_O) computes the same output",
            passed=m.absorbed_diff <= tol,
            detail=f"max |Δ| {m.absorbed_diff:.1e}",
        ),
        Check(
            name="rank(W_UK W_DKV) = d_c < min(d, n_h·d_h), like LoRA's rank(B A) ≤ r",
            passed=m.key_rank == m.value_rank == p.layer_d_latent
            and m.key_rank < f["key_projection_full_rank"],
            detail=f"key rank {m.key_rank}, value rank {m.value_rank}, d_c {p.layer_d_latent}, "
            f"full rank {f['key_projection_full_rank']:.0f}",
        ),
    ]


def checks_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> list[Check]:
    return _cache_size_checks(p, f) + _layer_checks(p, f, m)


def series_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> list[Series]:
    s = p.shape()
    grid = sorted({*CONTEXT_GRID, p.context_len})
    per_token = f"KV cache bytes per token ({s.layers} layers, {p.dtype})"
    series = [
        # One series per scheme, so the legend names the bars.
        Series(
            name=SCHEME_TITLES[k], x=[float(i)], y=[f[f"kv_bytes_per_token_{k}"]], kind="bar",
            x_label="attention scheme", y_label=per_token, log_y=True, chart="kv_bytes_per_token",
        )
        for i, k in enumerate(SCHEMES)
    ]  # fmt: skip
    series += [
        Series(
            name=SCHEME_TITLES[k], x=[float(n) for n in grid],
            y=[f[f"kv_bytes_per_token_{k}"] * n * p.batch / GB for n in grid],
            x_label="context length (tokens)", y_label=f"KV cache, GB (batch {p.batch})",
            log_y=True, chart="kv_cache_vs_context",
        )
        for k in SCHEMES
    ]  # fmt: skip
    series.append(
        Series(
            name="singular values of the implied key projection W_UK W_DKV",
            x=[float(i) for i in range(1, len(m.key_sigma) + 1)],
            y=m.key_sigma,
            kind="bar",
            x_label="i",
            y_label="σ_i",
            log_y=min(m.key_sigma) > 0,  # a log axis cannot draw an exact zero
            chart="key_projection_singular_values",
        )
    )
    return series


def conclusion_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> str:
    s = p.shape()
    name = "DeepSeek-V2" if p.preset == "deepseek-v2" else "The custom model"
    vs_mqa = f["mla_reduction_pct_vs_mqa"]
    mqa = f"{vs_mqa:.1f}% less than" if vs_mqa >= 0 else f"{-vs_mqa:.1f}% more than"
    worst = max(m.decode_diff, m.absorbed_decode_diff, m.mha_diff, m.absorbed_diff)
    conclusion = (
        f"{name} (l = {s.layers}, n_h = {s.n_heads}, d_h = {s.head_dim}, d_c = {s.d_latent}, "
        f"d_h^R = {s.d_rope}) caches {f['kv_elements_per_token_mla']:,.0f} elements per token "
        f"with MLA against {f['kv_elements_per_token_mha']:,.0f} with MHA: "
        f"{f['mla_reduction_pct_vs_mha']:.1f}% less ({f['mla_reduction_pct_vs_gqa']:.1f}% less "
        f"than GQA with {p.gqa_kv_heads} groups, {mqa} MQA), {f['kv_cache_gb_mla']:.2f} GB "
        f"instead of {f['kv_cache_gb_mha']:.1f} GB at {p.context_len:,} tokens × {p.batch} in "
        f"{p.dtype}. The small layer caches only c_KV and k^R "
        f"({m.cache_bytes_measured:g} B per token, as the formula says); decoding from that "
        f"cache, the equivalent MHA and the absorbed form all match the full forward to "
        f"{worst:.0e}. Its implied key projection W_UK W_DKV has rank {m.key_rank} = d_c out of "
        f"a possible {f['key_projection_full_rank']:.0f}: a low-rank factorisation, as LoRA's "
        f"ΔW = B A is."
    )
    return conclusion


def result_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> DemoResult:
    """``f``: the arithmetic figures; the layer's are added here."""
    f = f | layer_figures(p, m)
    return DemoResult(
        figures=f,
        series=series_of(p, f, m),
        checks=checks_of(p, f, m),
        conclusion=conclusion_of(p, f, m),
    )


CONFIG = ("layers", "d_model", "n_heads", "head_dim", "d_latent", "d_rope", "gqa_kv_heads")
FIGURES = (
    *(f"config_{k}" for k in CONFIG),
    *("config_bytes_per_element", "config_context_len", "config_batch"),
    "config_key_projection_full_rank",
    *(
        f"kv_{u}_{k}"
        for k in SCHEMES
        for u in ("elements_per_token", "bytes_per_token", "cache_gb")
    ),
    *(f"mla_reduction_pct_vs_{k}" for k in ("mha", "gqa", "mqa")),
    "gqa_equivalent_groups",
    "deepseek_67b_kv_elements_per_token",
    "deepseek_v2_vs_67b_reduction_pct_same_precision",
    "deepseek_v2_vs_67b_reduction_pct_6bit",
    "layer_output_max_abs",
    *("decode_vs_full_max_abs_diff", "absorbed_decode_vs_full_max_abs_diff"),
    *("absorbed_max_abs_diff", "mla_vs_mha_max_abs_diff"),
    *("key_projection_rank", "value_projection_rank", "latent_dim", "key_projection_full_rank"),
    *("cache_bytes_per_token_measured", "cache_bytes_per_token_formula"),
    "layer_mha_cache_bytes_per_token_formula",
)


def figure_names(params: MLAParams) -> tuple[str, ...]:
    """The same names whatever the params (the preset only changes the values)."""
    return FIGURES
