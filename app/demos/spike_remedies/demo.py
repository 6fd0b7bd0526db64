"""Loss-spike remedies, tested: loss_spikes' tiny character GPT on the bank's answers
(``RunContext.inputs["answers"]``), trained from one init on the same batches (one of
random characters, if asked) by a reference arm (AdamW, constant lr, LayerNorm, init std
0.02, no remedy) and arms that change one thing each: SGD, clipping on SGD and AdamW,
cosine decay, a small or large init, RMSNorm, PaLM's rewind-and-skip. Plus Adam's second
moment around the bad batch and the fp16 softmax overflow. torch is imported in ``run``.
"""

from __future__ import annotations

from collections.abc import Callable

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.loss_spikes.corpus import build_corpus
from app.demos.spike_remedies.params import BATCH, CONTEXT, SpikeRemediesParams
from app.demos.spike_remedies.report import Measured, figure_names, result_of
from app.demos.spike_remedies.summary import ARM_TITLES
from app.demos.text import N_


def run(params: SpikeRemediesParams, ctx: RunContext) -> DemoResult:
    import torch

    from app.demos.loss_spikes.model import draw_batches
    from app.demos.spike_remedies.model import build, softmax_check, train

    p = params
    corpus = build_corpus(ctx.inputs["answers"])
    arms = p.arms()
    total, done = p.steps * len(arms), 0

    def on_step(arm: str) -> Callable[[int, float], None]:
        # Each arm's loss under its own name: one live line per arm, so the next arm's
        # restart from the initial loss is not drawn as a spike.
        def report(step: int, loss: float) -> None:
            nonlocal done
            done += 1
            if step % 10 == 0 or done == total:
                ctx.progress(done, total, **{ARM_TITLES[arm]: loss})

        return report

    # One CPU generator: batches first, then one init seed (each arm redraws from it, so
    # arms differing only in optimizer or schedule start from the same weights).
    gen = torch.Generator().manual_seed(p.seed)
    corrupt = range(p.corrupt_step, p.corrupt_step + 1) if p.corrupt_step else range(0)
    batches = draw_batches(torch.tensor(corpus.ids), p.steps, BATCH, CONTEXT, gen, corrupt)
    init_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen).item())
    logs = {}
    for arm in arms:
        model = build(len(corpus.vocab), arm, torch.Generator().manual_seed(init_seed))
        logs[arm.name] = train(model, batches, arm, p, ctx.device, on_step(arm.name))
    return result_of(p, Measured(logs=logs, softmax=softmax_check(ctx.device)))


DEMO = Demo(
    name="spike_remedies",
    title=N_("Loss-spike remedies, tested"),
    summary=N_(
        "A tiny character-level GPT on the bank's answers, trained from one init on the same "
        "batches (one of random characters, if asked) at a spike-prone learning rate: AdamW "
        "with no remedy against arms that change one thing each — SGD, gradient clipping on "
        "SGD and on AdamW, cosine decay instead of a constant lr, a small or large init std, "
        "RMSNorm instead of LayerNorm, and PaLM's rewind-and-skip. Per arm: the largest loss "
        "over the initial one, the final loss and the spikes counted; Adam's second moment "
        "around the bad batch and how it damps the updates after it; and why softmax must "
        "subtract the max in fp16 (exp(12) > 65504)."
    ),
    claims=(
        "A lower learning rate or cosine decay reduces loss spikes",
        "Switching the optimizer helps against loss spikes",
        "Checking the init scale helps against loss spikes",
        "RMSNorm is more stable than LayerNorm",
        "log/softmax must avoid numerical overflow",
    ),
    params=SpikeRemediesParams,
    run=run,
    time_limit_s=120.0,
    uses=("app.demos.loss_spikes",),
    topics=("Loss 突增", "训练稳定性"),
    inputs=("answers",),
    figure_names=figure_names,
    live_chart=True,  # one loss curve per arm over the steps
)
