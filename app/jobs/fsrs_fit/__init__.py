"""The FSRS fit job (issue 20): fsrs's optimizer over a user's review log, run by the
demo workers as a hidden job (``app.jobs``). ``params`` (what it reads), ``metrics``
(log loss, RMSE (bins)), ``workload`` (the retention simulation) and ``job`` have no
torch: the optimizer (torch) is the workers', ``app.worker.jobs.fsrs_fit``."""

from app.jobs.fsrs_fit.job import JOB, NAME

__all__ = ["JOB", "NAME"]
