"""Study pages: flashcard review (reveal, rate, undo), the changed-answer actions
(relearn it, or keep the schedule) and the study settings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.claims.service import ClaimView
from app.content.filters import QuestionFilter
from app.content.queries import QuestionDetail, get_question
from app.errors import AppError
from app.i18n import gettext as _
from app.i18n import ngettext
from app.study import fit, notes, relearn, review
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


def due_in(delta: dt.timedelta) -> str:
    """When the next card comes due, as the empty queue says it ("in 3 hours")."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 60:
        return ngettext("in %(num)d minute", "in %(num)d minutes", minutes) % {"num": minutes}
    hours = round(minutes / 60)
    if hours < 36:
        return ngettext("in %(num)d hour", "in %(num)d hours", hours) % {"num": hours}
    days = round(hours / 24)
    return ngettext("in %(num)d day", "in %(num)d days", days) % {"num": days}


def _session_start(value: str, now: dt.datetime) -> dt.datetime | None:
    """When the custom-study session of ``ahead=`` began: ``None`` for none ("" or "0"),
    now for a new one ("1", or anything not a past epoch second)."""
    if value in ("", "0"):
        return None
    seconds = form_int(value, cap=2**40)
    if seconds is None or not 1 < seconds <= now.timestamp():
        return now
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _mode(start: dt.datetime | None, include_new: bool) -> dict[str, int]:
    """The custom-study parameters a review URL or form carries on."""
    if start is None:
        return {}
    return {"ahead": int(start.timestamp())} | ({"new": 1} if include_new else {})


def _empty_queue(
    session: SessionDep, user: Any, flt: QuestionFilter, now: dt.datetime, ahead: bool
) -> dict[str, Any]:
    """What the empty queue offers: when the next card comes due, and custom study."""
    due = review.next_due(session=session, user=user, flt=flt)
    left = review.ahead_left(session=session, user=user, flt=flt, now=now, since=now)
    return {
        "next_due_in": due_in(due - now) if due is not None and due > now else None,
        "practise_left": left,
        "practise_url": filter_url("/review", flt, ahead=1),
        "practise_new_url": filter_url("/review", flt, ahead=1, new=1),
        "filters_text": ", ".join(value for _facet, value in flt.chips()),
        "ahead_done": ahead,
    }


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    flt: FilterDep,
    show: Annotated[str, Query(max_length=200)] = "",
    ahead: Annotated[str, Query(max_length=16)] = "",
    new: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    now = dt.datetime.now(dt.UTC)
    start = _session_start(ahead, now)
    include_new = start is not None and _flag(new)
    shown = review.next_card(
        session=session,
        user=user,
        flt=flt,
        now=now,
        prefer=show or None,
        ahead=start,
        include_new=include_new,
    )
    view, answer, claims, changed = None, None, list[ClaimView](), None
    mine: notes.NoteView | None = None
    mode = _mode(start, include_new)
    empty: dict[str, Any] = {}
    if shown is not None:
        question = get_question(session=session, question_id=shown.question_id)
        view = ShownView(question, shown.version, int(shown.state), shown.previews)
        answer, claims = answer_with_claims(session, question.id, question.answer_html)
        mine = notes.get_note(session=session, user=user, question_id=question.id)
        if shown.version > 0:
            changed = relearn.answer_changed_at(session=session, user=user, question_id=question.id)
    else:
        empty = _empty_queue(session, user, flt, now, start is not None)
    left = partial(review.ahead_left, session=session, user=user, flt=flt, now=now)
    context = (
        claim_context(claims)
        | empty
        | {
            "answer": answer,
            "mine": mine,
            "answer_changed": changed is not None,
            "here": filter_url("/review", flt, **mode),
            "flt": flt,
            "mode": mode,
            "ahead": start is not None,
            "ahead_left": 0 if start is None else left(since=start),
            "shown": view,
            "counts": review.queue_counts(session=session, user=user, flt=flt, now=now),
            "can_undo": review.can_undo(session=session, user=user),
            "rating_names": _rating_names(),
            "state_names": _state_names(),
        }
    )
    return templates.TemplateResponse(request, "review.html", context)


def _flag(value: str) -> bool:
    return value not in ("", "0")


def _form_mode(ahead: str, new: str) -> dict[str, int]:
    """The custom-study mode a review form posted, to carry on to the next page."""
    start = _session_start(ahead, dt.datetime.now(dt.UTC))
    return _mode(start, start is not None and _flag(new))


@router.post("/review/rate", dependencies=[CsrfDep])
def rate_form(
    session: SessionDep,
    user: CurrentUserDep,
    flt: FormFilterDep,
    question_id: Annotated[str, Form(max_length=200)],
    rating: Annotated[int, Form()],
    version: Annotated[int, Form(ge=0, le=MAX_ID)],
    duration_ms: Annotated[str, Form()] = "",
    ahead: Annotated[str, Form(max_length=16)] = "",
    new: Annotated[str, Form(max_length=8)] = "",
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
    return RedirectResponse(filter_url("/review", flt, **_form_mode(ahead, new)), status_code=303)


@router.post("/review/undo", dependencies=[CsrfDep])
def undo_form(
    session: SessionDep,
    user: CurrentUserDep,
    flt: FormFilterDep,
    ahead: Annotated[str, Form(max_length=16)] = "",
    new: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    undone = review.undo_last(session=session, user=user, now=dt.datetime.now(dt.UTC))
    extra: dict[str, str | int] = {"show": undone.question_id} if undone is not None else {}
    mode = _form_mode(ahead, new)
    return RedirectResponse(filter_url("/review", flt, **mode, **extra), status_code=303)


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
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    saved: bool = False,
) -> Response:
    return _settings(request, session, templates, user, saved=saved)


def _settings(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: Any,
    *,
    saved: bool = False,
    error: str = "",
    status: int = 200,
) -> Response:
    zones = COMMON_ZONES + sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    context = {"user": user, "saved": saved, "error": error, "zones": zones}
    # The "Fit to my reviews" section (app.web.fit_pages serves its forms).
    context["fit"] = fit.fit_view(session=session, user=user)
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
        return _settings(request, session, templates, user, error=exc.text, status=exc.status_code)
    return RedirectResponse("/settings?saved=true", status_code=303)
