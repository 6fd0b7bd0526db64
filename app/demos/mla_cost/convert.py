"""Converting an MHA layer to MLA by SVD (TransMLA / MHA2MLA-style), and what it costs.

A tiny model (token and position embeddings, one causal MHA layer with a residual, a
vocabulary head) learns a copy task: predict the token ``COPY_BACK`` positions back,
which only attention can do. Its layer, at init ("random") and after ``train_steps``
("trained"), is converted: [W_K; W_V] ((2·n_h·d_h) × d) = U Σ Vᵀ, truncated to d_c:
W_DKV = Σ_{d_c} V_{d_c}ᵀ, [W_UK; W_UV] = U_{d_c}; so k = W_UK c, v = W_UV c with
c = W_DKV x, the latent MLA caches. At d_c = rank([W_K; W_V]) the layer is unchanged.
Then a short fine-tune of the converted layer (all its weights) distils the MHA output.

float64 throughout (tiny sizes): a full-rank conversion is exact to rounding. Imported
only inside ``demo.run``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from app.demos.mla_cost.params import CONV_BATCH, CONV_SEQ, CONV_VOCAB, COPY_BACK


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int) -> torch.Tensor:
    """q, k, v (B, T, n_h·d_h) -> (B, T, n_h·d_h), causal, scaled by 1/√d_h."""
    B, T, hd = q.shape
    split = [t.view(B, T, heads, hd // heads).transpose(1, 2) for t in (q, k, v)]
    scores = split[0] @ split[1].transpose(-2, -1) / math.sqrt(hd // heads)
    causal = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    p = scores.masked_fill(~causal, float("-inf")).softmax(-1)
    return (p @ split[2]).transpose(1, 2).reshape(B, T, hd)


def _param(out: int, inp: int, gen: torch.Generator, device: str) -> nn.Parameter:
    w = torch.randn(out, inp, generator=gen, dtype=torch.float64) / math.sqrt(inp)
    return nn.Parameter(w.to(device))


class MHA(nn.Module):
    def __init__(self, d: int, heads: int, head_dim: int, gen: torch.Generator, device: str):
        super().__init__()
        self.heads = heads
        hd = heads * head_dim
        self.W_Q, self.W_K = _param(hd, d, gen, device), _param(hd, d, gen, device)
        self.W_V, self.W_O = _param(hd, d, gen, device), _param(d, hd, gen, device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = x @ self.W_Q.T, x @ self.W_K.T, x @ self.W_V.T
        out: torch.Tensor = causal_attention(q, k, v, self.heads) @ self.W_O.T
        return out


class ConvertedMLA(nn.Module):
    """The MHA layer with K and V rebuilt from a d_c-dimensional latent."""

    def __init__(self, mha: MHA, d_latent: int) -> None:
        super().__init__()
        self.heads = mha.heads
        hd = mha.W_K.shape[0]
        with torch.no_grad():
            U, S, Vh = torch.linalg.svd(torch.cat([mha.W_K, mha.W_V]), full_matrices=False)
            self.W_DKV = nn.Parameter(S[:d_latent, None] * Vh[:d_latent])  # (d_c, d)
            self.W_UK = nn.Parameter(U[:hd, :d_latent].clone())  # (n_h·d_h, d_c)
            self.W_UV = nn.Parameter(U[hd:, :d_latent].clone())
            self.W_Q = nn.Parameter(mha.W_Q.detach().clone())
            self.W_O = nn.Parameter(mha.W_O.detach().clone())
        self.energy_kept = float((S[:d_latent].square().sum() / S.square().sum()).item())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x @ self.W_DKV.T  # (B, T, d_c): all MLA would cache (no RoPE key here)
        k, v = c @ self.W_UK.T, c @ self.W_UV.T
        out: torch.Tensor = causal_attention(x @ self.W_Q.T, k, v, self.heads) @ self.W_O.T
        return out


class CopyModel(nn.Module):
    """Embeddings, one attention layer with a residual, a head."""

    def __init__(self, d: int, heads: int, head_dim: int, gen: torch.Generator, device: str):
        super().__init__()
        self.tok = _param(CONV_VOCAB, d, gen, device)
        self.pos = _param(CONV_SEQ, d, gen, device)
        self.attn: nn.Module = MHA(d, heads, head_dim, gen, device)
        self.head = _param(CONV_VOCAB, d, gen, device)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        return self.tok[idx] * math.sqrt(self.tok.shape[1]) + self.pos

    def loss(self, idx: torch.Tensor, attn: nn.Module | None = None) -> torch.Tensor:
        x = self.embed(idx)
        h = x + (attn or self.attn)(x)
        logits = h @ self.head.T  # (B, T, vocab)
        # Position t predicts token t − COPY_BACK (the first COPY_BACK have no target).
        return F.cross_entropy(logits[:, COPY_BACK:].flatten(0, 1), idx[:, :-COPY_BACK].flatten())


def batch(gen: torch.Generator, device: str, size: int = CONV_BATCH) -> torch.Tensor:
    return torch.randint(0, CONV_VOCAB, (size, CONV_SEQ), generator=gen).to(device)


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """‖a − b‖_F / ‖b‖_F."""
    return float(((a - b).norm() / b.norm()).item())


@dataclass
class ArmMeasured:
    """One layer (random or trained) converted at each latent."""

    rel_error: dict[int, float] = field(default_factory=dict)
    rel_error_after_ft: dict[int, float] = field(default_factory=dict)
    energy_kept: dict[int, float] = field(default_factory=dict)
    task_loss: dict[int, float] = field(default_factory=dict)  # with the converted layer
    task_loss_after_ft: dict[int, float] = field(default_factory=dict)
    task_loss_mha: float = 0.0
    sigma: list[float] = field(default_factory=list)  # singular values of [W_K; W_V]


@dataclass
class Converted:
    random: ArmMeasured
    trained: ArmMeasured
    train_losses: list[float]


def _fine_tune(
    model: CopyModel, mla: ConvertedMLA, steps: int, lr: float, gen: torch.Generator, device: str
) -> None:
    """Distil the MHA layer's output into the converted layer on fresh task inputs."""
    opt = torch.optim.AdamW(mla.parameters(), lr=lr, weight_decay=0.0)
    for _ in range(steps):
        with torch.no_grad():
            x = model.embed(batch(gen, device))
            target = model.attn(x)
        loss = (mla(x) - target).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def measure_arm(
    model: CopyModel,
    latents: list[int],
    ft_steps: int,
    lr: float,
    gen: torch.Generator,
    device: str,
    on_step: Callable[[], None],
) -> ArmMeasured:
    m = ArmMeasured()
    held_out = batch(gen, device, 4 * CONV_BATCH)
    with torch.no_grad():
        x = model.embed(held_out)
        reference = model.attn(x)
        m.task_loss_mha = float(model.loss(held_out).item())
        mha = model.attn
        assert isinstance(mha, MHA)
        m.sigma = torch.linalg.svdvals(torch.cat([mha.W_K, mha.W_V])).cpu().tolist()
    for k in latents:
        mla = ConvertedMLA(mha, k)
        m.energy_kept[k] = mla.energy_kept
        with torch.no_grad():
            m.rel_error[k] = rel_error(mla(x), reference)
            m.task_loss[k] = float(model.loss(held_out, mla).item())
        if k < len(m.sigma):  # at full rank the layer is unchanged: nothing to recover
            _fine_tune(model, mla, ft_steps, lr, gen, device)
        with torch.no_grad():
            m.rel_error_after_ft[k] = rel_error(mla(x), reference)
            m.task_loss_after_ft[k] = float(model.loss(held_out, mla).item())
        on_step()
    return m


def train(
    model: CopyModel, steps: int, lr: float, gen: torch.Generator, device: str
) -> list[float]:
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for _ in range(steps):
        loss = model.loss(batch(gen, device))
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        losses.append(float(loss.item()))
    return losses


def convert(
    *,
    d: int,
    heads: int,
    head_dim: int,
    latents: list[int],
    train_steps: int,
    ft_steps: int,
    lr: float,
    seed: int,
    device: str,
    on_step: Callable[[], None],
) -> Converted:
    """Both arms from one seeded CPU generator (same numbers on either device)."""
    gen = torch.Generator().manual_seed(seed)
    model = CopyModel(d, heads, head_dim, gen, device)
    random = measure_arm(copy.deepcopy(model), latents, ft_steps, lr, gen, device, on_step)
    losses = train(model, train_steps, lr, gen, device)
    trained = measure_arm(model, latents, ft_steps, lr, gen, device, on_step)
    return Converted(random=random, trained=trained, train_losses=losses)
