"""Loss spikes: where they come from and what stops them.

The story: a tiny character-level GPT learns the question bank's own answers (handed in
by the worker from the content folder: no downloads). The user sets up a problem (a
learning rate too large, fp16 without a gradient scaler, batches of random characters
from a chosen step) and the remedies (warmup, gradient clipping, a guard that skips a
batch whose loss spikes). Two arms train from the same init on the same batches at the
same learning rate and precision: *baseline*, with every remedy off, and *configured*,
the parameters as given, so one run shows what the remedies changed; fp32, bf16, fp16
and fp16 with a GradScaler are compared across runs, helped by the largest activation
each run produced against fp16's largest value, 65504. A spike is a step whose loss is
NaN/inf or above k times the median of the previous losses.

The answers arrive as text through ``RunContext.inputs["answers"]`` (the demo declares
``inputs=("answers",)``; their digest joins the cache key). torch is imported inside
``run`` (the model and the loop live in ``model``): the web process imports this module
for the catalogue and must not load torch.
"""

from __future__ import annotations

from collections.abc import Callable

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.loss_spikes.charts import LOSS
from app.demos.loss_spikes.corpus import build_corpus
from app.demos.loss_spikes.logs import PROBE, Measured
from app.demos.loss_spikes.params import (
    BATCH,
    CONTEXT,
    D_MODEL,
    N_HEAD,
    N_LAYER,
    ArmConfig,
    LossSpikesParams,
)
from app.demos.loss_spikes.report import figure_names, result_of
from app.demos.text import N_


def run(params: LossSpikesParams, ctx: RunContext) -> DemoResult:
    import copy
    import dataclasses

    import torch

    from app.demos.loss_spikes.model import build_model, draw_batches, train_arm

    p = params
    corpus = build_corpus(ctx.inputs["answers"])
    configured = ArmConfig(
        lr=p.lr,
        warmup_steps=p.warmup_steps,
        clip=p.clip,
        precision=p.precision,
        skip_guard=p.skip_guard,
        spike_k=p.spike_k,
        median_window=p.median_window,
    )
    baseline = dataclasses.replace(configured, warmup_steps=0, clip=0.0, skip_guard=False)
    identical = baseline == configured
    total = p.steps * (1 if identical else 2)
    done = 0

    def on_step(arm: str) -> Callable[[int, float], None]:
        # Each arm's loss under its own name: the live chart draws two lines, so the
        # restart of the configured arm from the initial loss does not look like a spike.
        def report(step: int, loss: float) -> None:
            nonlocal done
            done += 1
            if step % 10 == 0 or done == total:
                ctx.progress(done, total, **{LOSS[arm]: loss})

        return report

    # Everything random comes from one CPU generator: the init, the batch order and the
    # corrupted batch, so both arms (and both devices) see the same numbers.
    gen = torch.Generator().manual_seed(p.seed)
    init_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen).item())
    ids = torch.tensor(corpus.ids)
    batches = draw_batches(ids, p.steps, BATCH, CONTEXT, gen, p.corrupt_steps)
    model = build_model(len(corpus.vocab), CONTEXT, D_MODEL, N_LAYER, N_HEAD, init_seed)
    models = (model.to(ctx.device), copy.deepcopy(model).to(ctx.device))
    log_baseline = train_arm(models[0], batches, baseline, ctx.device, on_step("baseline"))
    log_configured = (
        log_baseline
        if identical
        else train_arm(models[1], batches, configured, ctx.device, on_step("configured"))
    )
    m = Measured(
        corpus_chars=len(corpus.ids),
        vocab_size=len(corpus.vocab),
        unk_chars=corpus.unk_chars,
        identical=identical,
        baseline=log_baseline,
        configured=log_configured,
        fp16_of_probe=torch.tensor(PROBE).half().item(),
        bf16_of_probe=torch.tensor(PROBE).bfloat16().item(),
    )
    return result_of(p, m)


DEMO = Demo(
    name="loss_spikes",
    title=N_("Loss spikes: where they come from and what stops them"),
    summary=N_(
        "Trains a tiny character-level GPT on the question bank's own answers twice from the "
        "same init on the same batches, both at the chosen learning rate and precision (fp32, "
        "bf16, or fp16 with or without a gradient scaler) and with the same batches of random "
        "characters injected at a chosen step: a baseline with every remedy off, and the "
        "configured run with warmup, gradient clipping and the skip-the-batch guard as set. "
        "Loss and gradient-norm curves for both arms, spikes "
        "(a loss above k × its running median) marked, skipped steps shown, and fp16's "
        "overflow at 65504 against bf16's range."
    ),
    claims=(
        "Loss spikes come from a too-large learning rate, fp16 overflow or bad data",
        "Warmup, gradient clipping, bf16 and skipping bad batches stop loss spikes",
        "fp16 overflows past 65504 where bf16 does not; a gradient scaler skips the steps "
        "whose gradients overflow",
    ),
    params=LossSpikesParams,
    run=run,
    time_limit_s=120.0,
    inputs=("answers",),
    topics=("Loss 突增", "训练稳定性"),
    figure_names=figure_names,
    live_chart=True,  # two loss curves over the steps, one per arm
)
