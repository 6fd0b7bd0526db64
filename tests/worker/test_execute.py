"""execute() in this process: claiming, progress, outcome and the guards on the row."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import torch
from sqlalchemy import Engine

from app.demos.base import Demo, DemoResult, RunContext
from app.errors import NotFound
from app.worker import execute as execute_module
from app.worker.execute import execute, fail_run, reap_stale
from tests.worker.fake_demos import FIND, add_run, events, find, get_run, make_demo


def test_a_run_goes_from_queued_to_succeeded_with_progress_and_result(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execute_module, "MIN_REPORT_INTERVAL_S", 0.0)  # keep every event
    run_id = add_run(engine, "ok", {"steps": 5, "seed": 3})

    assert execute(run_id, engine=engine, find_demo=FIND, worker_host="here") == "succeeded"

    run = get_run(engine, run_id)
    assert run.status == "succeeded"
    assert run.error is None
    assert run.attempts == 1
    assert run.worker_host == "here"
    assert run.device == "cpu"
    assert run.torch_version == str(torch.__version__)
    assert run.started_at is not None and run.finished_at is not None
    assert run.started_at <= run.finished_at
    assert run.wall_seconds is not None and run.wall_seconds >= 0
    assert run.progress == {"step": 5, "total": 5, "metrics": {"loss": 0.2}}
    assert [(e.step, e.total) for e in events(engine, run_id)] == [(i, 5) for i in range(1, 6)]
    assert [e.metrics["loss"] for e in events(engine, run_id)] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert run.result is not None
    assert run.result["conclusion"] == "ran on cpu"
    # NaN is not JSON (PostgreSQL refuses it): it is stored as null.
    assert run.result["figures"]["nan"] is None
    meta = run.result["meta"]
    assert meta["device"] == "cpu"
    assert meta["torch_version"] == str(torch.__version__)
    assert meta["device_name"] == run.device_name and meta["device_name"]
    assert meta["wall_seconds"] >= 0


def test_progress_writes_are_throttled_but_the_final_step_is_kept(engine: Engine) -> None:
    run_id = add_run(engine, "ok", {"steps": 3000})
    assert execute(run_id, engine=engine, find_demo=FIND) == "succeeded"
    steps = [e.step for e in events(engine, run_id)]
    assert len(steps) < 100
    assert steps == sorted(steps)
    assert steps[0] == 1 and steps[-1] == 3000
    assert get_run(engine, run_id).progress == {
        "step": 3000,
        "total": 3000,
        "metrics": {"loss": 1 / 3000},
    }


def test_the_same_seed_gives_the_same_figures(engine: Engine) -> None:
    def draw(seed: int) -> float:
        run_id = add_run(engine, "ok", {"steps": 1, "seed": seed})
        execute(run_id, engine=engine, find_demo=FIND)
        result = get_run(engine, run_id).result
        assert result is not None
        return float(result["figures"]["draw"])

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_a_demo_that_raises_marks_its_run_failed_with_the_message(engine: Engine) -> None:
    run_id = add_run(engine, "boom")
    assert execute(run_id, engine=engine, find_demo=FIND) == "failed"
    run = get_run(engine, run_id)
    assert run.error == "ValueError: boom"
    assert run.finished_at is not None
    assert run.result is None
    assert [e.step for e in events(engine, run_id)] == [1]


def test_an_unknown_demo_or_bad_parameters_fail_the_run(engine: Engine) -> None:
    unknown = add_run(engine, "nope")
    assert execute(unknown, engine=engine, find_demo=FIND) == "failed"
    assert get_run(engine, unknown).error == "NotFound: demo 'nope' does not exist"

    bad = add_run(engine, "ok", {"steps": 0})
    assert execute(bad, engine=engine, find_demo=FIND) == "failed"
    error = get_run(engine, bad).error
    assert error is not None and error.startswith("Unprocessable: steps: must be at least 1")


def test_a_missing_run_is_an_error(engine: Engine) -> None:
    with pytest.raises(NotFound):
        execute(12345, engine=engine, find_demo=FIND)


@pytest.mark.parametrize("status", ["running", "cancelled", "succeeded"])
def test_a_run_that_is_not_queued_is_not_run(engine: Engine, status: str) -> None:
    run_id = add_run(engine, "ok", status=status)
    assert execute(run_id, engine=engine, find_demo=FIND) == status
    run = get_run(engine, run_id)
    assert run.attempts == 0
    assert run.started_at is None
    assert events(engine, run_id) == []


def test_two_workers_given_the_same_run_run_it_once(engine: Engine) -> None:
    calls: list[int] = []

    def counting(params: Any, ctx: RunContext) -> DemoResult:
        calls.append(1)
        return DemoResult(figures={}, conclusion="once")

    demo = make_demo("counting", counting)

    def lookup(name: str) -> Demo:
        return demo

    run_id = add_run(engine, "counting")
    with ThreadPoolExecutor(4) as threads:
        statuses = list(
            threads.map(lambda _: execute(run_id, engine=engine, find_demo=lookup), range(4))
        )
    assert calls == [1]
    assert get_run(engine, run_id).attempts == 1
    assert statuses.count("succeeded") >= 1
    assert set(statuses) <= {"running", "succeeded"}


def test_a_run_failed_elsewhere_while_running_stays_failed(engine: Engine) -> None:
    run_id = add_run(engine, "reaped")

    def reaped_midway(params: Any, ctx: RunContext) -> DemoResult:
        ctx.progress(1, 3)
        fail_run(engine, run_id, "worker stopped responding")  # as a reaper would
        ctx.progress(3, 3)  # the next write finds the run no longer running: stop
        return DemoResult(figures={}, conclusion="must not be stored")

    demo = make_demo("reaped", reaped_midway)
    assert execute(run_id, engine=engine, find_demo=lambda name: demo) == "failed"
    run = get_run(engine, run_id)
    assert run.error == "worker stopped responding"
    assert run.result is None
    assert [e.step for e in events(engine, run_id)] == [1]


def test_fail_run_leaves_finished_runs_alone(engine: Engine) -> None:
    done = add_run(engine, "ok", status="succeeded")
    queued = add_run(engine, "ok")
    assert fail_run(engine, done, "late") is False
    assert get_run(engine, done).status == "succeeded"
    assert fail_run(engine, queued, "no worker") is True
    assert get_run(engine, queued).error == "no worker"


def test_reap_stale_fails_runs_whose_heartbeat_stopped(engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(minutes=10)
    stale = add_run(engine, "ok", status="running", started_at=old, heartbeat_at=old)
    fresh = add_run(engine, "ok", status="running", started_at=old, heartbeat_at=now)
    mine = add_run(engine, "ok", status="running", started_at=old, heartbeat_at=old)
    queued = add_run(engine, "ok")

    reaped = reap_stale(engine, older_than=dt.timedelta(minutes=2), now=now, exclude={mine})

    assert reaped == [stale]
    run = get_run(engine, stale)
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("worker stopped responding")
    assert run.finished_at == now
    assert get_run(engine, fresh).status == "running"
    assert get_run(engine, mine).status == "running"
    assert get_run(engine, queued).status == "queued"
    assert reap_stale(engine, older_than=dt.timedelta(minutes=2), now=now) == [mine]


def test_the_fake_lookup_finds_only_its_demos() -> None:
    assert find("ok").name == "ok"
    with pytest.raises(NotFound):
        find("rank")
