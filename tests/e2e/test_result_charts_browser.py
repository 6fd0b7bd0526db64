"""The result page's charts (static/run.js with the vendored Chart.js) in Chromium, on a
page holding only a finished run's chart data: every category named under its bars, a
long numbered axis thinned to what a phone can read, series that coincide told apart by
their marks, the same Okabe-Ito colours in both themes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.web import assets
from tests.conftest import REPO_ROOT

METHODS = ["Full fine-tuning", "LoRA", "QLoRA", "Prompt Tuning", "Prefix Tuning", "(IA)³"]
# spike_remedies' nine arms: long names, one loss curve each.
ARMS = [
    "AdamW (reference)",
    "AdamW + gradient clipping",
    "SGD",
    "SGD + gradient clipping",
    "AdamW + cosine decay",
    "AdamW, small init std",
    "AdamW, large init std",
    "AdamW + RMSNorm",
    "AdamW + rewind and skip (PaLM)",
]
CHARTS: list[dict[str, Any]] = [
    # peft_params' shape: one series per method, each with one bar.
    {
        "id": "per-category",
        "kind": "bar",
        "categories": METHODS,
        "datasets": [
            {"name": m, "kind": "bar", "x": [float(i)], "y": [10.0 ** (9 - i)]}
            for i, m in enumerate(METHODS)
        ],
    },
    # rank's singular values: 48 numbered bars.
    {
        "id": "numbered",
        "kind": "bar",
        "categories": None,
        "datasets": [
            {
                "name": "singular values",
                "kind": "bar",
                "x": [float(i) for i in range(1, 49)],
                "y": [1.0 / i for i in range(1, 49)],
            },
        ],
    },
    # rank's error line with the Eckart-Young prediction on top of it.
    {
        "id": "overlap",
        "kind": "line",
        "categories": None,
        "datasets": [
            {"name": "error", "kind": "line", "x": [0.0, 1.0, 2.0], "y": [3.0, 2.0, 0.0]},
            {"name": "prediction", "kind": "scatter", "x": [0.0, 1.0, 2.0], "y": [3.0, 2.0, 0.0]},
        ],
    },
    # spike_remedies' loss curves: nine series, so a legend of many rows on a phone.
    {
        "id": "many-series",
        "kind": "line",
        "categories": None,
        "datasets": [
            {"name": arm, "kind": "line", "x": [float(s) for s in range(20)], "y": [5.0 + i] * 20}
            for i, arm in enumerate(ARMS)
        ],
    },
    # spike_remedies' peak loss per arm: nine long category names.
    {
        "id": "long-names",
        "kind": "bar",
        "categories": ARMS,
        "datasets": [
            {
                "name": "peak / initial loss",
                "kind": "bar",
                "x": [float(i) for i in range(9)],
                "y": [1.0 + i / 10 for i in range(9)],
            },
        ],
    },
]
PAGE = """<!doctype html><html lang="en"><head><style>
  :root { --fg: #1b1f24; --line: #d1d9e0 } .box { position: relative; height: 320px }
</style></head><body><section id="run" data-run="1" data-finished="true">
{canvases}<script type="application/json" id="series-data">{data}</script></section>
</body></html>"""
FACTS = """() => Object.fromEntries([...document.querySelectorAll('canvas')].map(c => {
  const chart = Chart.getChart(c);
  const horizontal = chart.options.indexAxis === 'y';
  const cat = horizontal ? chart.scales.y : chart.scales.x;  // the axis of the names
  return [c.id, {
    horizontal,
    plot: chart.chartArea.height,
    rotation: chart.scales.x.labelRotation,
    catLeft: cat.left,
    catLength: horizontal ? cat.height : cat.width,
    labels: chart.data.labels || [],
    ticks: cat.ticks.map(t => cat.getLabelForValue(t.value)),
    datasets: chart.data.datasets.map(d => ({
      data: d.data, colour: d.borderColor, pointStyle: d.pointStyle || null,
      dash: JSON.stringify(d.borderDash || []), radius: d.pointRadius ?? null,
    })),
  }];
}))"""


def chart_facts(browser: Any, width: int, theme: str) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=theme)
    canvases = "".join(f'<div class="box"><canvas id="{c["id"]}"></canvas></div>' for c in CHARTS)
    page.set_content(PAGE.replace("{canvases}", canvases).replace("{data}", json.dumps(CHARTS)))
    chart_js = REPO_ROOT / "static" / assets.CHART_JS.removeprefix("/static/")
    page.add_script_tag(path=str(chart_js))
    page.add_script_tag(path=str(REPO_ROOT / "static" / "run.js"))
    facts: dict[str, Any] = page.evaluate(FACTS)
    page.close()
    return facts


@pytest.mark.parametrize("width", [390, 1280])
def test_result_charts_read_on_a_phone_and_a_desktop(browser: Any, width: int) -> None:
    light, dark = chart_facts(browser, width, "light"), chart_facts(browser, width, "dark")

    # One series per category: every method is named under its own bar (not only the
    # first), and each series has its value at its own category.
    per = light["per-category"]
    assert per["labels"] == METHODS
    assert per["ticks"] == METHODS
    for i, series in enumerate(per["datasets"]):
        assert [v is not None for v in series["data"]] == [k == i for k in range(len(METHODS))]

    # 48 numbered bars: every bar is there, but the axis shows a readable number of them.
    numbered = light["numbered"]
    assert numbered["labels"] == [str(i) for i in range(1, 49)]
    assert 4 <= len(numbered["ticks"]) <= (12 if width == 390 else 48)
    assert numbered["catLength"] / len(numbered["ticks"]) >= 20  # px per number: readable
    assert numbered["ticks"][0] == "1"

    # Two series on the same points: different point shapes and line dashes, and the
    # scatter's marks are drawn (radius > 0) so they show over the line.
    first, second = light["overlap"]["datasets"]
    assert first["pointStyle"] != second["pointStyle"]
    assert first["dash"] != second["dash"] or second["radius"] > first["radius"]
    assert second["radius"] > 0

    # A phone: nine series' legend leaves the plot room to read (the box grows), and
    # nine long names lie level beside horizontal bars, every one on the canvas.
    many, names = light["many-series"], light["long-names"]
    assert many["plot"] >= 170
    assert names["ticks"] == ARMS and names["plot"] >= 150
    if width == 390:
        assert names["horizontal"] and per["horizontal"]
        assert names["catLeft"] >= 0 and names["rotation"] == 0
    else:  # a desktop keeps the bars standing, their names slanted at most 60°
        assert not names["horizontal"] and names["rotation"] <= 60

    # Okabe-Ito, and the same colours whatever the theme.
    okabe_ito = {"#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442"}
    colours = [d["colour"] for c in light.values() for d in c["datasets"]]
    assert set(colours) <= okabe_ito | {"#999999"}
    assert colours == [d["colour"] for c in dark.values() for d in c["datasets"]]
