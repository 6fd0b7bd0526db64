"""Where PEFT methods cost time at inference: a tiny decoder-only transformer at batch 1,
timed as the base model and as five adapted versions of it in one interleaved run.

The story: build a small GPT-shaped model with random weights (we time, we do not train),
then derive prompt tuning (n virtual tokens prepended to the input), prefix tuning (n learned
keys and values per layer), Houlsby adapters (two bottlenecks per layer, in series), LoRA kept
as a separate low-rank path, and LoRA merged into the weights. Check the numbers first: the
merged model gives the unmerged one's outputs and has the base's parameter count, a fresh
adapter (up-projection zero) is the identity, and the KV cache each method builds is measured
from the tensors. Then time a full forward over the prompt (prefill) at a few lengths, and
optionally one decoded token against a cache of that length, on one CPU thread (its CPU time
by default: what the forward costs, whatever else the machine runs), as the min (or median)
over rounds that interleave the variants and lengths, and report each as a ratio to the base
at that length.

torch (and ``app.demos.peft_latency_model``, which imports it) is imported inside ``run``:
the web process imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import Demo, DemoParams, DemoResult, RunContext
from app.demos.peft_latency_report import Measured, names_of, result_of

VOCAB = 256  # small, so the unembedding does not dominate a tiny model's forward
WARMUP = 3  # untimed rounds of every timed call (allocator, caches, kernel selection)
LENGTH_STEP = 4  # the timed lengths are max_seq_len / 4^k


# Bounds: the slowest allowed run (d_model 256, 6 layers, 16 heads, lengths 8 to 512, 64
# virtual tokens, bottleneck 128, LoRA r 64 on every linear, 20 repeats, decode on) took
# 24-37 s on one CPU thread of a shared two-core machine (load 2-3.5), the default run ~6 s.
class PeftLatencyParams(DemoParams):
    d_model: int = Field(default=128, ge=16, le=256, description="Model width d")
    n_layers: int = Field(default=4, ge=1, le=6, description="Transformer blocks L")
    n_heads: int = Field(default=4, ge=1, le=16, description="Attention heads; must divide d_model")
    max_seq_len: int = Field(
        default=512, ge=16, le=512, description="Longest prompt timed (tokens, batch 1)"
    )
    num_lengths: int = Field(
        default=3,
        ge=1,
        le=4,
        description="How many prompt lengths: max_seq_len, max_seq_len/4, /16, ...",
    )
    n_virtual: int = Field(
        default=20, ge=1, le=64, description="Virtual tokens (prompt) / prefix length (prefix)"
    )
    bottleneck: int = Field(
        default=32, ge=1, le=128, description="Houlsby adapter bottleneck m (d -> m -> d)"
    )
    lora_rank: int = Field(default=8, ge=1, le=64, description="LoRA rank r")
    lora_alpha: float = Field(
        default=16.0, gt=0, le=256, allow_inf_nan=False, description="LoRA scaling is alpha/r"
    )
    lora_targets: Literal["qv", "qkvo", "all"] = Field(
        default="qv",
        description="Layers LoRA adapts: q and v (default), all attention, or every linear",
    )
    repeats: int = Field(default=15, ge=3, le=20, description="Timed rounds per length")
    statistic: Literal["min", "median"] = Field(
        default="min",
        description="Each timing's statistic over the rounds: min (steadiest on a shared "
        "machine: interference only adds time) or median",
    )
    decode: bool = Field(
        default=True,
        description="Also time one decoded token against a KV cache of each length",
    )
    clock: Literal["thread_cpu", "wall"] = Field(
        default="thread_cpu",
        description="thread_cpu: the timing thread's CPU time, what a forward costs on a core "
        "of its own, blind to other processes on a shared machine; wall: the latency a "
        "caller sees, other processes included (CUDA always uses wall)",
    )

    # Field validators (not a model validator) so the error names the field; the fields
    # they compare with are declared first, so they are in info.data when valid.
    @field_validator("n_heads")
    @classmethod
    def heads_divide_width(cls, n_heads: int, info: ValidationInfo) -> int:
        d = info.data.get("d_model")
        if d is not None and d % n_heads != 0:
            raise ValueError(f"must divide d_model = {d}")
        return n_heads

    @field_validator("bottleneck", "lora_rank")
    @classmethod
    def at_most_width(cls, size: int, info: ValidationInfo) -> int:
        d = info.data.get("d_model")
        if d is not None and size > d:
            raise ValueError(f"must be at most d_model = {d}")
        return size

    @field_validator("num_lengths")
    @classmethod
    def shortest_length_is_long_enough(cls, num_lengths: int, info: ValidationInfo) -> int:
        longest = info.data.get("max_seq_len")
        if longest is not None and longest // LENGTH_STEP ** (num_lengths - 1) < 4:
            raise ValueError(f"too many for max_seq_len = {longest}: the shortest would be < 4")
        return num_lengths


def seq_lengths(p: PeftLatencyParams) -> list[int]:
    """The prompt lengths timed, shortest first; the last is ``max_seq_len``."""
    return [p.max_seq_len // LENGTH_STEP**k for k in reversed(range(p.num_lengths))]


def run(params: PeftLatencyParams, ctx: RunContext) -> DemoResult:
    from app.demos.peft_latency_model import intra_op_threads

    # One CPU thread: at batch 1 on a shared machine, two threads that keep losing their
    # core stall each other at every op (on a busy two-core machine the slowest run took
    # 218 s on two threads against 24 s on one, its ratios off by up to 4×). The worker's
    # setting is restored after.
    with intra_op_threads(1 if ctx.device == "cpu" else 0):
        return measure(params, ctx)


def measure(p: PeftLatencyParams, ctx: RunContext) -> DemoResult:
    import torch

    from app.demos.peft_latency_model import (
        Clock,
        Config,
        TinyDecoder,
        build_variants,
        n_params,
        time_ms,
        traced_forward,
        with_adapters,
    )

    device = torch.device(ctx.device)
    lengths = seq_lengths(p)
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

    on_cuda = device.type == "cuda"
    clock: Clock = "wall" if on_cuda else p.clock  # a CPU clock cannot see GPU time
    m = Measured(lengths=lengths, on_cuda=on_cuda, threads=torch.get_num_threads(), clock=clock)
    m.params = {name: n_params(model) for name, model in models.items()}
    total = WARMUP + p.repeats  # rounds, each timing every model at every length
    done = 0

    with torch.inference_mode():
        # The numbers first, on the longest prompt: outputs, caches and query lengths.
        idx = prompts[lengths[-1]]
        outputs: dict[str, torch.Tensor] = {}
        for name, model in models.items():
            logits, cache, m.query_tokens[name] = traced_forward(model, idx)
            m.kv_tokens[name] = [k.shape[2] for k, _ in cache]  # per layer: keys cached
            m.kv_entries[name] = sum(k.numel() + v.numel() for k, v in cache)
            outputs[name] = logits  # (1, T, vocab)
        m.logits_scale = outputs["lora_unmerged"].abs().max().item()
        m.merged_diff = (outputs["lora_merged"] - outputs["lora_unmerged"]).abs().max().item()
        m.lora_change = (outputs["lora_unmerged"] - outputs["base"]).abs().max().item()
        m.adapter_init_diff = (fresh_adapter(idx)[0] - outputs["base"]).abs().max().item()
        del outputs

        # What is timed, per (mode, length): a prefill of the prompt, and one new token
        # decoded against the cache each model built from that prompt.
        groups: dict[tuple[str, int], dict[str, Callable[[], object]]] = {}
        for T in lengths:
            x = prompts[T]
            groups["prefill", T] = {name: partial(model, x) for name, model in models.items()}
            if p.decode:
                caches = {name: model(x)[1] for name, model in models.items()}
                groups["decode", T] = {
                    name: partial(model, next_token, caches[name]) for name, model in models.items()
                }

        def on_round() -> None:
            nonlocal done
            done += 1
            ctx.progress(done, total)

        ms = time_ms(
            groups,
            repeats=p.repeats,
            warmup=WARMUP,
            statistic=p.statistic,
            clock=clock,
            device=device,
            on_round=on_round,
        )
    m.prefill_ms = {T: ms["prefill", T] for T in lengths}
    m.decode_ms = {T: ms["decode", T] for T in lengths if p.decode}
    return result_of(p, m)


def figure_names(params: PeftLatencyParams) -> list[str]:
    """Per variant: extra parameters, KV tokens, KV entries and query tokens, the latency
    ratio at the longest length and its geometric mean over the lengths, and per length its
    ms and ratio; the same for decode when it is on; the numerical identities; the base
    model's ms per length, parameters and KV entries; the threads and summary length."""
    return names_of(params, seq_lengths(params))


