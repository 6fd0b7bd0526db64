"""The web's Anki download: one file per deck version, built once, then streamed.

A deck's version is a sha256 over this code (the export's modules and genanki's version),
the filter, and every matching question's id, content hash and chapter, plus the tag and
chapter names: the same bank and filter give the same file, any change a new one. Files
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
from app.models import Chapter, Question, Tag

__all__ = ["CACHE_KEEP", "cache_dir", "deck_version", "open_deck"]

CACHE_KEEP = 8
_SOURCES = ("export/anki.py", "export/anki_links.py", "export/anki_cache.py", "content/render.py")


def cache_dir(data_dir: Path) -> Path:
    return data_dir / "cache" / "anki"


@cache
def _code_version() -> str:
    digest = hashlib.sha256(f"genanki=={metadata.version('genanki')}".encode())
    app_dir = Path(__file__).resolve().parent.parent
    for name in _SOURCES:
        digest.update((app_dir / name).read_bytes())
    return digest.hexdigest()


def deck_version(*, session: Session, flt: QuestionFilter) -> tuple[str, list[str]]:
    """The version of the deck for ``flt`` (module docstring) and its question ids in
    bank order."""
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
    return digest.hexdigest(), ids


def _prune(folder: Path, *, keep: Path) -> None:
    decks = sorted(folder.glob("deck-*.apkg"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in decks if p != keep][CACHE_KEEP - 1 :]:
        old.unlink(missing_ok=True)


def open_deck(
    *, session: Session, flt: QuestionFilter, folder: Path, now: dt.datetime
) -> tuple[BinaryIO, int]:
    """The deck for ``flt``, open for reading (built first unless this version is
    cached), and its note count. A filter that matches nothing is refused."""
    version, ids = deck_version(session=session, flt=flt)
    if not ids:
        raise Unprocessable("no question matches these filters; widen them", field="filter")
    path = folder / f"deck-{version}.apkg"
    while True:
        if not path.exists():
            anki.write_apkg_file(anki.iter_notes(session=session, ids=ids), path=path, now=now)
            _prune(folder, keep=path)
        try:
            return path.open("rb"), len(ids)
        except FileNotFoundError:  # pruned by another download in between: build again
            continue
