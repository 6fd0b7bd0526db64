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

**Your notes** (``app.study.notes``), when the export is for a user: a note is added to
the Back under the answer; your own answer takes the bank's place in Back, with the
bank's folded under it (``<details>``), and your own takeaway takes the Takeaway field's.
The fields and the note type stay as they were, so a deck imported before updates in
place. The labels are in the exporting request's language.

**Tags**: ``company::X``, ``role::R``, ``stage::Y``, ``topic::Z`` and ``chapter::slug``
(Anki shows ``::`` as a tag tree). Anki tags cannot hold spaces: each run of white space
becomes ``_`` ("Prompt Tuning" -> ``topic::Prompt_Tuning``).

The deck holds the active questions that pass a ``QuestionFilter`` (all by default);
archived questions are left out. TeX links with unsafe targets (``\\href{javascript:..}``)
are stripped from every field (``app.export.anki_links``).

**Cost**: notes are rendered a chunk of questions at a time and written straight into
the deck's SQLite file (``_StreamedDeck``), so memory does not grow with the bank; the
web serves a cached file per bank version (``app.export.anki_cache``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.content.filters import QuestionFilter, question_conditions
from app.content.render import render_inline, render_markdown
from app.errors import Unprocessable
from app.export.anki_links import strip_unsafe_links
from app.i18n import gettext as _
from app.models import Question, QuestionTag, User
from app.study.notes import NoteView, notes_by_question

if TYPE_CHECKING:  # genanki (and its yaml) load only when a deck is written: start-up time
    import genanki  # type: ignore[import-untyped]

FIELDS = ("Front", "Back", "Takeaway", "Source", "QuestionId")
MODEL_NAME = "Interview Lab question (v1)"
DECK_NAME = "Interview Lab"
MEDIA_TYPE = "application/apkg"
CHUNK = 500  # questions rendered at a time
_SPACES = re.compile(r"\s+")

_FRONT = '<div class="front">{{Front}}</div>'
_BACK = (
    "{{FrontSide}}\n<hr id=answer>\n"
    # The takeaway is highlighted in the answer (Back): not repeated under it. The
    # Takeaway field stays, for searching and sorting in Anki.
    '<div class="back">{{Back}}</div>\n'
    '<div class="source">{{Source}}</div>'
)
_CSS = """\
.card { font-family: system-ui, sans-serif; font-size: 18px; line-height: 1.55;
  text-align: left; max-width: 46rem; margin: 0 auto; }
.front { font-size: 1.2em; font-weight: 600; }
.takeaway { margin-top: 1em; }
.mine-label { color: #888; font-size: .8em; }
.my-note { margin-top: 1em; padding: .2em .8em; border-left: 4px solid #0969da; }
details.bank { margin-top: 1em; }
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
    from genanki import guid_for

    guid: str = guid_for(question_id)
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


def _back(question: Question, mine: NoteView | None) -> str:
    """The answer, or the user's with the bank's folded under it; then the user's note."""
    bank = render_markdown(question.answer_md, math="tex")
    if mine is None:
        return bank
    back = bank
    if mine.answer:
        bank_label, mine_label = escape(_("The bank's answer")), escape(_("Your answer"))
        back = (
            f'<div class="mine-label">{mine_label}</div>\n'
            + render_markdown(mine.answer, math="tex")
            + f'\n<details class="bank"><summary>{bank_label}</summary>\n'
            + bank
            + "</details>"
        )
    if mine.note:
        note_label = escape(_("Your note"))
        back += (
            f'\n<div class="my-note"><div class="mine-label">{note_label}</div>\n'
            + render_markdown(mine.note, math="tex")
            + "</div>"
        )
    return back


def note_for(question: Question, mine: NoteView | None = None) -> AnkiNote:
    """The note for ``question``, with the user's texts in it when ``mine`` is given."""
    takeaway = mine.takeaway if mine is not None and mine.takeaway else question.takeaway
    fields = (
        strip_unsafe_links(render_inline(question.title, math="tex")),
        strip_unsafe_links(_back(question, mine)),
        strip_unsafe_links(render_inline(takeaway, math="tex")) if takeaway else "",
        escape(f"{question.source_file}:{question.source_line}"),
        escape(question.id),
    )
    return AnkiNote(question.id, note_guid(question.id), fields, question_tags(question))


def deck_ids(*, session: Session, flt: QuestionFilter) -> list[str]:
    """The ids of the active questions passing ``flt``, in bank order."""
    return list(
        session.scalars(
            select(Question.id)
            .where(*question_conditions(flt))
            .order_by(Question.source_file, Question.position)
        )
    )


def iter_notes(*, session: Session, ids: list[str], user: User | None = None) -> Iterator[AnkiNote]:
    """A note per question of ``ids``, in that order, loading ``CHUNK`` questions at a
    time (the session's identity map holds them weakly, so each chunk is let go); with
    ``user``, their notes and own answers in them."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        loaded = session.scalars(
            select(Question)
            .where(Question.id.in_(chunk))
            .options(
                joinedload(Question.chapter),
                selectinload(Question.asked),
                selectinload(Question.tag_links).joinedload(QuestionTag.tag),
            )
        ).all()
        by_id = {q.id: q for q in loaded}
        mine = (
            notes_by_question(session=session, user=user, question_ids=chunk)
            if user is not None
            else {}
        )
        for question_id in chunk:
            yield note_for(by_id[question_id], mine.get(question_id))
        del loaded, by_id, mine


def deck_notes(
    *, session: Session, flt: QuestionFilter, user: User | None = None
) -> list[AnkiNote]:
    """A note per active question passing ``flt``, in bank order (with ``user``'s notes)."""
    ids = deck_ids(session=session, flt=flt)
    return list(iter_notes(session=session, ids=ids, user=user))


def _model() -> genanki.Model:
    import genanki

    return genanki.Model(
        MODEL_ID,
        MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Recall", "qfmt": _FRONT, "afmt": _BACK}],
        css=_CSS,
    )


def _streamed_deck(notes: Iterable[AnkiNote], model: genanki.Model) -> genanki.Deck:
    """A deck whose notes are written to the collection as they come, in one pass:
    genanki's ``Deck.write_to_db`` (0.13) walks a list of every note twice. The class is
    made here, not at import, as genanki is imported only when a deck is written."""
    import genanki

    class StreamedDeck(genanki.Deck):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(DECK_ID, DECK_NAME, description="Exported from Interview Lab.")
            self.add_model(model)

        def write_to_db(self, cursor: sqlite3.Cursor, timestamp: float, id_gen: Any) -> None:
            (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
            decks = json.loads(decks_json)
            decks[str(self.deck_id)] = self.to_json()
            cursor.execute("UPDATE col SET decks = ?", (json.dumps(decks),))
            (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
            models = json.loads(models_json)
            models[model.model_id] = model.to_json(timestamp, self.deck_id)
            cursor.execute("UPDATE col SET models = ?", (json.dumps(models),))
            for note in notes:
                genanki.Note(
                    model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid
                ).write_to_db(cursor, timestamp, self.deck_id, id_gen)

    return StreamedDeck()


def write_apkg_file(notes: Iterable[AnkiNote], *, path: Path, now: dt.datetime) -> None:
    """Write the ``.apkg`` to ``path`` (atomically: a reader sees the whole file or
    none); ``now`` stamps the notes (module docstring). The collection is built in a
    temporary file beside ``path``, removed after (genanki's own writer leaves it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db_fd, db_name = tempfile.mkstemp(dir=path.parent, suffix=".anki2.part")
    zip_fd, zip_name = tempfile.mkstemp(dir=path.parent, suffix=".apkg.part")
    os.close(db_fd)
    os.close(zip_fd)
    try:
        from genanki.apkg_col import APKG_COL  # type: ignore[import-untyped]
        from genanki.apkg_schema import APKG_SCHEMA  # type: ignore[import-untyped]

        with sqlite3.connect(db_name) as conn:
            cursor = conn.cursor()
            cursor.executescript(APKG_SCHEMA)
            cursor.executescript(APKG_COL)
            id_gen = itertools.count(int(now.timestamp() * 1000))
            _streamed_deck(notes, _model()).write_to_db(cursor, now.timestamp(), id_gen)
        conn.close()
        with zipfile.ZipFile(zip_name, "w", zipfile.ZIP_DEFLATED) as out:
            out.write(db_name, "collection.anki2")
            out.writestr("media", "{}")
        os.replace(zip_name, path)
    finally:
        for name in (db_name, zip_name):
            Path(name).unlink(missing_ok=True)


def write_apkg(notes: Iterable[AnkiNote], *, now: dt.datetime) -> bytes:
    """The ``.apkg`` file's bytes (``write_apkg_file`` through a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="anki-") as folder:
        path = Path(folder) / "deck.apkg"
        write_apkg_file(notes, path=path, now=now)
        return path.read_bytes()


def export_anki(
    *, session: Session, flt: QuestionFilter, now: dt.datetime, user: User | None = None
) -> tuple[bytes, int]:
    """The deck for ``flt`` (with ``user``'s notes) as ``.apkg`` bytes and its note count;
    a filter that matches no question is refused (an empty deck helps nobody)."""
    ids = deck_ids(session=session, flt=flt)
    if not ids:
        raise Unprocessable("no question matches these filters; widen them", field="filter")
    return write_apkg(iter_notes(session=session, ids=ids, user=user), now=now), len(ids)


def apkg_filename(flt: QuestionFilter) -> str:
    return "interview-lab.apkg" if flt.is_empty() else "interview-lab-filtered.apkg"
