"""Demos through the web: the catalogue, the generated form, runs with their limits and
cache, live progress as server-sent events, and the run's permalink page. Runs are
executed here with the real ``execute`` (the test process plays the worker)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy import select

from app.claims.evidence import claim_checks, evidence_runs
from app.config import Settings
from app.db import make_sessionmaker
from app.demos.base import Demo, DemoParams, DemoResult, RunContext, at_most, validate_params
from app.errors import Unprocessable
from app.i18n import current_language, set_language
from app.models import Claim
from app.models.base import utcnow
from app.runs.claims import queue_claim_runs
from app.web.demo_pages import error_text
from app.worker.execute import execute
from tests.conftest import REPO_ROOT
from tests.web.conftest import MakeClient, csrf, soup

SMALL = {"m": 12, "n": 10, "r": 3, "noise": 0.0, "seed": 1}


def run_claims(client: TestClient, claim_ids: set[str]) -> None:
    """Queue the claims' runs and run those of ``claim_ids`` here, as a worker would."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with make_sessionmaker(engine)() as session:
        queue_claim_runs(session=session, now=utcnow())
        checks = [
            k
            for c in session.scalars(select(Claim))
            if c.id in claim_ids
            for k in claim_checks(c).checks
        ]
        run_ids = [run.id for run in evidence_runs(session, checks).values()]
    for run_id in run_ids:
        assert execute(run_id, engine=engine) == "succeeded"


def run_now(client: TestClient, run_id: int) -> str:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    return execute(run_id, engine=engine)


def test_catalogue_and_generated_form(client: TestClient) -> None:
    page = soup(client.get("/demos"))
    names = [li["data-demo"] for li in page.select("li.demo-item")]
    assert "rank" in names
    form = soup(client.get("/demos/rank")).select_one("form.demo-form")
    assert form is not None
    m = form.select_one("input[name=m]")
    assert m is not None and m["type"] == "number"
    assert m["min"] == "2" and m["max"] == "512"  # the bounds come from the model
    catalogue = client.get("/api/demos").json()
    rank = next(d for d in catalogue if d["name"] == "rank")
    assert {p["name"] for p in rank["params"]} >= {"m", "n", "r", "noise", "seed"}


def test_a_run_from_queued_to_its_result_page(client: TestClient) -> None:
    created = client.post("/api/demos/rank/runs", json={"params": SMALL})
    assert created.status_code == 200, created.text
    run = created.json()
    assert run["status"] == "queued" and run["cached"] is False
    assert run_now(client, run["id"]) == "succeeded"
    body = client.get(f"/api/runs/{run['id']}").json()
    assert body["status"] == "succeeded"
    assert body["result"]["figures"]["rank"] == 3
    assert body["device"] == "cpu" and body["torch_version"]
    page = soup(client.get(body["permalink"]))
    assert page.select_one("#status").get_text() == "succeeded"  # type: ignore[union-attr]
    figures = {
        str(tr["data-figure"]): tr.select_one("td").get_text()  # type: ignore[union-attr]
        for tr in page.select("#figures tr")
    }
    assert figures["rank"] == "3"  # formatted for people: no "3.00000"
    assert page.select("canvas.result-chart")
    assert json.loads(page.select_one("#series-data").get_text())  # type: ignore[union-attr]


def test_the_same_parameters_return_the_stored_result(client: TestClient) -> None:
    first = client.post("/api/demos/rank/runs", json={"params": SMALL}).json()
    run_now(client, first["id"])
    again = client.post("/api/demos/rank/runs", json={"params": SMALL}).json()
    assert again["cached"] is True and again["id"] == first["id"]
    rerun = client.post("/api/demos/rank/runs", json={"params": SMALL, "rerun": True}).json()
    assert rerun["cached"] is False and rerun["id"] != first["id"]


