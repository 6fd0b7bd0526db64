"""Export the question bank to Anki: an ``.apkg`` (genanki) with one note per question.

**A second export updates the same notes.** Anki files notes under a note type (model)
and a deck by numeric id, and on import matches a note to one it already has by GUID.
All three are fixed here:

- ``MODEL_ID`` and ``DECK_ID`` are ``stable_id`` of a fixed name: the first 8 bytes of
  its sha256, folded into ``[2**30, 2**31)`` (the range genanki suggests for ids);
- a note's GUID is ``genanki.guid_for(question_id)``; question ids are stable across
  re-imports of the bank, so the same question always has the same GUID.

Notes carry the export time as their modification time, so Anki's importer finds them
newer than the copies it holds and updates their fields and tags. Changing ``FIELDS``
needs a new model name (a new ``MODEL_ID``): Anki refuses to update notes whose note type
changed shape.

**Fields**: Front (the title), Back (the answer), Takeaway, Source (``file:line``),
QuestionId. They are rendered from the markdown, not copied from the stored HTML, because
the stored HTML holds MathML and Anki typesets TeX with MathJax: formulas become
``\\(..\\)`` / ``\\[..\\]`` text (``render_markdown(..., math="tex")``), sanitised like
the rest.

**Tags**: ``company::X``, ``role::R``, ``stage::Y``, ``topic::Z`` and ``chapter::slug``
(Anki shows ``::`` as a tag tree). Anki tags cannot hold spaces: each run of white space
becomes ``_`` ("Prompt Tuning" -> ``topic::Prompt_Tuning``).

The deck holds the active questions that pass a ``QuestionFilter`` (all by default);
archived questions are left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

import genanki  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.content.filters import QuestionFilter, question_conditions
from app.content.render import render_inline, render_markdown
from app.errors import Unprocessable
from app.models import Question, QuestionTag

FIELDS = ("Front", "Back", "Takeaway", "Source", "QuestionId")
MODEL_NAME = "Interview Lab question (v1)"
DECK_NAME = "Interview Lab"
MEDIA_TYPE = "application/apkg"
_SPACES = re.compile(r"\s+")

_FRONT = '<div class="front">{{Front}}</div>'
_BACK = (
    "{{FrontSide}}\n<hr id=answer>\n"
    '<div class="back">{{Back}}</div>\n'
    '{{#Takeaway}}<div class="takeaway"><mark>{{Takeaway}}</mark></div>{{/Takeaway}}\n'
    '<div class="source">{{Source}}</div>'
)
_CSS = """\
.card { font-family: system-ui, sans-serif; font-size: 18px; line-height: 1.55;
  text-align: left; max-width: 46rem; margin: 0 auto; }
.front { font-size: 1.2em; font-weight: 600; }
.takeaway { margin-top: 1em; }
mark { background: #fff3a3; color: inherit; }
.nightMode mark { background: #6b5d00; }
.source { margin-top: 1em; color: #888; font-size: .8em; }
pre, code { font-family: ui-monospace, monospace; font-size: .9em; }
pre { overflow-x: auto; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .2em .5em; }
"""


def stable_id(name: str) -> int:
    """A fixed Anki id for ``name``: the same on every machine and in every export."""
    digest = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


MODEL_ID = stable_id("interview-lab/anki-model/v1")
DECK_ID = stable_id("interview-lab/anki-deck")


def note_guid(question_id: str) -> str:
    """The note's GUID: Anki updates the note it already has with this GUID."""
    guid: str = genanki.guid_for(question_id)
    return guid


def anki_tag(kind: str, value: str) -> str:
    """``kind::value`` with white space runs as ``_`` (Anki tags cannot hold spaces)."""
    return f"{kind}::{_SPACES.sub('_', value.strip())}"


@dataclass(frozen=True)
class AnkiNote:
    """One question as an Anki note: ``fields`` in ``FIELDS`` order."""

    question_id: str
    guid: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]


def question_tags(question: Question) -> tuple[str, ...]:
    """The note's tags, without repeats, in a stable order."""
    tags: list[str] = []
    for asked in question.asked:
        for kind, value in (("company", asked.company), ("role", asked.role)):
            if value and value.strip():
                tags.append(anki_tag(kind, value))
        if asked.stage and asked.stage.strip():
            tags.append(anki_tag("stage", asked.stage))
    tags += [anki_tag("topic", link.tag.name) for link in question.tag_links]
    tags.append(anki_tag("chapter", question.chapter.slug))
    return tuple(dict.fromkeys(tags))


def note_for(question: Question) -> AnkiNote:
    fields = (
        render_inline(question.title, math="tex"),
        render_markdown(question.answer_md, math="tex"),
        render_inline(question.takeaway, math="tex") if question.takeaway else "",
        escape(f"{question.source_file}:{question.source_line}"),
        escape(question.id),
    )
    return AnkiNote(question.id, note_guid(question.id), fields, question_tags(question))


def deck_notes(*, session: Session, flt: QuestionFilter) -> list[AnkiNote]:
    """A note per active question passing ``flt``, in bank order."""
    questions = session.scalars(
        select(Question)
        .where(*question_conditions(flt))
        .options(
            joinedload(Question.chapter),
            selectinload(Question.asked),
            selectinload(Question.tag_links).joinedload(QuestionTag.tag),
        )
        .order_by(Question.source_file, Question.position)
    )
    return [note_for(q) for q in questions]


def _model() -> genanki.Model:
    return genanki.Model(
        MODEL_ID,
        MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Recall", "qfmt": _FRONT, "afmt": _BACK}],
        css=_CSS,
    )


def write_apkg(notes: Iterable[AnkiNote], *, now: dt.datetime) -> bytes:
    """The ``.apkg`` file's bytes; ``now`` stamps the notes (see the module docstring)."""
    model = _model()
    deck = genanki.Deck(DECK_ID, DECK_NAME, description="Exported from Interview Lab.")
    for note in notes:
        deck.add_note(
            genanki.Note(
                model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid
            )
        )
    out = io.BytesIO()
    genanki.Package(deck).write_to_file(out, timestamp=now.timestamp())
    return out.getvalue()


def export_anki(*, session: Session, flt: QuestionFilter, now: dt.datetime) -> tuple[bytes, int]:
    """The deck for ``flt`` as ``.apkg`` bytes and its note count; a filter that matches
    no question is refused (an empty deck helps nobody)."""
    notes = deck_notes(session=session, flt=flt)
    if not notes:
        raise Unprocessable("no question matches these filters; widen them", field="filter")
    return write_apkg(notes, now=now), len(notes)


def apkg_filename(flt: QuestionFilter) -> str:
    return "interview-lab.apkg" if flt.is_empty() else "interview-lab-filtered.apkg"
