"""peft_latency's result: the report's figures, checks, charts and conclusion, opened by
a headline (each method's prefill time against the base model's at the longest prompt)
and a summary table of the methods. No torch here."""

from __future__ import annotations

from app.demos.base import DemoResult
from app.demos.peft_latency.params import PeftLatencyParams
from app.demos.peft_latency.report import (
    VARIANTS,
    Measured,
    checks_of,
    conclusion_of,
    figures_of,
    series_of,
)
from app.demos.peft_latency.words import figure_labels, figure_units, model_name
from app.demos.text import Cell, Table, Text, q, t


def headline_of(p: PeftLatencyParams, m: Measured, f: dict[str, float]) -> Text:
    """Each method's prefill time over the base model's at the longest prompt, and what
    prompt and prefix tuning add to the KV cache."""
    T = m.lengths[-1]
    return t(
        "At a %(T)s-token prompt, prefill takes %(merged)s the base model's time with LoRA "
        "merged, %(unmerged)s with LoRA unmerged, %(adapter)s with Houlsby adapters, "
        "%(prefix)s with prefix tuning and %(prompt)s with prompt tuning. Prompt and prefix "
        "tuning add %(n)s tokens to every layer's KV cache; merged LoRA adds no parameters.",
        T=T, merged=q(f["latency_ratio_lora_merged"], "x"),
        unmerged=q(f["latency_ratio_lora_unmerged"], "x"),
        adapter=q(f["latency_ratio_adapter"], "x"), prefix=q(f["latency_ratio_prefix"], "x"),
        prompt=q(f["latency_ratio_prompt"], "x"), n=p.n_virtual,
    )  # fmt: skip


def table_of(p: PeftLatencyParams, m: Measured, f: dict[str, float]) -> Table:
    """Method × extra parameters × extra KV tokens per layer × prefill (× decode) time
    over the base model's, at the longest prompt (the headline names its length)."""
    columns: list[Text | str] = [
        t("Method"),
        t("Extra parameters"),
        t("Extra KV tokens / layer"),
        t("Prefill / base"),
    ]
    if p.decode:
        columns.append(t("Decode / base"))
    rows: list[list[Cell]] = []
    for v in VARIANTS:
        row: list[Cell] = [
            model_name(v),
            q(f[f"extra_params_{v}"], "params"),
            q(f[f"extra_kv_tokens_{v}"], "count"),
            q(f[f"latency_ratio_{v}"], "x"),
        ]
        if p.decode:
            row.append(q(f[f"decode_latency_ratio_{v}"], "x"))
        rows.append(row)
    return Table(columns=columns, rows=rows)


def result_of(p: PeftLatencyParams, m: Measured) -> DemoResult:
    figures = figures_of(p, m)
    return DemoResult(
        figures=figures,
        series=series_of(p, m),
        checks=checks_of(p, m),
        conclusion=conclusion_of(p, m, figures),
        headline=headline_of(p, m, figures),
        summary=table_of(p, m, figures),
        figure_units=figure_units(list(figures)),
        figure_labels=figure_labels(VARIANTS, p.decode, m.lengths),
    )