def test_progress_streams_as_server_sent_events(client: TestClient) -> None:
    run = client.post("/api/demos/rank/runs", json={"params": SMALL}).json()
    run_now(client, run["id"])
    with client.stream("GET", f"/api/runs/{run['id']}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = [block for block in text.split("\n\n") if block.startswith("id:") or "event:" in block]
    kinds = [
        line.split(": ", 1)[1]
        for block in events
        for line in block.splitlines()
        if line.startswith("event:")
    ]
    assert kinds[-1] == "done" and kinds.count("progress") >= 2
    steps = [
        json.loads(line[6:])["step"]
        for block in events
        for line in block.splitlines()
        if line.startswith("data:") and '"step"' in line
    ]
    assert steps == sorted(steps)


def test_bad_parameters_are_422_naming_field_and_bound(client: TestClient) -> None:
    bad = client.post("/api/demos/rank/runs", json={"params": {"m": 10000}})
    assert bad.status_code == 422
    assert bad.json()["field"] == "m" and "512" in bad.json()["detail"]
    page = soup(client.get("/demos/rank"))
    form = {"csrf_token": csrf(page), "m": "1", "n": "10", "r": "1", "noise": "0", "seed": "0"}
    response = client.post("/demos/rank/runs", data=form)
    assert response.status_code == 422
    assert "m" in soup(response).select_one("#run-error").get_text()  # type: ignore[union-attr]
    assert client.post("/api/demos/nope/runs", json={}).status_code == 404


def test_a_refused_field_is_explained_in_the_readers_language(make_client: MakeClient) -> None:
    client = make_client(language="zh-CN")
    page = soup(client.get("/demos/rank"))
    form = {"csrf_token": csrf(page), "m": "10000", "n": "10", "r": "3", "noise": "0", "seed": "0"}
    refused = soup(client.post("/demos/rank/runs", data=form))
    error = refused.select_one("label.invalid .field-error")
    assert error is not None and error.get_text() == "行数 m：不能大于 512（输入为 10000）"
    # pydantic's own messages ("Input should be a valid integer") are translated too.
    form |= {"m": "12", "n": "x"}
    error = soup(client.post("/demos/rank/runs", data=form)).select_one("#field-error")
    assert error is not None and error.get_text() == "列数 n：必须是整数（输入为 x）"
    form |= {"n": ""}
    error = soup(client.post("/demos/rank/runs", data=form)).select_one("#field-error")
    assert error is not None and error.get_text() == "列数 n：不能为空"
    # The JSON API stays English, with the field's name.
    api = client.post("/api/demos/rank/runs", json={"params": {"n": "x"}}).json()
    assert api == {"detail": "n: must be a whole number (got 'x')", "field": "n"}


def test_queue_cap_and_rate_limit_are_429(make_client: MakeClient, settings: Settings) -> None:
    client = make_client()
    client.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"runs_queued_cap": 2, "runs_per_minute": 3}
    )
    for seed in (1, 2):
        assert (
            client.post("/api/demos/rank/runs", json={"params": {"seed": seed}}).status_code == 200
        )
    capped = client.post("/api/demos/rank/runs", json={"params": {"seed": 3}})
    assert capped.status_code == 429 and "waiting" in capped.json()["detail"]
    run_now(client, 1)
    run_now(client, 2)
    assert client.post("/api/demos/rank/runs", json={"params": {"seed": 4}}).status_code == 200
    limited = client.post("/api/demos/rank/runs", json={"params": {"seed": 5}})
    assert limited.status_code == 429 and "last minute" in limited.json()["detail"]


