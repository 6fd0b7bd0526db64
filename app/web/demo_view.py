"""What a run's page shows of its result, in the reader's language: the summary table,
the charts (as the data run.js draws), every figure with its label and unit, and the
parameters as a short list. Everything a reader sees is formatted here (no ``e+06``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from app.demos.base import Demo, DemoResult, Series, params_schema
from app.web.demo_text import (
    demo_text,
    format_number,
    format_quantity,
    join_list,
    plain_text,
    translate,
    translate_rich,
)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    series: list[Series]
    data: dict[str, Any]  # what run.js draws


@dataclass(frozen=True)
class ResultView:
    result: DemoResult
    summary_columns: list[Markup]
    summary_rows: list[list[Markup]]
    charts: list[Chart]
    figures: list[tuple[str, str, str]]  # (name, label, formatted value)


def parse_result(raw: dict[str, Any] | None) -> DemoResult | None:
    """A stored result (old ones included); None when there is none or it is unreadable."""
    if raw is None:
        return None
    # The worker stores a NaN figure (not measured here) as null: read it back as NaN.
    figures = raw.get("figures")
    if isinstance(figures, dict):
        raw = {**raw, "figures": {k: math.nan if v is None else v for k, v in figures.items()}}
    try:
        return DemoResult.model_validate(raw)
    except ValidationError:
        return None


def _y(value: float, series: Series) -> str:
    return format_quantity(value, series.unit) if series.unit else format_number(value)


def _chart(chart_id: str, series: list[Series]) -> Chart:
    first = series[0]
    categories = next((s.categories for s in series if s.categories), None)
    names = [plain_text(c) for c in categories] if categories else None
    datasets = [{"name": plain_text(s.name), "kind": s.kind, "x": s.x, "y": s.y} for s in series]
    data = {
        "id": chart_id,
        "kind": first.kind,
        "stacked": first.stacked,
        "log_y": first.log_y,
        "unit": first.unit,
        "x_label": plain_text(first.x_label),
        "y_label": plain_text(first.y_label),
        "categories": names,
        "datasets": datasets,
    }
    title = join_list([str(d["name"]) for d in datasets])  # 、 between names in zh
    return Chart(chart_id, title, series, data)


def chart_table(chart: Chart, series: Series) -> list[tuple[Markup | str, str]]:
    """(x, y) of one series as the details table shows them: categories by name, their
    math set as on the rest of the page."""
    names = next((s.categories for s in chart.series if s.categories), None)
    rows: list[tuple[Markup | str, str]] = []
    for x, y in zip(series.x, series.y, strict=False):
        index = int(x)
        named = names and x == index and 0 <= index < len(names)
        label = demo_text(names[index]) if names and named else None
        rows.append((label or format_number(x), _y(y, series)))
    return rows


def result_view(result: DemoResult) -> ResultView:
    summary = result.summary
    columns = [demo_text(c) for c in summary.columns] if summary else []
    rows = [[demo_text(cell) for cell in row] for row in summary.rows] if summary else []
    ordered = sorted(result.series, key=lambda s: s.chart)  # groupby needs neighbours
    order = list(dict.fromkeys(s.chart for s in result.series))  # the demo's chart order
    grouped = {key: list(group) for key, group in groupby(ordered, key=lambda s: s.chart)}
    charts = [_chart(f"chart-{i}", grouped[key]) for i, key in enumerate(order)]
    figures = [
        (
            name,
            demo_text(result.figure_labels[name]) if name in result.figure_labels else name,
            format_quantity(value, result.figure_units[name])
            if name in result.figure_units
            else format_number(value),
        )
        for name, value in result.figures.items()
    ]
    return ResultView(result, columns, rows, charts, figures)


def _applies(entry: dict[str, Any], values: dict[str, Any]) -> bool:
    show_if: dict[str, list[Any]] = entry.get("show_if") or {}
    return all(values.get(other) in allowed for other, allowed in show_if.items())


def params_list(demo: Demo, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The run's parameters as (label, value with unit), fields that don't apply left out:
    a label's math set as on the form, a choice by its label where it has one."""
    items = []
    for entry in params_schema(demo):
        name = entry["name"]
        if name not in params or not _applies(entry, params):
            continue
        value = params[name]
        choice = (entry.get("choice_labels") or {}).get(str(value))
        if isinstance(value, bool):
            shown = translate("yes") if value else translate("no")
        elif isinstance(value, int | float):
            shown = format_number(value)
        else:
            shown = translate(choice) if choice else str(value)
        unit = translate(entry.get("unit") or "")
        items.append((translate_rich(entry.get("label") or "") or name, f"{shown} {unit}".strip()))
    return items
