"""The PEFT-latency demo's report: what ``demo.run`` measured, turned into
named figures (the claims feature reads them), checks against the parameter and KV-cache
formulas, charts and a conclusion quoting the numbers. No torch here: plain numbers in.

Names: ``<variant>`` is one of prompt, prefix, adapter, lora_unmerged, lora_merged; ``<T>``
a timed prompt length. ``<variant>_ms_seq<T>`` is the variant's prefill time (the min or the
median over the rounds, on the wall or the thread-CPU clock: the ``statistic`` and ``clock``
params) and ``latency_ratio_<variant>_seq<T>`` that over the base's at the same length;
``latency_ratio_<variant>`` is the ratio at the longest length timed (``summary_seq_len`` =
max_seq_len) and ``latency_ratio_<variant>_geomean`` the geometric mean of the ratios over
all timed lengths (steadier: several noisy measurements, not one). The ``decode_`` figures
are the same for one decoded token against a KV cache built from a prompt of length T.

Measured from the tensors of a prefill of the longest prompt: ``extra_kv_tokens_<variant>``
is the keys each layer's cache holds beyond the base's (prompt and prefix: n); the
``extra_kv_entries_<variant>`` the numbers the whole cache holds beyond the base's, tokens ×
layers × 2 (K and V) × d_model; ``extra_query_tokens_<variant>`` the positions added to the
sequence every layer processes (prompt: n, prefix: 0). ``extra_params_<variant>`` counts
parameters beyond the base's (merged LoRA: 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.demos.base import Check, Series
from app.demos.peft_latency.params import PeftLatencyParams
from app.demos.peft_latency.words import clock_name, model_name, statistic_name
from app.demos.text import Text, q, t

VARIANTS = ("prompt", "prefix", "adapter", "lora_unmerged", "lora_merged")
LORA_SHAPES = {  # (d_in, d_out) in units of d_model
    "q": (1, 1),
    "k": (1, 1),
    "v": (1, 1),
    "o": (1, 1),
    "fc": (1, 4),
    "proj": (4, 1),
}
LORA_TARGETS = {"qv": ("q", "v"), "qkvo": ("q", "k", "v", "o"), "all": tuple(LORA_SHAPES)}


@dataclass
class Measured:
    """What ``run`` measured; dicts keyed by model name ("base" or a variant)."""

    lengths: list[int]  # the timed prompt lengths, shortest first
    on_cuda: bool
    threads: int  # torch's intra-op threads while timing (one on CPU)
    clock: str  # "wall" or "thread_cpu"
    params: dict[str, int] = field(default_factory=dict)  # parameters of each model
    kv_tokens: dict[str, list[int]] = field(default_factory=dict)  # per layer, longest prompt
    kv_entries: dict[str, int] = field(default_factory=dict)  # numbers in the K and V cache
    query_tokens: dict[str, list[int]] = field(default_factory=dict)  # per layer
    logits_scale: float = 1.0  # max |unmerged logits|: fp32 rounding grows with it
    merged_diff: float = 0.0  # max |merged − unmerged| logits
    lora_change: float = 0.0  # max |unmerged − base| logits: merging is not trivial
    adapter_init_diff: float = 0.0  # max |fresh adapters − base| logits
    prefill_ms: dict[int, dict[str, float]] = field(default_factory=dict)  # T -> name -> ms
    decode_ms: dict[int, dict[str, float]] = field(default_factory=dict)


def expected_extra_params(p: PeftLatencyParams) -> dict[str, int]:
    """Each method's parameters beyond the base model's, from the formulas."""
    d, L, n, m, r = p.d_model, p.n_layers, p.n_virtual, p.bottleneck, p.lora_rank
    per_lora_layer = sum(
        r * (a * d + b * d) for a, b in (LORA_SHAPES[t] for t in LORA_TARGETS[p.lora_targets])
    )
    return {
        "prompt": n * d,  # n virtual token embeddings
        "prefix": L * 2 * n * d,  # n keys and n values per layer
        "adapter": L * 2 * (d * m + m + m * d + d),  # two (down + bias, up + bias) per layer
        "lora_unmerged": L * per_lora_layer,  # r (d_in + d_out) per adapted matrix
        "lora_merged": 0,  # folded into W
    }


def expected_extra_kv_tokens(p: PeftLatencyParams) -> dict[str, int]:
    return {v: p.n_virtual if v in ("prompt", "prefix") else 0 for v in VARIANTS}


def names_of(p: PeftLatencyParams, lengths: list[int]) -> list[str]:
    """Every figure a run with these params returns (see the module docstring)."""
    modes = ["", "decode_"] if p.decode else [""]
    names = ["summary_seq_len", "n_virtual", "torch_threads", "base_params", "kv_entries_base"]
    names += ["merged_max_abs_diff", "lora_max_output_change", "adapter_init_max_abs_diff"]
    for v in VARIANTS:
        names += [f"extra_params_{v}", f"extra_kv_tokens_{v}", f"extra_kv_entries_{v}"]
        names += [f"extra_query_tokens_{v}"]
        names += [f"{mode}latency_ratio_{v}{end}" for mode in modes for end in ("", "_geomean")]
    for mode in modes:
        for T in lengths:
            names.append(f"{mode}base_ms_seq{T}")
            for v in VARIANTS:
                names += [f"{mode}{v}_ms_seq{T}", f"{mode}latency_ratio_{v}_seq{T}"]
    return names


def ratios(ms: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    return {T: {v: by[v] / by["base"] for v in VARIANTS} for T, by in ms.items()}


@dataclass(frozen=True)
class Extras:
    """Each variant's additions over the base model, keyed by variant."""

    params: dict[str, int]
    kv: dict[str, float]  # KV tokens per layer (NaN unless every layer adds the same)
    query: dict[str, float]  # query tokens per layer, likewise
    entries: dict[str, int]  # numbers in the K and V cache

    @classmethod
    def of(cls, m: Measured) -> Extras:
        base_kv, base_q = m.kv_tokens["base"], m.query_tokens["base"]
        return cls(
            params={v: m.params[v] - m.params["base"] for v in VARIANTS},
            kv={v: _same_extra(m.kv_tokens[v], base_kv) for v in VARIANTS},
            query={v: _same_extra(m.query_tokens[v], base_q) for v in VARIANTS},
            entries={v: m.kv_entries[v] - m.kv_entries["base"] for v in VARIANTS},
        )


