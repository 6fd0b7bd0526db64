"""Interviews and the plan toward the nearest one: the ``/interviews`` page (add and
delete with CSRF-checked forms) and the JSON API (``/api/interviews``, ``/api/plan``),
plus the JSON side of the changed-answer actions (``/api/cards/{id}/relearn`` and
``/keep``; their forms live with the review page in ``app.web.study_pages``).

Thin: the rules are ``app.study.plan``'s, the SQL ``app.study.interviews``' and
``app.study.relearn``'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.content.queries import facet_values
from app.errors import AppError, Unprocessable
from app.i18n import mark as _
from app.models import Interview, User
from app.study import interviews, relearn
from app.study.plan import Overview, Plan
from app.web.csrf import same_origin, verify_csrf
from app.web.deps import CurrentUserDep, IdPath, SessionDep, TemplatesDep
from app.web.plan_view import plan_context

router = APIRouter()
CsrfDep = Depends(verify_csrf)
SameOriginDep = Depends(same_origin)
QuestionIdPath = Annotated[str, Path(max_length=200)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class InterviewCreate(BaseModel):
    company: str = Field(max_length=200, description="The company, as the bank spells it")
    role: str | None = Field(default=None, max_length=200)
    stage: str | None = Field(default=None, max_length=100, description="e.g. 一面")
    date: dt.date = Field(description="The interview day (today or later)")


class InterviewPublic(BaseModel):
    id: int
    company: str
    role: str | None
    stage: str | None
    date: dt.date
    days_to: int = Field(description="Days from today to the interview (negative: past)")


class ChangedAnswerPublic(BaseModel):
    question_id: str
    changed: bool = Field(description="False when the answer was not marked changed")


def interview_public(interview: Interview, today: dt.date) -> InterviewPublic:
    return InterviewPublic(
        id=interview.id,
        company=interview.company,
        role=interview.role,
        stage=interview.stage,
        date=interview.date,
        days_to=(interview.date - today).days,
    )


def _page(
    request: Request,
    session: Session,
    templates: TemplatesDep,
    user: User,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    now = _now()
    today = interviews.user_today(user=user, now=now)
    listed = [
        interview_public(i, today) for i in interviews.list_interviews(session=session, user=user)
    ]
    overview = interviews.plan_overview(session=session, user=user, now=now)
    context = plan_context(overview) | {
        "interviews": listed,
        "today": today,
        "facets": facet_values(session=session),
        "error": error,
        "form": form or {},
    }
    return templates.TemplateResponse(request, "interviews.html", context, status_code=status)


@router.get("/interviews", response_class=HTMLResponse, include_in_schema=False)
def interviews_page(
    request: Request, session: SessionDep, templates: TemplatesDep, user: CurrentUserDep
) -> Response:
    return _page(request, session, templates, user)


def _form_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Unprocessable(
            _("date %(value)s is not a date like 2026-05-20"), field="date", value=repr(value)
        ) from None


@router.post("/interviews", dependencies=[CsrfDep], include_in_schema=False)
def add_form(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    company: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=200)] = "",
    stage: Annotated[str, Form(max_length=100)] = "",
    date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        interviews.add_interview(
            session=session,
            user=user,
            company=company,
            role=role,
            stage=stage,
            date=_form_date(date),
            now=_now(),
        )
    except AppError as exc:
        session.rollback()
        form = {"company": company, "role": role, "stage": stage, "date": date}
        return _page(
            request,
            session,
            templates,
            user,
            error=exc.text,
            form=form,
            status=exc.status_code,
        )
    return RedirectResponse("/interviews", status_code=303)


@router.post("/interviews/{interview_id}/delete", dependencies=[CsrfDep], include_in_schema=False)
def delete_form(interview_id: IdPath, session: SessionDep, user: CurrentUserDep) -> Response:
    interviews.delete_interview(session=session, user=user, interview_id=interview_id)
    return RedirectResponse("/interviews", status_code=303)


@router.get("/api/interviews", tags=["plan"])
def list_api(session: SessionDep, user: CurrentUserDep) -> list[InterviewPublic]:
    """The user's interviews, soonest first (past ones too)."""
    today = interviews.user_today(user=user, now=_now())
    return [
        interview_public(i, today) for i in interviews.list_interviews(session=session, user=user)
    ]


@router.post("/api/interviews", tags=["plan"], status_code=201, dependencies=[SameOriginDep])
def add_api(body: InterviewCreate, session: SessionDep, user: CurrentUserDep) -> InterviewPublic:
    """Add an upcoming interview: the review queue then aims at the nearest one. An empty
    company or a date in the past is a 422 naming the field."""
    now = _now()
    added = interviews.add_interview(
        session=session,
        user=user,
        company=body.company,
        role=body.role,
        stage=body.stage,
        date=body.date,
        now=now,
    )
    return interview_public(added, interviews.user_today(user=user, now=now))


@router.delete(
    "/api/interviews/{interview_id}",
    tags=["plan"],
    status_code=204,
    dependencies=[SameOriginDep],
)
def delete_api(interview_id: IdPath, session: SessionDep, user: CurrentUserDep) -> Response:
    """Delete one of your interviews."""
    interviews.delete_interview(session=session, user=user, interview_id=interview_id)
    return Response(status_code=204)


@router.get("/api/plans", tags=["plan"])
def plans_api(session: SessionDep, user: CurrentUserDep) -> Overview | None:
    """The plans toward every interview on or after today, soonest first (null without
    one), added up: today's cards for them all, and the cards a day by date (each
    interview's share until its day). A question two interviews share counts for the
    earlier one."""
    return interviews.plan_overview(session=session, user=user, now=_now())


@router.get("/api/plan", tags=["plan"])
def plan_api(session: SessionDep, user: CurrentUserDep) -> Plan | None:
    """The plan toward the nearest interview on or after today (null without one): days
    left, cards a day it needs (new ones among them), whether that exceeds your new-card
    limit, and today's cards needed, done and left."""
    return interviews.current_plan(session=session, user=user, now=_now())


@router.post("/api/cards/{question_id}/relearn", tags=["plan"], dependencies=[SameOriginDep])
def relearn_api(
    question_id: QuestionIdPath, session: SessionDep, user: CurrentUserDep
) -> ChangedAnswerPublic:
    """Start a card whose answer changed over from scratch (its history is kept)."""
    done = relearn.relearn(session=session, user=user, question_id=question_id, now=_now())
    return ChangedAnswerPublic(question_id=question_id, changed=done)


@router.post("/api/cards/{question_id}/keep", tags=["plan"], dependencies=[SameOriginDep])
def keep_api(
    question_id: QuestionIdPath, session: SessionDep, user: CurrentUserDep
) -> ChangedAnswerPublic:
    """Keep the schedule of a card whose answer changed (clears the notice)."""
    done = relearn.keep_schedule(session=session, user=user, question_id=question_id)
    return ChangedAnswerPublic(question_id=question_id, changed=done)
