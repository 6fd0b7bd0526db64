"""The MLA demo's checks: what the layer experiment measured (``LayerMeasured``, plain
floats) and the checks of its figures against the identities (cache sizes, the latent
cache's decode, the absorbed attention, the equivalent MHA). No torch here; ``report``
turns the same figures into charts, tables and a conclusion."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demos.base import Check
from app.demos.mla.formulas import kv_elements_per_token
from app.demos.mla.params import (
    BASELINE_BITS,
    DEEPSEEK_67B_ELEMENTS,
    DEPLOYED_BITS,
    PRESETS,
    TOLERANCE,
    MLAParams,
)
from app.demos.text import q, t


@dataclass
class LayerMeasured:
    """What the layer experiment measured (plain floats: the report needs no torch)."""

    output_scale: float = 0.0  # max |u| of the full forward
    decode_diff: float = 0.0  # token-by-token decode from the latent cache vs full
    absorbed_decode_diff: float = 0.0  # the same, with the absorbed attention
    absorbed_diff: float = 0.0  # absorbed full forward vs full
    mha_diff: float = 0.0  # equivalent MHA vs full
    cache_names: tuple[str, ...] = ()  # what the cache object holds
    cache_shapes: tuple[tuple[int, ...], ...] = ()
    cache_bytes_measured: float = 0.0  # per token, one layer
    element_bytes: int = 0
    key_rank: int = 0
    value_rank: int = 0
    key_sigma: list[float] = field(default_factory=list)  # singular values of W_K


def _cache_size_checks(p: MLAParams, f: dict[str, float]) -> list[Check]:
    """The formulas: MLA's cache against MHA's, DeepSeek-V2's against GQA's and 67B's."""
    s = p.shape()
    checks = [
        Check(
            name=t("MLA caches fewer elements per token than MHA"),
            passed=f["mla_reduction_pct_vs_mha"] > 0,
            detail=t(
                "%(mla)s vs %(mha)s (%(pct)s less)",
                mla=int(f["kv_elements_per_token_mla"]),
                mha=int(f["kv_elements_per_token_mha"]),
                pct=q(f["mla_reduction_pct_vs_mha"], "pct"),
            ),  # fmt: skip
        ),
    ]
    if p.preset == "deepseek-v2":
        checks.append(
            Check(
                name=t(
                    r"DeepSeek-V2: $(d_c + d_h^R) l = \frac{9}{2} d_h l$, the cache of GQA with "
                    "2.25 groups (Table 1)"
                ),
                passed=s.d_latent + s.d_rope == 4.5 * s.head_dim
                and f["gqa_equivalent_groups"] == 2.25,
                detail=t(
                    r"latent plus RoPE key $d_c + d_h^R$ = %(sum)s, $d_h$ = %(dh)s, "
                    "groups %(groups)s",
                    sum=s.d_latent + s.d_rope,
                    dh=s.head_dim,
                    groups=q(f["gqa_equivalent_groups"], "plain"),
                ),  # fmt: skip
            )
        )
    six_bit = f["deepseek_v2_vs_67b_reduction_pct_6bit"]
    same = f["deepseek_v2_vs_67b_reduction_pct_same_precision"]
    v2 = kv_elements_per_token(PRESETS["deepseek-v2"], 1)["mla"]
    checks.append(
        Check(
            name=t(
                "The paper's %(pct)s (vs DeepSeek 67B) is MLA plus 6-bit elements, not MLA alone",
                pct=q(93.3, "pct"),
            ),
            passed=round(six_bit, 1) == 93.3 and round(same, 1) != 93.3,
            detail=t(
                "DeepSeek-V2's %(v2)s elements at %(bits)s bits vs 67B's %(old)s at "
                "%(old_bits)s: %(six)s less; at equal precision %(same)s less",
                v2=v2,
                bits=DEPLOYED_BITS,
                old=DEEPSEEK_67B_ELEMENTS,
                old_bits=BASELINE_BITS,
                six=q(six_bit, "pct"),
                same=q(same, "pct"),
            ),  # fmt: skip
        )
    )
    return checks


def _cache_check(f: dict[str, float], m: LayerMeasured) -> Check:
    """What the small layer caches, measured against the formula."""
    shapes = zip(m.cache_names, m.cache_shapes, strict=True)
    cache = ", ".join(f"{name} {list(shape)}" for name, shape in shapes)
    return Check(
        name=t(
            r"The layer's cache holds only $c_{KV}$ and $k^R$: measured bytes per token = "
            r"$(d_c + d_h^R) \times$ bytes per element"
        ),
        passed=m.cache_names == ("c_kv", "k_rope")
        and m.cache_bytes_measured == f["cache_bytes_per_token_formula"],
        detail=t(
            "%(cache)s; %(measured)s measured, %(formula)s by the formula (MHA: %(mha)s)",
            cache=cache,
            measured=q(m.cache_bytes_measured, "bytes"),
            formula=q(f["cache_bytes_per_token_formula"], "bytes"),
            mha=q(f["layer_mha_cache_bytes_per_token_formula"], "bytes"),
        ),  # fmt: skip
    )


def _layer_checks(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> list[Check]:
    """The layer built here: what it caches, and that every form computes the same output."""
    tol = TOLERANCE * max(1.0, m.output_scale)
    return [
        _cache_check(f, m),
        Check(
            name=t("Decoding token by token from the latent cache gives the full forward's output"),
            passed=max(m.decode_diff, m.absorbed_decode_diff) <= tol,
            detail=t(
                r"max $|\Delta|$ %(rebuilt)s (K, V rebuilt), %(absorbed)s (absorbed); "
                "tolerance %(tol)s",
                rebuilt=q(m.decode_diff, "plain"),
                absorbed=q(m.absorbed_decode_diff, "plain"),
                tol=q(tol, "plain"),
            ),  # fmt: skip
        ),
        Check(
            name=t(
                r"MHA with full $W_K = W_{UK} W_{DKV}$ and $W_V = W_{UV} W_{DKV}$ computes the "
                "same output"
            ),
            passed=m.mha_diff <= tol,
            detail=t(
                r"max $|\Delta|$ %(diff)s, outputs up to %(scale)s",
                diff=q(m.mha_diff, "plain"),
                scale=q(m.output_scale, "plain"),
            ),  # fmt: skip
        ),
        Check(
            name=t(
                r"Absorbed form ($W_{UK}$ folded into the queries, $W_{UV}$ applied after "
                r"attention, as if merged into $W_O$) computes the same output"
            ),
            passed=m.absorbed_diff <= tol,
            detail=t(r"max $|\Delta|$ %(diff)s", diff=q(m.absorbed_diff, "plain")),
        ),
        Check(
            name=t(
                r"$\mathrm{rank}(W_{UK} W_{DKV}) = d_c < \min(d, n_h d_h)$, like LoRA's "
                r"$\mathrm{rank}(BA) \le r$"
            ),
            passed=m.key_rank == m.value_rank == p.layer_d_latent
            and m.key_rank < f["key_projection_full_rank"],
            detail=t(
                r"key rank %(key)s, value rank %(value)s, $d_c$ = %(dc)s, full rank %(full)s",
                key=m.key_rank,
                value=m.value_rank,
                dc=p.layer_d_latent,
                full=int(f["key_projection_full_rank"]),
            ),  # fmt: skip
        ),
    ]


def checks_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> list[Check]:
    return _cache_size_checks(p, f) + _layer_checks(p, f, m)