def timed_of(p: PeftLatencyParams, m: Measured) -> dict[str, dict[int, dict[str, float]]]:
    """The timings per mode: the figure-name prefix ("" prefill, "decode_") -> T -> name -> ms."""
    return {"": m.prefill_ms, "decode_": m.decode_ms} if p.decode else {"": m.prefill_ms}


def _timing_figures(p: PeftLatencyParams, m: Measured) -> dict[str, float]:
    longest, figures = m.lengths[-1], {}
    for mode, ms in timed_of(p, m).items():
        rs = ratios(ms)
        for v in VARIANTS:
            figures[f"{mode}latency_ratio_{v}"] = rs[longest][v]
            logs = [math.log(rs[T][v]) for T in m.lengths]
            figures[f"{mode}latency_ratio_{v}_geomean"] = math.exp(sum(logs) / len(logs))
        for T in m.lengths:
            figures[f"{mode}base_ms_seq{T}"] = ms[T]["base"]
            for v in VARIANTS:
                figures[f"{mode}{v}_ms_seq{T}"] = ms[T][v]
                figures[f"{mode}latency_ratio_{v}_seq{T}"] = rs[T][v]
    return figures


def figures_of(p: PeftLatencyParams, m: Measured) -> dict[str, float]:
    extras = Extras.of(m)
    figures: dict[str, float] = {
        "summary_seq_len": float(m.lengths[-1]),
        "n_virtual": float(p.n_virtual),  # so a rule can say extra_kv_tokens_prefix == n_virtual
        "torch_threads": float(m.threads),
        "base_params": float(m.params["base"]),
        "kv_entries_base": float(m.kv_entries["base"]),
        "merged_max_abs_diff": m.merged_diff,
        "lora_max_output_change": m.lora_change,
        "adapter_init_max_abs_diff": m.adapter_init_diff,
    }
    for v in VARIANTS:
        figures[f"extra_params_{v}"] = float(extras.params[v])
        figures[f"extra_kv_tokens_{v}"] = extras.kv[v]
        figures[f"extra_kv_entries_{v}"] = float(extras.entries[v])
        figures[f"extra_query_tokens_{v}"] = extras.query[v]
    return figures | _timing_figures(p, m)


