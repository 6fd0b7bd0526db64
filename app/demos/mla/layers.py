"""The torch side of the MLA demo: a small Multi-head Latent Attention layer as DeepSeek-V2
defines it (arXiv 2405.04434, §2.1, eqs. 9–19), the "equivalent MHA" its low-rank factors
imply, and the measurements the demo reports.

Row-vector convention (x is (T, d)); every weight is stored (out, in) as in the paper and
nn.Linear, so a projection is x @ Wᵀ. Per token t:

    c_KV = W_DKV x            (d_c)            the latent: the only content that is cached
    k^R  = RoPE(W_KR x)       (d_h^R)          decoupled RoPE key, shared by all heads, cached
    k^C  = W_UK c_KV          (n_h·d_h)        rebuilt from the latent
    v    = W_UV c_KV          (n_h·d_h)        rebuilt from the latent
    q^C  = W_Q x, q^R = RoPE(W_QR x)           queries (not compressed: DeepSeek-V2-Lite's
                                               choice, Appendix B.1; V2 itself adds a c_Q)
    score_{t,s,i} = (q^C_{t,i}·k^C_{s,i} + q^R_{t,i}·k^R_s) / √(d_h + d_h^R), causal
    u = W_O [o_1; …; o_{n_h}]

So the implied key projection W_K = W_UK W_DKV ((n_h·d_h) × d) has rank ≤ d_c, as LoRA's
ΔW = B A has rank ≤ r. And since k^C·q^C = c_KV·(W_UKᵀ q^C), W_UK can be folded into the
query side and W_UV into W_O ("absorbed"): attention then reads the latent cache directly.

No RMSNorm on the latent by default (DeepSeek-V2 has one, §3.1.2): with it K is no longer a
fixed linear map of x, so the "equivalent MHA" identity would not hold exactly. The
``latent_norm`` flag adds it, for the test that compares this layer with transformers'.

This module imports torch at the top, so only ``demo.run`` imports it, lazily.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import nn

from app.demos.mla.checks import LayerMeasured

ROPE_BASE = 10000.0  # θ = 10000, DeepSeek-V2's pretraining value
NORM_EPS = 1e-6  # DeepSeek-V2's RMSNorm epsilon


def rope(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """RoPE on the last dim (even), DeepSeek's layout: pairs (2i, 2i+1) rotate by the angle
    pos·θ^(−2i/d). x: (B, T, d) or (B, T, heads, d); positions: (T,)."""
    d = x.shape[-1]
    inv_freq = ROPE_BASE ** (-torch.arange(0, d, 2, dtype=x.dtype, device=x.device) / d)
    angles = positions.to(x.dtype)[:, None] * inv_freq  # (T, d/2)
    shape = (x.shape[1],) + (1,) * (x.dim() - 3) + (d // 2,)  # broadcast over heads
    cos, sin = angles.cos().reshape(shape), angles.sin().reshape(shape)
    pairs = x.reshape(*x.shape[:-1], d // 2, 2)  # (..., d/2, 2)
    even, odd = pairs[..., 0], pairs[..., 1]  # (..., d/2) each
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


def causal_softmax(scores: torch.Tensor, past: int) -> torch.Tensor:
    """Softmax over keys with query i (absolute position past + i) seeing keys 0..past + i.
    scores: (B, heads, T, S) with S = past + T."""
    T, S = scores.shape[-2:]
    query_pos = torch.arange(past, past + T, device=scores.device)[:, None]  # (T, 1)
    key_pos = torch.arange(S, device=scores.device)[None, :]  # (1, S)
    return scores.masked_fill(key_pos > query_pos, float("-inf")).softmax(dim=-1)


@dataclass
class LatentCache:
    """Everything MLA keeps per past token: the latent and the shared RoPE key."""

    c_kv: torch.Tensor  # (B, S, d_c)
    k_rope: torch.Tensor  # (B, S, d_h^R)

    @property
    def length(self) -> int:
        return self.c_kv.shape[1]

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.c_kv, self.k_rope)

    def bytes_per_token(self) -> float:
        """Bytes actually held, divided by the batch × cached-token count."""
        total = sum(t.numel() * t.element_size() for t in self.tensors())
        return total / (self.c_kv.shape[0] * self.length)


def _weight(out: int, inp: int, gen: torch.Generator, dtype: torch.dtype) -> nn.Parameter:
    # N(0, 1/fan_in) keeps every projection O(1); drawn from ``gen``, never the global RNG.
    return nn.Parameter(torch.randn(out, inp, generator=gen, dtype=dtype) / math.sqrt(inp))


class MLAttention(nn.Module):
    """Multi-head Latent Attention that caches only c_KV and k^R (see the module docstring)."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        head_dim: int,
        d_latent: int,
        d_rope: int,
        *,
        generator: torch.Generator,
        dtype: torch.dtype = torch.float64,
        latent_norm: bool = False,
    ) -> None:
        super().__init__()
        if d_rope % 2:
            raise ValueError(f"d_rope must be even for RoPE's pairs (got {d_rope})")
        self.n_heads, self.head_dim, self.d_latent, self.d_rope = (
            n_heads,
            head_dim,
            d_latent,
            d_rope,
        )
        self.latent_norm = latent_norm
        self.scale = 1 / math.sqrt(head_dim + d_rope)  # eq. 18: √(d_h + d_h^R)
        hd = n_heads * head_dim
        self.W_DKV = _weight(d_latent, d_model, generator, dtype)  # down-projection
        self.W_UK = _weight(hd, d_latent, generator, dtype)  # key up-projection
        self.W_UV = _weight(hd, d_latent, generator, dtype)  # value up-projection
        self.W_KR = _weight(d_rope, d_model, generator, dtype)  # decoupled RoPE key
        self.W_Q = _weight(hd, d_model, generator, dtype)  # content queries
        self.W_QR = _weight(n_heads * d_rope, d_model, generator, dtype)  # RoPE queries
        self.W_O = _weight(d_model, hd, generator, dtype)  # output

    def implied_key_projection(self) -> torch.Tensor:
        """W_K = W_UK W_DKV, (n_h·d_h, d): k^C = W_K x, a rank-≤ d_c map like LoRA's B A."""
        return self.W_UK @ self.W_DKV

    def implied_value_projection(self) -> torch.Tensor:
        """W_V = W_UV W_DKV, (n_h·d_h, d)."""
        return self.W_UV @ self.W_DKV

    def queries(self, x: torch.Tensor, positions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """q^C (B, T, n_h, d_h) and q^R (B, T, n_h, d_h^R)."""
        B, T, _ = x.shape
        q_c = (x @ self.W_Q.T).view(B, T, self.n_heads, self.head_dim)
        q_r = rope((x @ self.W_QR.T).view(B, T, self.n_heads, self.d_rope), positions)
        return q_c, q_r

    def compress(self, x: torch.Tensor, positions: torch.Tensor) -> LatentCache:
        """The new tokens' cache entries: c_KV (B, T, d_c) and k^R (B, T, d_h^R)."""
        c_kv = x @ self.W_DKV.T
        if self.latent_norm:
            c_kv = c_kv * torch.rsqrt(c_kv.square().mean(-1, keepdim=True) + NORM_EPS)
        return LatentCache(c_kv, rope(x @ self.W_KR.T, positions))

    def forward(
        self, x: torch.Tensor, cache: LatentCache | None = None, *, absorbed: bool = False
    ) -> tuple[torch.Tensor, LatentCache]:
        """x: (B, T, d) new tokens after ``cache``'s. Returns u (B, T, d) and the grown cache.
        ``absorbed``: attend to the latent directly, never forming K or V."""
        B, T, _ = x.shape
        past = 0 if cache is None else cache.length
        positions = torch.arange(past, past + T, device=x.device)
        new = self.compress(x, positions)
        if cache is not None:
            new = LatentCache(
                torch.cat([cache.c_kv, new.c_kv], 1), torch.cat([cache.k_rope, new.k_rope], 1)
            )
        c_kv, k_r = new.c_kv, new.k_rope  # (B, S, d_c), (B, S, d_h^R)
        S = c_kv.shape[1]
        q_c, q_r = self.queries(x, positions)
        H, dh = self.n_heads, self.head_dim
        W_UK = self.W_UK.view(H, dh, self.d_latent)  # per head (d_h, d_c)
        W_UV = self.W_UV.view(H, dh, self.d_latent)
        scores_r = torch.einsum("bthr,bsr->bhts", q_r, k_r)  # k^R shared by the heads
        if absorbed:
            q_latent = torch.einsum("bthd,hdc->bthc", q_c, W_UK)  # W_UKᵀ q^C per head
            scores_c = torch.einsum("bthc,bsc->bhts", q_latent, c_kv)
            p = causal_softmax((scores_c + scores_r) * self.scale, past)  # (B, H, T, S)
            o_latent = torch.einsum("bhts,bsc->bthc", p, c_kv)  # (B, T, H, d_c)
            # W_UV acts on the T attended latents, never on the S cached ones; W_O W_UV
            # could be merged into one (d, d_c) matrix per head offline: the same product.
            o = torch.einsum("bthc,hdc->bthd", o_latent, W_UV).reshape(B, T, H * dh)
            return o @ self.W_O.T, new
        k_c = (c_kv @ self.W_UK.T).view(B, S, H, dh)  # K rebuilt from the latent
        v = (c_kv @ self.W_UV.T).view(B, S, H, dh)
        scores_c = torch.einsum("bthd,bshd->bhts", q_c, k_c)
        p = causal_softmax((scores_c + scores_r) * self.scale, past)
        o = torch.einsum("bhts,bshd->bthd", p, v).reshape(B, T, H * dh)
        return o @ self.W_O.T, new


def equivalent_mha(layer: MLAttention, x: torch.Tensor) -> torch.Tensor:
    """Ordinary multi-head attention whose key and value projections are full d → n_h·d_h
    matrices, W_K = W_UK W_DKV and W_V = W_UV W_DKV, with the same queries, RoPE part and
    W_O: MLA computes exactly this function, only its cache is the factor in between."""
    B, T, _ = x.shape
    H, dh = layer.n_heads, layer.head_dim
    positions = torch.arange(T, device=x.device)
    q_c, q_r = layer.queries(x, positions)
    k_c = (x @ layer.implied_key_projection().T).view(B, T, H, dh)
    v = (x @ layer.implied_value_projection().T).view(B, T, H, dh)
    k_r = rope(x @ layer.W_KR.T, positions)  # (B, T, d_h^R)
    scores = torch.einsum("bthd,bshd->bhts", q_c, k_c) + torch.einsum("bthr,bsr->bhts", q_r, k_r)
    p = causal_softmax(scores * layer.scale, 0)
    return torch.einsum("bhts,bshd->bthd", p, v).reshape(B, T, H * dh) @ layer.W_O.T


@torch.no_grad()
def measure_layer(
    *,
    d_model: int,
    n_heads: int,
    head_dim: int,
    d_latent: int,
    d_rope: int,
    seq_len: int,
    batch: int,
    seed: int,
    device: str,
    on_step: Callable[[], None],
) -> LayerMeasured:
    """Build a seeded float64 MLA layer and check the identities on one random sequence."""
    gen = torch.Generator().manual_seed(seed)
    layer = MLAttention(d_model, n_heads, head_dim, d_latent, d_rope, generator=gen).to(device)
    x = torch.randn(batch, seq_len, d_model, generator=gen, dtype=torch.float64).to(device)
    m = LayerMeasured(element_bytes=layer.W_DKV.element_size())

    def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
        return (a - b).abs().max().item()

    full, _ = layer(x)  # (B, T, d)
    m.output_scale = full.abs().max().item()
    on_step()
    for absorbed in (False, True):
        cache: LatentCache | None = None
        outputs = []
        for t in range(seq_len):  # decoding: one new token per step, the past from the cache
            y, cache = layer(x[:, t : t + 1], cache, absorbed=absorbed)
            outputs.append(y)
            on_step()
        diff = max_diff(torch.cat(outputs, 1), full)
        if absorbed:
            m.absorbed_decode_diff = diff
        else:
            m.decode_diff = diff
            assert cache is not None
            m.cache_names = tuple(f.name for f in fields(cache))
            m.cache_shapes = tuple(tuple(t.shape) for t in cache.tensors())
            m.cache_bytes_measured = cache.bytes_per_token()
    m.absorbed_diff = max_diff(layer(x, absorbed=True)[0], full)
    m.mha_diff = max_diff(equivalent_mha(layer, x), full)
    on_step()
    W_K, W_V = layer.implied_key_projection(), layer.implied_value_projection()
    m.key_rank = int(torch.linalg.matrix_rank(W_K).item())
    m.value_rank = int(torch.linalg.matrix_rank(W_V).item())
    m.key_sigma = torch.linalg.svdvals(W_K).cpu().tolist()  # descending
    on_step()
    return m
