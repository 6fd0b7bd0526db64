"""A run's life, and the one writer of its status: queue, claim, succeed, fail, cancel,
reap (plus the writes that ride on a status: progress, heartbeat, dispatch marks).

Every write is a conditional ``UPDATE … WHERE status = <expected>``, so two writers
racing over one run (two workers handed the same id, a reaper and a slow worker, a cancel
and a claim) leave one outcome: the loser's update matches no row and it is told so.

The caps are enforced here, in the database, not by a count the caller trusts: queueing
a user's run and claiming one first lock that user (``SELECT … FOR UPDATE`` of the user's
row on PostgreSQL; on SQLite a write, which takes the database's single write lock), then
count and write in the same transaction (the lock and the counts: ``app.runs.caps``).
Concurrent posts of one user queue one at a time.

``tests/runs/test_lifecycle.py`` checks that no other module of ``app/`` writes a run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Row, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.errors import TooManyRequests
from app.models.base import utcnow
from app.models.runs import DemoEvent, DemoRun, RunStatus
from app.runs.caps import check_caps, lock_user

__all__ = [
    "ClaimOutcome",
    "RunStatus",
    "beat",
    "cancel",
    "claim",
    "describe_error",
    "fail",
    "mark_dispatched",
    "mark_unsent",
    "queue_run",
    "queue_unowned_run",
    "reap_stale",
    "report_progress",
    "status_of",
    "succeed",
]

log = logging.getLogger(__name__)
ERROR_MAX_CHARS = 2000
QUEUED, RUNNING = RunStatus.QUEUED, RunStatus.RUNNING


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # queued -> running: this worker runs it
    DEFERRED = "deferred"  # still queued: its user is at the running cap
    GONE = "gone"  # not queued any more (another worker has it, or it was cancelled)


def describe_error(exc: BaseException) -> str:
    """``"ExceptionType: message"``, as stored in the run's ``error`` column."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]


def _new_run(
    *,
    user_id: int | None,
    demo: str,
    params: dict[str, Any],
    params_hash: str,
    code_version: str,
    device: str,
    now: dt.datetime,
) -> DemoRun:
    return DemoRun(
        user_id=user_id,
        demo=demo,
        params=params,
        params_hash=params_hash,
        code_version=code_version,
        status=QUEUED,
        device_requested=device,
        created_at=now,
    )


def queue_run(
    *,
    session: Session,
    user_id: int,
    demo: str,
    params: dict[str, Any],
    params_hash: str,
    code_version: str,
    device: str,
    now: dt.datetime,
    queued_cap: int,
    per_minute: int,
) -> DemoRun:
    """A new queued run of ``user_id``, committed; 429 (``TooManyRequests``, after a
    rollback) when the user already has ``queued_cap`` runs waiting or started
    ``per_minute`` runs in the last minute. The user is locked while counting, so
    concurrent posts can't all see room under the cap."""
    try:
        lock_user(session, user_id)
        check_caps(session, user_id, now=now, queued_cap=queued_cap, per_minute=per_minute)
    except TooManyRequests:
        session.rollback()
        raise
    run = _new_run(
        user_id=user_id,
        demo=demo,
        params=params,
        params_hash=params_hash,
        code_version=code_version,
        device=device,
        now=now,
    )
    session.add(run)
    session.commit()
    return run


def queue_unowned_run(
    *,
    session: Session,
    demo: str,
    params: dict[str, Any],
    params_hash: str,
    code_version: str,
    now: dt.datetime,
) -> int:
    """A queued run that belongs to no user (a claim's evidence), flushed in the
    caller's transaction; its id."""
    run = _new_run(
        user_id=None,
        demo=demo,
        params=params,
        params_hash=params_hash,
        code_version=code_version,
        device="auto",
        now=now,
    )
    session.add(run)
    session.flush()
    return run.id


def claim(
    engine: Engine,
    run_id: int,
    *,
    host: str,
    device: str,
    device_name: str | None,
    torch_version: str | None,
    running_cap: int | None = None,
    now: dt.datetime | None = None,
) -> ClaimOutcome:
    """queued -> running for this worker, unless the run's user already has
    ``running_cap`` runs running (None: no cap; runs of no user have none). A deferred
    run stays queued and is marked unsent, so the resend sweep hands it out again."""
    now = now or utcnow()
    with engine.begin() as conn:
        user_id = conn.scalar(select(DemoRun.user_id).where(DemoRun.id == run_id))
        where = [DemoRun.id == run_id, DemoRun.status == QUEUED]
        if running_cap is not None and user_id is not None:
            lock_user(conn, user_id)
            running = (
                select(func.count(DemoRun.id))
                .where(DemoRun.user_id == user_id, DemoRun.status == RUNNING)
                .scalar_subquery()
            )
            where.append(running < running_cap)
        changed = conn.execute(
            update(DemoRun)
            .where(*where)
            .values(
                status=RUNNING,
                started_at=now,
                heartbeat_at=now,
                attempts=DemoRun.attempts + 1,
                worker_host=host[:200],
                device=device,
                device_name=device_name[:200] if device_name else None,
                torch_version=torch_version,
            )
        ).rowcount
        if changed == 1:
            return ClaimOutcome.CLAIMED
        deferred = conn.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id, DemoRun.status == QUEUED)
            .values(dispatched_at=None)
        ).rowcount
    return ClaimOutcome.DEFERRED if deferred else ClaimOutcome.GONE


