"""MLA's KV cache: a low-rank latent instead of keys and values.

The story, in two parts. First the arithmetic of DeepSeek-V2's Table 1 (arXiv 2405.04434,
§2.1.4): per token and over all l layers, MHA caches 2·n_h·d_h·l elements, GQA 2·n_g·d_h·l,
MQA 2·d_h·l and MLA (d_c + d_h^R)·l, where d_c is the latent (kv_lora_rank) and d_h^R the
decoupled RoPE key (qk_rope_head_dim); in bytes and in GB for a context and a batch, and
MLA's reduction against each. Then a small MLA layer (``app.demos.mla_layers``, imported
inside ``run``) that caches only the latent and the RoPE key: its cache is measured, decoding
from it is compared with the full forward, an ordinary MHA built from W_K = W_UK W_DKV and
W_V = W_UV W_DKV is shown to compute the same function, so is the "absorbed" form that
attends to the latent directly, and the rank of W_K is measured: at most d_c, as LoRA's
ΔW = B A has rank at most r.

No torch at module level: the web process imports this module for the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import Check, Demo, DemoParams, DemoResult, RunContext, Series

if TYPE_CHECKING:
    from app.demos.mla_layers import LayerMeasured

SCHEMES = ("mha", "gqa", "mqa", "mla")
SCHEME_TITLES = {"mha": "MHA", "gqa": "GQA", "mqa": "MQA", "mla": "MLA"}
BYTES_PER_ELEMENT = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1}
GB = 1e9  # decimal gigabytes
LAYER_BATCH = 2  # sequences in the layer experiment
TOLERANCE = 1e-9  # float64 identities, relative to the output's size
CONTEXT_GRID = tuple(2**k for k in range(10, 18))  # 1K .. 128K tokens (DeepSeek-V2's max)


@dataclass(frozen=True)
class AttentionShape:
    """What the KV-cache formulas need (d_model only bounds the rank of W_K)."""

    layers: int  # l
    d_model: int  # d
    n_heads: int  # n_h
    head_dim: int  # d_h
    d_latent: int  # d_c, kv_lora_rank
    d_rope: int  # d_h^R, qk_rope_head_dim


# DeepSeek-V2, paper §3.1.2: 60 layers, hidden 5120, n_h = 128, d_h = 128, d_c = 512,
# d_h^R = 64. The same numbers are in deepseek-ai/DeepSeek-V2's config.json
# (num_hidden_layers, hidden_size, num_attention_heads, qk_nope_head_dim = v_head_dim,
# kv_lora_rank, qk_rope_head_dim).
PRESETS = {"deepseek-v2": AttentionShape(60, 5120, 128, 128, 512, 64)}
Preset = Literal["deepseek-v2", "custom"]

# The paper's "reduces the KV cache by 93.3%" is against DeepSeek 67B, a GQA model (config.json
# of deepseek-ai/deepseek-llm-67b-base: 95 layers, 64 heads, 8 key/value heads, d_h 128), and
# the deployed DeepSeek-V2 stores each cache element in 6 bits on average (§3.2.3).
DEEPSEEK_67B_ELEMENTS = 2 * 8 * 128 * 95  # 2·n_g·d_h·l
DEPLOYED_BITS, BASELINE_BITS = 6, 16  # the 67B baseline's cache precision is our assumption


def kv_elements_per_token(shape: AttentionShape, kv_heads: int) -> dict[str, int]:
    """Table 1's KV cache per token, in elements, over all layers."""
    layers, d_h = shape.layers, shape.head_dim
    return {
        "mha": 2 * shape.n_heads * d_h * layers,
        "gqa": 2 * kv_heads * d_h * layers,
        "mqa": 2 * d_h * layers,
        "mla": (shape.d_latent + shape.d_rope) * layers,
    }


def reduction_pct(mla: float, other: float) -> float:
    """How much less MLA caches than ``other``, in percent (negative: it caches more)."""
    return 100.0 * (1.0 - mla / other)


def deepseek_v2_vs_67b() -> tuple[float, float]:
    """(reduction at equal precision, reduction with V2's 6-bit elements vs 16-bit ones)."""
    v2 = kv_elements_per_token(PRESETS["deepseek-v2"], 1)["mla"]
    same = reduction_pct(v2, DEEPSEEK_67B_ELEMENTS)
    return same, reduction_pct(v2 * DEPLOYED_BITS, DEEPSEEK_67B_ELEMENTS * BASELINE_BITS)