def test_a_queued_run_can_be_cancelled(client: TestClient) -> None:
    run = client.post("/api/demos/rank/runs", json={"params": SMALL}).json()
    cancelled = client.post(f"/api/runs/{run['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert run_now(client, run["id"]) == "cancelled"  # a worker won't start it
    again = client.post(f"/api/runs/{run['id']}/cancel")
    assert again.status_code == 409


def test_an_emptied_field_is_an_error_and_a_hidden_field_is_ignored(client: TestClient) -> None:
    page = soup(client.get("/demos/rank"))
    form = {"csrf_token": csrf(page), "m": "", "n": "10", "r": "3", "noise": "0", "seed": "0"}
    response = client.post("/demos/rank/runs", data=form)
    assert response.status_code == 422  # not silently the default m
    marked = soup(response).select_one("label.invalid input")
    assert marked is not None and marked["name"] == "m"
    # lora's "Distribution of A" applies only to the standard and both_random inits: with
    # both_zero the form hides it and the server ignores whatever it holds.
    lora = soup(client.get("/demos/lora"))
    label = lora.select_one("label[data-show-if]:has(select[name=init_a])")
    assert label is not None and json.loads(str(label["data-show-if"])) == {
        "init": ["standard", "both_random"]
    }
    fields = {
        str(el["name"]): str(el.get("value") or "")
        for el in lora.select("form.demo-form input[name]")
        if el.get("type") != "checkbox"
    }
    fields |= {"init": "both_zero", "init_a": "not-a-distribution"}
    created = client.post("/demos/lora/runs", data=fields, follow_redirects=False)
    assert created.status_code == 303, soup(created).select_one("#run-error")
    run = client.get("/api" + created.headers["location"].split("?")[0]).json()
    assert run["params"]["init_a"] == "kaiming_uniform"


def test_the_result_page_reads_for_people_in_chinese(make_client: MakeClient) -> None:
    client = make_client(language="zh-CN")
    created = client.post("/api/demos/rank/runs", json={"params": SMALL, "device": "gpu"})
    assert run_now(client, created.json()["id"]) == "succeeded"
    run = client.get(f"/api/runs/{created.json()['id']}").json()
    page = soup(client.get(run["permalink"]))
    text = page.get_text(" ")
    assert "e+0" not in text and '{"' not in text  # no exponent, no raw JSON
    params = {
        dt.get_text(): dd.get_text()
        for dt, dd in zip(page.select("#params dt"), page.select("#params dd"), strict=True)
    }
    assert params["随机种子"] == "1"
    assert page.select_one("#status").get_text() == "成功"  # type: ignore[union-attr]
    if run["device"] == "cpu":  # no GPU here: the page and the form say so
        assert "没有 GPU" in page.select_one("#device-notice").get_text()  # type: ignore[union-attr]
        assert soup(client.get("/demos/rank")).select_one("#gpu-unavailable") is not None


def test_questions_and_demos_link_each_other_by_topic(client: TestClient) -> None:
    # The seed bank has no claims on rank: the link comes from its topics and the tags.
    page = soup(client.get("/demos/rank"))
    questions = page.select("#related-questions a")
    assert questions, "the rank demo lists no question"
    question = soup(client.get(str(questions[0]["href"])))
    assert "/demos/rank" in [a["href"] for a in question.select("#related-demos a")]


def test_the_demo_page_lists_the_claims_it_checks_in_the_readers_language(
    make_client: MakeClient, content_dir: Path
) -> None:
    (content_dir / "claims").mkdir()
    shutil.copy(REPO_ROOT / "content" / "claims" / "llm-sft.yaml", content_dir / "claims")
    client = make_client(language="zh-CN")
    page = soup(client.get("/demos/peft_params"))
    items = {str(li["data-claim"]): li for li in page.select("#demo-claims li")}
    # A long list starts folded, so a phone reaches the form without scrolling past it.
    folded = page.select_one("details:has(#demo-claims)")
    assert len(items) > 3 and folded is not None and not folded.has_attr("open")
    # The bank's claims that this demo checks, not the demo's own English notes.
    assert {"adapter-between-prefix-and-lora", "lora-r-d-plus-k"} <= set(items)
    assert "rank-at-most-min-dim" not in items  # checked by another demo
    assert "Prompt tuning trains less than" not in page.get_text()
    adapter = items["adapter-between-prefix-and-lora"]
    link = adapter.select_one("a.claim-quote")
    assert link is not None and link["href"] == "/claims#claim-adapter-between-prefix-and-lora"
    # The quote's markdown and math are rendered, the verdict badge is in Chinese.
    assert link.select_one("strong") is not None and "**" not in link.get_text()
    assert items["lora-r-d-plus-k"].select_one("a.claim-quote math") is not None
    badge = adapter.select_one(".claim-badge")
    assert badge is not None and badge.get_text() == "待测"
    # No run yet: no explanation (the service's reasons are English), only the badge.
    assert "no run" not in page.select_one("#demo-claims").get_text()  # type: ignore[union-attr]
    # Once its runs are in, the claim reads its verdict and explanation in Chinese.
    run_claims(client, {"adapter-between-prefix-and-lora"})
    decided = soup(client.get("/demos/peft_params")).select_one(
        '#demo-claims li[data-claim="adapter-between-prefix-and-lora"]'
    )
    assert decided is not None and decided["data-verdict"] == "nuanced"
    explanation = decided.select_one(".claim-explanation")
    assert explanation is not None and "QLoRA 配方" in explanation.get_text()
    # The claims page holds the element the link points at.
    claims = soup(client.get("/claims"))
    assert claims.select_one("#claim-adapter-between-prefix-and-lora") is not None


class Shape(DemoParams):
    hidden: int = Field(default=8, ge=1, le=64, json_schema_extra={"label": "Hidden size"})
    r: int = Field(default=4, ge=1, json_schema_extra={"label": "Rank of the factors $r$"})

    @field_validator("r")
    @classmethod
    def _r_fits(cls, r: int, info: ValidationInfo) -> int:
        if r > info.data["hidden"]:
            raise at_most("hidden", info.data["hidden"])
        return r


def never_run(params: Any, ctx: RunContext) -> DemoResult:
    raise AssertionError("only its parameters are checked")


def test_a_demos_own_check_is_translated_on_the_page_and_english_in_the_api() -> None:
    demo = Demo(name="shape", title="Shape", summary="", claims=(), params=Shape, run=never_run)
    with pytest.raises(Unprocessable) as caught:
        validate_params(demo, {"hidden": "8", "r": "9"})
    assert caught.value.message == "r: must be at most hidden = 8 (got '9')"
    before = current_language()
    try:
        set_language("zh")
        # The other field is named by its label too (this test's label has no Chinese).
        assert error_text(caught.value, demo) == "因子的秩 r：不能大于 Hidden size = 8（输入为 9）"
        set_language("en")
        assert error_text(caught.value, demo) == (
            "Rank of the factors r: must be at most Hidden size = 8 (got 9)"
        )
    finally:
        set_language(before)


def test_choices_are_shown_in_words_and_sent_as_values(make_client: MakeClient) -> None:
    zh = soup(make_client(language="zh-CN").get("/demos/lora"))
    option = zh.select_one("select[name=init] option[value=both_random]")
    assert option is not None and option.get_text() == "A、B 都随机"
    latency = soup(make_client(language="zh-CN").get("/demos/peft_latency"))
    clock = latency.select_one("select[name=clock] option[value=thread_cpu]")
    assert clock is not None and clock.get_text() == "线程 CPU 时间"
    en = soup(make_client(language="en").get("/demos/lora"))
    option = en.select_one("select[name=init] option[value=both_random]")
    assert option is not None and option.get_text() == "both random"


def test_parameter_labels_set_their_math_and_a_run_names_its_choices(
    make_client: MakeClient,
) -> None:
    """A label's TeX is set as math on the form and on the run page (it read "LoRA rank
    $r$"), and the run page names a choice by its label ("Kaiming 均匀分布", not the value
    ``kaiming_uniform``)."""
    client = make_client(language="zh-CN")
    form = soup(client.get("/demos/qlora_memory"))
    labels = [s.get_text() for s in form.select("form.demo-form label > span > strong")]
    assert labels and not [label for label in labels if "$" in label]
    assert form.select("form.demo-form label > span > strong math")
    created = client.post("/api/demos/lora/runs", json={"params": {"init_a": "kaiming_uniform"}})
    assert created.status_code in (200, 201), created.text
    page = soup(client.get(created.json()["permalink"]))
    shown = {
        dt.get_text(): dd.get_text()
        for dt, dd in zip(page.select("#params dt"), page.select("#params dd"), strict=True)
    }
    assert "Kaiming 均匀分布" in shown.values() and "kaiming_uniform" not in shown.values()
    assert not [label for label in shown if "$" in label]
