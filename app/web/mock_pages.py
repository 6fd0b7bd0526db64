"""Mock interview pages: choose a company and round (or an interview from the plan) and
a length; answer one question at a time under a timer; compare with the reference
answer and grade; the report; a question's attempt history. Thin: the services in
``app.mock`` own the rules and the SQL."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.content.queries import facet_values, get_question
from app.errors import AppError, Unprocessable
from app.i18n import gettext as _
from app.i18n import mark as N_  # gettext_noop: translated when shown
from app.mock import service
from app.mock.report import attempt_history, mock_report
from app.models import MockAttempt, MockInterview
from app.study.interviews import list_interviews, user_today
from app.web.claims_pages import answer_with_claims, claim_context
from app.web.csrf import verify_csrf
from app.web.deps import (
    CurrentUserDep,
    IdPath,
    PositionPath,
    SessionDep,
    TemplatesDep,
    form_int,
)
from app.web.pages import rating_names

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def tier_names() -> dict[int, str]:
    """Why a question was asked, as the pages say it."""
    return {
        1: _("asked by this company at this round"),
        2: _("asked by this company"),
        3: _("a topic this company asks about"),
        4: _("from the rest of the bank"),
    }


def _new_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    form: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> Response:
    today = user_today(user=user, now=_now())
    upcoming = [i for i in list_interviews(session=session, user=user) if i.date >= today]
    context = {
        "facets": facet_values(session=session),
        "interviews": upcoming,
        "past": service.past_mocks(session=session, user=user),
        "form": form,
        "error": error,
        "max_count": service.MAX_COUNT,
        "max_minutes": service.MAX_MINUTES,
    }
    return templates.TemplateResponse(request, "mock_new.html", context, status_code=status)


@router.get("/mock", response_class=HTMLResponse)
def new_mock_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    interview: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    form = {"interview_id": interview, "count": 5, "minutes": 30}
    return _new_page(request, session, templates, user, form)


def _number(value: object, field: str, default: int) -> int:
    text = str(value or "").strip()
    if not text:
        return default
    number = form_int(text, cap=10**6)
    if number is None:
        raise Unprocessable(N_("%(field)s must be a whole number"), field=field)
    return number


@router.post("/mock", dependencies=[CsrfDep])
async def create_mock(
    request: Request, session: SessionDep, templates: TemplatesDep, user: CurrentUserDep
) -> Response:
    posted = await request.form()
    form: dict[str, Any] = {k: str(posted.get(k) or "") for k in ("company", "stage")}
    form["interview_id"] = form_int(posted.get("interview_id"), cap=2**62)
    form["count"], form["minutes"] = posted.get("count"), posted.get("minutes")
    try:
        spec = service.MockSpec(
            company=form["company"],
            stage=form["stage"],
            interview_id=form["interview_id"],
            count=_number(posted.get("count"), "count", 5),
            minutes=_number(posted.get("minutes"), "minutes", 30),
        )
        # A seed makes the draw repeatable (tests, or the same mock again).
        seed = form_int(posted.get("seed"), cap=2**31 - 1)
        mock = service.create_mock(session=session, user=user, spec=spec, now=_now(), seed=seed)
    except AppError as exc:
        session.rollback()
        return _new_page(request, session, templates, user, form, exc.text, exc.status_code)
    return RedirectResponse(f"/mock/{mock.id}", status_code=303)


def _timer(mock: MockInterview, attempt: MockAttempt) -> dict[str, Any]:
    """What the page's timers count from: the server's clock, not the browser's."""
    now = _now()
    shown = attempt.shown_at or now
    # An answered question's clocks stop where its answer arrived.
    end = attempt.answered_at or now
    return {
        "now": now.isoformat(),
        "started": mock.created_at.isoformat(),
        "shown": shown.isoformat(),
        "elapsed_s": int((end - shown).total_seconds()),
        "total_s": int((end - mock.created_at).total_seconds()),
        "share_s": service.share_s(mock),
        "limit_s": mock.limit_s,
    }


