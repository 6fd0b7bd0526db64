"""Test-only demos for the worker tests, and helpers to queue runs and wait on them.

Workers are spawned processes: they find these demos through the dotted path
``tests.worker.fake_demos:find`` (FIND), never through the real catalogue.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from pydantic import Field
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.demos.base import Demo, DemoParams, DemoResult, RunContext
from app.errors import NotFound
from app.models import DemoEvent, DemoRun

FIND = "tests.worker.fake_demos:find"


class StepsParams(DemoParams):
    steps: int = Field(default=5, ge=1, le=10_000)


def _ok(params: Any, ctx: RunContext) -> DemoResult:
    import torch

    for step in range(1, params.steps + 1):
        ctx.progress(step, params.steps, loss=1.0 / step)
    # Drawn after the worker seeded torch: the same seed gives the same figure.
    draw = float(torch.rand(1).item())
    return DemoResult(
        figures={"steps": params.steps, "draw": draw, "nan": float("nan")},
        conclusion=f"ran on {ctx.device}",
    )


def _boom(params: Any, ctx: RunContext) -> DemoResult:
    ctx.progress(1, 2, loss=0.5)
    raise ValueError("boom")


def _sleepy(params: Any, ctx: RunContext) -> DemoResult:
    """Runs (in short sleeps, reporting) far past its limit, or until it is killed."""
    for step in range(1, 601):
        ctx.progress(step, 600)
        time.sleep(0.05)
    return DemoResult(figures={}, conclusion="should have been killed")


def _slow(params: Any, ctx: RunContext) -> DemoResult:
    """Takes ``steps`` tenths of a second, then succeeds."""
    for step in range(1, params.steps + 1):
        time.sleep(0.1)
        ctx.progress(step, params.steps)
    return DemoResult(figures={"steps": params.steps}, conclusion="slow but done")


def _segfault(params: Any, ctx: RunContext) -> DemoResult:
    ctx.progress(1, 2)
    ctypes.string_at(0)  # reads address 0: SIGSEGV
    return DemoResult(figures={}, conclusion="unreachable")


def _suicide(params: Any, ctx: RunContext) -> DemoResult:
    os.kill(os.getpid(), signal.SIGKILL)
    return DemoResult(figures={}, conclusion="unreachable")


def make_demo(name: str, run: Callable[[Any, RunContext], DemoResult], limit: float = 30.0) -> Demo:
    return Demo(
        name=name,
        title=name,
        summary=f"test demo {name}",
        claims=(),
        params=StepsParams,
        run=run,
        time_limit_s=limit,
        uses_gpu=False,
    )


DEMOS = {
    demo.name: demo
    for demo in (
        make_demo("ok", _ok),
        make_demo("boom", _boom),
        make_demo("sleepy", _sleepy, limit=1.0),
        make_demo("hang", _sleepy),
        make_demo("slow", _slow),
        make_demo("segfault", _segfault),
        make_demo("suicide", _suicide),
    )
}


def find(name: str) -> Demo:
    try:
        return DEMOS[name]
    except KeyError:
        raise NotFound(f"demo {name!r} does not exist", field="demo") from None


def add_run(
    engine: Engine,
    demo: str,
    params: dict[str, Any] | None = None,
    **fields: Any,
) -> int:
    """Insert a queued run row directly (the run service is not under test here)."""
    values: dict[str, Any] = {
        "demo": demo,
        "params": params or {},
        "params_hash": "x",
        "code_version": "x",
        "status": "queued",
        "created_at": dt.datetime.now(dt.UTC),
    }
    values.update(fields)
    with Session(engine) as session, session.begin():
        run = DemoRun(**values)
        session.add(run)
        session.flush()
        return run.id


def get_run(engine: Engine, run_id: int) -> DemoRun:
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(DemoRun, run_id)
        assert run is not None
        return run


def events(engine: Engine, run_id: int) -> list[DemoEvent]:
    with Session(engine) as session:
        stmt = select(DemoEvent).where(DemoEvent.run_id == run_id).order_by(DemoEvent.id)
        return list(session.scalars(stmt))


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "it") -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def wait_status(
    engine: Engine, run_id: int, statuses: tuple[str, ...], timeout: float = 20.0
) -> DemoRun:
    """Poll the run's row until its status is one of ``statuses``; return the row."""
    deadline = time.monotonic() + timeout
    while (run := get_run(engine, run_id)).status not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} is {run.status}, not {statuses} after {timeout} s")
        time.sleep(0.02)
    return run