class MLAParams(DemoParams):
    preset: Preset = Field(
        default="deepseek-v2",
        description="Model for the cache arithmetic: DeepSeek-V2's published shape (the "
        "custom_* fields are then ignored) or custom",
    )
    # Defaults are DeepSeek-V2's, so switching to custom starts from the preset's numbers.
    custom_layers: int = Field(default=60, ge=1, le=512, description="Custom: layers l")
    custom_d_model: int = Field(default=5120, ge=1, le=65536, description="Custom: hidden d")
    custom_heads: int = Field(default=128, ge=1, le=1024, description="Custom: heads n_h")
    custom_head_dim: int = Field(default=128, ge=1, le=1024, description="Custom: head dim d_h")
    custom_d_latent: int = Field(
        default=512, ge=1, le=65536, description="Custom: MLA latent d_c (kv_lora_rank)"
    )
    custom_d_rope: int = Field(
        default=64, ge=0, le=1024, description="Custom: decoupled RoPE key d_h^R (0: none)"
    )
    gqa_kv_heads: int = Field(
        default=8,
        ge=1,
        le=1024,
        description="GQA groups n_g compared against (must divide the heads; MQA is 1)",
    )
    context_len: int = Field(
        default=32768, ge=1, le=1_048_576, description="Context length for the cache size"
    )
    batch: int = Field(default=1, ge=1, le=4096, description="Sequences cached at once")
    dtype: Literal["bf16", "fp16", "fp8", "fp32"] = Field(
        default="bf16", description="Cache element type (fp32 4 bytes, bf16/fp16 2, fp8 1)"
    )
    layer_d_model: int = Field(default=64, ge=4, le=128, description="Layer: hidden d")
    layer_heads: int = Field(default=4, ge=1, le=8, description="Layer: heads n_h")
    layer_head_dim: int = Field(default=16, ge=2, le=32, description="Layer: head dim d_h")
    layer_d_latent: int = Field(
        default=16,
        ge=1,
        le=127,
        description="Layer: latent d_c, below min(d, n_h·d_h) so that it compresses",
    )
    layer_d_rope: int = Field(
        default=8, ge=2, le=32, description="Layer: decoupled RoPE key d_h^R (even)"
    )
    # Decoding that rebuilds K and V costs ~seq²·d_c·n_h·d_h: at the upper bounds (128
    # tokens, d_c 127, n_h·d_h 256) a run took 3.2 s on two heavily loaded CPU cores.
    layer_seq_len: int = Field(
        default=32, ge=2, le=128, description="Layer: tokens decoded one by one"
    )

    # Field validators (not a model validator) so that the 422 names the field; the fields
    # they read are declared above them, so they are in info.data when valid.
    @field_validator("gqa_kv_heads")
    @classmethod
    def groups_divide_heads(cls, kv_heads: int, info: ValidationInfo) -> int:
        preset = PRESETS.get(info.data.get("preset", ""))
        heads = preset.n_heads if preset else info.data.get("custom_heads")
        if heads is not None and heads % kv_heads:
            raise ValueError(f"must divide the number of heads, {heads}")
        return kv_heads

    @field_validator("layer_d_latent")
    @classmethod
    def latent_compresses(cls, d_c: int, info: ValidationInfo) -> int:
        d, h, dh = (info.data.get(k) for k in ("layer_d_model", "layer_heads", "layer_head_dim"))
        if d is not None and h is not None and dh is not None and d_c >= min(d, h * dh):
            raise ValueError(f"must be below min(layer_d_model, heads·head_dim) = {min(d, h * dh)}")
        return d_c

    @field_validator("layer_d_rope")
    @classmethod
    def rope_is_even(cls, d_rope: int) -> int:
        if d_rope % 2:
            raise ValueError("must be even: RoPE rotates pairs of dimensions")
        return d_rope

    def shape(self) -> AttentionShape:
        """The shape the arithmetic uses: the preset's, or the custom fields."""
        if self.preset != "custom":
            return PRESETS[self.preset]
        return AttentionShape(
            self.custom_layers, self.custom_d_model, self.custom_heads,
            self.custom_head_dim, self.custom_d_latent, self.custom_d_rope,
        )  # fmt: skip