@router.get("/mock/{mock_id}", response_class=HTMLResponse)
def mock_page(
    request: Request,
    mock_id: IdPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    mock = service.get_mock(session=session, user=user, mock_id=mock_id)
    attempt = service.current_attempt(mock)
    if attempt is None:
        return RedirectResponse(f"/mock/{mock.id}/report", status_code=303)
    if attempt.answered_at is not None:  # answered, not graded: the comparison
        return RedirectResponse(f"/mock/{mock.id}/items/{attempt.position}", status_code=303)
    attempt = service.show(
        session=session, user=user, mock_id=mock.id, position=attempt.position, now=_now()
    )
    context = {
        "mock": mock,
        "attempt": attempt,
        "question": get_question(session=session, question_id=attempt.question_id),
        "timer": _timer(mock, attempt),
        "tier_names": tier_names(),
    }
    return templates.TemplateResponse(request, "mock.html", context)


@router.post("/mock/{mock_id}/items/{position}/answer", dependencies=[CsrfDep])
def answer(
    mock_id: IdPath,
    position: PositionPath,
    session: SessionDep,
    user: CurrentUserDep,
    text: Annotated[str, Form(max_length=service.MAX_TEXT)] = "",
) -> Response:
    service.answer(
        session=session, user=user, mock_id=mock_id, position=position, text=text, now=_now()
    )
    return RedirectResponse(f"/mock/{mock_id}/items/{position}", status_code=303)


@router.get("/mock/{mock_id}/items/{position}", response_class=HTMLResponse)
def compare_page(
    request: Request,
    mock_id: IdPath,
    position: PositionPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    """The answer beside the reference answer, its key points, claims and demos."""
    mock = service.get_mock(session=session, user=user, mock_id=mock_id)
    attempt = service.attempt_at(mock, position)
    if attempt.answered_at is None:
        return RedirectResponse(f"/mock/{mock.id}", status_code=303)
    question = get_question(session=session, question_id=attempt.question_id)
    reference, claims = answer_with_claims(session, question.id, question.answer_html)
    marks = attempt.covered if attempt.covered is not None else attempt.matched
    context = claim_context(claims) | {
        "mock": mock,
        "attempt": attempt,
        "question": question,
        "reference": reference,
        "points": list(zip(attempt.points, attempt.matched, marks, strict=True)),
        "timer": _timer(mock, attempt),
        "rating_names": rating_names(),
        "tier_names": tier_names(),
    }
    return templates.TemplateResponse(request, "mock_review.html", context)


@router.post("/mock/{mock_id}/items/{position}/grade", dependencies=[CsrfDep])
async def grade(
    request: Request,
    mock_id: IdPath,
    position: PositionPath,
    session: SessionDep,
    user: CurrentUserDep,
) -> Response:
    posted = await request.form()
    rating = form_int(posted.get("rating"), cap=9)
    if rating is None:
        raise Unprocessable(
            N_("%(field)s must be one of 1 (Again), 2 (Hard), 3 (Good), 4 (Easy)"),
            field="rating",
        )
    covered: list[int] = []
    for value in posted.getlist("covered"):
        index = form_int(value, cap=10_000)
        if index is None:
            raise Unprocessable(N_("%(field)s must be whole numbers"), field="covered")
        covered.append(index)
    service.grade(
        session=session,
        user=user,
        mock_id=mock_id,
        position=position,
        rating=rating,
        covered=covered,
        now=_now(),
    )
    return RedirectResponse(f"/mock/{mock_id}", status_code=303)


@router.get("/mock/{mock_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request,
    mock_id: IdPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    report = mock_report(session=session, user=user, mock_id=mock_id)
    context = {"r": report, "rating_names": rating_names()}
    return templates.TemplateResponse(request, "mock_report.html", context)


@router.get("/questions/{question_id}/attempts", response_class=HTMLResponse)
def attempts_page(
    request: Request,
    question_id: str,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    """Every mock interview answer to one question, newest first."""
    question = get_question(session=session, question_id=question_id)
    attempts = attempt_history(session=session, user=user, question_id=question.id)
    context = {"question": question, "attempts": attempts, "rating_names": rating_names()}
    return templates.TemplateResponse(request, "mock_history.html", context)
