"""The entry point a `celery worker` process loads (``-A app.worker.celery_main:app``),
started by ``interview-lab worker``. Settings come from the environment: this module is
an edge, like the CLI, and nothing else imports it."""

from typing import Any

from celery.signals import worker_process_init

from app.config import get_settings
from app.worker.celery_app import make_celery

app = make_celery(get_settings())


def preload(**_: Any) -> None:
    """Load torch and the demos when a pool process starts, so a run's time limit
    measures the run, not the import."""
    import torch  # noqa: F401

    import app.demos  # noqa: F401


worker_process_init.connect(preload)
