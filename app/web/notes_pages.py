"""Your notes and your own answer or takeaway for a question: the question page's forms
and the JSON API (``app.study.notes`` does the work).

- ``GET /questions/{id}/own``: the form for your own answer and takeaway, starting with
  yours or the bank's text (a page of its own: the question page stays as light);
- ``POST /questions/{id}/note``: a form (CSRF token) with any of ``note``, ``answer``,
  ``takeaway``, each named in an ``edit`` field; those not named stay as they are, an
  empty one clears it. Redirects back to
  the question page (or ``next``, a local path).
- ``GET /api/questions/{id}/note``: the user's texts (nulls where none);
  ``PATCH`` sets the texts in the body (same rule); ``DELETE`` removes them all (204).
  Refusals are 4xx with ``field`` and the reason (too long, too many formulas; 404 for a
  question that does not exist).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app.content.queries import get_question
from app.study import notes
from app.study.notes import LIMITS, NoteView, TextName
from app.web.csrf import same_origin, verify_csrf
from app.web.deps import CurrentUserDep, SessionDep, TemplatesDep

QuestionIdPath = Annotated[str, Path(max_length=200)]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["notes"], dependencies=[Depends(same_origin)])
router = APIRouter()


class NoteUpdate(BaseModel):
    """The texts to set; one left out stays as it is, ``null`` or ``""`` clears it."""

    note: str | None = Field(default=None, max_length=LIMITS["note"], description="Markdown")
    answer: str | None = Field(
        default=None,
        max_length=LIMITS["answer"],
        description="Your answer (markdown); the bank's stays beside it",
    )
    takeaway: str | None = Field(
        default=None, max_length=LIMITS["takeaway"], description="Your takeaway (one line)"
    )


class NotePublic(BaseModel):
    question_id: str
    note: str | None
    note_html: str | None = Field(description="Sanitised HTML, math as MathML")
    answer: str | None
    answer_html: str | None
    takeaway: str | None
    takeaway_html: str | None
    updated_at: dt.datetime | None = Field(description="None: nothing written")


def _public(question_id: str, view: NoteView | None) -> NotePublic:
    if view is None:
        return NotePublic(
            question_id=question_id,
            **dict.fromkeys(
                (
                    "note",
                    "note_html",
                    "answer",
                    "answer_html",
                    "takeaway",
                    "takeaway_html",
                    "updated_at",
                )
            ),
        )
    return NotePublic(
        question_id=view.question_id,
        note=view.note,
        note_html=view.note_html,
        answer=view.answer,
        answer_html=view.answer_html,
        takeaway=view.takeaway,
        takeaway_html=view.takeaway_html,
        updated_at=view.updated_at,
    )


def _local(path: str, fallback: str) -> str:
    # Only local paths: never an open redirect.
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else fallback


@pages.get("/questions/{question_id}/own", response_class=HTMLResponse)
def own_answer_page(
    request: Request,
    question_id: QuestionIdPath,
    session: SessionDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    question = get_question(session=session, question_id=question_id)
    context = {
        "question": question,
        "mine": notes.get_note(session=session, user=user, question_id=question.id),
        "limits": LIMITS,
    }
    return templates.TemplateResponse(request, "question_own.html", context)


@pages.post("/questions/{question_id}/note", dependencies=[Depends(verify_csrf)])
def note_form(
    question_id: QuestionIdPath,
    session: SessionDep,
    user: CurrentUserDep,
    edit: Annotated[list[TextName], Form(max_length=3)],
    note: Annotated[str | None, Form()] = None,
    answer: Annotated[str | None, Form()] = None,
    takeaway: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """``edit`` names the texts the form holds: one of them sent empty (which a form
    field cannot tell from one not sent) clears it."""
    given = {"note": note, "answer": answer, "takeaway": takeaway}
    sent: dict[TextName, str | None] = {name: given[name] for name in edit}
    notes.save_note(
        session=session,
        user=user,
        question_id=question_id,
        texts=sent,
        now=dt.datetime.now(dt.UTC),
    )
    back = f"/questions/{question_id}#mine"
    return RedirectResponse(_local(next, back) if next else back, status_code=303)


@api.get("/questions/{question_id}/note")
def get_note_api(
    question_id: QuestionIdPath, session: SessionDep, user: CurrentUserDep
) -> NotePublic:
    """Your note and your own answer and takeaway for the question (nulls where none)."""
    get_question(session=session, question_id=question_id)  # 404 for an unknown question
    return _public(question_id, notes.get_note(session=session, user=user, question_id=question_id))


@api.patch("/questions/{question_id}/note")
def patch_note_api(
    question_id: QuestionIdPath, body: NoteUpdate, session: SessionDep, user: CurrentUserDep
) -> NotePublic:
    """Set the texts given in the body (markdown, rendered and sanitised); one left out
    stays, ``null`` or ``""`` clears it. An answer or takeaway the same as the bank's is
    no override. 422 naming the field when a text is too long or holds too many formulas."""
    texts: dict[TextName, str | None] = {
        name: getattr(body, name) for name in notes.TEXTS if name in body.model_fields_set
    }
    view = notes.save_note(
        session=session,
        user=user,
        question_id=question_id,
        texts=texts,
        now=dt.datetime.now(dt.UTC),
    )
    return _public(question_id, view)


@api.delete("/questions/{question_id}/note", status_code=204)
def delete_note_api(
    question_id: QuestionIdPath, session: SessionDep, user: CurrentUserDep
) -> Response:
    """Remove your note and your own answer and takeaway (the bank's version shows)."""
    get_question(session=session, question_id=question_id)
    notes.clear_note(session=session, user=user, question_id=question_id)
    return Response(status_code=204)


router.include_router(pages)
router.include_router(api)
