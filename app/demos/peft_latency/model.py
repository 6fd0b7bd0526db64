"""The torch side of the PEFT-latency demo: a tiny decoder-only transformer written plainly,
the five ways PEFT methods change it at inference, and the interleaved timer.

The model is GPT-2 shaped (token + learned position embeddings, ``n_layers`` pre-norm blocks
of causal self-attention and a GELU MLP, a final norm and an unembedding), with separate
q/k/v/o projections so LoRA can target them one by one, and its own attention so that key
and value tensors can be prepended per layer. Every forward returns the per-layer KV cache
it built, so the extra KV entries a method adds are read off the tensors themselves.

The variants (names as in the demo's figures):
- ``prompt``: n virtual token embeddings prepended to the input; the sequence is n longer in
  every layer, so queries, MLPs and the cache all grow by n.
- ``prefix``: n learned key and value vectors per layer prepended inside attention (PEFT
  passes them as ``past_key_values``); the queries keep their length, the cache grows by n.
- ``adapter``: Houlsby adapters, h + up(GELU(down(h))), after attention and after the MLP
  in every layer, before the residual add: extra layers in series.
- ``lora_unmerged``: W x + (alpha/r) B A x on the chosen targets, the low-rank path kept
  apart (``app.demos.lora_layers.LoRALinear``).
- ``lora_merged``: W + (alpha/r) B A folded into a plain ``nn.Linear`` (PEFT's
  ``merge_and_unload``): the base model's structure and compute, with other weights.

This module imports torch at the top; only ``demo.run`` imports it (through ``measure``).
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from app.demos.lora.layers import LoRALinear, init_linear_
from app.demos.peft_latency.params import Clock, LoRATargets, Statistic

G = TypeVar("G", bound=Hashable)
TARGETS: dict[LoRATargets, tuple[str, ...]] = {
    "qv": ("q", "v"),  # the LoRA paper's choice and PEFT's default for most models
    "qkvo": ("q", "k", "v", "o"),
    "all": ("q", "k", "v", "o", "fc", "proj"),
}
KV = tuple[torch.Tensor, torch.Tensor]  # (B, heads, S, head_dim) each
EMBED_STD = 0.02  # GPT-2's init for embeddings, virtual tokens and prefixes


@dataclass(frozen=True)
class Config:
    vocab: int
    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int
    max_positions: int  # longest prompt + virtual tokens + one decoded token


def linear(d_in: int, d_out: int, generator: torch.Generator, *, bias: bool) -> nn.Linear:
    layer = nn.Linear(d_in, d_out, bias=bias)
    init_linear_(layer, generator)
    return layer


def causal_mask(n_queries: int, n_past: int, device: torch.device) -> torch.Tensor:
    """(T, P + T) additive mask, 0 where query i may attend key j (every one of the P past
    or prefix keys, and the new keys up to its own position, j ≤ P + i) and −inf elsewhere.
    Built once per forward as floats: a boolean mask would be converted in every layer."""
    allowed = torch.ones(n_queries, n_past + n_queries, dtype=torch.bool, device=device)
    allowed = allowed.tril(diagonal=n_past)
    zeros = torch.zeros(allowed.shape, device=device)
    return zeros.masked_fill(~allowed, float("-inf"))


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: Config, generator: torch.Generator) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        d = cfg.d_model
        # nn.Module, not nn.Linear: LoRA swaps these for LoRALinear.
        self.q: nn.Module = linear(d, d, generator, bias=False)
        self.k: nn.Module = linear(d, d, generator, bias=False)
        self.v: nn.Module = linear(d, d, generator, bias=False)
        self.o: nn.Module = linear(d, d, generator, bias=False)

    def heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, heads, T, head_dim)
        B, T, d = x.shape
        return x.view(B, T, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, past: KV | None
    ) -> tuple[torch.Tensor, KV]:
        B, T, d = x.shape
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        if past is not None:  # a cache, or prefix tuning's learned keys and values
            k = torch.cat([past[0], k], dim=2)  # (B, heads, P + T, head_dim)
            v = torch.cat([past[1], v], dim=2)
        else:
            # The layout a cat leaves: without it the base's cache would be a transposed view,
            # slower to extend at every decode step than prefix tuning's concatenated one.
            k, v = k.contiguous(), v.contiguous()
        # Every variant passes an explicit mask at prefill (None for one decoded token), so
        # all take the same SDPA kernel and a ratio measures work, not a kernel switch.
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, heads, T, head_dim)
        y = y.transpose(1, 2).reshape(B, T, d)
        out: torch.Tensor = self.o(y)
        return out, (k, v)


class Adapter(nn.Module):
    """Houlsby's bottleneck: h + up(GELU(down(h))), d -> m -> d with biases. ``up`` starts
    at zero, so a fresh adapter is the identity and the adapted model starts at the base."""

    def __init__(self, d: int, bottleneck: int, generator: torch.Generator) -> None:
        super().__init__()
        self.down = linear(d, bottleneck, generator, bias=True)
        self.up = nn.Linear(bottleneck, d)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, T, d)
        out: torch.Tensor = h + self.up(F.gelu(self.down(h)))
        return out


class Block(nn.Module):
    def __init__(self, cfg: Config, generator: torch.Generator) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg, generator)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc: nn.Module = linear(cfg.d_model, cfg.d_ff, generator, bias=False)
        self.proj: nn.Module = linear(cfg.d_ff, cfg.d_model, generator, bias=False)
        # None rather than nn.Identity: the base model pays no extra module call.
        self.adapter_attn: Adapter | None = None
        self.adapter_mlp: Adapter | None = None

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, past: KV | None
    ) -> tuple[torch.Tensor, KV]:
        a, kv = self.attn(self.ln1(x), mask, past)
        if self.adapter_attn is not None:
            a = self.adapter_attn(a)
        x = x + a
        m = self.proj(F.gelu(self.fc(self.ln2(x))))
        if self.adapter_mlp is not None:
            m = self.adapter_mlp(m)
        return x + m, kv


class TinyDecoder(nn.Module):
    def __init__(self, cfg: Config, generator: torch.Generator) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_positions, cfg.d_model)
        for emb in (self.tok_emb, self.pos_emb):
            nn.init.normal_(emb.weight, std=EMBED_STD, generator=generator)
        self.blocks = nn.ModuleList(Block(cfg, generator) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = linear(cfg.d_model, cfg.vocab, generator, bias=False)
        self.prompt: nn.Parameter | None = None  # (n, d): prompt tuning's virtual tokens
        self.prefix: nn.Parameter | None = None  # (layers, 2, n, d): prefix tuning's K and V

    def prefix_kv(self, batch: int) -> list[KV | None]:
        """Each layer's learned prefix as a cache, (B, heads, n, head_dim) for K and V."""
        if self.prefix is None:
            return [None] * self.cfg.n_layers
        L, _, n, d = self.prefix.shape
        h = self.cfg.n_heads
        kv = self.prefix.view(L, 2, n, h, d // h).transpose(2, 3)  # (L, 2, heads, n, head_dim)
        return [
            (kv[i, 0].expand(batch, -1, -1, -1), kv[i, 1].expand(batch, -1, -1, -1))
            for i in range(L)
        ]

    def forward(
        self, idx: torch.Tensor, cache: list[KV] | None = None
    ) -> tuple[torch.Tensor, list[KV]]:
        """idx (B, T) -> logits of the T real tokens (B, T, vocab), and every layer's cache
        (B, heads, S, head_dim) after this step. Without ``cache`` this is the prefill."""
        B, T = idx.shape
        x = self.tok_emb(idx)  # (B, T, d)
        past: list[KV | None]
        if cache is None:
            if self.prompt is not None:  # the sequence becomes n + T long from here on
                x = torch.cat([self.prompt.expand(B, -1, -1), x], dim=1)  # (B, n + T, d)
            past = self.prefix_kv(B)
        else:
            past = list(cache)
        first = past[0]
        n_past = 0 if first is None else first[0].shape[2]
        S = x.shape[1]
        x = x + self.pos_emb(torch.arange(n_past, n_past + S, device=idx.device))
        mask = causal_mask(S, n_past, idx.device) if S > 1 else None
        new_cache: list[KV] = []
        for block, kv in zip(self.blocks, past, strict=True):
            x, new_kv = block(x, mask, kv)
            new_cache.append(new_kv)
        # The virtual tokens' outputs are computed (the blocks need them) but not predicted.
        logits: torch.Tensor = self.head(self.ln_f(x[:, S - T :]))  # (B, T, vocab)
        return logits, new_cache


# ---- the variants ---------------------------------------------------------------------


def with_prompt(base: TinyDecoder, n: int, generator: torch.Generator) -> TinyDecoder:
    model = copy.deepcopy(base)
    model.prompt = nn.Parameter(torch.randn(n, base.cfg.d_model, generator=generator) * EMBED_STD)
    return model


def with_prefix(base: TinyDecoder, n: int, generator: torch.Generator) -> TinyDecoder:
    model = copy.deepcopy(base)
    cfg = base.cfg
    shape = (cfg.n_layers, 2, n, cfg.d_model)
    # Unit-variance keys and values: the order of the base model's own (LayerNorm-ed x times W).
    model.prefix = nn.Parameter(torch.randn(shape, generator=generator))
    return model


def with_adapters(
    base: TinyDecoder, bottleneck: int, generator: torch.Generator, *, trained: bool
) -> TinyDecoder:
    """Houlsby adapters after attention and after the MLP of every block. ``trained`` fills
    ``up`` with random values in place of training, so the adapters change the output."""
    model = copy.deepcopy(base)
    d = base.cfg.d_model
    for block in model.blocks:
        assert isinstance(block, Block)
        block.adapter_attn = Adapter(d, bottleneck, generator)
        block.adapter_mlp = Adapter(d, bottleneck, generator)
        if trained:
            for adapter in (block.adapter_attn, block.adapter_mlp):
                init_linear_(adapter.up, generator)
    return model


def target_layers(model: TinyDecoder, targets: LoRATargets) -> list[tuple[nn.Module, str]]:
    """(owner, attribute) of every linear layer LoRA adapts."""
    owners: list[tuple[nn.Module, str]] = []
    for block in model.blocks:
        assert isinstance(block, Block)
        for name in TARGETS[targets]:
            owners.append((block if name in ("fc", "proj") else block.attn, name))
    return owners


def with_lora(
    base: TinyDecoder, r: int, alpha: float, targets: LoRATargets, generator: torch.Generator
) -> TinyDecoder:
    """LoRA on ``targets`` with A and B both random (standing in for a trained B ≠ 0, so
    that merging changes W and merged-equals-unmerged is a real test)."""
    model = copy.deepcopy(base)
    for owner, name in target_layers(model, targets):
        layer = getattr(owner, name)
        assert isinstance(layer, nn.Linear)
        setattr(owner, name, LoRALinear(layer, r, alpha, init="both_random", generator=generator))
    return model


def merged(lora: TinyDecoder, targets: LoRATargets) -> TinyDecoder:
    """W + (alpha/r) B A folded into each target's weight, and the LoRALinear wrapper
    replaced by that plain nn.Linear: no A, no B, no extra call at inference."""
    model = copy.deepcopy(lora)
    for owner, name in target_layers(model, targets):
        layer = getattr(owner, name)
        assert isinstance(layer, LoRALinear)
        layer.merge()
        setattr(owner, name, layer.base)
    return model


def traced_forward(
    model: TinyDecoder, idx: torch.Tensor
) -> tuple[torch.Tensor, list[KV], list[int]]:
    """``model(idx)`` plus each layer's query count, read from the tensor entering its
    attention (a forward hook): prompt tuning's sequence is longer there, prefix's is not."""
    n_queries: list[int] = []

    def record(_module: nn.Module, args: tuple[torch.Tensor, ...], _output: object) -> None:
        n_queries.append(args[0].shape[1])  # (B, S, d)

    hooks = []
    for block in model.blocks:
        assert isinstance(block, Block)
        hooks.append(block.attn.register_forward_hook(record))
    try:
        logits, cache = model(idx)
    finally:
        for hook in hooks:
            hook.remove()
    return logits, cache, n_queries


def build_variants(
    base: TinyDecoder,
    *,
    n_virtual: int,
    bottleneck: int,
    lora_rank: int,
    lora_alpha: float,
    lora_targets: LoRATargets,
    generator: torch.Generator,
) -> dict[str, TinyDecoder]:
    """The five adapted copies of ``base``, drawn from ``generator`` in a fixed order."""
    lora = with_lora(base, lora_rank, lora_alpha, lora_targets, generator)
    return {
        "prompt": with_prompt(base, n_virtual, generator),
        "prefix": with_prefix(base, n_virtual, generator),
        "adapter": with_adapters(base, bottleneck, generator, trained=True),
        "lora_unmerged": lora,
        "lora_merged": merged(lora, lora_targets),
    }


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---- timing ---------------------------------------------------------------------------


@contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """torch's CPU threads set to ``n`` for the block (0 leaves them), then restored: the
    worker sets them for its process. At batch 1 on a shared machine, a thread that loses
    its core stalls every op of the others at the next barrier, so one thread times steadiest."""
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def time_ms(
    groups: Mapping[G, Mapping[str, Callable[[], object]]],
    *,
    repeats: int,
    warmup: int,
    statistic: Statistic,
    clock: Clock,
    device: torch.device,
    on_round: Callable[[], None],
) -> dict[G, dict[str, float]]:
    """The min or median time of each call over ``repeats`` rounds, in ms, per group (one
    group: the models at one prompt length). Each round runs every call of every group once,
    so a call's samples are spread over the whole measurement and a slow patch of a shared
    machine (another process waking, a frequency change) hits all calls alike; within a
    group each round starts at the next call, so no model is always the one going first.
    Interference only ever adds time, so the min is the steadier estimate of what a forward
    costs; the median also counts the machine's noise.

    ``wall`` reads ``time.perf_counter``, the latency a caller sees. ``thread_cpu`` reads
    the calling thread's CPU time, blind to the time the OS gives other processes: with one
    intra-op thread every op runs on the calling thread, so it is the forward's own cost."""
    read_clock = time.perf_counter if clock == "wall" else time.thread_time

    def sync() -> None:
        if device.type == "cuda":  # kernels are asynchronous: wait before reading the clock
            torch.cuda.synchronize(device)

    times: dict[G, dict[str, list[float]]] = {
        group: {name: [] for name in calls} for group, calls in groups.items()
    }
    for round_ in range(warmup + repeats):
        for group, calls in groups.items():
            names = list(calls)
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                sync()
                start = read_clock()
                calls[name]()
                sync()
                if round_ >= warmup:
                    times[group][name].append((read_clock() - start) * 1e3)
        on_round()
    pick = min if statistic == "min" else statistics.median
    return {group: {name: pick(ts) for name, ts in by.items()} for group, by in times.items()}
