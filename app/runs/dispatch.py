"""Where a new run's id goes: the local worker pool, Celery, or nowhere (the run waits
in the database for a worker; the database is the single source of truth)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from app.errors import ServiceUnavailable
from app.i18n import mark as N_
from app.runs import lifecycle
from app.runs.lifecycle import describe_error


class Dispatcher(Protocol):
    def submit(self, run_id: int) -> None: ...


class NoWorkers:
    """No worker in this process: queued runs wait for a pool or a Celery worker."""

    def submit(self, run_id: int) -> None:
        return None


def dispatch(dispatcher: Dispatcher, engine: Engine, run_id: int) -> None:
    """Hand ``run_id`` to the queue, and if the queue can't take it (Redis down) say so
    (503). A user's run is then failed with the reason: the user is told now and may try
    again. A run of no user (a claim's evidence) stays queued, marked unsent: the resend
    sweep sends it once the queue is back."""
    try:
        dispatcher.submit(run_id)
    except Exception as exc:
        if lifecycle.owner_of(engine, run_id) is None:
            lifecycle.mark_unsent(engine, run_id)
        else:
            lifecycle.fail(engine, run_id, f"could not queue the run: {describe_error(exc)}")
        raise ServiceUnavailable(
            N_("the run queue is unavailable (%(error)s); try again later"),
            error=describe_error(exc),
        ) from exc
