"""Every registered demo's result page, run once at small parameters through a real
server and its local workers, opened at 1280×800 and 390×844, in Chinese and English,
light and dark: it fits, opens with the summary table above the fold (for a demo that
declares one), shows no raw JSON or ``e+0`` numbers, every chart has a legend and named
categories, and the Chinese page has no English outside names. Screenshots go to
test-output/screenshots/demo-<name>-<size>-<lang>-<theme>.png."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.demos import registry
from tests.demos.support import SMALL
from tests.e2e.checks import SIZES, assert_fits, visible_english
from tests.e2e.conftest import Server, screenshot, serve

LANGUAGES = {"zh": "zh-CN", "en": "en-US"}
THEMES = ("light", "dark")


@pytest.fixture
def demo_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """``serve`` that takes one run of every demo at once (past the default queue cap
    and rate limit)."""
    monkeypatch.setenv("IL_RUNS_QUEUED_CAP", "50")
    monkeypatch.setenv("IL_RUNS_PER_MINUTE", "100")
    yield from serve(tmp_path)


def _api(server: Server, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.url + path, data=data, headers={"Content-Type": "application/json"}
    )
    # A hang guard: the server answers while its two workers run demos, and under CI's
    # parallel tests on two cores an answer has taken over 30 s.
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def run_every_demo(server: Server) -> dict[str, int]:
    """Queue one small run of each demo, then wait for all of them."""
    ids = {
        name: _api(server, f"/api/demos/{name}/runs", {"params": SMALL[name][0]})["id"]
        for name in registry()
    }
    deadline = time.monotonic() + 150
    pending = dict(ids)
    while pending and time.monotonic() < deadline:
        for name, run_id in list(pending.items()):
            if _api(server, f"/api/runs/{run_id}")["status"] in ("succeeded", "failed"):
                del pending[name]
        time.sleep(0.5)
    assert not pending, f"still running after 150 s: {sorted(pending)}"
    return ids


PAGE_FACTS = """() => {
  const text = document.body.innerText;
  const charts = [...document.querySelectorAll('canvas.result-chart')].map(c => {
    const chart = window.Chart && Chart.getChart(c);
    if (!chart) return {drawn: false};
    const cfg = chart.config;
    return {
      drawn: true,
      type: cfg.type,
      legend: chart.options.plugins.legend.display !== false && chart.data.datasets.length > 0
        && chart.data.datasets.every(d => d.label && String(d.label).trim()),
      labels: (chart.data.labels || []).map(String),
    };
  });
  const summary = document.getElementById('summary');
  return {
    text,
    charts,
    summaryTop: summary ? summary.getBoundingClientRect().top + window.scrollY : null,
    status: document.getElementById('status').className,
  };
}"""


def test_every_demo_result_page(demo_server: Server, browser: Any) -> None:
    server = demo_server
    ids = run_every_demo(server)
    problems: list[str] = []
    without_summary: set[str] = set()
    for (size, viewport), (lang, locale), theme in (
        (s, lang_, th) for s in SIZES.items() for lang_ in LANGUAGES.items() for th in THEMES
    ):
        page = browser.new_page(locale=locale, viewport=viewport, color_scheme=theme)
        page.set_extra_http_headers({"Accept-Language": locale})
        for name, run_id in ids.items():
            what = f"{name} {size} {lang} {theme}"
            page.goto(f"{server.url}/runs/{run_id}")
            page.wait_for_function(
                "() => [...document.querySelectorAll('canvas.result-chart')]"
                ".every(c => window.Chart && Chart.getChart(c))"
            )
            screenshot(page, f"demo-{name}-{size}-{lang}-{theme}")
            facts = page.evaluate(PAGE_FACTS)
            if "status-succeeded" not in facts["status"]:
                problems.append(f"{what}: the run did not succeed ({facts['status']})")
                continue
            try:
                assert_fits(page, what)
            except AssertionError as exc:
                problems.append(str(exc))
            for bad in ("e+0", "e-0", '{"', '":'):
                if bad in facts["text"]:
                    problems.append(f"{what}: visible text holds {bad!r}")
            if facts["summaryTop"] is None:
                without_summary.add(name)
            elif facts["summaryTop"] > viewport["height"]:
                problems.append(f"{what}: the summary table starts below the fold")
            for i, chart in enumerate(facts["charts"]):
                if not chart["drawn"]:
                    problems.append(f"{what}: chart {i} was not drawn")
                elif not chart["legend"]:
                    problems.append(f"{what}: chart {i} has no legend naming each series")
                elif chart["type"] == "bar" and chart["labels"] == [
                    str(i) for i in range(len(chart["labels"]))
                ]:  # positions 0..n-1 stand in for names (a numeric x such as a length is fine)
                    problems.append(f"{what}: bar chart {i} has numbered, not named, categories")
            if lang == "zh":
                english = visible_english(page)
                if english:
                    problems.append(f"{what}: English in the Chinese page: {english[:12]}")
        page.close()
    if without_summary:
        print(f"demos without a summary table yet: {sorted(without_summary)}")
    assert not problems, "\n".join(dict.fromkeys(problems))
