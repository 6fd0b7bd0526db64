"""Study pages: flashcard review (reveal, rate, undo), the changed-answer actions
(relearn it, or keep the schedule) and the study settings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.claims.service import ClaimView
from app.content.queries import QuestionDetail, get_question
from app.errors import AppError
from app.i18n import gettext as _
from app.study import relearn, review
from app.web.claims_pages import answer_with_claims, claim_context
from app.web.csrf import verify_csrf
from app.web.deps import (
    MAX_ID,
    CurrentUserDep,
    FilterDep,
    FormFilterDep,
    SessionDep,
    TemplatesDep,
    form_int,
)
from app.web.templating import filter_url

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)
COMMON_ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
]


@dataclass
class ShownView:
    question: QuestionDetail
    version: int
    state: int
    previews: dict[int, Any]


def _rating_names() -> list[tuple[int, str]]:
    return [(1, _("Again")), (2, _("Hard")), (3, _("Good")), (4, _("Easy"))]


def _state_names() -> dict[int, str]:
    return {0: _("New"), 1: _("Learning"), 2: _("Review"), 3: _("Relearning")}


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    flt: FilterDep,
    show: str = "",
) -> Response:
    now = dt.datetime.now(dt.UTC)
    shown = review.next_card(session=session, user=user, flt=flt, now=now, prefer=show or None)
    view, answer, claims, changed = None, None, list[ClaimView](), None
    if shown is not None:
        question = get_question(session=session, question_id=shown.question_id)
        view = ShownView(question, shown.version, int(shown.state), shown.previews)
        answer, claims = answer_with_claims(session, question.id, question.answer_html)
        if shown.version > 0:
            changed = relearn.answer_changed_at(session=session, user=user, question_id=question.id)
    context = claim_context(claims) | {
        "answer": answer,
        "answer_changed": changed is not None,
        "here": filter_url("/review", flt),
        "flt": flt,
        "shown": view,
        "counts": review.queue_counts(session=session, user=user, flt=flt, now=now),
        "can_undo": review.last_review(session=session, user=user) is not None,
        "rating_names": _rating_names(),
        "state_names": _state_names(),
    }
    return templates.TemplateResponse(request, "review.html", context)


@router.post("/review/rate", dependencies=[CsrfDep])
def rate_form(
    session: SessionDep,
    user: CurrentUserDep,
    flt: FormFilterDep,
    question_id: Annotated[str, Form(max_length=200)],
    rating: Annotated[int, Form()],
    version: Annotated[int, Form(ge=0, le=MAX_ID)],
    duration_ms: Annotated[str, Form()] = "",
) -> Response:
    duration = form_int(duration_ms, cap=24 * 3600 * 1000)
    review.rate(
        session=session,
        user=user,
        question_id=question_id,
        rating=rating,
        version=version,
        duration_ms=duration,
        now=dt.datetime.now(dt.UTC),
    )
    return RedirectResponse(filter_url("/review", flt), status_code=303)


@router.post("/review/undo", dependencies=[CsrfDep])
def undo_form(session: SessionDep, user: CurrentUserDep, flt: FormFilterDep) -> Response:
    undone = review.undo_last(session=session, user=user, now=dt.datetime.now(dt.UTC))
    extra = {"show": undone.question_id} if undone is not None else {}
    return RedirectResponse(filter_url("/review", flt, **extra), status_code=303)


def _local(path: str, fallback: str) -> str:
    # Only local paths: never an open redirect.
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else fallback


@router.post("/cards/{question_id}/relearn", dependencies=[CsrfDep])
def relearn_form(
    question_id: Annotated[str, Path(max_length=200)],
    session: SessionDep,
    user: CurrentUserDep,
    next: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    relearn.relearn(
        session=session, user=user, question_id=question_id, now=dt.datetime.now(dt.UTC)
    )
    return RedirectResponse(_local(next, "/review"), status_code=303)


@router.post("/cards/{question_id}/keep", dependencies=[CsrfDep])
def keep_form(
    question_id: Annotated[str, Path(max_length=200)],
    session: SessionDep,
    user: CurrentUserDep,
    next: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    relearn.keep_schedule(session=session, user=user, question_id=question_id)
    return RedirectResponse(_local(next, "/review"), status_code=303)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, templates: TemplatesDep, user: CurrentUserDep, saved: bool = False
) -> Response:
    return _settings(request, templates, user, saved=saved)


def _settings(
    request: Request,
    templates: TemplatesDep,
    user: Any,
    *,
    saved: bool = False,
    error: str = "",
    status: int = 200,
) -> Response:
    zones = COMMON_ZONES + sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    context = {"user": user, "saved": saved, "error": error, "zones": zones}
    return templates.TemplateResponse(request, "settings.html", context, status_code=status)


@router.post("/settings", dependencies=[CsrfDep])
def save_settings(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    new_per_day: Annotated[int, Form()],
    desired_retention: Annotated[float, Form()],
    timezone: Annotated[str, Form(max_length=64)],
    quiz_feeds_reviews: Annotated[bool, Form()] = False,
    leech_threshold: Annotated[int | None, Form()] = None,
) -> Response:
    try:
        review.set_study_settings(
            session=session,
            user=user,
            new_per_day=new_per_day,
            desired_retention=desired_retention,
            timezone=timezone,
            quiz_feeds_reviews=quiz_feeds_reviews,
            leech_threshold=leech_threshold,
        )
    except AppError as exc:
        session.rollback()
        return _settings(request, templates, user, error=exc.message, status=exc.status_code)
    return RedirectResponse("/settings?saved=true", status_code=303)
