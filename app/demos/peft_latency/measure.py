"""The PEFT-latency demo's measurements: build the base model and its five variants,
check the identities on the longest prompt, then time prefill (and decode) in interleaved
rounds. Imports torch at the top; only ``demo.run`` imports it, lazily."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from app.demos.base import RunContext
from app.demos.peft_latency.model import (
    Config,
    TinyDecoder,
    build_variants,
    n_params,
    time_ms,
    traced_forward,
    with_adapters,
)
from app.demos.peft_latency.params import VOCAB, WARMUP, Clock, PeftLatencyParams, seq_lengths
from app.demos.peft_latency.report import Measured


@dataclass
class Models:
    """The base model and its five variants on the run's device, in eval mode and frozen,
    a base with freshly initialised adapters, and the inputs: a prompt per timed length and
    the one token decoded after it."""

    models: dict[str, TinyDecoder]
    fresh_adapter: TinyDecoder
    prompts: dict[int, torch.Tensor]  # T -> (1, T) token ids
    next_token: torch.Tensor  # (1, 1)


def build_models(p: PeftLatencyParams, lengths: list[int], device: torch.device) -> Models:
    cfg = Config(
        vocab=VOCAB,
        d_model=p.d_model,
        n_layers=p.n_layers,
        n_heads=p.n_heads,
        d_ff=4 * p.d_model,
        max_positions=lengths[-1] + p.n_virtual + 1,
    )
    # Everything random is drawn on the CPU from one generator, in a fixed order, then moved.
    gen = torch.Generator().manual_seed(p.seed)
    base = TinyDecoder(cfg, gen)
    variants = build_variants(
        base,
        n_virtual=p.n_virtual,
        bottleneck=p.bottleneck,
        lora_rank=p.lora_rank,
        lora_alpha=p.lora_alpha,
        lora_targets=p.lora_targets,
        generator=gen,
    )
    models: dict[str, TinyDecoder] = {"base": base, **variants}
    fresh_adapter = with_adapters(base, p.bottleneck, gen, trained=False).to(device).eval()
    prompts = {T: torch.randint(VOCAB, (1, T), generator=gen).to(device) for T in lengths}
    next_token = torch.randint(VOCAB, (1, 1), generator=gen).to(device)
    for model in models.values():
        model.to(device).eval().requires_grad_(False)
    return Models(models, fresh_adapter, prompts, next_token)


@torch.inference_mode()
def measure_counts(built: Models, m: Measured) -> None:
    """The numbers first, on the longest prompt: outputs, caches and query lengths."""
    idx = built.prompts[m.lengths[-1]]
    outputs: dict[str, torch.Tensor] = {}
    for name, model in built.models.items():
        logits, cache, m.query_tokens[name] = traced_forward(model, idx)
        m.kv_tokens[name] = [k.shape[2] for k, _ in cache]  # per layer: keys cached
        m.kv_entries[name] = sum(k.numel() + v.numel() for k, v in cache)
        outputs[name] = logits  # (1, T, vocab)
    m.logits_scale = outputs["lora_unmerged"].abs().max().item()
    m.merged_diff = (outputs["lora_merged"] - outputs["lora_unmerged"]).abs().max().item()
    m.lora_change = (outputs["lora_unmerged"] - outputs["base"]).abs().max().item()
    m.adapter_init_diff = (built.fresh_adapter(idx)[0] - outputs["base"]).abs().max().item()


Groups = dict[tuple[str, int], dict[str, Callable[[], object]]]


@torch.inference_mode()
def timed_groups(p: PeftLatencyParams, built: Models, lengths: list[int]) -> Groups:
    """What is timed, per (mode, length): a prefill of the prompt, and one new token decoded
    against the cache each model built from that prompt."""
    models = built.models
    groups: Groups = {}
    for T in lengths:
        x = built.prompts[T]
        groups["prefill", T] = {name: partial(model, x) for name, model in models.items()}
        if p.decode:
            caches = {name: model(x)[1] for name, model in models.items()}
            groups["decode", T] = {
                name: partial(model, built.next_token, caches[name])
                for name, model in models.items()
            }
    return groups


def measure(p: PeftLatencyParams, ctx: RunContext) -> Measured:
    device = torch.device(ctx.device)
    lengths = seq_lengths(p)
    built = build_models(p, lengths, device)
    on_cuda = device.type == "cuda"
    clock: Clock = "wall" if on_cuda else p.clock  # a CPU clock cannot see GPU time
    m = Measured(lengths=lengths, on_cuda=on_cuda, threads=torch.get_num_threads(), clock=clock)
    m.params = {name: n_params(model) for name, model in built.models.items()}
    measure_counts(built, m)
    groups = timed_groups(p, built, lengths)
    total = WARMUP + p.repeats  # rounds, each timing every model at every length
    rounds = iter(range(1, total + 1))
    with torch.inference_mode():
        ms = time_ms(
            groups,
            repeats=p.repeats,
            warmup=WARMUP,
            statistic=p.statistic,
            clock=clock,
            device=device,
            on_round=lambda: ctx.progress(next(rounds), total),
        )
    m.prefill_ms = {T: ms["prefill", T] for T in lengths}
    m.decode_ms = {T: ms["decode", T] for T in lengths if p.decode}
    return m
