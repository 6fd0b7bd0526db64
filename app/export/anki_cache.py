"""The web's Anki download: one file per deck version, built once, then streamed.

A deck's version is a sha256 over this code (the export's modules and genanki's version),
the filter, and every matching question's id, content hash and chapter, plus the tag and
chapter names, and the exporting user's notes on those questions (``app.export.anki``:
their texts, and the language of their labels): the same bank, filter and notes give
the same file, any change a new one; a user with no notes shares the bank's file. Files
live in ``<data_dir>/cache/anki/``; the newest ``CACHE_KEEP`` are kept. A download opens
its file before answering, so pruning (or another process replacing it) never cuts a
transfer short.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.content.filters import QuestionFilter, question_conditions
from app.errors import Unprocessable
from app.export import anki
from app.i18n import current_language
from app.models import Chapter, Question, QuestionNote, Tag, User

__all__ = ["CACHE_KEEP", "cache_dir", "deck_version", "open_deck"]

CACHE_KEEP = 8
_SOURCES = (
    "export/anki.py",
    "export/anki_links.py",
    "export/anki_cache.py",
    "content/render.py",
    "study/notes.py",
)


def cache_dir(data_dir: Path) -> Path:
    return data_dir / "cache" / "anki"


@cache
def _code_version() -> str:
    digest = hashlib.sha256(f"genanki=={metadata.version('genanki')}".encode())
    app_dir = Path(__file__).resolve().parent.parent
    for name in _SOURCES:
        digest.update((app_dir / name).read_bytes())
    return digest.hexdigest()


def deck_version(
    *, session: Session, flt: QuestionFilter, user: User | None = None
) -> tuple[str, list[str]]:
    """The version of the deck for ``flt`` (and ``user``'s notes: module docstring) and
    its question ids in bank order."""
    digest = hashlib.sha256(_code_version().encode())
    digest.update(repr(flt).encode())
    ids: list[str] = []
    rows = session.execute(
        select(Question.id, Question.content_hash, Question.chapter_id)
        .where(*question_conditions(flt))
        .order_by(Question.source_file, Question.position)
    )
    for question_id, content_hash, chapter_id in rows:
        ids.append(question_id)
        digest.update(f"\n{question_id}\t{content_hash}\t{chapter_id}".encode())
    for names in (
        session.execute(select(Tag.id, Tag.name).order_by(Tag.id)),
        session.execute(select(Chapter.id, Chapter.slug).order_by(Chapter.id)),
    ):
        for key, name in names:
            digest.update(f"\n{key}\t{name}".encode())
    if user is not None:
        _digest_notes(digest, session, user, set(ids))
    return digest.hexdigest(), ids


def _digest_notes(digest: hashlib._Hash, session: Session, user: User, ids: set[str]) -> None:
    rows = session.execute(
        select(
            QuestionNote.question_id,
            QuestionNote.note_md,
            QuestionNote.answer_md,
            QuestionNote.takeaway_md,
        )
        .where(QuestionNote.user_id == user.id)
        .order_by(QuestionNote.question_id)
    )
    texts = [row for row in rows if row[0] in ids]
    if texts:
        digest.update(f"\nnotes\t{current_language()}".encode())
    for row in texts:
        digest.update(repr(tuple(row)).encode())


def _prune(folder: Path, *, keep: Path) -> None:
    decks = sorted(folder.glob("deck-*.apkg"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in decks if p != keep][CACHE_KEEP - 1 :]:
        old.unlink(missing_ok=True)


def open_deck(
    *,
    session: Session,
    flt: QuestionFilter,
    folder: Path,
    now: dt.datetime,
    user: User | None = None,
) -> tuple[BinaryIO, int]:
    """The deck for ``flt`` (with ``user``'s notes), open for reading (built first unless
    this version is cached), and its note count. A filter that matches nothing is refused."""
    version, ids = deck_version(session=session, flt=flt, user=user)
    if not ids:
        raise Unprocessable("no question matches these filters; widen them", field="filter")
    path = folder / f"deck-{version}.apkg"
    while True:
        if not path.exists():
            notes = anki.iter_notes(session=session, ids=ids, user=user)
            anki.write_apkg_file(notes, path=path, now=now)
            _prune(folder, keep=path)
        try:
            return path.open("rb"), len(ids)
        except FileNotFoundError:  # pruned by another download in between: build again
            continue
