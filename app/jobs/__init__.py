"""Hidden jobs: work the demo workers run that is not a demo.

A job is a ``Demo`` (``run(params, ctx)``, a parameter model, a time limit) that the
catalogue does not list: no page, no API entry, no permalink (``app.runs.service``
refuses its runs), no claims. It rides the demo runs' machinery as it is: a ``DemoRun``
row whose ``demo`` is the job's name, queued through ``app.runs.lifecycle``, claimed and
run by ``app.worker.execute`` on the local pool or Celery. The workers find a job
before asking the demo lookup (``with_jobs``), so a test's own lookup still finds them.

Like a demo package, a job imports no torch at module level: the web process imports
this registry to queue a job and validate its parameters.
"""

from __future__ import annotations

from collections.abc import Callable

from app.demos.base import Demo, register
from app.jobs import fsrs_fit

JOBS: dict[str, Demo] = register([fsrs_fit.JOB])


def is_job(name: str) -> bool:
    """Whether ``name`` is a hidden job (not a demo of the catalogue)."""
    return name in JOBS


def with_jobs(lookup: Callable[[str], Demo]) -> Callable[[str], Demo]:
    """A worker's lookup that finds the hidden jobs first, then asks ``lookup``."""

    def find(name: str) -> Demo:
        job = JOBS.get(name)
        return job if job is not None else lookup(name)

    return find


__all__ = ["JOBS", "is_job", "with_jobs"]
