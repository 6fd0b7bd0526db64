"""Run services (keyword-only; they own the SQL). The web process never imports torch:
it validates parameters with the demo's pydantic model (``app.demos`` imports no torch
at module level) and hands only the run id to the queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.content.answers import demo_inputs
from app.demos import get_demo
from app.demos.base import run_version, validate_params
from app.errors import Conflict, NotFound, Unprocessable
from app.i18n import mark as N_
from app.jobs import is_job
from app.models import DemoEvent, DemoRun, User
from app.models.runs import FINISHED, RunStatus, params_hash
from app.runs import lifecycle

__all__ = [
    "DEVICES",
    "FINISHED",
    "cancel_run",
    "create_run",
    "events_after",
    "get_run",
    "params_hash",
    "recent_runs",
]

Device = Literal["auto", "cpu", "gpu"]
DEVICES: tuple[Device, ...] = ("auto", "cpu", "gpu")


def create_run(
    *,
    session: Session,
    user: User,
    demo_name: str,
    raw_params: Mapping[str, Any],
    device: str = "auto",
    rerun: bool = False,
    now: dt.datetime,
    queued_cap: int,
    per_minute: int,
) -> tuple[DemoRun, bool]:
    """A queued run, or the stored result of the same demo, parameters and code version
    (``cached`` True) unless ``rerun``. Limits: ``queued_cap`` runs waiting per user,
    ``per_minute`` new runs per user (429 with when to try again), enforced in the
    database by ``lifecycle.queue_run``."""
    demo = get_demo(demo_name)
    if device not in DEVICES:
        raise Unprocessable(
            N_("device %(device)r is not one of %(allowed)s"),
            field="device",
            device=device,
            allowed=", ".join(DEVICES),
        )
    params = validate_params(demo, raw_params).model_dump(mode="json")
    digest = params_hash(params)
    # The code version plus, for a demo that reads inputs (loss_spikes: the answers), their digest.
    version = run_version(demo, demo_inputs(demo.inputs))
    if not rerun:
        cached = session.scalars(
            select(DemoRun)
            .where(
                DemoRun.demo == demo.name,
                DemoRun.params_hash == digest,
                DemoRun.code_version == version,
                DemoRun.status == RunStatus.SUCCEEDED,
            )
            .order_by(DemoRun.finished_at.desc())
            .limit(1)
        ).first()
        if cached is not None:
            return cached, True
    run = lifecycle.queue_run(
        session=session,
        user_id=user.id,
        demo=demo.name,
        params=params,
        params_hash=digest,
        code_version=version,
        device=device,
        now=now,
        queued_cap=queued_cap,
        per_minute=per_minute,
    )
    return run, False


def get_run(*, session: Session, run_id: int) -> DemoRun:
    """A run by id. Runs are shareable by permalink: anyone with the link can read it;
    a hidden job's run (``app.jobs``: it holds a user's review log) is not."""
    run = session.get(DemoRun, run_id)
    if run is None or is_job(run.demo):
        raise NotFound(N_("run %(id)s does not exist"), id=run_id)
    return run


def cancel_run(*, session: Session, user: User, run_id: int, now: dt.datetime) -> DemoRun:
    """Cancel a run that has not started yet."""
    run = get_run(session=session, run_id=run_id)
    if run.user_id != user.id:
        raise NotFound(N_("run %(id)s does not exist"), id=run_id)
    if not lifecycle.cancel(session=session, run_id=run_id, now=now):
        session.refresh(run)
        raise Conflict(
            N_("run %(id)s is %(status)s; only a queued run can be cancelled"),
            id=run_id,
            status=run.status,
        )
    session.refresh(run)
    return run


def events_after(*, session: Session, run_id: int, after_id: int) -> list[DemoEvent]:
    return list(
        session.scalars(
            select(DemoEvent)
            .where(DemoEvent.run_id == run_id, DemoEvent.id > after_id)
            .order_by(DemoEvent.id)
        )
    )


def recent_runs(
    *, session: Session, demo_name: str | None = None, limit: int = 20
) -> list[DemoRun]:
    stmt = select(DemoRun).order_by(DemoRun.created_at.desc()).limit(limit)
    if demo_name is not None:
        stmt = stmt.where(DemoRun.demo == demo_name)
    return list(session.scalars(stmt))