def _count_checks(p: PeftLatencyParams, m: Measured, extras: Extras) -> list[Check]:
    """The parameter, KV-cache and query-length counts against the formulas."""
    want_params, want_kv = expected_extra_params(p), expected_extra_kv_tokens(p)
    d, L = p.d_model, p.n_layers
    want_entries = {v: want_kv[v] * L * 2 * d for v in VARIANTS}  # tokens × layers × (K, V) × d
    kv, entries = extras.kv, extras.entries
    # Each method's count beside the formula's (outside the t() calls below, where the
    # message extraction would miss a nested one).
    param_counts = [
        t(
            "%(method)s %(n)s (%(want)s)",
            method=model_name(v),
            n=int(extras.params[v]),
            want=int(want_params[v]),
        )
        for v in VARIANTS
    ]
    kv_counts = [t("%(method)s %(n)s", method=model_name(v), n=q(kv[v], "plain")) for v in VARIANTS]
    return [
        Check(
            name=t("Extra parameters match the formulas"),
            passed=extras.params == want_params,
            detail=t(
                "Measured (formula): %(list)s",
                list=_commas(param_counts),
            ),
        ),
        Check(
            name=t("Prompt and prefix tuning add $n$ tokens to every layer's KV cache"),
            passed=all(kv[v] == want_kv[v] and entries[v] == want_entries[v] for v in VARIANTS),
            detail=t(
                "$n$ = %(n)s; extra KV tokens per layer: %(list)s; prompt tuning adds "
                r"%(prompt)s entries, prefix tuning %(prefix)s ($n \times L \times 2 \times d$ "
                "= %(n)s × %(L)s × 2 × %(d)s = %(want)s)",
                n=p.n_virtual,
                list=_commas(kv_counts),
                prompt=q(entries["prompt"], "count"), prefix=q(entries["prefix"], "count"),
                L=L, d=d, want=q(want_entries["prefix"], "count"),
            ),
        ),
        Check(
            name=t(
                "Prompt tuning lengthens the sequence every layer processes; prefix tuning "
                "does not"
            ),
            passed=extras.query["prompt"] == p.n_virtual
            and all(extras.query[v] == 0 for v in VARIANTS if v != "prompt"),
            detail=t(
                "Query tokens per layer, at $T$ = %(T)s: base model %(base)s, prompt tuning "
                "%(prompt)s, prefix tuning %(prefix)s",
                T=m.lengths[-1], base=m.query_tokens["base"][0],
                prompt=m.query_tokens["prompt"][0], prefix=m.query_tokens["prefix"][0],
            ),
        ),
    ]  # fmt: skip


def checks_of(p: PeftLatencyParams, m: Measured) -> list[Check]:
    extras = Extras.of(m)
    merge_tol = 1e-4 * max(1.0, m.logits_scale)
    return [
        Check(
            name=t("Merged LoRA gives the unmerged outputs (fp32)"),
            passed=m.merged_diff < merge_tol,
            detail=t(
                "Largest difference %(diff)s (tolerance %(tol)s); LoRA itself moves the "
                "logits by up to %(change)s",
                diff=q(m.merged_diff, "plain"), tol=q(merge_tol, "plain"),
                change=q(m.lora_change, "plain"),
            ),
        ),
        Check(
            name=t("Merged LoRA has no extra parameters at inference"),
            passed=extras.params["lora_merged"] == 0,
            detail=t(
                "%(merged)s parameters; the base model has %(base)s",
                merged=m.params["lora_merged"], base=m.params["base"],
            ),
        ),
        *_count_checks(p, m, extras),
        Check(
            name=t("Adapters with a zero up-projection leave the output equal to the base"),
            passed=m.adapter_init_diff == 0.0,
            detail=t(
                "Largest difference %(diff)s (Houlsby's near-identity init)",
                diff=q(m.adapter_init_diff, "plain"),
            ),
        ),
    ]  # fmt: skip


def _labels(mode: str) -> tuple[Text, Text]:
    """The y labels of a mode's ratio and time charts (short: a phone shows them whole)."""
    if mode:
        return t("decode time / base model"), t("decode time (ms)")
    return t("prefill time / base model"), t("prefill time (ms)")


