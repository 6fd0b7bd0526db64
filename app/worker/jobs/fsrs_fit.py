"""The FSRS fit job as the workers run it: fsrs's own optimizer over the user's review
log (torch, imported inside ``fit``), handed to the job's torch-free ``run_with``
(``app.jobs.fsrs_fit.job``: scores and the workload simulation).

``fsrs.Optimizer.compute_optimal_parameters`` trains FSRS's 21 parameters with Adam on
the log (five epochs over mini-batches of 512 scored reviews, the best epoch kept). It
reports nothing while it runs but its epochs go through ``fsrs.optimizer.tqdm``; while
``fit`` runs that name is pointed at a wrapper that reports each epoch, and restored
afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from app.demos.base import DemoResult, RunContext
from app.jobs.fsrs_fit import job
from app.jobs.fsrs_fit.params import FitParams, Review

EPOCHS = 5  # fsrs.optimizer's num_epochs


def fit(reviews: Sequence[Review], *, on_epoch: Callable[[int], None]) -> list[float]:
    """Parameters fitted to ``reviews``; ``on_epoch(k)`` after each of the EPOCHS epochs.
    Below fsrs's minimum of scored reviews the optimizer returns its defaults."""
    import fsrs.optimizer as fsrs_optimizer
    import torch
    from fsrs import Rating, ReviewLog

    logs = [
        ReviewLog(
            card_id=history + 1,
            rating=Rating(rating),
            review_datetime=dt.datetime.fromtimestamp(at, dt.UTC),
            review_duration=ms,
        )
        for history, rating, at, ms in reviews
    ]
    optimizer = fsrs_optimizer.Optimizer(logs)

    def epochs(iterable: Iterable[int], **_options: Any) -> Iterator[int]:
        for epoch in iterable:
            yield epoch
            on_epoch(epoch + 1)

    saved = fsrs_optimizer.tqdm  # type: ignore[attr-defined]
    fsrs_optimizer.tqdm = epochs  # type: ignore[attr-defined]
    try:
        with torch.enable_grad():
            fitted = optimizer.compute_optimal_parameters(verbose=False)
    finally:
        fsrs_optimizer.tqdm = saved  # type: ignore[attr-defined]
    return [float(value) for value in fitted]


def run(params: FitParams, ctx: RunContext) -> DemoResult:
    return job.run_with(params, ctx, fit=fit, epochs=EPOCHS)


# The catalogue's job with the worker's run; its name, params and limits are the same.
JOB = dataclasses.replace(job.JOB, run=run)
