"""The live chart's series are named in the reader's language: each progress event
carries the labels of its metrics beside their raw keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

import app.demos
import app.worker.execute
from app.demos.base import Demo, DemoParams, DemoResult, RunContext
from app.web.demo_metrics import metric_label
from app.worker.execute import execute
from tests.web.conftest import MakeClient


def _phases(params: Any, ctx: RunContext) -> DemoResult:
    # The keys real demos report: lora's phases, and a metric named by its msgid.
    ctx.progress(1, 3, pretrain=2.0)
    ctx.progress(2, 3, full=1.0, lora_r4=1.5)
    ctx.progress(3, 3, **{"loss, configured run": 0.5})
    return DemoResult(figures={"x": 1.0}, conclusion="done")


PHASES = Demo(
    name="phases",
    title="phases",
    summary="phases of a run",
    claims=(),
    params=DemoParams,
    run=_phases,
    uses_gpu=False,
)


@pytest.fixture(autouse=True)
def phases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.demos._REGISTRY, "phases", PHASES)
    monkeypatch.setattr(app.worker.execute, "MIN_REPORT_INTERVAL_S", 0.0)  # every report


def progress_events(client: TestClient) -> list[dict[str, Any]]:
    run = client.post("/api/demos/phases/runs", json={"params": {}}).json()
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assert execute(run["id"], engine=engine) == "succeeded"
    with client.stream("GET", f"/api/runs/{run['id']}/events") as response:
        text = "".join(response.iter_text())
    return [
        json.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data:") and '"step"' in line
    ]


def test_live_series_are_labelled_in_chinese(make_client: MakeClient) -> None:
    events = progress_events(make_client(language="zh-CN"))
    labels = {k: v for e in events for k, v in e["labels"].items()}
    assert labels == {
        "pretrain": "预训练（任务 1）",
        "full": "全量微调",
        "lora_r4": "LoRA r = 4",
        "loss, configured run": "loss，配置的运行",
    }
    # The keys stay as the demo reported them.
    assert [sorted(e["metrics"]) for e in events] == [
        ["pretrain"],
        ["full", "lora_r4"],
        ["loss, configured run"],
    ]


def test_live_series_are_labelled_in_english(make_client: MakeClient) -> None:
    events = progress_events(make_client(language="en"))
    assert events[1]["labels"] == {"full": "full fine-tuning", "lora_r4": "LoRA r = 4"}


def test_every_named_key_has_its_words_and_unknown_keys_stay() -> None:
    assert metric_label("loss", "zh") == "训练损失"
    assert metric_label("loss_qlora", "en") == "QLoRA test loss"
    assert metric_label("lora_r16", "zh") == "LoRA r = 16"
    assert metric_label("sigma_1", "zh") == "sigma_1"
