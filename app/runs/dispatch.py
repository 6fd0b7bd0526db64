"""Where a new run's id goes: the local worker pool, Celery, or nowhere (the run waits
in the database for a worker; the database is the single source of truth)."""

from __future__ import annotations

from typing import Protocol


class Dispatcher(Protocol):
    def submit(self, run_id: int) -> None: ...


class NoWorkers:
    """No worker in this process: queued runs wait for a pool or a Celery worker."""

    def submit(self, run_id: int) -> None:
        return None
