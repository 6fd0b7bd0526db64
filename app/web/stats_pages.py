"""The stats page (activity heatmap, retention, forecast, card states, the coverage
matrix, leeches), a card's history page, and their JSON API under ``/api/stats/...``.

Thin: the figures come from ``app.study.stats``, ``app.study.coverage`` and
``app.study.leeches``; this module and ``app.web.stats_view`` only shape them for the
page (heatmap levels, chart data, cell links and labels). ``GET /api/stats`` (today's
queue) stays in ``study_api``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.i18n import gettext as _
from app.models import User
from app.study import coverage, leeches, stats
from app.study.card_stats import CardStats, card_stats
from app.study.coverage import Coverage
from app.study.leeches import Leech
from app.study.queue import user_zone
from app.study.scheduler import interval_label
from app.study.stats import Overview
from app.web.csrf import same_origin, verify_csrf
from app.web.deps import CurrentUserDep, SessionDep, TemplatesDep
from app.web.filter_cache import kept_for_version
from app.web.stats_view import day_views, matrix_view, pct

router = APIRouter()
CsrfDep = Depends(verify_csrf)
QuestionIdPath = Annotated[str, Path(max_length=200)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rating_names() -> dict[int, str]:
    return {1: _("Again"), 2: _("Hard"), 3: _("Good"), 4: _("Easy")}


def state_names() -> dict[int, str]:
    return {0: _("New"), 1: _("Learning"), 2: _("Review"), 3: _("Relearning")}


def user_coverage(*, session: Session, user: User, now: dt.datetime) -> Coverage:
    """``coverage.coverage`` with its bank part kept per bank version (an import or an
    archive raises the version, so the next page reads the bank again)."""
    bank = kept_for_version(session, "coverage", lambda: coverage.bank(session=session))
    return coverage.coverage(session=session, user=user, now=now, bank_slices=bank)


def local_time(user: User) -> Callable[[dt.datetime | None], str]:
    zone = user_zone(user)

    def show(value: dt.datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    return show


def chart_data(view: Overview) -> dict[str, Any]:
    """What ``static/stats.js`` draws: Chart.js bar data, labels already translated."""
    recent = view.days[-stats.RECENT_DAYS :]
    states = view.states
    return {
        "reviews": {
            "labels": [d.day.isoformat() for d in recent],
            "datasets": [
                {"label": _("Reviews"), "data": [d.reviews for d in recent]},
                {
                    "label": _("Minutes"),
                    "data": [round(d.seconds / 60, 1) for d in recent],
                    "type": "line",
                    "yAxisID": "y1",
                },
            ],
        },
        "forecast": {
            "labels": [d.day.isoformat() for d in view.forecast],
            "datasets": [{"label": _("Cards due"), "data": [d.due for d in view.forecast]}],
        },
        "states": {
            "labels": [*state_names().values(), _("Leeches")],
            "datasets": [
                {
                    "label": _("Cards"),
                    "data": [
                        states.new,
                        states.learning,
                        states.review,
                        states.relearning,
                        states.leeches,
                    ],
                }
            ],
        },
    }


@router.get("/stats", response_class=HTMLResponse, include_in_schema=False)
def stats_page(
    request: Request, session: SessionDep, templates: TemplatesDep, user: CurrentUserDep
) -> Response:
    now = _now()
    view = stats.overview(session=session, user=user, now=now)
    cover = user_coverage(session=session, user=user, now=now)
    matrices = [
        (_("Companies × topics"), matrix_view(cover.companies)),
        (_("Stages × topics"), matrix_view(cover.stages)),
    ]
    heat = day_views(view.days)
    context = {
        "view": view,
        "heat": heat,
        "recent": heat[-stats.RECENT_DAYS :],
        "forecast": [(d.day.isoformat(), d.due) for d in view.forecast],
        "year_reviews": sum(d.reviews for d in view.days),
        "year_days": sum(d.reviews > 0 for d in view.days),
        "charts": chart_data(view),
        "state_names": state_names(),
        "cover": cover,
        "matrices": matrices,
        "steps": coverage.STEPS,
        "pct": pct,
        "facet_names": {"company": _("Company"), "stage": _("Stage")},
        "leeches": leeches.list_leeches(session=session, user=user),
        "threshold": user.leech_threshold,
        "local_time": local_time(user),
        "mature_days": stats.MATURE.days,
    }
    return templates.TemplateResponse(request, "stats.html", context)


@router.get("/stats/cards/{question_id}", response_class=HTMLResponse, include_in_schema=False)
def card_page(
    request: Request,
    question_id: QuestionIdPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    card = card_stats(session=session, user=user, question_id=question_id, now=_now())
    context = {
        "card": card,
        "rating_names": rating_names(),
        "state_names": state_names(),
        "local_time": local_time(user),
        "interval_label": lambda days: interval_label(dt.timedelta(days=days)),
    }
    return templates.TemplateResponse(request, "stats_card.html", context)


@router.post(
    "/stats/leeches/{question_id}/restore", dependencies=[CsrfDep], include_in_schema=False
)
def put_back_form(
    question_id: QuestionIdPath, session: SessionDep, user: CurrentUserDep
) -> Response:
    leeches.put_back(session=session, user=user, question_id=question_id)
    return RedirectResponse("/stats#leeches", status_code=303)


class PutBackPublic(BaseModel):
    question_id: str
    restored: bool


@router.get("/api/stats/overview", tags=["stats"])
def overview_api(session: SessionDep, user: CurrentUserDep) -> Overview:
    """A year of review activity per study day, true retention (last 30 days and all
    time), the due forecast for 30 days, and card counts by state."""
    return stats.overview(session=session, user=user, now=_now())


@router.get("/api/stats/coverage", tags=["stats"])
def coverage_api(session: SessionDep, user: CurrentUserDep) -> Coverage:
    """Companies × topics and stages × topics: each cell the mean predicted recall now of
    its questions (never reviewed: 0)."""
    return user_coverage(session=session, user=user, now=_now())


@router.get("/api/stats/leeches", tags=["stats"])
def leeches_api(session: SessionDep, user: CurrentUserDep) -> list[Leech]:
    """Cards flagged as leeches (out of the review queue), most recent first."""
    return leeches.list_leeches(session=session, user=user)


@router.post(
    "/api/stats/leeches/{question_id}/restore",
    tags=["stats"],
    dependencies=[Depends(same_origin)],
)
def put_back_api(
    question_id: QuestionIdPath, session: SessionDep, user: CurrentUserDep
) -> PutBackPublic:
    """Put a leech back in the review queue (its schedule is kept)."""
    restored = leeches.put_back(session=session, user=user, question_id=question_id)
    return PutBackPublic(question_id=question_id, restored=restored)


@router.get("/api/stats/cards/{question_id}", tags=["stats"])
def card_api(question_id: QuestionIdPath, session: SessionDep, user: CurrentUserDep) -> CardStats:
    """A card now and every rating it had: interval given, recall predicted at the time."""
    return card_stats(session=session, user=user, question_id=question_id, now=_now())
