"""FSRS fitted to a user's reviews (issue 20): start a fit, read it back, apply it.

A fit is a hidden job (``app.jobs.fsrs_fit``) that the demo workers run, never the web
process (the optimizer needs torch): ``start_fit`` reads the user's review log and cards
(``app.study.fit_input``), queues the job's run through ``app.runs.lifecycle`` and keeps
an ``FsrsFit`` row pointing at it; the caller hands the run to the queue. ``fit_view``
reads the latest fit back for the settings page: progress while it runs, then the
scores before and after, the parameters and the workload at each desired retention.
``apply_fit`` stores the fitted parameters on the user, and from then on the scheduler
uses them (``app.study.review`` passes ``User.fsrs_parameters``); ``reset_parameters``
goes back to fsrs's defaults.

With fewer reviews than fsrs's optimizer needs (``MIN_REVIEWS`` scored ones), the job
only scores the current parameters and simulates the workload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.i18n import mark as _
from app.jobs.fsrs_fit import JOB, NAME
from app.jobs.fsrs_fit.params import DEFAULTS, MIN_REVIEWS, RETENTIONS, FitParams, counted_reviews
from app.models import DemoRun, FsrsFit, User
from app.models.runs import FINISHED, IN_FLIGHT, RunStatus, params_hash
from app.runs import lifecycle
from app.study import fit_input

# Days the workload simulation looks ahead (Anki's simulator's default).
HORIZON_DAYS = 365

__all__ = [
    "HORIZON_DAYS",
    "MIN_REVIEWS",
    "FitResult",
    "FitView",
    "Scores",
    "WorkloadRow",
    "apply_fit",
    "fit_view",
    "reset_parameters",
    "start_fit",
]


@dataclass(frozen=True)
class Scores:
    """Anki's "Evaluate": log loss and RMSE (bins, a fraction) of a parameter set."""

    log_loss: float
    rmse: float


@dataclass(frozen=True)
class WorkloadRow:
    retention: float
    reviews_per_day: float
    minutes_per_day: float | None
    remembered: float
    current: bool  # the user's desired retention
    best: bool  # least work per card remembered


@dataclass(frozen=True)
class FitResult:
    reviews: int  # review-log rows the job read
    scored: int  # reviews the scores count (a day or more after the previous one)
    current: Scores
    defaults: Scores
    fitted: Scores | None  # None: no fit (too few reviews)
    improved: bool  # the fitted parameters predict the log better than the current ones
    parameters: list[float]
    workload: list[WorkloadRow]
    best_retention: float


