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

from app.demos.base import Check, DemoResult, Series
from app.demos.peft_latency.params import PeftLatencyParams

VARIANTS = ("prompt", "prefix", "adapter", "lora_unmerged", "lora_merged")
LABELS = {
    "base": "base model",
    "prompt": "prompt tuning",
    "prefix": "prefix tuning",
    "adapter": "Houlsby adapters",
    "lora_unmerged": "LoRA unmerged",
    "lora_merged": "LoRA merged",
}
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
    return [
        Check(
            name="extra parameters match the formulas",
            passed=extras.params == want_params,
            detail=", ".join(
                f"{v}: {extras.params[v]} (formula {want_params[v]})" for v in VARIANTS
            ),
        ),
        Check(
            name="prompt and prefix tuning add n tokens to every layer's KV cache",
            passed=all(kv[v] == want_kv[v] and entries[v] == want_entries[v] for v in VARIANTS),
            detail=f"n = {p.n_virtual}: extra KV tokens per layer "
            + ", ".join(f"{v} {kv[v]:g}" for v in VARIANTS)
            + f"; prompt adds {entries['prompt']} entries, prefix "
            f"{entries['prefix']} (n × {L} layers × 2 × {d} = {want_entries['prefix']})",
        ),
        Check(
            name="prompt tuning lengthens the sequence every layer processes; prefix does not",
            passed=extras.query["prompt"] == p.n_virtual
            and all(extras.query[v] == 0 for v in VARIANTS if v != "prompt"),
            detail=f"query tokens per layer at T = {m.lengths[-1]}: "
            f"base {m.query_tokens['base'][0]}, "
            f"prompt {m.query_tokens['prompt'][0]}, prefix {m.query_tokens['prefix'][0]}",
        ),
    ]


def checks_of(p: PeftLatencyParams, m: Measured) -> list[Check]:
    extras = Extras.of(m)
    merge_tol = 1e-4 * max(1.0, m.logits_scale)
    return [
        Check(
            name="merged LoRA gives the unmerged outputs (fp32)",
            passed=m.merged_diff < merge_tol,
            detail=f"max |merged − unmerged| {m.merged_diff:.2e} (tolerance {merge_tol:.1e}); "
            f"LoRA itself moves the logits by up to {m.lora_change:.3g}",
        ),
        Check(
            name="merged LoRA has no extra parameters at inference",
            passed=extras.params["lora_merged"] == 0,
            detail=f"{m.params['lora_merged']} parameters, base {m.params['base']}",
        ),
        *_count_checks(p, m, extras),
        Check(
            name="adapters with a zero up-projection leave the output equal to the base",
            passed=m.adapter_init_diff == 0.0,
            detail=f"max |difference| {m.adapter_init_diff:.2e} (Houlsby's near-identity init)",
        ),
    ]


def series_of(p: PeftLatencyParams, m: Measured) -> list[Series]:
    """Per mode: each variant's time over the base's, and every model's time, by length."""
    series: list[Series] = []
    xs = [float(T) for T in m.lengths]
    for mode, ms in timed_of(p, m).items():
        where = "decoding one token against a cache of T tokens" if mode else "prefill"
        rs = ratios(ms)
        series += [
            Series(
                name=LABELS[v],
                x=xs,
                y=[rs[T][v] for T in m.lengths],
                x_label="prompt length T (tokens)",
                y_label=f"time / base ({where})",
                chart=f"{mode}latency_ratio",
            )
            for v in VARIANTS
        ]
        series += [
            Series(
                name=LABELS[name],
                x=xs,
                y=[ms[T][name] for T in m.lengths],
                x_label="prompt length T (tokens)",
                y_label=f"{p.statistic} ms, {m.clock} clock ({where}, batch 1)",
                log_y=True,
                chart=f"{mode}latency_ms",
            )
            for name in ("base", *VARIANTS)
        ]
    return series


def result_of(p: PeftLatencyParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
    )


def _same_extra(counts: list[int], base: list[int]) -> float:
    extra = {c - b for c, b in zip(counts, base, strict=True)}
    return float(extra.pop()) if len(extra) == 1 else float("nan")


def conclusion_of(p: PeftLatencyParams, m: Measured, f: dict[str, float]) -> str:
    T = m.lengths[-1]
    threads = f"{m.threads} thread{'s' if m.threads != 1 else ''}"
    where = "CUDA" if m.on_cuda else f"CPU ({threads})"

    def listed(mode: str) -> str:
        return ", ".join(
            f"{LABELS[v]} {f[f'{mode}latency_ratio_{v}']:.2f}×"
            + (f" ({f[f'{mode}latency_ratio_{v}_geomean']:.2f}×)" if len(m.lengths) > 1 else "")
            for v in VARIANTS
        )

    over = f" (in brackets: the geometric mean over T = {m.lengths[0]}–{T})"
    text = (
        f"Prefill of a {T}-token prompt at batch 1 on {where}, {p.statistic} {m.clock} time "
        f"of {p.repeats} rounds, as a ratio to the base model's {f[f'base_ms_seq{T}']:.2f} ms"
        f"{over if len(m.lengths) > 1 else ''}: {listed('')}."
    )
    if p.decode:
        text += (
            f" One token decoded against that cache (base {f[f'decode_base_ms_seq{T}']:.2f} ms): "
            f"{listed('decode_')}."
        )
    text += (
        f" Prompt and prefix tuning each add {f['extra_kv_tokens_prefix']:g} tokens to every "
        f"layer's KV cache ({f['extra_kv_entries_prefix']:g} entries); merged LoRA matches "
        f"unmerged within {m.merged_diff:.1e} with {f['extra_params_lora_merged']:g} extra "
        f"parameters, the base's compute, so its distance from 1× is this run's timing noise."
    )
    return text
