"""The FSRS fit job: fit the user's parameters to their review log (fsrs's optimizer),
score the parameters before and after, and simulate the daily workload at a few desired
retentions with the parameters that predict the log best.

Its result is a ``DemoResult`` the settings page reads back (``app.study.fit``):
figures ``reviews`` (rows sent), ``scored`` (reviews the scores count), ``log_loss_*``
and ``rmse_*`` for ``current`` (the user's parameters now), ``defaults`` and ``fitted``,
``improved`` (1 when the fitted parameters score a lower log loss than the current
ones), ``w0`` .. ``w20`` (the fitted parameters, or the current ones when there was no
fit) and ``best_retention``; the workload as series on the chart ``workload`` named
``reviews_per_day``, ``minutes_per_day`` and ``remembered``, one point per retention.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

from app.demos.base import Demo, DemoResult, RunContext, Series
from app.demos.text import N_
from app.jobs.fsrs_fit.metrics import Goodness, goodness
from app.jobs.fsrs_fit.params import DEFAULTS, FitParams, Review
from app.jobs.fsrs_fit.workload import Workload, behaviour_of, simulate

NAME = "fsrs_fit"
# The package whose code fits the parameters (fsrs's optimizer, torch): a worker's.
FITTER_PACKAGE = "app.worker.jobs"


class Fit(Protocol):
    """Parameters fitted to ``reviews``; ``on_epoch(k)`` after each epoch."""

    def __call__(
        self, reviews: Sequence[Review], *, on_epoch: Callable[[int], None]
    ) -> list[float]: ...


class NotInAWorker(RuntimeError):
    """The job's catalogue entry was run: only a demo worker runs the job, with its fitter."""


def _scores(figures: dict[str, float], name: str, score: Goodness) -> None:
    figures[f"log_loss_{name}"] = score.log_loss
    figures[f"rmse_{name}"] = score.rmse_bins


def best_retention(workloads: list[Workload]) -> float:
    """The retention with the least work per card remembered at the horizon's end
    (minutes when durations are known, else reviews): Anki's "minimum recommended
    retention" asks the same question."""

    def cost(w: Workload) -> float:
        work = w.minutes_per_day if w.minutes_per_day is not None else w.reviews_per_day
        return work / w.remembered if w.remembered > 0 else math.inf

    return min(workloads, key=cost).retention


def run(params: FitParams, ctx: RunContext) -> DemoResult:
    """The catalogue's entry (the web process queues the job and validates its params
    with it). Fitting needs torch, so the workers run the job with ``run_with`` and
    their fitter instead (``app.worker.jobs``)."""
    raise NotInAWorker(f"the {NAME} job runs only in a demo worker ({FITTER_PACKAGE})")


def run_with(params: FitParams, ctx: RunContext, *, fit: Fit, epochs: int) -> DemoResult:
    """The job: fit (``epochs`` of ``fit``) when ``params.fit``, score, simulate."""
    epochs = epochs if params.fit else 0
    total = epochs + 1 + len(params.retentions)
    ctx.progress(0, total)
    current = tuple(params.current) if params.current is not None else DEFAULTS
    fitted: list[float] | None = None
    if params.fit:
        fitted = fit(params.reviews, on_epoch=lambda k: ctx.progress(k, total))
    figures: dict[str, float] = {"reviews": float(len(params.reviews))}
    now = goodness(params.reviews, current)
    figures["scored"] = float(now.reviews)
    _scores(figures, "current", now)
    _scores(figures, "defaults", now if current == DEFAULTS else goodness(params.reviews, DEFAULTS))
    improved = False
    if fitted is not None:
        after = goodness(params.reviews, fitted)
        _scores(figures, "fitted", after)
        improved = after.log_loss < now.log_loss
    figures["improved"] = float(improved)
    model = fitted if fitted is not None and improved else list(current)
    figures.update({f"w{i}": value for i, value in enumerate(fitted or current)})
    ctx.progress(epochs + 1, total)

    behaviour = behaviour_of(params.reviews)
    workloads: list[Workload] = []
    for k, retention in enumerate(params.retentions):
        workloads.append(
            simulate(
                cards=params.cards,
                parameters=model,
                retention=retention,
                behaviour=behaviour,
                new_cards=params.new_cards,
                new_per_day=params.new_per_day,
                days=params.horizon_days,
                seed=params.seed,
            )
        )
        ctx.progress(epochs + 2 + k, total)
    figures["best_retention"] = best_retention(workloads)
    x = [w.retention for w in workloads]
    series = [
        Series(name="reviews_per_day", x=x, y=[w.reviews_per_day for w in workloads]),
        Series(name="remembered", x=x, y=[w.remembered for w in workloads]),
    ]
    if all(w.minutes_per_day is not None for w in workloads):
        minutes = [float(w.minutes_per_day or 0.0) for w in workloads]
        series.append(Series(name="minutes_per_day", x=x, y=minutes))
    for s in series:
        s.chart = "workload"
    return DemoResult(figures=figures, series=series, conclusion=NAME)


JOB = Demo(
    name=NAME,
    title=N_("Fit FSRS to my reviews"),
    summary=N_("Fits the scheduler's parameters to your review log and simulates the workload."),
    claims=(),
    params=FitParams,
    run=run,
    # fsrs's optimizer steps through every review in Python: minutes for a large log.
    time_limit_s=1800.0,
    # The fitter's code counts toward the job's code version: a stored fit made with an
    # older optimizer is stale (``app.study.fit``).
    uses=(FITTER_PACKAGE,),
    uses_gpu=False,
    live_chart=False,
)
