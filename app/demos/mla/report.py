"""The MLA demo's report: the layer experiment's figures, charts, tables
and a conclusion quoting the numbers (the checks: ``checks``). No torch here."""

from __future__ import annotations

from app.demos.base import DemoResult, Series
from app.demos.mla.checks import LayerMeasured, checks_of
from app.demos.mla.params import CONTEXT_GRID, GB, SCHEME_TITLES, SCHEMES, MLAParams
from app.demos.text import Cell, Table, Text, Unit, q, t


def layer_figures(p: MLAParams, m: LayerMeasured) -> dict[str, float]:
    return {
        "layer_output_max_abs": m.output_scale,
        "decode_vs_full_max_abs_diff": m.decode_diff,
        "absorbed_decode_vs_full_max_abs_diff": m.absorbed_decode_diff,
        "absorbed_max_abs_diff": m.absorbed_diff,
        "mla_vs_mha_max_abs_diff": m.mha_diff,
        "key_projection_rank": float(m.key_rank),
        "value_projection_rank": float(m.value_rank),
        "latent_dim": float(p.layer_d_latent),
        "key_projection_full_rank": float(min(p.layer_d_model, p.layer_heads * p.layer_head_dim)),
        "cache_bytes_per_token_measured": m.cache_bytes_measured,
        "cache_bytes_per_token_formula": float(
            (p.layer_d_latent + p.layer_d_rope) * m.element_bytes
        ),
        "layer_mha_cache_bytes_per_token_formula": float(
            2 * p.layer_heads * p.layer_head_dim * m.element_bytes
        ),
    }


def series_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> list[Series]:
    s = p.shape()
    grid = sorted({*CONTEXT_GRID, p.context_len})
    per_token = t(
        "KV cache per token (%(layers)s layers, %(dtype)s)", layers=s.layers, dtype=p.dtype
    )
    schemes: list[Text | str] = [SCHEME_TITLES[k] for k in SCHEMES]
    series = [
        # One series per scheme, so the legend names the bars.
        Series(
            name=SCHEME_TITLES[k], x=[float(i)], y=[f[f"kv_bytes_per_token_{k}"]], kind="bar",
            x_label=t("attention scheme"), y_label=per_token, log_y=True,
            chart="kv_bytes_per_token", categories=schemes, unit="bytes",
        )
        for i, k in enumerate(SCHEMES)
    ]  # fmt: skip
    series += [
        Series(
            name=SCHEME_TITLES[k], x=[float(n) for n in grid],
            y=[f[f"kv_bytes_per_token_{k}"] * n * p.batch / GB for n in grid],
            x_label=t("context length (tokens)"),
            y_label=t("KV cache, GB (batch %(batch)s)", batch=p.batch),
            log_y=True, chart="kv_cache_vs_context", unit="gb",
        )
        for k in SCHEMES
    ]  # fmt: skip
    series.append(
        Series(
            name=t("singular values of the implied key projection"),
            x=[float(i) for i in range(1, len(m.key_sigma) + 1)],
            y=m.key_sigma,
            kind="bar",
            x_label=t("index i (largest first)"),
            y_label=t("singular value"),
            log_y=min(m.key_sigma) > 0,  # a log axis cannot draw an exact zero
            chart="key_projection_singular_values",
            unit="plain",
        )
    )
    return series


def model_name(p: MLAParams) -> Text | str:
    return "DeepSeek-V2" if p.preset == "deepseek-v2" else t("The custom model")


def _versus(pct: float, scheme: str) -> Text:
    """MLA's cache against another scheme's, with the sign said in words."""
    if pct >= 0:
        return t("%(pct)s less than %(scheme)s", pct=q(pct, "pct"), scheme=scheme)
    return t("%(pct)s more than %(scheme)s", pct=q(-pct, "pct"), scheme=scheme)


