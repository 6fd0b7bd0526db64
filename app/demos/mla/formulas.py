"""The KV-cache arithmetic of DeepSeek-V2's Table 1, in closed form. No torch here."""

from __future__ import annotations

from app.demos.mla.params import (
    BASELINE_BITS,
    BYTES_PER_ELEMENT,
    DEEPSEEK_67B_ELEMENTS,
    DEPLOYED_BITS,
    GB,
    PRESETS,
    SCHEMES,
    AttentionShape,
    MLAParams,
)


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
