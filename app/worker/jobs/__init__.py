"""The hidden jobs as the workers run them.

``app.jobs`` holds what the web process needs of a job (its name, parameters, limits and
torch-free parts); a job whose work needs torch (the FSRS fit: fsrs's optimizer) gets
its runner here, beside the other code that imports torch, and the workers find it
before asking the demo lookup (``with_jobs``), so a test's own lookup still finds them.
"""

from __future__ import annotations

from collections.abc import Callable

from app.demos.base import Demo
from app.jobs import JOBS
from app.worker.jobs import fsrs_fit

RUNNABLE: dict[str, Demo] = {**JOBS, fsrs_fit.JOB.name: fsrs_fit.JOB}


def with_jobs(lookup: Callable[[str], Demo]) -> Callable[[str], Demo]:
    """A worker's lookup that finds the hidden jobs first, then asks ``lookup``."""

    def find(name: str) -> Demo:
        job = RUNNABLE.get(name)
        return job if job is not None else lookup(name)

    return find


__all__ = ["RUNNABLE", "with_jobs"]
