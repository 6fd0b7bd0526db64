"""A user's run caps, checked inside the transaction that queues or claims their run:
the lock that serialises one user's transactions, and the counts the caps compare
(runs waiting, runs started in the last minute). Reads and a lock only: the writes of a
run are ``app.runs.lifecycle``'s, which calls these.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from app.errors import TooManyRequests
from app.i18n import mark as N_
from app.models.runs import DemoRun, RunStatus
from app.models.users import User


def lock_user(db: Session | Connection, user_id: int) -> None:
    """Serialise this transaction with every other one that locks ``user_id``, until
    it ends. PostgreSQL locks the user's row; SQLite has no row locks, but its first
    write takes the database's write lock (others wait on the busy timeout)."""
    bind = db.get_bind() if isinstance(db, Session) else db
    if bind.dialect.name == "sqlite":
        db.execute(text("UPDATE users SET id = id WHERE id = :id"), {"id": user_id})
    else:
        db.execute(select(User.id).where(User.id == user_id).with_for_update())


def count_runs(db: Session | Connection, user_id: int, status: RunStatus) -> int:
    stmt = select(func.count(DemoRun.id)).where(
        DemoRun.user_id == user_id, DemoRun.status == status
    )
    return int(db.scalar(stmt) or 0)


def check_caps(
    session: Session, user_id: int, *, now: dt.datetime, queued_cap: int, per_minute: int
) -> None:
    """Raise ``TooManyRequests`` when ``user_id`` has ``queued_cap`` runs waiting or
    started ``per_minute`` runs in the minute before ``now``."""
    waiting = count_runs(session, user_id, RunStatus.QUEUED)
    if waiting >= queued_cap:
        raise TooManyRequests(
            N_(
                "you have %(waiting)s runs waiting; the limit is %(cap)s. "
                "Wait for one to start, or cancel one."
            ),
            waiting=waiting,
            cap=queued_cap,
        )
    minute_ago = now - dt.timedelta(minutes=1)
    recent = session.scalars(
        select(DemoRun.created_at)
        .where(DemoRun.user_id == user_id, DemoRun.created_at > minute_ago)
        .order_by(DemoRun.created_at)
    ).all()
    if len(recent) >= per_minute:
        wait = int((recent[0] - minute_ago).total_seconds()) + 1
        raise TooManyRequests(
            f"you started {len(recent)} runs in the last minute; the limit is {per_minute}. "
            f"Try again in {wait} s."
        )
