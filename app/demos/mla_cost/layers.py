"""The torch side of mla_cost: (1) one decoded token through small float64 MHA and MLA
layers (naive and absorbed), whose matmul FLOPs ``torch.utils.flop_counter`` counts to
check ``formulas``; (2) an MHA layer inside a tiny copy-task model, converted to MLA by a
truncated SVD of [W_K; W_V] (TransMLA / MHA2MLA-style, without their RoPE handling: this
layer has none), its output error at each latent, and a short fine-tune of the converted
layer that distils the MHA output back.

Row-vector convention; weights stored (out, in), so a projection is x @ Wᵀ. Imported only
inside ``demo.run``: the web process must not load torch.
"""

from __future__ import annotations

import math

import torch
from torch.utils.flop_counter import FlopCounterMode

from app.demos.mla.layers import rope
from app.demos.mla_cost.params import CostShape


def _w(out: int, inp: int, gen: torch.Generator, device: str) -> torch.Tensor:
    """N(0, 1/fan_in), float64, drawn from the run's CPU generator then moved."""
    return (torch.randn(out, inp, generator=gen, dtype=torch.float64) / math.sqrt(inp)).to(device)


class DecodeLayers:
    """Weights of one MLA layer (optionally with a query latent) and of an MHA layer of the
    same d, n_h, d_h; ``mha``/``mla`` decode one new token against T − 1 cached ones."""

    def __init__(self, s: CostShape, gen: torch.Generator, device: str) -> None:
        self.s = s
        d, h, dh, dc, dq, dr = s.d_model, s.n_heads, s.head_dim, s.d_latent, s.q_latent, s.d_rope
        q_in = dq if dq else d
        self.W_DQ = _w(dq, d, gen, device) if dq else None
        self.W_UQ, self.W_QR = _w(h * dh, q_in, gen, device), _w(h * dr, q_in, gen, device)
        self.W_DKV, self.W_KR = _w(dc, d, gen, device), _w(dr, d, gen, device)
        self.W_UK, self.W_UV = _w(h * dh, dc, gen, device), _w(h * dh, dc, gen, device)
        self.W_O = _w(d, h * dh, gen, device)
        self.W_Q, self.W_K, self.W_V = (_w(h * dh, d, gen, device) for _ in range(3))

    def mha(self, x: torch.Tensor, k_past: torch.Tensor, v_past: torch.Tensor) -> torch.Tensor:
        """x (1, d) the new token; k_past, v_past (S − 1, n_h, d_h). Returns (1, d)."""
        h, dh = self.s.n_heads, self.s.head_dim
        q = (x @ self.W_Q.T).view(h, dh)
        k = torch.cat([k_past, (x @ self.W_K.T).view(1, h, dh)])  # (S, h, dh)
        v = torch.cat([v_past, (x @ self.W_V.T).view(1, h, dh)])
        p = (torch.einsum("hd,shd->hs", q, k) / math.sqrt(dh)).softmax(-1)
        return torch.einsum("hs,shd->hd", p, v).reshape(1, h * dh) @ self.W_O.T

    def mla(
        self, x: torch.Tensor, c_past: torch.Tensor, kr_past: torch.Tensor, *, absorbed: bool
    ) -> torch.Tensor:
        """x (1, d); the latent cache c_past (S − 1, d_c) and k^R cache (S − 1, d_h^R)."""
        s = self.s
        h, dh, dc, dr = s.n_heads, s.head_dim, s.d_latent, s.d_rope
        pos = torch.tensor([c_past.shape[0]], device=x.device)
        q_in = x @ self.W_DQ.T if self.W_DQ is not None else x
        q_c = (q_in @ self.W_UQ.T).view(h, dh)
        q_r = rope((q_in @ self.W_QR.T).view(1, 1, h, dr), pos).view(h, dr)
        c = torch.cat([c_past, x @ self.W_DKV.T])  # (S, d_c): the new token joins the cache
        k_r = torch.cat([kr_past, rope((x @ self.W_KR.T).view(1, 1, dr), pos).view(1, dr)])
        scores_r = q_r @ k_r.T  # (h, S): k^R shared by the heads
        scale = 1 / math.sqrt(dh + dr)
        W_UK, W_UV = self.W_UK.view(h, dh, dc), self.W_UV.view(h, dh, dc)
        if absorbed:
            q_lat = torch.einsum("hd,hdc->hc", q_c, W_UK)  # W_UKᵀ q^C per head
            p = ((q_lat @ c.T + scores_r) * scale).softmax(-1)  # (h, S)
            o = torch.einsum("hc,hdc->hd", p @ c, W_UV)  # W_UV on the attended latents
        else:
            k = (c @ self.W_UK.T).view(-1, h, dh)  # K and V rebuilt for every cached token
            v = (c @ self.W_UV.T).view(-1, h, dh)
            p = ((torch.einsum("hd,shd->hs", q_c, k) + scores_r) * scale).softmax(-1)
            o = torch.einsum("hs,shd->hd", p, v)
        return o.reshape(1, h * dh) @ self.W_O.T


def counted(fn: object, *args: torch.Tensor, **kw: bool) -> tuple[float, torch.Tensor]:
    """(matmul FLOPs torch counted, output) of one call."""
    assert callable(fn)
    with FlopCounterMode(display=False) as counter:
        out = fn(*args, **kw)
    return float(counter.get_total_flops()), out


@torch.no_grad()
def count_decode_flops(
    s: CostShape, contexts: tuple[int, ...], seed: int, device: str
) -> dict[str, float]:
    """FLOPs counted for one decoded token at each context T, per scheme, and the largest
    |naive − absorbed| output difference (the two MLA forms compute the same thing)."""
    gen = torch.Generator().manual_seed(seed)
    layers = DecodeLayers(s, gen, device)
    h, dh = s.n_heads, s.head_dim
    out: dict[str, float] = {"naive_vs_absorbed_max_abs_diff": 0.0, "output_max_abs": 0.0}
    for T in contexts:
        x = torch.randn(1, s.d_model, generator=gen, dtype=torch.float64).to(device)
        past = [
            torch.randn(*shape, generator=gen, dtype=torch.float64).to(device)
            for shape in ((T - 1, h, dh), (T - 1, h, dh), (T - 1, s.d_latent), (T - 1, s.d_rope))
        ]
        out[f"mha_ctx{T}"], _ = counted(layers.mha, x, past[0], past[1])
        out[f"mla_naive_ctx{T}"], naive = counted(layers.mla, x, past[2], past[3], absorbed=False)
        out[f"mla_absorbed_ctx{T}"], absorbed = counted(
            layers.mla, x, past[2], past[3], absorbed=True
        )
        diff = (naive - absorbed).abs().max().item()
        out["naive_vs_absorbed_max_abs_diff"] = max(out["naive_vs_absorbed_max_abs_diff"], diff)
        out["output_max_abs"] = max(out["output_max_abs"], naive.abs().max().item())
    return out
