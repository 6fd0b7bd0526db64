"""Per decoded token and per layer: KV bytes read per cached token, and the matmul FLOPs of
MHA, of MLA rebuilding K and V from the latent ("naive") and of MLA with W_UK folded into
the query and W_UV applied after attention ("absorbed"). FLOPs = 2 × multiply-adds; only
matmuls count (softmax, RoPE and norms are elementwise, and FlopCounterMode skips them
too). ``T`` is the number of keys attended to, the new token's included. No torch here.

Per token (the part that does not grow with T):
  MHA:   W_Q, W_K, W_V, W_O           8·d·n_h·d_h
  MLA:   queries  2·d·d_c' + 2·d_c'·n_h·(d_h + d_h^R)   (d_c' = 0: 2·d·n_h·(d_h + d_h^R))
         W_DKV, W_KR   2·d·(d_c + d_h^R);   W_O   2·n_h·d_h·d
         absorbed adds W_UKᵀ on the query and W_UV on the attended latent: 2 × 2·n_h·d_h·d_c
Per cached token:
  MHA:   q·k and p·v            4·n_h·d_h
  naive: K, V rebuilt           4·n_h·d_h·d_c, then q·k (+ the RoPE part) and p·v:
                                2·n_h·(2·d_h + d_h^R)
  absorbed: q̃·c_KV, q^R·k^R, p·c_KV   2·n_h·(2·d_c + d_h^R)
"""

from __future__ import annotations

from dataclasses import dataclass

from app.demos.mla_cost.params import BYTES_PER_ELEMENT, FLOP_SCHEMES, CostShape


@dataclass(frozen=True)
class Cost:
    """FLOPs per decoded token = per_token + per_context · T."""

    per_token: float
    per_context: float

    def at(self, context: int) -> float:
        return self.per_token + self.per_context * context


def kv_elements_per_cached_token(s: CostShape, kv_heads: int) -> dict[str, int]:
    """What each scheme caches, and so reads back, per cached token and layer."""
    return {
        "mha": 2 * s.n_heads * s.head_dim,
        "gqa": 2 * kv_heads * s.head_dim,
        "mqa": 2 * s.head_dim,
        "mla": s.d_latent + s.d_rope,
    }


def kv_bytes_per_cached_token(s: CostShape, kv_heads: int, dtype: str) -> dict[str, int]:
    size = BYTES_PER_ELEMENT[dtype]
    return {k: n * size for k, n in kv_elements_per_cached_token(s, kv_heads).items()}


def query_flops(s: CostShape) -> int:
    """MLA's content and RoPE queries, through the query latent when there is one."""
    heads_out = s.n_heads * (s.head_dim + s.d_rope)
    if s.q_latent == 0:
        return 2 * s.d_model * heads_out
    return 2 * s.d_model * s.q_latent + 2 * s.q_latent * heads_out


def costs(s: CostShape) -> dict[str, Cost]:
    d, h, dh, dc, dr = s.d_model, s.n_heads, s.head_dim, s.d_latent, s.d_rope
    shared = query_flops(s) + 2 * d * (dc + dr) + 2 * h * dh * d  # queries, W_DKV, W_KR, W_O
    return {
        "mha": Cost(8 * d * h * dh, 4 * h * dh),
        "mla_naive": Cost(shared, 4 * h * dh * dc + 2 * h * (2 * dh + dr)),
        "mla_absorbed": Cost(shared + 4 * h * dh * dc, 2 * h * (2 * dc + dr)),
    }


def crossover(a: Cost, b: Cost) -> float:
    """The context at which ``a`` and ``b`` cost the same; negative when they do not
    cross at any positive context (−1 when the lines are parallel)."""
    slope = b.per_context - a.per_context
    if slope == 0:
        return -1.0
    return (a.per_token - b.per_token) / slope


def formula_figures(s: CostShape, kv_heads: int, dtype: str, grid: list[int]) -> dict[str, float]:
    """Bytes, FLOPs per token and per cached token, totals over ``grid`` and crossovers."""
    f: dict[str, float] = {
        "shape_d_model": s.d_model, "shape_n_heads": s.n_heads, "shape_head_dim": s.head_dim,
        "shape_d_latent": s.d_latent, "shape_q_latent": s.q_latent, "shape_d_rope": s.d_rope,
        "shape_gqa_kv_heads": kv_heads, "bytes_per_element": BYTES_PER_ELEMENT[dtype],
    }  # fmt: skip
    for k, n in kv_bytes_per_cached_token(s, kv_heads, dtype).items():
        f[f"kv_bytes_per_token_{k}"] = n
    f["kv_bytes_ratio_mha_over_mla"] = f["kv_bytes_per_token_mha"] / f["kv_bytes_per_token_mla"]
    c = costs(s)
    for k in FLOP_SCHEMES:
        f[f"flops_proj_per_token_{k}"] = c[k].per_token
        f[f"flops_attn_per_ctx_token_{k}"] = c[k].per_context
        for n in grid:
            f[f"flops_per_token_{k}_ctx{n}"] = c[k].at(n)
    for n in grid:
        f[f"flops_ratio_mla_absorbed_over_mha_ctx{n}"] = c["mla_absorbed"].at(n) / c["mha"].at(n)
    f["flops_attn_ratio_mla_absorbed_over_mha"] = (
        c["mla_absorbed"].per_context / c["mha"].per_context
    )
    f["flops_crossover_context"] = crossover(c["mla_absorbed"], c["mha"])
    f["flops_crossover_context_naive_vs_absorbed"] = crossover(c["mla_naive"], c["mla_absorbed"])
    # Attention's arithmetic intensity: FLOPs per byte of cache read, per cached token.
    f["attn_flops_per_kv_byte_mha"] = c["mha"].per_context / f["kv_bytes_per_token_mha"]
    f["attn_flops_per_kv_byte_mla_absorbed"] = (
        c["mla_absorbed"].per_context / f["kv_bytes_per_token_mla"]
    )
    return {k: float(v) for k, v in f.items()}
