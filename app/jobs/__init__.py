"""Hidden jobs: work the demo workers run that is not a demo.

A job is a ``Demo`` (``run(params, ctx)``, a parameter model, a time limit) that the
catalogue does not list: no page, no API entry, no permalink (``app.runs.service``
refuses its runs), no claims. It rides the demo runs' machinery as it is: a ``DemoRun``
row whose ``demo`` is the job's name, queued through ``app.runs.lifecycle``, claimed and
run by ``app.worker.execute`` on the local pool or Celery.

A job imports no torch: the web process imports this registry to queue a job and
validate its parameters. The part of a job that needs torch (the FSRS fit's optimizer)
lives with the workers, ``app.worker.jobs``, which also finds the jobs for them.
"""

from __future__ import annotations

from app.demos.base import Demo, register
from app.jobs import fsrs_fit

JOBS: dict[str, Demo] = register([fsrs_fit.JOB])


def is_job(name: str) -> bool:
    """Whether ``name`` is a hidden job (not a demo of the catalogue)."""
    return name in JOBS


__all__ = ["JOBS", "is_job"]