def _less_or_more(pct: float) -> Text:
    if pct >= 0:
        return t("%(pct)s less", pct=q(pct, "pct"))
    return t("%(pct)s more", pct=q(-pct, "pct"))


def conclusion_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> Text:
    s = p.shape()
    worst = max(m.decode_diff, m.absorbed_decode_diff, m.mha_diff, m.absorbed_diff)
    return t(
        r"%(model)s ($l$ = %(l)s, $n_h$ = %(nh)s, $d_h$ = %(dh)s, $d_c$ = %(dc)s, $d_h^R$ = "
        "%(dr)s) caches %(mla)s elements per token with MLA against %(mha)s with MHA: %(pct)s "
        "less (%(vs_gqa)s with %(groups)s groups, %(vs_mqa)s), %(gb)s instead of %(mha_gb)s "
        "at %(context)s tokens × %(batch)s in %(dtype)s. The small layer caches only "
        r"$c_{KV}$ and $k^R$ (%(bytes)s per token, as the formula says); decoding from that "
        "cache, the equivalent MHA and the absorbed form all match the full forward to "
        r"%(worst)s. Its implied key projection $W_{UK} W_{DKV}$ has rank %(rank)s = $d_c$ "
        r"out of a possible %(full)s: a low-rank factorisation, as LoRA's $\Delta W = BA$ is.",
        model=model_name(p), l=s.layers, nh=s.n_heads, dh=s.head_dim, dc=s.d_latent,
        dr=s.d_rope, mla=int(f["kv_elements_per_token_mla"]),
        mha=int(f["kv_elements_per_token_mha"]), pct=q(f["mla_reduction_pct_vs_mha"], "pct"),
        vs_gqa=_versus(f["mla_reduction_pct_vs_gqa"], "GQA"), groups=p.gqa_kv_heads,
        vs_mqa=_versus(f["mla_reduction_pct_vs_mqa"], "MQA"),
        gb=q(f["kv_cache_gb_mla"], "gb"), mha_gb=q(f["kv_cache_gb_mha"], "gb"),
        context=p.context_len, batch=p.batch, dtype=p.dtype,
        bytes=q(m.cache_bytes_measured, "bytes"), worst=q(worst, "plain"), rank=m.key_rank,
        full=int(f["key_projection_full_rank"]),
    )  # fmt: skip


def headline_of(p: MLAParams, f: dict[str, float]) -> Text:
    return t(
        "%(model)s's MLA caches %(mla)s elements per token, %(pct)s less than MHA's %(mha)s: "
        "%(gb)s instead of %(mha_gb)s at %(context)s tokens in %(dtype)s. MLA's cache equals "
        "GQA with %(groups)s groups (%(vs_mqa)s, which keeps one key/value head).",
        model=model_name(p), mla=q(f["kv_elements_per_token_mla"], "count"),
        pct=q(f["mla_reduction_pct_vs_mha"], "pct"),
        mha=q(f["kv_elements_per_token_mha"], "count"), gb=q(f["kv_cache_gb_mla"], "gb"),
        mha_gb=q(f["kv_cache_gb_mha"], "gb"), context=p.context_len,
        dtype=p.dtype, groups=q(f["gqa_equivalent_groups"], "plain"),
        vs_mqa=_versus(f["mla_reduction_pct_vs_mqa"], "MQA"),
    )  # fmt: skip


def summary_of(p: MLAParams, f: dict[str, float]) -> Table:
    titles: dict[str, Text | str] = {"gqa": t("GQA, %(groups)s groups", groups=p.gqa_kv_heads)}
    rows: list[list[Cell]] = [
        [
            titles.get(k, SCHEME_TITLES[k]),
            q(f[f"kv_elements_per_token_{k}"], "count"),
            q(f[f"kv_bytes_per_token_{k}"], "bytes"),
            q(f[f"kv_cache_gb_{k}"], "gb"),
            t("—") if k == "mla" else _less_or_more(f[f"mla_reduction_pct_vs_{k}"]),
        ]  # fmt: skip
        for k in SCHEMES
    ]
    columns: list[Text | str] = [
        t("Scheme"), t("Elements per token"), t("Bytes per token"),
        t("Cache at %(context)s tokens", context=p.context_len),
        t("MLA's cache against it"),
    ]  # fmt: skip
    return Table(columns=columns, rows=rows)


