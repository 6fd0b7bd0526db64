"""Where a new run's id goes: the local worker pool, Celery, or nowhere (the run waits
in the database for a worker; the database is the single source of truth)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from app.errors import ServiceUnavailable


class Dispatcher(Protocol):
    def submit(self, run_id: int) -> None: ...


class NoWorkers:
    """No worker in this process: queued runs wait for a pool or a Celery worker."""

    def submit(self, run_id: int) -> None:
        return None


def dispatch(dispatcher: Dispatcher, engine: Engine, run_id: int) -> None:
    """Hand ``run_id`` to the queue; if the queue can't take it (Redis down), fail the
    run with the reason rather than leave it queued for ever, and say so (503)."""
    try:
        dispatcher.submit(run_id)
    except Exception as exc:
        from app.worker.execute import describe_error, fail_run

        fail_run(engine, run_id, f"could not queue the run: {describe_error(exc)}")
        raise ServiceUnavailable(
            f"the run queue is unavailable ({describe_error(exc)}); try again later"
        ) from exc
