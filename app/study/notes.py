"""Your own notes on a question, and your own version of its answer or takeaway.

A user keeps, per question, any of three markdown texts (``TEXTS``): a **note**, their own
**answer** and their own **takeaway**. Each is rendered and sanitised as the bank's answers
are (``app.content.render``: markdown, math as MathML, nh3's allow-list), so a note
holding ``<img onerror=...>`` or a ``javascript:`` link is stored inert. The bank's
question is never written: a re-import of the bank changes the bank's version beside the
user's, the pages keep showing the bank's version (folded under the user's), and "the
answer changed" (``Card.answer_changed_at``) still compares the bank with itself.

Saving takes the texts given and leaves the others as they are; an empty text clears it
(the bank's version shows again), and an answer or takeaway saved exactly as the bank has
it (white space aside) is no override, so a form prefilled with the bank's text can be
saved unchanged. When all three are empty the row goes. Sizes are bounded (``LIMITS``,
and ``MAX_MATH_SPANS`` formulas a text, as for the bank's answers): a refusal is an
``Unprocessable`` naming the field and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.content.limits import MAX_MATH_SPANS
from app.content.render import render_inline, render_markdown
from app.errors import NotFound, Unprocessable
from app.i18n import mark as _
from app.models import Question, QuestionNote, User

__all__ = [
    "LIMITS",
    "TEXTS",
    "NoteView",
    "TextName",
    "check_text",
    "clear_note",
    "get_note",
    "notes_by_question",
    "render_text",
    "save_note",
]

TextName = Literal["note", "answer", "takeaway"]
TEXTS: tuple[TextName, ...] = ("note", "answer", "takeaway")
# Characters of markdown: a long note, an answer as long as the bank's longest few, a
# takeaway of a sentence or three.
LIMITS: Mapping[TextName, int] = {"note": 20_000, "answer": 50_000, "takeaway": 2_000}
_MATH_OPENERS = re.compile(r"\$|\\[(\[]")
_TOO_LONG: Mapping[TextName, str] = {
    "note": _("the note is %(length)s characters long; at most %(limit)s are allowed"),
    "answer": _("your answer is %(length)s characters long; at most %(limit)s are allowed"),
    "takeaway": _("your takeaway is %(length)s characters long; at most %(limit)s are allowed"),
}


@dataclass(frozen=True)
class NoteView:
    """A user's texts for one question: markdown as written and sanitised HTML (None:
    not written; the bank's version applies)."""

    question_id: str
    note: str | None
    note_html: Markup | None
    answer: str | None
    answer_html: Markup | None
    takeaway: str | None
    takeaway_html: Markup | None
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: QuestionNote) -> NoteView:
        def safe(html: str | None) -> Markup | None:
            # Sanitised when saved (render_text): safe to print.
            return Markup(html) if html else None

        return cls(
            question_id=row.question_id,
            note=row.note_md,
            note_html=safe(row.note_html),
            answer=row.answer_md,
            answer_html=safe(row.answer_html),
            takeaway=row.takeaway_md,
            takeaway_html=safe(row.takeaway_html),
            updated_at=row.updated_at,
        )


def check_text(name: TextName, text: str | None, *, field: str | None = None) -> str | None:
    """``text`` as it will be kept (None when empty), or ``Unprocessable`` naming
    ``field`` (default: ``name``) when it is too long, holds too many formulas or a NUL."""
    where = field or name
    if text is None or not text.strip():
        return None
    # Line ends as a browser's form sends them (\r\n) and as typed: kept as \n.
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if len(text) > LIMITS[name]:
        raise Unprocessable(
            _TOO_LONG[name], field=where, length=f"{len(text):,}", limit=f"{LIMITS[name]:,}"
        )
    if "\x00" in text:
        raise Unprocessable(
            _("the text holds a NUL character, which cannot be stored"), field=where
        )
    # An upper bound of the formulas (each ``$`` counted): rendering is checked before it
    # costs anything.
    if len(_MATH_OPENERS.findall(text)) > 2 * MAX_MATH_SPANS:
        raise Unprocessable(
            _("the text holds over %(limit)s formulas; split it"), field=where, limit=MAX_MATH_SPANS
        )
    return text


def render_text(name: TextName, text: str) -> str:
    """Sanitised HTML for a checked text: a takeaway is one line, as the bank's are."""
    return render_inline(text) if name == "takeaway" else render_markdown(text)


def _row(session: Session, user: User, question_id: str) -> QuestionNote | None:
    return session.scalar(
        select(QuestionNote).where(
            QuestionNote.user_id == user.id, QuestionNote.question_id == question_id
        )
    )


def get_note(*, session: Session, user: User, question_id: str) -> NoteView | None:
    """The user's texts for ``question_id``, or None when they wrote none."""
    row = _row(session, user, question_id)
    return NoteView.of(row) if row is not None else None


def notes_by_question(
    *, session: Session, user: User, question_ids: Iterable[str] | None = None
) -> dict[str, NoteView]:
    """The user's texts by question id: all of them, or those of ``question_ids``."""
    query = select(QuestionNote).where(QuestionNote.user_id == user.id)
    if question_ids is not None:
        query = query.where(QuestionNote.question_id.in_(list(question_ids)))
    return {row.question_id: NoteView.of(row) for row in session.scalars(query)}


def _bank_texts(session: Session, question_id: str) -> tuple[str, str | None]:
    row = session.execute(
        select(Question.answer_md, Question.takeaway).where(Question.id == question_id)
    ).first()
    if row is None:
        raise NotFound(_("question %(id)s does not exist"), id=repr(question_id))
    return row[0], row[1]


def _same(a: str | None, b: str | None) -> bool:
    return "".join((a or "").split()) == "".join((b or "").split())


def save_note(
    *,
    session: Session,
    user: User,
    question_id: str,
    texts: Mapping[TextName, str | None],
    now: dt.datetime,
) -> NoteView | None:
    """Set the texts in ``texts`` (module docstring; the others stay) and commit. Returns
    what the user now has, or None when nothing is left."""
    bank_answer, bank_takeaway = _bank_texts(session, question_id)
    checked = {name: check_text(name, text) for name, text in texts.items()}
    overrides: tuple[tuple[TextName, str | None], ...] = (
        ("answer", bank_answer),
        ("takeaway", bank_takeaway),
    )
    for name, bank in overrides:
        if checked.get(name) is not None and _same(checked[name], bank):
            checked[name] = None
    row = _row(session, user, question_id)
    if row is None:
        if not any(checked.values()):
            return None
        row = QuestionNote(user_id=user.id, question_id=question_id, created_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another request created it first: update that one
            row = _row(session, user, question_id)
            assert row is not None
    for name, text in checked.items():
        setattr(row, f"{name}_md", text)
        setattr(row, f"{name}_html", render_text(name, text) if text is not None else None)
    row.updated_at = now
    if row.note_md is None and row.answer_md is None and row.takeaway_md is None:
        session.delete(row)
        session.commit()
        return None
    session.commit()
    return NoteView.of(row)


def clear_note(*, session: Session, user: User, question_id: str) -> bool:
    """Remove the user's texts for ``question_id`` and commit; False when there were none."""
    deleted = session.execute(
        delete(QuestionNote).where(
            QuestionNote.user_id == user.id, QuestionNote.question_id == question_id
        )
    )
    session.commit()
    return bool(getattr(deleted, "rowcount", 0))