DEMO = Demo(
    name="peft_latency",
    title="Where PEFT methods cost time at inference",
    summary=(
        "Times a tiny decoder-only transformer with random weights at batch 1, as the base "
        "model and as five PEFT variants of it: prompt tuning (n virtual tokens prepended to "
        "the input), prefix tuning (n learned keys and values per layer), Houlsby adapters "
        "(two bottleneck layers per block, in series), LoRA unmerged (a separate low-rank "
        "path on the chosen layers) and LoRA merged into the weights. A full forward over "
        "the prompt (prefill) at a few lengths, and one decoded token against a KV cache of "
        "that length, are timed on one CPU thread (its CPU time, or wall time; wall on CUDA) "
        "as the minimum (or median) over rounds that interleave the variants and lengths, "
        "and reported as ratios to the base. Also measures the KV-cache entries "
        "each method adds (from the cache tensors), its extra parameters, and that merged "
        "LoRA gives the unmerged outputs."
    ),
    claims=(
        "A merged LoRA adds no inference latency; unmerged LoRA does",
        "Adapters add inference latency (extra layers in series)",
        "Prompt and prefix tuning take up sequence length and add KV-cache entries",
        "Prefix tuning adds almost no compute at inference; adapters add more",
    ),
    params=PeftLatencyParams,
    run=run,
    time_limit_s=120.0,
    # Imported inside run (they hold the torch code and the report): part of the demo.
    extra_sources=("app.demos.peft_latency_model", "app.demos.peft_latency_report"),
    figure_names=figure_names,
)