def _timing_series(
    p: PeftLatencyParams, m: Measured, mode: str, ms: dict[int, dict[str, float]]
) -> list[Series]:
    """Each variant's time over the base's, and every model's time, by prompt length:
    bars grouped by the named lengths."""
    xs = [float(i) for i in range(len(m.lengths))]
    lengths: list[Text | str] = [str(T) for T in m.lengths]
    x_label = t("prompt length $T$ (tokens)")
    ratio_label, ms_label = _labels(mode)
    rs = ratios(ms)
    ratio = [
        Series(
            name=model_name(v),
            x=xs,
            y=[rs[T][v] for T in m.lengths],
            x_label=x_label,
            y_label=ratio_label,
            chart=f"{mode}latency_ratio",
            categories=lengths,
            unit="x",
            kind="bar",
        )
        for v in VARIANTS
    ]
    times = [
        Series(
            name=model_name(name),
            x=xs,
            y=[ms[T][name] for T in m.lengths],
            x_label=x_label,
            y_label=ms_label,
            log_y=True,
            chart=f"{mode}latency_ms",
            categories=lengths,
            unit="ms",
            kind="bar",
        )
        for name in ("base", *VARIANTS)
    ]
    return ratio + times  # fmt: skip


def series_of(p: PeftLatencyParams, m: Measured) -> list[Series]:
    """Per mode (prefill, decode): ratio and time charts, one line per model."""
    return [s for mode, ms in timed_of(p, m).items() for s in _timing_series(p, m, mode, ms)]


def _same_extra(counts: list[int], base: list[int]) -> float:
    extra = {c - b for c, b in zip(counts, base, strict=True)}
    return float(extra.pop()) if len(extra) == 1 else float("nan")


def _listed(m: Measured, f: dict[str, float], mode: str) -> Text:
    """Each variant's ratio at the longest length (and the geometric mean over lengths)."""
    several = len(m.lengths) > 1
    parts = [
        t("%(method)s %(ratio)s (%(geomean)s)", method=model_name(v),
          ratio=q(f[f"{mode}latency_ratio_{v}"], "x"),
          geomean=q(f[f"{mode}latency_ratio_{v}_geomean"], "x"))
        if several
        else t("%(method)s %(ratio)s", method=model_name(v),
               ratio=q(f[f"{mode}latency_ratio_{v}"], "x"))
        for v in VARIANTS
    ]  # fmt: skip
    return _commas(parts)


def _commas(items: list[Text]) -> Text:
    """``a, b, c`` as nested texts: a translation writes its own comma (，)."""
    out = items[0]
    for item in items[1:]:
        out = t("%(a)s, %(b)s", a=out, b=item)
    return out


def conclusion_of(p: PeftLatencyParams, m: Measured, f: dict[str, float]) -> Text:
    T = m.lengths[-1]
    where = t("CUDA") if m.on_cuda else t("CPU with %(threads)s torch threads", threads=m.threads)
    over: Text | str = ""
    if len(m.lengths) > 1:
        over = t(
            " (in brackets: the geometric mean over $T$ = %(lo)s–%(hi)s)", lo=m.lengths[0], hi=T
        )
    decode: Text | str = ""
    if p.decode:
        decode = t(
            " One token decoded against that cache (base model %(ms)s): %(list)s.",
            ms=q(f[f"decode_base_ms_seq{T}"], "ms"),
            list=_listed(m, f, "decode_"),
        )
    return t(
        "Prefill of a %(T)s-token prompt at batch 1 on %(where)s, the %(statistic)s "
        "%(clock)s over %(repeats)s rounds, as a ratio to the base model's %(base)s%(over)s: "
        "%(list)s.%(decode)s Prompt and prefix tuning each add %(n)s tokens to every "
        "layer's KV cache (%(entries)s entries); merged LoRA matches unmerged within "
        "%(diff)s with %(extra)s extra parameters, the base model's compute, so its distance "
        "from 1× is this run's timing noise.",
        T=T, where=where, statistic=statistic_name(p.statistic), clock=clock_name(m.clock),
        repeats=p.repeats,
        base=q(f[f"base_ms_seq{T}"], "ms"), over=over, list=_listed(m, f, ""), decode=decode,
        n=q(f["extra_kv_tokens_prefix"], "count"),
        entries=q(f["extra_kv_entries_prefix"], "count"), diff=q(m.merged_diff, "plain"),
        extra=q(f["extra_params_lora_merged"], "params"),
    )  # fmt: skip