def figure_units() -> dict[str, Unit]:
    units: dict[str, Unit] = {name: "count" for name in FIGURES if name.startswith("config_")}
    units["config_bytes_per_element"] = "bytes"
    for k in SCHEMES:
        units |= {
            f"kv_elements_per_token_{k}": "count",
            f"kv_bytes_per_token_{k}": "bytes",
            f"kv_cache_gb_{k}": "gb",
        }
    units |= {f"mla_reduction_pct_vs_{k}": "pct" for k in ("mha", "gqa", "mqa")}
    units |= {
        "gqa_equivalent_groups": "plain",
        "deepseek_67b_kv_elements_per_token": "count",
        "deepseek_v2_vs_67b_reduction_pct_same_precision": "pct",
        "deepseek_v2_vs_67b_reduction_pct_6bit": "pct",
        "layer_output_max_abs": "plain",
        "decode_vs_full_max_abs_diff": "plain",
        "absorbed_decode_vs_full_max_abs_diff": "plain",
        "absorbed_max_abs_diff": "plain",
        "mla_vs_mha_max_abs_diff": "plain",
        "key_projection_rank": "count",
        "value_projection_rank": "count",
        "latent_dim": "count",
        "key_projection_full_rank": "count",
        "cache_bytes_per_token_measured": "bytes",
        "cache_bytes_per_token_formula": "bytes",
        "layer_mha_cache_bytes_per_token_formula": "bytes",
    }
    return units


def figure_labels(p: MLAParams) -> dict[str, Text]:
    """Every figure's label (the names are the same whatever the params)."""
    labels = {
        f"mla_reduction_pct_vs_{k}": t(
            "MLA's cache smaller than %(scheme)s's by (negative: larger)", scheme=SCHEME_TITLES[k]
        )
        for k in ("mha", "gqa", "mqa")
    }
    for k in SCHEMES:
        scheme = SCHEME_TITLES[k]
        labels |= {
            f"kv_elements_per_token_{k}": t("%(scheme)s: cache elements per token", scheme=scheme),
            f"kv_bytes_per_token_{k}": t("%(scheme)s: cache bytes per token", scheme=scheme),
            f"kv_cache_gb_{k}": t(
                "%(scheme)s: cache at %(context)s tokens × batch %(batch)s",
                scheme=scheme, context=p.context_len, batch=p.batch,
            ),
        }  # fmt: skip
    labels |= {
        "config_layers": t("model: layers $l$"),
        "config_d_model": t("model: hidden size $d$"),
        "config_n_heads": t("model: attention heads $n_h$"),
        "config_head_dim": t("model: head dimension $d_h$"),
        "config_d_latent": t("model: KV latent $d_c$"),
        "config_d_rope": t("model: RoPE key dimension $d_h^R$"),
        "config_gqa_kv_heads": t("GQA: key/value heads (groups)"),
        "config_bytes_per_element": t("bytes per cache element (%(dtype)s)", dtype=p.dtype),
        "config_context_len": t("context length of the cache sizes (tokens)"),
        "config_batch": t("batch of the cache sizes (sequences)"),
        "config_key_projection_full_rank": t(r"model: full rank $\min(d, n_h d_h)$"),
        "gqa_equivalent_groups": t("GQA groups with MLA's cache size"),
        "deepseek_67b_kv_elements_per_token": t("DeepSeek 67B (GQA): cache elements per token"),
        "deepseek_v2_vs_67b_reduction_pct_same_precision": t(
            "DeepSeek-V2's cache smaller than DeepSeek 67B's by, at equal precision"
        ),
        "deepseek_v2_vs_67b_reduction_pct_6bit": t(
            "DeepSeek-V2's cache (6-bit elements) smaller than DeepSeek 67B's (16-bit) by"
        ),
    }
    return labels | _layer_labels()


