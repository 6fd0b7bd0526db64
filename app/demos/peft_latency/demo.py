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

torch (and ``model`` and ``measure``, which import it) is imported inside ``run``: the
web process imports this module for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.peft_latency.params import PeftLatencyParams, seq_lengths
from app.demos.peft_latency.report import names_of
from app.demos.peft_latency.result import result_of
from app.demos.text import N_


def run(params: PeftLatencyParams, ctx: RunContext) -> DemoResult:
    from app.demos.peft_latency.measure import measure
    from app.demos.peft_latency.model import intra_op_threads

    # One CPU thread: at batch 1 on a shared machine, two threads that keep losing their
    # core stall each other at every op (on a busy two-core machine the slowest run took
    # 218 s on two threads against 24 s on one, its ratios off by up to 4×). The worker's
    # setting is restored after.
    with intra_op_threads(1 if ctx.device == "cpu" else 0):
        return result_of(params, measure(params, ctx))


def figure_names(params: PeftLatencyParams) -> list[str]:
    """Per variant: extra parameters, KV tokens, KV entries and query tokens, the latency
    ratio at the longest length and its geometric mean over the lengths, and per length its
    ms and ratio; the same for decode when it is on; the numerical identities; the base
    model's ms per length, parameters and KV entries; the threads and summary length."""
    return names_of(params, seq_lengths(params))


DEMO = Demo(
    name="peft_latency",
    title=N_("Where PEFT methods cost time at inference"),
    summary=N_(
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
        N_("A merged LoRA adds no inference latency; unmerged LoRA does"),
        N_("Adapters add inference latency (extra layers in series)"),
        N_("Prompt and prefix tuning take up sequence length and add KV-cache entries"),
        N_("Prefix tuning adds almost no compute at inference; adapters add more"),
    ),
    params=PeftLatencyParams,
    run=run,
    time_limit_s=120.0,
    # It runs LoRA's layer (app.demos.lora.layers): LoRA's code is part of this demo.
    uses=("app.demos.lora",),
    figure_names=figure_names,
    # Progress counts timing rounds: a bar, not a curve.
    live_chart=False,
    topics=("LoRA", "PEFT", "Adapter", "Prompt Tuning", "Prefix Tuning", "参数高效微调"),
)
