"""Run one demo run by id: claim its row, run the demo, write the outcome back.

Both queues call :func:`execute`: the local pool's worker processes and the Celery task.
The row is the single source of truth, so every write is guarded by the status it
expects: a run is claimed only while ``queued`` (two workers handed the same id run it
once), and progress or an outcome is written only while it is ``running`` (a run that a
reaper or the pool already failed stays failed).

torch is imported inside the functions that need it, so importing this module (as
``app.worker.pool`` does in the web process) stays torch-free.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import platform
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine

from app.errors import NotFound
from app.i18n import mark as N_
from app.models.base import utcnow
from app.runs import lifecycle
from app.runs.lifecycle import ClaimOutcome, describe_error, reap_stale

if TYPE_CHECKING:
    from app.demos.base import Demo, ProgressReporter

__all__ = ["describe_error", "execute", "fail_run", "reap_stale", "run_status"]

log = logging.getLogger(__name__)

Lookup = Callable[[str], "Demo"]
DEFAULT_FIND_DEMO = "app.demos:get_demo"
# Progress rows are written at most this often (the live page polls the row; a demo
# reporting every step of a fast loop must not turn into thousands of transactions).
MIN_REPORT_INTERVAL_S = 0.1
# How often a running worker refreshes heartbeat_at even when its demo reports nothing.
HEARTBEAT_S = 5.0


class RunAbandoned(Exception):
    """The run left ``running`` under the worker (reaped or failed elsewhere): stop."""


def resolve_lookup(find_demo: str | Lookup) -> Lookup:
    """The demo lookup itself, or one named ``"module:function"`` (spawned worker
    processes get the name, since a function defined in a test can't cross over); either
    way the hidden jobs (``app.worker.jobs``: the FSRS fit) are found first."""
    from app.worker.jobs import with_jobs

    if callable(find_demo):
        return with_jobs(find_demo)
    module_name, sep, attr = find_demo.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"find_demo {find_demo!r} is not of the form 'module:function'")
    func = getattr(importlib.import_module(module_name), attr)
    if not callable(func):
        raise TypeError(f"find_demo {find_demo!r} is not callable")
    return with_jobs(cast(Lookup, func))


def default_worker_host() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute(
    run_id: int,
    *,
    engine: Engine,
    find_demo: str | Lookup = DEFAULT_FIND_DEMO,
    worker_host: str | None = None,
    heartbeat_s: float = HEARTBEAT_S,
    running_cap: int | None = None,
) -> str:
    """Run the queued run ``run_id`` and return its final status. A run that is no longer
    queued (taken by another worker, cancelled) is left alone: its status is returned.
    A run whose user already has ``running_cap`` runs running is not started: it stays
    queued (returned as such) and is sent again later."""
    row = lifecycle.queued_run(engine, run_id)
    if row is None:
        return run_status(engine, run_id)
    host = worker_host or default_worker_host()
    try:
        demo = resolve_lookup(find_demo)(row.demo)
    except Exception as exc:
        # Claim before failing, so that of two workers only one writes the outcome.
        outcome = lifecycle.claim(
            engine, run_id, host=host, device="cpu", device_name=None, torch_version=None
        )
        if outcome is ClaimOutcome.CLAIMED:
            fail_run(engine, run_id, describe_error(exc))
        return run_status(engine, run_id)
    device, device_name, torch_version = pick_device(demo.uses_gpu, row.device_requested)
    outcome = lifecycle.claim(
        engine,
        run_id,
        host=host,
        device=device,
        device_name=device_name,
        torch_version=torch_version,
        running_cap=running_cap,
    )
    if outcome is not ClaimOutcome.CLAIMED:
        return run_status(engine, run_id)

    # Everything after the claim is inside the try: whatever stops this run (an error,
    # Celery's soft time limit while torch is still loading, a shutdown) marks it failed
    # rather than leaving it running.
    heartbeat: _Heartbeat | None = None
    try:
        import torch

        from app.content.answers import demo_inputs
        from app.demos.base import RunContext, validate_params

        heartbeat = _Heartbeat(engine, run_id, heartbeat_s)
        heartbeat.start()
        params = validate_params(demo, row.params)
        ctx = RunContext(
            device=device, report=_reporter(engine, run_id), inputs=demo_inputs(demo.inputs)
        )
        torch.manual_seed(int(getattr(params, "seed", 0)))
        started = time.perf_counter()
        result = demo.run(params, ctx)
        wall = time.perf_counter() - started
        data = json_safe(result.model_dump(mode="json"))
    except RunAbandoned:
        log.warning("run %s left 'running' while %s ran it; stopped", run_id, host)
        return run_status(engine, run_id)
    except Exception as exc:
        log.exception("run %s (%s) failed", run_id, demo.name)
        fail_run(engine, run_id, describe_error(exc))
        return run_status(engine, run_id)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt: record, then go on
        fail_run(engine, run_id, f"stopped: {describe_error(exc)}")
        raise
    finally:
        if heartbeat is not None:
            heartbeat.stop()

    meta = dict(data.get("meta") or {})
    meta.update(
        device=device,
        device_name=device_name,
        torch_version=torch_version,
        wall_seconds=round(wall, 6),
    )
    data["meta"] = meta
    lifecycle.succeed(engine, run_id, result=data, wall_seconds=wall, now=utcnow())
    return run_status(engine, run_id)


def run_status(engine: Engine, run_id: int) -> str:
    status = lifecycle.status_of(engine, run_id)
    if status is None:
        raise NotFound(N_("run %(id)s does not exist"), id=run_id)
    return status


def fail_run(engine: Engine, run_id: int, error: str) -> bool:
    """Mark a queued or running run failed with ``error`` (see ``lifecycle.fail``)."""
    return lifecycle.fail(engine, run_id, error)


def pick_device(uses_gpu: bool, requested: str) -> tuple[str, str, str]:
    """(device, device name, torch version): cuda only when the demo can use it, the
    user did not ask for cpu, and this worker has one."""
    import torch

    version = str(torch.__version__)
    if uses_gpu and requested != "cpu" and torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0), version
    return "cpu", _cpu_name(), version


def _cpu_name() -> str:
    # platform.processor() is often just "x86_64" on Linux; the model name says more.
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def json_safe(value: Any) -> Any:
    """NaN and infinities become null: PostgreSQL's JSON rejects them."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def _reporter(engine: Engine, run_id: int) -> ProgressReporter:
    """The RunContext's report: one event row plus the run's progress and heartbeat, in
    one short transaction, at most every MIN_REPORT_INTERVAL_S except the final step."""
    last_written = -math.inf

    def report(step: int, total: int, metrics: dict[str, float]) -> None:
        nonlocal last_written
        clock = time.monotonic()
        if step < total and clock - last_written < MIN_REPORT_INTERVAL_S:
            return
        last_written = clock
        clean = {str(name): _finite(value) for name, value in metrics.items()}
        written = lifecycle.report_progress(
            engine, run_id, step=step, total=total, metrics=clean, now=utcnow()
        )
        if not written:
            raise RunAbandoned(f"run {run_id} is no longer running")

    return report


class _Heartbeat(threading.Thread):
    """Refreshes heartbeat_at while the demo runs, so a long step without progress
    reports is not mistaken for a dead worker by :func:`reap_stale`."""

    def __init__(self, engine: Engine, run_id: int, every: float) -> None:
        super().__init__(name=f"heartbeat-run-{run_id}", daemon=True)
        self._engine = engine
        self._run_id = run_id
        self._every = every
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._every):
            try:
                lifecycle.beat(self._engine, self._run_id, now=utcnow())
            except Exception:
                log.exception("heartbeat of run %s failed", self._run_id)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=self._every + 1)