def succeed(
    engine: Engine, run_id: int, *, result: dict[str, Any], wall_seconds: float, now: dt.datetime
) -> bool:
    """running -> succeeded with the result; False if it left running meanwhile."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id, DemoRun.status == RUNNING)
            .values(
                status=RunStatus.SUCCEEDED,
                result=result,
                finished_at=now,
                heartbeat_at=now,
                wall_seconds=wall_seconds,
            )
        ).rowcount
    return changed == 1


def fail(engine: Engine, run_id: int, error: str, *, now: dt.datetime | None = None) -> bool:
    """queued or running -> failed with ``error``; False if it had already finished (a
    finished run keeps its outcome)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id, DemoRun.status.in_((QUEUED, RUNNING)))
            .values(
                status=RunStatus.FAILED,
                error=error[:ERROR_MAX_CHARS],
                finished_at=now or utcnow(),
            )
        ).rowcount
    return changed == 1


def cancel(*, session: Session, run_id: int, now: dt.datetime) -> bool:
    """queued -> cancelled (committed); False if it is no longer queued."""
    changed = session.execute(
        update(DemoRun)
        .where(DemoRun.id == run_id, DemoRun.status == QUEUED)
        .values(status=RunStatus.CANCELLED, finished_at=now)
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    return bool(changed)


def reap_stale(
    engine: Engine,
    *,
    older_than: dt.timedelta,
    now: dt.datetime,
    exclude: Collection[int] = (),
) -> list[int]:
    """running -> failed for runs whose heartbeat is older than ``older_than`` (their
    worker died with no one watching it), so no run stays running forever. ``exclude``:
    runs the caller knows are alive. Returns the ids failed."""
    cutoff = now - older_than
    stale = or_(DemoRun.heartbeat_at.is_(None), DemoRun.heartbeat_at < cutoff)
    error = f"worker stopped responding (no heartbeat for {older_than.total_seconds():g} s)"
    with engine.connect() as conn:
        ids = conn.scalars(select(DemoRun.id).where(DemoRun.status == RUNNING, stale)).all()
    reaped: list[int] = []
    for run_id in ids:
        if run_id in exclude:
            continue
        # Re-checked in the update: the worker may have written since the select.
        with engine.begin() as conn:
            changed = conn.execute(
                update(DemoRun)
                .where(DemoRun.id == run_id, DemoRun.status == RUNNING, stale)
                .values(status=RunStatus.FAILED, error=error, finished_at=now)
            ).rowcount
        if changed:
            log.warning("run %s failed: %s", run_id, error)
            reaped.append(run_id)
    return reaped


def report_progress(
    engine: Engine,
    run_id: int,
    *,
    step: int,
    total: int,
    metrics: Mapping[str, float | None],
    now: dt.datetime,
) -> bool:
    """Progress (and heartbeat) of a running run, with its event row, in one short
    transaction; False if the run left running (the worker should stop)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id, DemoRun.status == RUNNING)
            .values(
                progress={"step": step, "total": total, "metrics": dict(metrics)}, heartbeat_at=now
            )
        ).rowcount
        if not changed:
            return False
        conn.execute(
            insert(DemoEvent).values(
                run_id=run_id, at=now, step=step, total=total, metrics=dict(metrics)
            )
        )
    return True


def beat(engine: Engine, run_id: int, *, now: dt.datetime) -> None:
    """Refresh a running run's heartbeat."""
    with engine.begin() as conn:
        conn.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id, DemoRun.status == RUNNING)
            .values(heartbeat_at=now)
        )


def mark_dispatched(engine: Engine, run_id: int, *, now: dt.datetime) -> None:
    """The run's id is being handed to the queue now."""
    with engine.begin() as conn:
        conn.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id, DemoRun.status == QUEUED)
            .values(dispatched_at=now)
        )


def mark_unsent(engine: Engine, run_id: int) -> None:
    """The queue did not take the run's id: the resend sweep sends it again."""
    with engine.begin() as conn:
        conn.execute(
            update(DemoRun)
            .where(DemoRun.id == run_id, DemoRun.status == QUEUED)
            .values(dispatched_at=None)
        )


def take_for_resend(
    engine: Engine, run_id: int, *, now: dt.datetime, sent_before: dt.datetime
) -> bool:
    """Take a queued run nobody holds (never sent, or sent before ``sent_before`` and
    still not claimed) for a resend, marking it sent now. Of several web processes
    sweeping at once, one takes it."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(DemoRun)
            .where(
                DemoRun.id == run_id,
                DemoRun.status == QUEUED,
                or_(DemoRun.dispatched_at.is_(None), DemoRun.dispatched_at < sent_before),
            )
            .values(dispatched_at=now)
        ).rowcount
    return changed == 1


def queued_run(engine: Engine, run_id: int) -> Row[tuple[str, dict[str, Any], str]] | None:
    """(demo, params, device asked for) of a run that is queued; None otherwise."""
    columns = (DemoRun.demo, DemoRun.params, DemoRun.device_requested)
    with engine.connect() as conn:
        return conn.execute(
            select(*columns).where(DemoRun.id == run_id, DemoRun.status == QUEUED)
        ).one_or_none()


def owner_of(engine: Engine, run_id: int) -> int | None:
    """The run's user (None for a run of no user, or one that does not exist)."""
    with engine.connect() as conn:
        return conn.scalar(select(DemoRun.user_id).where(DemoRun.id == run_id))


def status_of(engine: Engine, run_id: int) -> str | None:
    """The run's status, or None if it does not exist."""
    with engine.connect() as conn:
        return conn.scalar(select(DemoRun.status).where(DemoRun.id == run_id))
