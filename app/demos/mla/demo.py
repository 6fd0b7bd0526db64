"""MLA's KV cache: a low-rank latent instead of keys and values.

The story, in two parts. First the arithmetic of DeepSeek-V2's Table 1 (arXiv 2405.04434,
§2.1.4): per token and over all l layers, MHA caches 2·n_h·d_h·l elements, GQA 2·n_g·d_h·l,
MQA 2·d_h·l and MLA (d_c + d_h^R)·l, where d_c is the latent (kv_lora_rank) and d_h^R the
decoupled RoPE key (qk_rope_head_dim); in bytes and in GB for a context and a batch, and
MLA's reduction against each. Then a small MLA layer (``layers``, imported inside
``run``) that caches only the latent and the RoPE key: its cache is measured, decoding
from it is compared with the full forward, an ordinary MHA built from W_K = W_UK W_DKV and
W_V = W_UV W_DKV is shown to compute the same function, so is the "absorbed" form that
attends to the latent directly, and the rank of W_K is measured: at most d_c, as LoRA's
ΔW = B A has rank at most r.

No torch at module level: the web process imports this module for the catalogue.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.mla.formulas import arithmetic_figures
from app.demos.mla.params import LAYER_BATCH, MLAParams
from app.demos.mla.report import figure_names, result_of
from app.demos.text import N_


def run(params: MLAParams, ctx: RunContext) -> DemoResult:
    from app.demos.mla.layers import measure_layer

    p = params
    total = 2 * p.layer_seq_len + 3  # full forward, two decodes, identities, ranks
    done = 0
    f = arithmetic_figures(p)

    def on_step() -> None:
        nonlocal done
        done += 1
        ctx.progress(done, total, mla_reduction_pct_vs_mha=f["mla_reduction_pct_vs_mha"])

    m = measure_layer(
        d_model=p.layer_d_model, n_heads=p.layer_heads, head_dim=p.layer_head_dim,
        d_latent=p.layer_d_latent, d_rope=p.layer_d_rope, seq_len=p.layer_seq_len,
        batch=LAYER_BATCH, seed=p.seed, device=ctx.device, on_step=on_step,
    )  # fmt: skip
    return result_of(p, f, m)


DEMO = Demo(
    name="mla_kv_cache",
    title=N_("MLA's KV cache: a low-rank latent instead of keys and values"),
    summary=N_(
        "KV cache per token for MHA, GQA, MQA and Multi-head Latent Attention (DeepSeek-V2's "
        "Table 1: $(d_c + d_h^R) l$ elements for MLA), in bytes and in GB for a context and a "
        "batch, with DeepSeek-V2's shape as a preset or a custom one. Then a small MLA layer "
        "that caches only the latent $c_{KV}$ and the decoupled RoPE key: its cache is "
        "measured, token-by-token decoding from it matches the full forward, an ordinary MHA "
        "with the full projections $W_K = W_{UK} W_{DKV}$ and $W_V = W_{UV} W_{DKV}$ computes "
        "the same output, so does the absorbed form that never rebuilds $K$ or $V$, and the "
        "rank of $W_K$ is at most $d_c$, the way LoRA's $\\Delta W = BA$ has rank at most $r$."
    ),
    claims=(
        "MLA, like LoRA, compresses through a low-rank latent",
        "MLA caches only a latent vector (plus a small RoPE key) instead of per-head keys and "
        "values, far less than MHA",
        "DeepSeek-V2's MLA cache equals GQA with only 2.25 groups",
        "W_UK can be absorbed into the queries and W_UV into W_O, so MLA need not rebuild K and "
        "V at inference",
        "DeepSeek-V2 reduces the KV cache by 93.3% compared with DeepSeek 67B",
    ),
    params=MLAParams,
    run=run,
    time_limit_s=60.0,
    figure_names=figure_names,
    live_chart=False,  # a count of decoding steps, not a curve: a progress bar
    topics=("MLA", "LoRA"),
)
