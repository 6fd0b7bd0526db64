"""One owner of a run's life: no module of ``app/`` but ``app.runs.lifecycle`` writes a
run, and its writes are conditional (two racing claims of one user's runs under the
running cap leave one running, on SQLite and PostgreSQL)."""

from __future__ import annotations

import ast
import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import Engine

from app.runs import lifecycle
from app.runs.fairness import Waiting, fair_order
from app.runs.lifecycle import ClaimOutcome, RunStatus
from tests.conftest import REPO_ROOT
from tests.runs.conftest import add_user
from tests.worker.fake_demos import add_run, get_run

OWNER = REPO_ROOT / "app" / "runs" / "lifecycle.py"
WRITES = {"update", "insert", "delete"}


def run_writes(path: Path, root: Path = REPO_ROOT) -> list[str]:
    """Where ``path`` writes a run: builds a DemoRun, runs update/insert/delete on it,
    assigns a ``.status``, or holds SQL text that writes ``demo_runs``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            args = [getattr(a, "id", None) for a in node.args]
            if name == "DemoRun":
                found.append(f"{where} builds a DemoRun")
            elif name in WRITES and "DemoRun" in args:
                found.append(f"{where} {name}(DemoRun)")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                found.append(f"{where} assigns .status")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            sql = " ".join(node.value.lower().split())
            if any(w in sql for w in ("update demo_runs", "into demo_runs", "from demo_runs")):
                if not sql.startswith("select"):
                    found.append(f"{where} writes demo_runs in SQL text")
    return found


def test_only_the_lifecycle_writes_a_run() -> None:
    files = [p for p in sorted((REPO_ROOT / "app").rglob("*.py")) if p != OWNER]
    assert len(files) > 50
    assert [w for path in files for w in run_writes(path)] == []
    assert run_writes(OWNER), "the walk finds the owner's own writes"


def test_the_walk_finds_each_kind_of_write(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(s, run):\n"
        "    s.add(DemoRun(status='queued'))\n"
        "    s.execute(update(DemoRun).values(status='failed'))\n"
        "    run.status = 'cancelled'\n"
        "    s.execute(text('UPDATE demo_runs SET status = 1'))\n"
    )
    assert len(run_writes(sample, root=tmp_path)) == 4


def test_status_values_are_those_the_database_holds() -> None:
    assert [s.value for s in RunStatus] == [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    ]
    assert str(RunStatus.QUEUED) == "queued"


def test_racing_claims_of_one_user_respect_the_running_cap(any_engine: Engine) -> None:
    user = add_user(any_engine, "busy")
    runs = [add_run(any_engine, "ok", user_id=user.id) for _ in range(6)]
    barrier = threading.Barrier(len(runs))
    outcomes: dict[int, ClaimOutcome] = {}

    def claim(run_id: int) -> None:
        barrier.wait()
        outcomes[run_id] = lifecycle.claim(
            any_engine,
            run_id,
            host="test",
            device="cpu",
            device_name=None,
            torch_version=None,
            running_cap=2,
        )

    threads = [threading.Thread(target=claim, args=(run_id,)) for run_id in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == sorted(
        [ClaimOutcome.CLAIMED] * 2 + [ClaimOutcome.DEFERRED] * 4
    )
    statuses = sorted(get_run(any_engine, run_id).status for run_id in runs)
    assert statuses == ["queued"] * 4 + ["running"] * 2
    # A deferred run is marked unsent, so the sweep sends it again; runs of no user
    # have no cap.
    deferred = [r for r, o in outcomes.items() if o is ClaimOutcome.DEFERRED]
    assert all(get_run(any_engine, r).dispatched_at is None for r in deferred)
    nobody = [add_run(any_engine, "ok") for _ in range(3)]
    for run_id in nobody:
        assert (
            lifecycle.claim(
                any_engine,
                run_id,
                host="t",
                device="cpu",
                device_name=None,
                torch_version=None,
                running_cap=1,
            )
            is ClaimOutcome.CLAIMED
        )


def test_a_finished_run_keeps_its_outcome(any_engine: Engine) -> None:
    run_id = add_run(any_engine, "ok")
    now = dt.datetime.now(dt.UTC)
    assert lifecycle.fail(any_engine, run_id, "first", now=now)
    assert not lifecycle.fail(any_engine, run_id, "second", now=now)
    assert not lifecycle.succeed(any_engine, run_id, result={}, wall_seconds=1.0, now=now)
    run = get_run(any_engine, run_id)
    assert (run.status, run.error) == ("failed", "first")


def _w(run_id: int, user: int | None) -> Waiting:
    return Waiting(id=run_id, user_id=user, demo="ok", device_requested="auto")


def test_fair_order_is_round_robin_by_user_and_oldest_first_per_user() -> None:
    # Oldest first: user 1 queued three runs before users 2 and 3 queued one each.
    queued = [_w(1, 1), _w(2, 1), _w(3, 1), _w(4, 2), _w(5, None), _w(6, 3)]
    order = fair_order(queued, running={}, running_cap=None)
    assert [r.id for r in order] == [1, 4, 5, 6, 2, 3]
    # A user with a run going waits behind users with none; the cap skips them.
    order = fair_order(queued, running={1: 1}, running_cap=2)
    assert [r.id for r in order] == [4, 5, 6, 1]
    assert [r.id for r in fair_order(queued, running={2: 1}, running_cap=1)] == [1, 5, 6]
