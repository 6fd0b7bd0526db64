"""MLA: bytes and FLOPs per decoded token, and what converting MHA costs.

(a) By formula (``formulas``), for DeepSeek-V2's shape or a custom one: per decoded token
and layer, the KV bytes read per cached token (MHA, GQA, MQA, MLA) and the matmul FLOPs
of MHA, of MLA rebuilding K and V from the latent and of absorbed MLA, at 1K–128K tokens,
with the context where absorbed MLA's FLOPs equal MHA's. The formulas are checked against
``torch.utils.flop_counter.FlopCounterMode`` counting a real decode step of small layers.
(b) Measured (``convert``): an MHA layer, at init and after training on a copy task,
converted to MLA by a truncated SVD of [W_K; W_V] at several latents, with the output
error each costs and what a short fine-tune recovers.

No torch at module level: the web process imports this module for the catalogue.
"""

from __future__ import annotations

import dataclasses

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.mla_cost.formulas import costs
from app.demos.mla_cost.params import CHECK_CONTEXTS, CHECK_SHAPE, FLOP_SCHEMES, MLACostParams
from app.demos.mla_cost.report import ArmFigures, Measured, figure_names, result_of
from app.demos.text import N_


def run(params: MLACostParams, ctx: RunContext) -> DemoResult:
    from app.demos.mla_cost.convert import convert
    from app.demos.mla_cost.layers import count_decode_flops

    p = params
    latents = p.latents()
    total, done = 1 + 2 * len(latents), 0

    def on_step() -> None:
        nonlocal done
        done += 1
        ctx.progress(done, total)

    worst = 0.0
    counted: dict[str, float] = {}
    for shape in (CHECK_SHAPE, dataclasses.replace(CHECK_SHAPE, q_latent=0)):
        got = count_decode_flops(shape, CHECK_CONTEXTS, p.seed, ctx.device)
        counted = counted or got  # the figures show the query-latent shape's counts
        for k, cost in costs(shape).items():
            for T in CHECK_CONTEXTS:
                worst = max(worst, abs(got[f"{k}_ctx{T}"] - cost.at(T)) / cost.at(T))
    assert set(FLOP_SCHEMES) == set(costs(CHECK_SHAPE))
    on_step()
    c = convert(
        d=p.conv_d_model, heads=p.conv_heads, head_dim=p.conv_head_dim, latents=latents,
        train_steps=p.train_steps, ft_steps=p.ft_steps, lr=p.lr, seed=p.seed,
        device=ctx.device, on_step=on_step,
    )  # fmt: skip
    arms = {
        name: ArmFigures(**dataclasses.asdict(getattr(c, name))) for name in ("random", "trained")
    }
    m = Measured(
        counted=counted, max_rel_diff_formula=worst, arms=arms, train_losses=c.train_losses
    )
    return result_of(p, m)


DEMO = Demo(
    name="mla_cost",
    title=N_("MLA: bytes and FLOPs per decoded token, and what converting MHA costs"),
    summary=N_(
        "Per decoded token and layer, for DeepSeek-V2's shape or a custom one: the KV bytes "
        "read per cached token with MHA, GQA, MQA and MLA, and the matmul FLOPs of MHA, of "
        "MLA rebuilding $K$ and $V$ from its latent, and of MLA with $W_{UK}$ absorbed into the "
        "query and $W_{UV}$ applied after attention, from 1K to 128K tokens of context, with "
        "the context where absorbed MLA's FLOPs equal MHA's. The formulas are checked against "
        "PyTorch's FLOP counter on a real decode step of small layers. Then an MHA layer, "
        "random and trained on a copy task, is converted to MLA by a truncated SVD of "
        "$[W_K; W_V]$ (TransMLA/MHA2MLA-style, without RoPE) at several latent sizes: the "
        "relative output error each costs, the task loss, and what a short fine-tune "
        "recovers."
    ),
    claims=(
        "MLA lowers the KV cache bytes read per decoded token",
        "MLA lowers inference compute as well as storage",
        "Absorbing W_UK and W_UV avoids rebuilding K and V at inference",
        "An MHA model can't become MLA without changing its layers: the SVD conversion "
        "costs output error unless the latent is full rank, and needs fine-tuning",
    ),
    params=MLACostParams,
    run=run,
    time_limit_s=120.0,
    uses=("app.demos.mla",),
    figure_names=figure_names,
    live_chart=False,  # a count of conversion steps, not a curve: a progress bar
    topics=("MLA",),
)