def _layer_labels() -> dict[str, Text]:
    """The small layer's figures: its output, the identities' differences, ranks, bytes."""
    return {
        "layer_output_max_abs": t(
            "small layer: largest absolute value of the full forward's output"
        ),
        "decode_vs_full_max_abs_diff": t(
            r"small layer: max $|\Delta|$, decoding from the latent cache vs the full forward"
        ),
        "absorbed_decode_vs_full_max_abs_diff": t(
            r"small layer: max $|\Delta|$, absorbed decoding from the latent cache vs the "
            "full forward"
        ),
        "absorbed_max_abs_diff": t(
            r"small layer: max $|\Delta|$, absorbed form vs the full forward"
        ),
        "key_projection_rank": t(r"small layer: rank of $W_{UK} W_{DKV}$"),
        "value_projection_rank": t(r"small layer: rank of $W_{UV} W_{DKV}$"),
        "latent_dim": t(r"small layer: latent $d_c$"),
        "key_projection_full_rank": t(r"small layer: full rank $\min(d, n_h d_h)$"),
        "mla_vs_mha_max_abs_diff": t(r"small layer: max $|\Delta|$, MLA vs the equivalent MHA"),
        "cache_bytes_per_token_measured": t("small layer: cache bytes per token, measured"),
        "cache_bytes_per_token_formula": t(
            r"small layer: cache bytes per token by the formula, $(d_c + d_h^R) \times$ bytes "
            "per element"
        ),
        "layer_mha_cache_bytes_per_token_formula": t(
            r"small layer: MHA's cache bytes per token by the formula, $2 n_h d_h \times$ "
            "bytes per element"
        ),
    }


def result_of(p: MLAParams, f: dict[str, float], m: LayerMeasured) -> DemoResult:
    """``f``: the arithmetic figures; the layer's are added here."""
    f = f | layer_figures(p, m)
    return DemoResult(
        figures=f,
        series=series_of(p, f, m),
        checks=checks_of(p, f, m),
        conclusion=conclusion_of(p, f, m),
        headline=headline_of(p, f),
        summary=summary_of(p, f),
        figure_units=figure_units(),
        figure_labels=figure_labels(p),
    )


CONFIG = ("layers", "d_model", "n_heads", "head_dim", "d_latent", "d_rope", "gqa_kv_heads")
FIGURES = (
    *(f"config_{k}" for k in CONFIG),
    *("config_bytes_per_element", "config_context_len", "config_batch"),
    "config_key_projection_full_rank",
    *(
        f"kv_{u}_{k}"
        for k in SCHEMES
        for u in ("elements_per_token", "bytes_per_token", "cache_gb")
    ),
    *(f"mla_reduction_pct_vs_{k}" for k in ("mha", "gqa", "mqa")),
    "gqa_equivalent_groups",
    "deepseek_67b_kv_elements_per_token",
    "deepseek_v2_vs_67b_reduction_pct_same_precision",
    "deepseek_v2_vs_67b_reduction_pct_6bit",
    "layer_output_max_abs",
    *("decode_vs_full_max_abs_diff", "absorbed_decode_vs_full_max_abs_diff"),
    *("absorbed_max_abs_diff", "mla_vs_mha_max_abs_diff"),
    *("key_projection_rank", "value_projection_rank", "latent_dim", "key_projection_full_rank"),
    *("cache_bytes_per_token_measured", "cache_bytes_per_token_formula"),
    "layer_mha_cache_bytes_per_token_formula",
)


def figure_names(params: MLAParams) -> tuple[str, ...]:
    """The same names whatever the params (the preset only changes the values)."""
    return FIGURES
