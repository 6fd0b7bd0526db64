"""Quiz pages: choose a slice, answer one item at a time (saved as it goes, so closing
the tab and coming back resumes), see the results."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.content.filters import QuestionFilter
from app.content.queries import get_question
from app.errors import AppError
from app.i18n import gettext as _
from app.models import Quiz, QuizItem
from app.quiz import service
from app.quiz.build import ALL_TYPES, QuestionType
from app.quiz.results import given_text, past_quizzes, quiz_results
from app.web.csrf import verify_csrf
from app.web.deps import (
    CurrentUserDep,
    FilterDep,
    FormFilterDep,
    IdPath,
    PositionPath,
    SessionDep,
    TemplatesDep,
    form_int,
)
from app.web.pages import filter_choices

MAX_DURATION_MS = 24 * 3600 * 1000

router = APIRouter(include_in_schema=False)
CsrfDep = Depends(verify_csrf)


def _type_names() -> dict[str, str]:
    return {
        "recall": _("Written recall"),
        "takeaway": _("Pick the takeaway"),
        "cloze": _("Fill in the blank"),
        "truefalse": _("True or false"),
    }


def verdict_names() -> dict[str, str]:
    """A graded answer's verdict as the pages say it."""
    return {
        "correct": _("right"),
        "near": _("almost (one character off)"),
        "wrong": _("wrong"),
        "empty": _("no answer"),
    }


def _focus_names() -> dict[str, str]:
    return {
        "all": _("Any question"),
        "due_soon": _("Due soon"),
        "weakest": _("My weakest"),
    }


def _new_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    flt: QuestionFilter,
    error: str = "",
    status: int = 200,
) -> Response:
    context = filter_choices(session, flt) | {
        "flt": flt,
        "type_names": _type_names(),
        "focus_names": _focus_names(),
        "past": past_quizzes(session=session, user=user),
        "error": error,
    }
    return templates.TemplateResponse(request, "quiz_new.html", context, status_code=status)


@router.get("/quizzes", response_class=HTMLResponse)
def new_quiz_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    flt: FilterDep,
) -> Response:
    return _new_page(request, session, templates, user, flt)


@router.post("/quizzes", dependencies=[CsrfDep])
async def create_quiz(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    flt: FormFilterDep,
) -> Response:
    form = await request.form()
    types = tuple(t for t in ALL_TYPES if t in form.getlist("types"))
    try:
        count = int(str(form.get("count") or 10))
        spec = service.QuizSpec(
            flt=flt,
            focus=str(form.get("focus") or "all"),  # type: ignore[arg-type]  # checked below
            count=count,
            types=types,
        )
        seed = form_int(form.get("seed"), cap=2**31 - 1)
        quiz = service.create_quiz(
            session=session,
            user=user,
            spec=spec,
            now=dt.datetime.now(dt.UTC),
            seed=seed,
        )
    except ValueError:
        return _new_page(request, session, templates, user, flt, _("count must be a number"), 422)
    except AppError as exc:
        session.rollback()
        return _new_page(request, session, templates, user, flt, exc.text, exc.status_code)
    return RedirectResponse(f"/quizzes/{quiz.id}", status_code=303)


@router.get("/quizzes/{quiz_id}", response_class=HTMLResponse)
def quiz_page(
    request: Request,
    quiz_id: IdPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    feedback: int | None = None,
) -> Response:
    quiz = service.get_quiz(session=session, user=user, quiz_id=quiz_id)
    item = service.current_item(quiz)
    if item is None:
        return RedirectResponse(f"/quizzes/{quiz.id}/results", status_code=303)
    last = None
    if feedback is not None and 0 <= feedback < len(quiz.items):
        answered = quiz.items[feedback]
        if answered.answered_at is not None:
            grade = service.grade_response(answered, answered.response or {})
            last = {"item": answered, "expected": grade.expected, "given": given_text(answered)}
    return _item_page(request, templates, session, quiz, item, last=last)


def _item_page(
    request: Request,
    templates: TemplatesDep,
    session: SessionDep,
    quiz: Quiz,
    item: QuizItem,
    **extra: object,
) -> Response:
    context = {
        "quiz": quiz,
        "item": item,
        "question": get_question(session=session, question_id=item.question_id),
        "requested": int(quiz.spec.get("count", len(quiz.items))),
        "type_names": _type_names(),
        "verdict_names": verdict_names(),
        "last": None,
        "covered": None,
    } | extra
    return templates.TemplateResponse(request, "quiz.html", context)


@router.post("/quizzes/{quiz_id}/items/{position}/check", dependencies=[CsrfDep])
def check_recall(
    request: Request,
    quiz_id: IdPath,
    position: PositionPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
    text: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Written recall, step 2: the key terms covered and the reference answer; the user
    then grades themself."""
    quiz = service.get_quiz(session=session, user=user, quiz_id=quiz_id)
    item = service.item_at(quiz, position)
    covered = service.check_recall(
        session=session, user=user, quiz_id=quiz_id, position=position, text=text
    )
    return _item_page(request, templates, session, quiz, item, covered=covered, text=text)


@router.post("/quizzes/{quiz_id}/items/{position}/answer", dependencies=[CsrfDep])
async def answer(
    request: Request,
    quiz_id: IdPath,
    position: PositionPath,
    session: SessionDep,
    user: CurrentUserDep,
) -> Response:
    form = await request.form()
    response: dict[str, object] = {"text": str(form.get("text") or "")}
    choice = form_int(form.get("choice"), cap=99)
    if choice is not None:
        response["choice"] = choice
    self_grade = form.get("self_grade")
    if self_grade in ("true", "false"):
        response["self_grade"] = self_grade == "true"
    duration = form_int(form.get("duration_ms"), cap=MAX_DURATION_MS)
    service.answer_item(
        session=session,
        user=user,
        quiz_id=quiz_id,
        position=position,
        response=response,
        now=dt.datetime.now(dt.UTC),
        duration_ms=duration,
    )
    return RedirectResponse(f"/quizzes/{quiz_id}?feedback={position}", status_code=303)


@router.get("/quizzes/{quiz_id}/results", response_class=HTMLResponse)
def results_page(
    request: Request,
    quiz_id: IdPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    results = quiz_results(session=session, user=user, quiz_id=quiz_id, now=dt.datetime.now(dt.UTC))
    context = {"r": results, "type_names": _type_names(), "verdict_names": verdict_names()}
    return templates.TemplateResponse(request, "quiz_results.html", context)


__all__ = ["QuestionType", "router"]
