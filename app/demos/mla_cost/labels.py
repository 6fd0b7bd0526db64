"""The mla_cost demo's figure labels (English msgids, translated on the page): every figure
``report.figure_names`` lists, per scheme, context and latent tried. No torch here."""

from __future__ import annotations

from app.demos.mla_cost.params import (
    CHECK_CONTEXTS,
    CONTEXT_GRID,
    FLOP_SCHEMES,
    FLOP_TITLES,
    SCHEMES,
    MLACostParams,
)
from app.demos.text import N_, Arg, Text, t

# The two converted layers, before and after fine-tuning. With train_steps = 0 the second
# is the random layer's weights again (measured on other batches): "untrained", not
# "trained".
ARM_TITLES = {
    ("random", False): N_("random layer"),
    ("random", True): N_("random layer, after fine-tuning"),
    ("trained", False): N_("trained layer"),
    ("trained", True): N_("trained layer, after fine-tuning"),
    ("untrained", False): N_("untrained layer (0 training steps)"),
    ("untrained", True): N_("untrained layer (0 training steps), after fine-tuning"),
}


def arm_title(p: MLACostParams, arm: str, *, after: bool = False) -> str:
    """The msgid naming converted layer ``arm`` (``random`` or ``trained``)."""
    shown = "untrained" if arm == "trained" and not p.train_steps else arm
    return ARM_TITLES[(shown, after)]


def _shape_labels() -> dict[str, Text]:
    return {
        "shape_d_model": t("formula shape: hidden size $d$"),
        "shape_n_heads": t("formula shape: heads $n_h$"),
        "shape_head_dim": t("formula shape: head dimension $d_h$"),
        "shape_d_latent": t("formula shape: KV latent $d_c$"),
        "shape_q_latent": t("formula shape: query latent $d_c'$ (0: none)"),
        "shape_d_rope": t("formula shape: RoPE key dimension $d_h^R$"),
        "shape_gqa_kv_heads": t("GQA groups $n_g$"),
        "bytes_per_element": t("bytes per cache element"),
    }


def _flop_labels() -> dict[str, Text]:
    labels: dict[str, Text] = {
        f"kv_bytes_per_token_{k}": t(
            "%(scheme)s: KV bytes read per cached token, one layer", scheme=k.upper()
        )
        for k in SCHEMES
    }
    for k in FLOP_SCHEMES:
        scheme = t(FLOP_TITLES[k])
        labels[f"flops_proj_per_token_{k}"] = t(
            "%(scheme)s: FLOPs per decoded token that do not grow with the context",
            scheme=scheme,
        )
        labels[f"flops_attn_per_ctx_token_{k}"] = t(
            "%(scheme)s: attention FLOPs per cached token", scheme=scheme
        )
        for n in CONTEXT_GRID:
            labels[f"flops_per_token_{k}_ctx{n}"] = t(
                "%(scheme)s: FLOPs per decoded token at %(n)s tokens of context",
                scheme=scheme,
                n=n,
            )
    for n in CONTEXT_GRID:
        labels[f"flops_ratio_mla_absorbed_over_mha_ctx{n}"] = t(
            "absorbed MLA's FLOPs over MHA's at %(n)s tokens of context", n=n
        )
    labels["attn_flops_per_kv_byte_mha"] = t(
        "%(scheme)s: attention FLOPs per KV byte read", scheme="MHA"
    )
    labels["attn_flops_per_kv_byte_mla_absorbed"] = t(
        "%(scheme)s: attention FLOPs per KV byte read", scheme=t(FLOP_TITLES["mla_absorbed"])
    )
    return labels


def _check_labels() -> dict[str, Text]:
    labels: dict[str, Text] = {
        "flop_check_naive_vs_absorbed_max_abs_diff": t(
            r"counted small layer: max $|\Delta|$, naive vs absorbed MLA output"
        ),
    }
    for k in FLOP_SCHEMES:
        scheme = t(FLOP_TITLES[k])
        for T in CHECK_CONTEXTS:
            labels[f"flop_check_counted_{k}_ctx{T}"] = t(
                "small layer, %(scheme)s: FLOPs counted by FlopCounterMode at $T$ = %(T)s",
                scheme=scheme,
                T=T,
            )
            labels[f"flop_check_formula_{k}_ctx{T}"] = t(
                "small layer, %(scheme)s: FLOPs by the formula at $T$ = %(T)s",
                scheme=scheme,
                T=T,
            )
    return labels


def _conversion_labels(p: MLACostParams) -> dict[str, Text]:
    labels: dict[str, Text] = {
        "conv_full_rank": t("converted layer: full rank of $[W_K; W_V]$"),
        # With no training steps the figure is the untrained layer's held-out loss.
        "train_final_loss": t("copy task: the MHA model's last training loss")
        if p.train_steps
        else t("copy task: the untrained MHA model's held-out loss (no training steps)"),
    }
    for k in p.latents():
        labels[f"conv_cache_fraction_dc{k}"] = t(
            "$d_c$ = %(k)s: the latent's cache over MHA's", k=k
        )
    for arm in ("random", "trained"):
        layer = t(arm_title(p, arm))
        labels[f"task_loss_mha_{arm}"] = t(
            "%(layer)s: held-out copy-task loss with MHA", layer=layer
        )
        for k in p.latents():
            per: dict[str, Arg] = {"layer": layer, "k": k}
            labels |= {
                f"svd_rel_error_{arm}_dc{k}": t(
                    "%(layer)s, $d_c$ = %(k)s: relative output error after the SVD", **per
                ),
                f"svd_rel_error_after_ft_{arm}_dc{k}": t(
                    "%(layer)s, $d_c$ = %(k)s: relative output error after fine-tuning", **per
                ),
                f"kv_energy_kept_{arm}_dc{k}": t(
                    r"%(layer)s, $d_c$ = %(k)s: share of $\sum \sigma^2$ of $[W_K; W_V]$ kept",
                    **per,
                ),
                f"task_loss_mla_{arm}_dc{k}": t(
                    "%(layer)s, $d_c$ = %(k)s: held-out copy-task loss after the SVD", **per
                ),
                f"task_loss_mla_after_ft_{arm}_dc{k}": t(
                    "%(layer)s, $d_c$ = %(k)s: held-out copy-task loss after fine-tuning", **per
                ),
            }
    return labels


def figure_labels(p: MLACostParams) -> dict[str, Text]:
    return {
        "kv_bytes_ratio_mha_over_mla": t("MHA's KV bytes over MLA's"),
        "flops_attn_ratio_mla_absorbed_over_mha": t(
            "absorbed MLA's attention FLOPs per cached token over MHA's"
        ),
        "flops_crossover_context": t("context where absorbed MLA's FLOPs equal MHA's (tokens)"),
        "flops_crossover_context_naive_vs_absorbed": t(
            "context where K/V-rebuilding MLA's FLOPs equal absorbed MLA's (tokens)"
        ),
        "flop_check_max_rel_diff": t("FLOP formulas vs FlopCounterMode: largest relative gap"),
        "task_loss_chance": t("copy task: loss of a uniform guess"),
        **_shape_labels(),
        **_flop_labels(),
        **_check_labels(),
        **_conversion_labels(p),
    }
