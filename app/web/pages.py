"""HTML pages for reading the bank: browse, a question, and the language switch. The
home page is ``app.web.home``; review and settings pages live in ``app.web.study_pages``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.config import Settings
from app.content.filters import QuestionFilter
from app.content.queries import get_question, list_questions
from app.errors import NotFound, Unauthorized
from app.i18n import LANGUAGES
from app.i18n import gettext as _
from app.i18n import mark as N_
from app.models import User
from app.study.card_states import card_states
from app.study.notes import LIMITS, get_note
from app.study.relearn import answer_changed_at
from app.web.claims_pages import answer_with_claims, claim_context
from app.web.deps import (
    FilterDep,
    SessionDep,
    SettingsDep,
    TemplatesDep,
    get_current_user,
)
from app.web.filter_cache import filter_choices_data
from app.web.middleware import LANG_COOKIE
from app.web.templating import filter_url

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def filter_choices(session: Session, flt: QuestionFilter | None = None) -> dict[str, Any]:
    """What a filter form offers: each facet's values (counted within ``flt``'s other
    facets), their labels, chapter titles."""
    choices = filter_choices_data(session, flt or QuestionFilter())
    chapters = choices.chapters
    return {
        "facets": choices.facets,
        "facet_labels": [
            ("company", _("Company")),
            ("role", _("Role")),
            ("stage", _("Stage")),
            ("tag", _("Topic")),
            ("chapter", _("Chapter")),
        ],
        "chapter_titles": {c.slug: c.title for c in chapters},
    }


def _optional_user(request: Request, session: Session, settings: Settings) -> User | None:
    """The signed-in user, or None on a public page seen signed out."""
    try:
        return get_current_user(request, session, settings)
    except Unauthorized:
        return None


def _has_empty_parameter(request: Request) -> bool:
    return any(not value.strip() for _, value in request.query_params.multi_items())


@router.get("/questions", response_class=HTMLResponse)
def browse(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    flt: FilterDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if _has_empty_parameter(request):
        # A form submitted with fields left blank: the same page under a clean address.
        extra = {"page": page} if page > 1 else {}
        return RedirectResponse(filter_url("/questions", flt, **extra), status_code=303)
    total, questions = list_questions(
        session=session, flt=flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    user = _optional_user(request, session, settings)
    states = (
        card_states(
            session=session,
            user=user,
            question_ids=[q.id for q in questions],
            now=dt.datetime.now(dt.UTC),
        )
        if user is not None
        else {}
    )
    context = filter_choices(session, flt) | {
        "flt": flt,
        "total": total,
        "questions": questions,
        "states": states,
        "state_names": state_names(),
        "rating_names": rating_names(),
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "page_size": PAGE_SIZE,
    }
    return templates.TemplateResponse(request, "browse.html", context)


def state_names() -> dict[str, str]:
    return {
        "new": _("New"),
        "learning": _("Learning"),
        "due": _("Due"),
        "young": _("Young"),
        "mature": _("Mature"),
        "suspended": _("Suspended"),
    }


def rating_names() -> dict[int, str]:
    return {1: _("Again"), 2: _("Hard"), 3: _("Good"), 4: _("Easy")}


@router.get("/questions/{question_id}", response_class=HTMLResponse)
def question_page(
    request: Request,
    question_id: str,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
) -> Response:
    question = get_question(session=session, question_id=question_id)
    answer, claims = answer_with_claims(session, question.id, question.answer_html)
    # The page is public; a signed-in user also sees whether the answer changed.
    user = _optional_user(request, session, settings)
    changed = user is not None and (
        answer_changed_at(session=session, user=user, question_id=question.id) is not None
    )
    mine = get_note(session=session, user=user, question_id=question.id) if user else None
    context = claim_context(claims) | {
        "question": question,
        "answer": answer,
        "answer_changed": changed,
        "mine": mine,
        "note_limits": LIMITS if user is not None else None,
        "here": request.url.path,
    }
    return templates.TemplateResponse(request, "question.html", context)


@router.get("/lang/{code}")
def switch_language(code: str, settings: SettingsDep, next: str = "/") -> Response:
    if code not in LANGUAGES:
        raise NotFound(
            N_("language %(code)r is not one of %(allowed)s"),
            code=code,
            allowed=", ".join(LANGUAGES),
        )
    # Only local paths: never an open redirect.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        samesite="lax",
        httponly=True,
        secure=settings.cookie_secure,
    )
    return response
