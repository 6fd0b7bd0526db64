"""Which queued runs go next: fair between users, oldest first for each user.

A run's place is its user's load when it would start: the user's runs already running
plus the user's runs ahead of it in the queue. The lowest load goes first, the oldest
first among equals: so the local pool takes runs round-robin by user (each user's
oldest, then each user's second, ...) and a user with nothing running goes before one
who has a run going. A user at the running cap is skipped until a run of theirs ends.
Runs of no user (the claims' evidence) count as one more user with no cap.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, or_, select

from app.models.runs import DemoRun, RunStatus

# How many of the oldest queued runs one pick looks at.
WINDOW = 1000


@dataclass(frozen=True)
class Waiting:
    """A queued run as the dispatchers see it."""

    id: int
    user_id: int | None
    demo: str
    device_requested: str


def fair_order(
    queued: Sequence[Waiting],
    *,
    running: Mapping[int | None, int],
    running_cap: int | None,
) -> list[Waiting]:
    """``queued`` (oldest first) in the order to start them, without the runs whose
    user would be over ``running_cap`` (None: no cap). ``running``: runs going now, by
    user."""
    ahead: Counter[int | None] = Counter()
    keyed: list[tuple[int, int, Waiting]] = []
    for position, run in enumerate(queued):
        load = running.get(run.user_id, 0) + ahead[run.user_id]
        ahead[run.user_id] += 1
        if running_cap is not None and run.user_id is not None and load >= running_cap:
            continue
        keyed.append((load, position, run))
    keyed.sort(key=lambda item: item[:2])
    return [run for _, _, run in keyed]


def next_runs(
    engine: Engine,
    *,
    running_cap: int | None,
    exclude: Collection[int] = (),
    held: Mapping[int | None, int] | None = None,
    sent_before: dt.datetime | None = None,
) -> list[Waiting]:
    """The queued runs in the order to start them (see :func:`fair_order`).
    ``exclude``: runs the caller already holds (their users' load is in ``held``).
    ``sent_before``: only runs never sent to the queue, or last sent before then."""
    waiting = select(DemoRun.id, DemoRun.user_id, DemoRun.demo, DemoRun.device_requested).where(
        DemoRun.status == RunStatus.QUEUED
    )
    if exclude:
        waiting = waiting.where(DemoRun.id.not_in(list(exclude)))
    if sent_before is not None:
        waiting = waiting.where(
            or_(DemoRun.dispatched_at.is_(None), DemoRun.dispatched_at < sent_before)
        )
    busy = select(DemoRun.user_id, func.count(DemoRun.id)).where(
        DemoRun.status == RunStatus.RUNNING
    )
    if exclude:
        busy = busy.where(DemoRun.id.not_in(list(exclude)))
    with engine.connect() as conn:
        rows = conn.execute(waiting.order_by(DemoRun.created_at, DemoRun.id).limit(WINDOW)).all()
        counts = conn.execute(busy.group_by(DemoRun.user_id)).all()
    running: Counter[int | None] = Counter({user: int(n) for user, n in counts})
    running.update(held or {})
    queued = [Waiting(id=r[0], user_id=r[1], demo=r[2], device_requested=r[3]) for r in rows]
    return fair_order(queued, running=running, running_cap=running_cap)
