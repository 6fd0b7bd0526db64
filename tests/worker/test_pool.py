"""The local pool end to end: spawned workers, time limits, crashes and replacements.

Each spawned worker imports torch (a second or two), so the tests share one pool of two
workers on one SQLite file; only the start/stop test starts a pool of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.db import migrate
from app.models import User
from app.worker.pool import LocalPool, describe_exit, engine_for
from tests.worker.fake_demos import FIND, add_run, events, get_run, wait_status, wait_until

FINISHED = ("succeeded", "failed", "cancelled")


def _database(folder: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{(folder / 'runs.sqlite3').as_posix()}"
    engine = engine_for(url)
    migrate(engine)
    return url, engine


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    url, engine = _database(tmp_path_factory.mktemp("pool"))
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def engine(database: tuple[str, Engine]) -> Engine:
    return database[1]


@pytest.fixture(scope="module")
def pool(database: tuple[str, Engine]) -> Iterator[LocalPool]:
    with LocalPool(database[0], processes=2, find_demo=FIND, poll_interval=0.1) as pool:
        yield pool


def _assert_pool_still_runs(pool: LocalPool, engine: Engine) -> None:
    run_id = add_run(engine, "ok", {"steps": 2})
    pool.submit(run_id)
    assert wait_status(engine, run_id, FINISHED, timeout=30).status == "succeeded"


def test_a_submitted_run_succeeds_with_progress(pool: LocalPool, engine: Engine) -> None:
    run_id = add_run(engine, "ok", {"steps": 3})
    pool.submit(run_id)
    run = wait_status(engine, run_id, FINISHED, timeout=30)
    assert run.status == "succeeded", run.error
    assert run.attempts == 1
    assert run.worker_host is not None and run.worker_host.endswith(
        tuple(f":{pid}" for pid in pool.worker_pids())
    )
    steps = [e.step for e in events(engine, run_id)]
    assert steps == sorted(steps) and steps[-1] == 3
    assert run.result is not None and run.result["meta"]["device"] == "cpu"


def test_a_run_past_its_time_limit_is_killed_and_the_pool_goes_on(
    pool: LocalPool, engine: Engine
) -> None:
    run_id = add_run(engine, "sleepy")
    pool.submit(run_id)
    wait_until(lambda: run_id in pool.running(), 30, "the run to be dispatched")
    pid = pool.running()[run_id]
    run = wait_status(engine, run_id, FINISHED, timeout=10)
    assert run.status == "failed"
    assert run.error == "killed: ran past its time limit of 1 s"
    assert run.result is None
    # The killed worker is gone (and reaped), and a replacement serves the next run.
    assert pid not in pool.worker_pids()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    _assert_pool_still_runs(pool, engine)


def test_a_worker_killed_mid_run_fails_its_run_and_is_replaced(
    pool: LocalPool, engine: Engine
) -> None:
    run_id = add_run(engine, "hang")
    pool.submit(run_id)
    wait_until(
        lambda: run_id in pool.running() and get_run(engine, run_id).status == "running",
        30,
        "the run to start",
    )
    os.kill(pool.running()[run_id], signal.SIGKILL)
    run = wait_status(engine, run_id, FINISHED, timeout=10)
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("worker process died (exit code -9")
    _assert_pool_still_runs(pool, engine)


@pytest.mark.parametrize(("demo", "exitcode"), [("segfault", -11), ("suicide", -9)])
def test_a_worker_that_crashes_by_itself_fails_its_run(
    pool: LocalPool, engine: Engine, demo: str, exitcode: int
) -> None:
    run_id = add_run(engine, demo)
    pool.submit(run_id)
    run = wait_status(engine, run_id, FINISHED, timeout=30)
    assert run.status == "failed"
    assert run.error == f"worker process died ({describe_exit(exitcode)})"
    _assert_pool_still_runs(pool, engine)


def test_runs_queued_before_start_are_run_and_stop_is_clean(tmp_path: Path) -> None:
    url, engine = _database(tmp_path)
    first = add_run(engine, "ok", {"steps": 1})
    second = add_run(engine, "ok", {"steps": 1})
    pool = LocalPool(url, processes=1, find_demo=FIND, poll_interval=0.1)
    with pool:
        one = wait_status(engine, first, FINISHED, timeout=30)
        two = wait_status(engine, second, FINISHED, timeout=30)
        assert (one.status, two.status) == ("succeeded", "succeeded")
        assert one.started_at is not None and two.started_at is not None
        assert one.started_at <= two.started_at  # oldest first
        # A run still going when the server stops is killed and marked failed.
        hanging = add_run(engine, "hang")
        pool.submit(hanging)
        wait_until(lambda: get_run(engine, hanging).status == "running", 30, "the run")
        pids = pool.worker_pids()
    pool.stop()  # idempotent
    assert get_run(engine, hanging).status == "failed"
    assert get_run(engine, hanging).error == "stopped: the server shut down while it ran"
    for pid in pids:
        with pytest.raises(ProcessLookupError):  # gone and reaped: no zombie
            os.kill(pid, 0)
    with pytest.raises(RuntimeError):
        pool.start()
    engine.dispose()


def test_one_users_slow_runs_do_not_hold_the_pool_against_another_user(tmp_path: Path) -> None:
    url, engine = _database(tmp_path)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        first, second = User(username="first"), User(username="second")
        session.add_all([first, second])
    # The first user queues two slow runs, then the second user a quick one.
    slow = [add_run(engine, "slow", {"steps": 20}, user_id=first.id) for _ in range(2)]
    quick = add_run(engine, "ok", {"steps": 1}, user_id=second.id)
    with LocalPool(url, processes=2, find_demo=FIND, poll_interval=0.1, running_cap=1):
        runs = [wait_status(engine, run_id, FINISHED, timeout=60) for run_id in (*slow, quick)]
    one, two, other = runs
    assert [r.status for r in runs] == ["succeeded"] * 3
    assert one.started_at and two.started_at and other.started_at and one.finished_at
    # The other user's run went ahead of the first user's second run, which waited for
    # the first one to end (one run at a time per user).
    assert other.started_at < two.started_at
    assert two.started_at >= one.finished_at
    engine.dispose()


def test_the_pool_does_not_import_torch_in_the_web_process(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from app.worker.pool import LocalPool
        from app.worker.execute import resolve_lookup
        LocalPool({f"sqlite:///{tmp_path}/x.sqlite3"!r})
        resolve_lookup("app.demos:get_demo")("rank").time_limit_s
        assert "torch" not in sys.modules, "torch was imported"
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_describe_exit_names_the_signal() -> None:
    assert describe_exit(-11) == "exit code -11, SIGSEGV"
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(-9).startswith("exit code -9, SIGKILL")
