"""At scale: a Celery worker (``interview-lab worker``) started by the test takes runs
from Redis and writes to PostgreSQL, both the real services on this machine."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine, migrate
from app.errors import ServiceUnavailable
from app.models import User
from app.runs.dispatch import dispatch
from app.worker.celery_app import CeleryDispatcher
from app.worker.execute import reap_stale
from tests.conftest import REPO_ROOT, need_service, worker_index
from tests.worker.fake_demos import add_run, events, get_run, wait_status

pytestmark = pytest.mark.postgres
# A Redis database of its own (one per xdist worker: 15, 14, ...), emptied before and after.
REDIS_URL = os.environ.get("IL_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - worker_index()}")


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        need_service(f"Redis not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def settings(pg_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=pg_url,
        redis_url=redis_url,
        queue="celery",
        demo_lookup="tests.worker.fake_demos:find",
        data_dir=tmp_path,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    migrate(engine)
    yield engine
    engine.dispose()


def start_worker(
    settings: Settings, tmp_path: Path, concurrency: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        DATABASE_URL=settings.database_url,
        IL_REDIS_URL=settings.redis_url,
        IL_QUEUE="celery",
        IL_DEMO_LOOKUP=settings.demo_lookup,
        IL_RUNS_RUNNING_CAP=str(settings.runs_running_cap),
    )
    log = (tmp_path / "worker.log").open("wb")
    # A session of its own: the test can kill the worker and its pool children at once.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "worker",
            "--queue",
            "cpu",
            "--concurrency",
            str(concurrency),
            "--pidfile",
            str(tmp_path / "worker.pid"),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def worker(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    yield from start_worker(settings, tmp_path)


@pytest.fixture
def two_slot_worker(
    settings: Settings, engine: Engine, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    yield from start_worker(settings, tmp_path, concurrency=2)


def test_a_worker_takes_a_run_and_writes_its_result(
    settings: Settings, engine: Engine, worker: subprocess.Popen[bytes]
) -> None:
    run_id = add_run(engine, "ok", {"steps": 4})
    dispatcher = CeleryDispatcher(settings)
    try:
        dispatcher.submit(run_id)
        run = wait_status(engine, run_id, ("succeeded", "failed"), timeout=90)
    finally:
        dispatcher.stop()
    assert run.status == "succeeded", run.error
    assert run.result is not None and run.result["meta"]["device"] == "cpu"
    assert run.worker_host
    assert [e.step for e in events(engine, run_id)][-1] == 4


def test_a_worker_killed_mid_run_leaves_no_run_running(
    settings: Settings, engine: Engine, worker: subprocess.Popen[bytes]
) -> None:
    run_id = add_run(engine, "hang", {"steps": 1})
    dispatcher = CeleryDispatcher(settings)
    try:
        dispatcher.submit(run_id)
        wait_status(engine, run_id, ("running",), timeout=90)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool, mid-run
        worker.wait(timeout=10)
    finally:
        dispatcher.stop()
    assert get_run(engine, run_id).status == "running"  # nobody else knows yet
    # Its heartbeat stops; the reaper (run by the web process) fails it.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert reap_stale(engine, older_than=dt.timedelta(minutes=2), now=later) == [run_id]
    run = get_run(engine, run_id)
    assert run.status == "failed" and "heartbeat" in (run.error or "")


def test_a_run_past_its_time_limit_fails(
    settings: Settings, engine: Engine, worker: subprocess.Popen[bytes]
) -> None:
    run_id = add_run(engine, "sleepy", {"steps": 1})  # a 1 s limit, runs for 30 s
    dispatcher = CeleryDispatcher(settings)
    try:
        dispatcher.submit(run_id)
        run = wait_status(engine, run_id, ("succeeded", "failed"), timeout=90)
    finally:
        dispatcher.stop()
    assert run.status == "failed" and "TimeLimit" in (run.error or "")
    # The worker survives and takes the next run.
    next_id = add_run(engine, "ok", {"steps": 2})
    dispatcher = CeleryDispatcher(settings)
    try:
        dispatcher.submit(next_id)
        assert (
            wait_status(engine, next_id, ("succeeded", "failed"), timeout=60).status == "succeeded"
        )
    finally:
        dispatcher.stop()


def test_runs_queued_while_redis_was_down_run_after_a_restart(
    settings: Settings, engine: Engine, worker: subprocess.Popen[bytes]
) -> None:
    # The claims' runs (they belong to no user) are queued at start while Redis is down.
    down = CeleryDispatcher(settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    run_ids = [add_run(engine, "ok", {"steps": 1}) for _ in range(5)]
    try:
        for run_id in run_ids:
            with pytest.raises(ServiceUnavailable):
                dispatch(down, engine, run_id)
    finally:
        down.stop()
    assert {get_run(engine, run_id).status for run_id in run_ids} == {"queued"}
    # The server restarts with Redis and a worker up: its sweep sends every one of them.
    live = CeleryDispatcher(settings.model_copy(update={"runs_sweep_s": 0.2}))
    live.start()
    try:
        runs = [wait_status(engine, r, ("succeeded", "failed"), timeout=90) for r in run_ids]
    finally:
        live.stop()
    assert [run.status for run in runs] == ["succeeded"] * len(run_ids)


def test_a_queued_run_whose_message_was_lost_is_sent_again(
    settings: Settings, engine: Engine, request: pytest.FixtureRequest
) -> None:
    import redis

    quick = settings.model_copy(update={"runs_sweep_s": 0.2, "runs_resend_after_s": 1.0})
    run_id = add_run(engine, "ok", {"steps": 1})
    dispatcher = CeleryDispatcher(quick)
    try:
        dispatcher.submit(run_id)
        # Redis restarts without persistence before any worker took the message.
        redis.Redis.from_url(settings.redis_url).flushdb()
        request.getfixturevalue("worker")
        dispatcher.start()
        run = wait_status(engine, run_id, ("succeeded", "failed"), timeout=90)
    finally:
        dispatcher.stop()
    assert run.status == "succeeded", run.error


def test_the_running_cap_holds_across_celery_workers_and_deferred_runs_are_resent(
    settings: Settings, engine: Engine, two_slot_worker: subprocess.Popen[bytes]
) -> None:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        user = User(username="busy")
        session.add(user)
    slow = [add_run(engine, "slow", {"steps": 15}, user_id=user.id) for _ in range(2)]
    dispatcher = CeleryDispatcher(settings.model_copy(update={"runs_sweep_s": 0.2}))
    try:
        for run_id in slow:
            dispatcher.submit(run_id)
        dispatcher.start()
        one, two = (wait_status(engine, r, ("succeeded", "failed"), timeout=90) for r in slow)
    finally:
        dispatcher.stop()
    assert (one.status, two.status) == ("succeeded", "succeeded")
    # Two worker slots, but one run of this user at a time: the second waited.
    first, second = sorted((one, two), key=lambda run: run.started_at or 0)
    assert second.started_at and first.finished_at and second.started_at >= first.finished_at