@dataclass(frozen=True)
class FitView:
    """The settings page's "Fit to my reviews" section."""

    fit: FsrsFit | None  # the latest fit
    status: str | None  # its run's status
    step: int
    total: int
    error: str | None
    result: FitResult | None
    reviews: int  # reviews in the log now
    new_since: int  # reviews made since the latest fit read the log
    min_reviews: int
    parameters: list[float] | None  # the user's own parameters (None: fsrs's defaults)
    horizon_days: int = HORIZON_DAYS

    @property
    def running(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def applied(self) -> bool:
        return self.fit is not None and self.fit.applied_at is not None


def _code_version() -> str:
    """The job's code version plus fsrs's: either changing makes a stored fit stale."""
    key = f"{JOB.code_version}:{version('fsrs')}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


def _latest(session: Session, user: User) -> FsrsFit | None:
    return session.scalars(
        select(FsrsFit).where(FsrsFit.user_id == user.id).order_by(FsrsFit.id.desc()).limit(1)
    ).first()


def _run_of(session: Session, fit: FsrsFit | None) -> DemoRun | None:
    return session.get(DemoRun, fit.run_id) if fit is not None and fit.run_id else None


def fit_params(
    *, session: Session, user: User, now: dt.datetime
) -> tuple[FitParams, int, int | None]:
    """The job's parameters for ``user`` at ``now``, the log rows read and the newest id."""
    rows, last_id = fit_input.log_rows(session, user)
    reviews = fit_input.reviews_of(rows)
    retentions = sorted({*RETENTIONS, round(user.desired_retention, 2)})
    params = FitParams(
        fit=counted_reviews(reviews) >= MIN_REVIEWS,
        reviews=reviews,
        current=user.fsrs_parameters,
        desired_retention=user.desired_retention,
        cards=fit_input.cards_now(session, user, now),
        new_cards=fit_input.new_questions(session, user),
        new_per_day=user.new_per_day,
        horizon_days=HORIZON_DAYS,
        retentions=retentions,
    )
    return params, len(rows), last_id


def start_fit(
    *, session: Session, user: User, now: dt.datetime, queued_cap: int, per_minute: int
) -> tuple[FsrsFit, bool]:
    """A new fit of the user's parameters to their log, and whether its run must be
    handed to the queue (False: a fit already in flight is returned, or the same log
    was fitted before and its result is reused). Committed; 429 past the run caps."""
    latest = _latest(session, user)
    run = _run_of(session, latest)
    if latest is not None and run is not None and run.status in IN_FLIGHT:
        return latest, False
    params, count, last_id = fit_params(session=session, user=user, now=now)
    data = params.model_dump(mode="json")
    digest, code = params_hash(data), _code_version()
    cached = session.scalars(
        select(DemoRun)
        .where(
            DemoRun.user_id == user.id,
            DemoRun.demo == NAME,
            DemoRun.params_hash == digest,
            DemoRun.code_version == code,
            DemoRun.status == RunStatus.SUCCEEDED,
        )
        .order_by(DemoRun.id.desc())
        .limit(1)
    ).first()
    if cached is None:
        cached = lifecycle.queue_run(
            session=session,
            user_id=user.id,
            demo=NAME,
            params=data,
            params_hash=digest,
            code_version=code,
            device="cpu",
            now=now,
            queued_cap=queued_cap,
            per_minute=per_minute,
        )
        queued = True
    else:
        queued = False
    fit = FsrsFit(
        user_id=user.id,
        run_id=cached.id,
        reviews=count,
        last_review_id=last_id,
        parameters_before=user.fsrs_parameters,
        fit=params.fit,
        created_at=now,
    )
    session.add(fit)
    session.commit()
    return fit, queued


def _number(figures: dict[str, Any], name: str) -> float:
    value = figures.get(name)
    return float(value) if value is not None else math.nan


def _scores(figures: dict[str, Any], name: str) -> Scores | None:
    if f"log_loss_{name}" not in figures:
        return None
    return Scores(_number(figures, f"log_loss_{name}"), _number(figures, f"rmse_{name}"))


def read_result(data: dict[str, Any], *, desired_retention: float) -> FitResult:
    """A finished fit run's stored result (``app.jobs.fsrs_fit.job`` writes it)."""
    figures: dict[str, Any] = data["figures"]
    series = {s["name"]: s for s in data.get("series", [])}
    best = _number(figures, "best_retention")
    per_day = series["reviews_per_day"]
    minutes = series.get("minutes_per_day")
    rows = [
        WorkloadRow(
            retention=x,
            reviews_per_day=y,
            minutes_per_day=minutes["y"][i] if minutes else None,
            remembered=series["remembered"]["y"][i],
            current=math.isclose(x, desired_retention, abs_tol=0.005),
            best=math.isclose(x, best),
        )
        for i, (x, y) in enumerate(zip(per_day["x"], per_day["y"], strict=True))
    ]
    return FitResult(
        reviews=int(_number(figures, "reviews")),
        scored=int(_number(figures, "scored")),
        current=_scores(figures, "current") or Scores(math.nan, math.nan),
        defaults=_scores(figures, "defaults") or Scores(math.nan, math.nan),
        fitted=_scores(figures, "fitted"),
        improved=bool(figures.get("improved")),
        parameters=[_number(figures, f"w{i}") for i in range(len(DEFAULTS))],
        workload=rows,
        best_retention=best,
    )


def fit_view(*, session: Session, user: User) -> FitView:
    """The latest fit of ``user`` with its run's progress or result, and the log's size."""
    fit = _latest(session, user)
    run = _run_of(session, fit)
    reviews, last_id = fit_input.review_count(session, user)
    new_since = reviews
    if fit is not None and fit.last_review_id is not None and last_id is not None:
        new_since = reviews - fit.reviews if last_id > fit.last_review_id else 0
    progress = (run.progress or {}) if run is not None else {}
    result = None
    if run is not None and run.status == RunStatus.SUCCEEDED and run.result:
        result = read_result(run.result, desired_retention=user.desired_retention)
    return FitView(
        fit=fit,
        status=run.status if run is not None else None,
        step=int(progress.get("step", 0)),
        total=int(progress.get("total", 0)),
        error=run.error if run is not None and run.status in FINISHED else None,
        result=result,
        reviews=reviews,
        new_since=max(new_since, 0),
        min_reviews=MIN_REVIEWS,
        parameters=user.fsrs_parameters,
    )


def apply_fit(*, session: Session, user: User, fit_id: int, now: dt.datetime) -> FsrsFit:
    """Use the fitted parameters of the user's fit ``fit_id`` from now on (committed).
    Refused unless the fit finished with parameters that predict the log better than
    the ones in force when it started."""
    fit = session.get(FsrsFit, fit_id)
    if fit is None or fit.user_id != user.id:
        raise NotFound(_("fit %(fit)s does not exist"), fit=fit_id)
    run = _run_of(session, fit)
    if run is None or run.status != RunStatus.SUCCEEDED or not run.result:
        raise Conflict(_("fit %(fit)s has no result to apply"), fit=fit_id)
    result = read_result(run.result, desired_retention=user.desired_retention)
    if result.fitted is None or not result.improved:
        raise Conflict(
            _("fit %(fit)s does not predict your reviews better than the parameters in use"),
            fit=fit_id,
        )
    user.fsrs_parameters = result.parameters
    fit.applied_at = now
    session.commit()
    return fit


def reset_parameters(*, session: Session, user: User) -> User:
    """Back to fsrs's default parameters (committed)."""
    user.fsrs_parameters = None
    session.commit()
    return user