def arithmetic_figures(p: MLAParams) -> dict[str, float]:
    s = p.shape()
    per_element = BYTES_PER_ELEMENT[p.dtype]
    elements = kv_elements_per_token(s, p.gqa_kv_heads)
    same, six_bit = deepseek_v2_vs_67b()
    f: dict[str, float] = {
        "config_layers": s.layers, "config_d_model": s.d_model, "config_n_heads": s.n_heads,
        "config_head_dim": s.head_dim, "config_d_latent": s.d_latent, "config_d_rope": s.d_rope,
        "config_gqa_kv_heads": p.gqa_kv_heads, "config_bytes_per_element": per_element,
        "config_context_len": p.context_len, "config_batch": p.batch,
        "config_key_projection_full_rank": min(s.d_model, s.n_heads * s.head_dim),
    }  # fmt: skip
    for k in SCHEMES:
        f[f"kv_elements_per_token_{k}"] = float(elements[k])
        f[f"kv_bytes_per_token_{k}"] = float(elements[k] * per_element)
        f[f"kv_cache_gb_{k}"] = elements[k] * per_element * p.context_len * p.batch / GB
    for k in ("mha", "gqa", "mqa"):
        f[f"mla_reduction_pct_vs_{k}"] = reduction_pct(elements["mla"], elements[k])
    # Table 1's "equal to GQA with only 2.25 groups": 2·n_g·d_h = d_c + d_h^R.
    f["gqa_equivalent_groups"] = (s.d_latent + s.d_rope) / (2 * s.head_dim)
    f["deepseek_67b_kv_elements_per_token"] = float(DEEPSEEK_67B_ELEMENTS)
    f["deepseek_v2_vs_67b_reduction_pct_same_precision"] = same
    f["deepseek_v2_vs_67b_reduction_pct_6bit"] = six_bit
    return {k: float(v) for k, v in f.items()}


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


def checks_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> list[Check]:
    tol = TOLERANCE * max(1.0, m.output_scale)
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
    checks += [
        Check(
            name="The paper's 93.3% (vs DeepSeek 67B) is MLA plus 6-bit elements, not MLA alone",
            passed=round(six_bit, 1) == 93.3 and round(same, 1) != 93.3,
            detail=f"DeepSeek-V2's {v2:,} elements at "
            f"{DEPLOYED_BITS} bits vs 67B's {DEEPSEEK_67B_ELEMENTS:,} at {BASELINE_BITS}: "
            f"{six_bit:.2f}% less; at equal precision {same:.2f}% less",
        ),
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
    return checks


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


def run(params: MLAParams, ctx: RunContext) -> DemoResult:
    from app.demos.mla_layers import measure_layer

    p = params
    total = 2 * p.layer_seq_len + 3  # full forward, two decodes, identities, ranks
    done = 0
    f = arithmetic_figures(p)

    def on_step() -> None:
        nonlocal done
        done += 1
        ctx.progress(done, total, mla_reduction_pct_vs_mha=f["mla_reduction_pct_vs_mha"])

    m = measure_layer(
        d_model=p.layer_d_model, n_heads=p.layer_heads, head_dim=p.layer_head_dim,
        d_latent=p.layer_d_latent, d_rope=p.layer_d_rope, seq_len=p.layer_seq_len,
        batch=LAYER_BATCH, seed=p.seed, device=ctx.device, on_step=on_step,
    )  # fmt: skip
    f |= layer_figures(p, m)
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
    return DemoResult(
        figures=f, series=series_of(p, f, m), checks=checks_of(p, f, m), conclusion=conclusion
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


DEMO = Demo(
    name="mla_kv_cache",
    title="MLA's KV cache: a low-rank latent instead of keys and values",
    summary=(
        "KV cache per token for MHA, GQA, MQA and Multi-head Latent Attention (DeepSeek-V2's "
        "Table 1: (d_c + d_h^R)·l elements for MLA), in bytes and in GB for a context and a "
        "batch, with DeepSeek-V2's shape as a preset or a custom one. Then a small MLA layer "
        "that caches only the latent c_KV and the decoupled RoPE key: its cache is measured, "
        "token-by-token decoding from it matches the full forward, an ordinary MHA with the "
        "full projections W_K = W_UK W_DKV and W_V = W_UV W_DKV computes the same output, so "
        "does the absorbed form that never rebuilds K or V, and the rank of W_K is at most "
        "d_c, the way LoRA's ΔW = B A has rank at most r."
    ),
    claims=(
        "MLA, like LoRA, compresses through a low-rank latent",
        "MLA caches only a latent vector (plus a small RoPE key) instead of per-head keys and "
        "values, far less than MHA",
        "DeepSeek-V2's MLA cache equals GQA with only 2.25 groups",
        "W_UK can be absorbed into the queries and W_UV into W_O, so MLA need not rebuild K and "
        "V at inference",
        "DeepSeek-V2 reduces the KV cache by 93.3% compared with DeepSeek 67B",
    ),
    params=MLAParams,
    run=run,
    time_limit_s=60.0,
    # Imported inside run (it holds the torch code): its source is part of the demo.
    extra_sources=("app.demos.mla_layers",),
    figure_names=figure_names,
)
