"""The filter choices (each facet's values with their counts, the chapters) kept while the
bank does not change.

They depend only on the bank and the filter, never on the reader, and a bank changes
only on an import, a re-import, an archive or a source's removal. Migration 0018 keeps
``bank_version``: one number that any write to the bank's tables raises in the writer's
own transaction (an import raises it once, ``app.content.bulk``). A page reads it (one
row) and reuses the choices computed under the same number; a new number drops them
all. The number is read before the choices are computed, so what is kept under it is
never older than it. ``kept_for_version`` keeps any other bank-only value the same way
(the coverage matrices' question sets).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.content.filters import QuestionFilter
from app.content.queries import ChapterSummary, chapter_summaries, facet_values

T = TypeVar("T")
KEPT = 128  # filters kept per database (least recently used dropped first)


@dataclass(frozen=True)
class Choices:
    chapters: list[ChapterSummary]
    facets: dict[str, list[tuple[str, int]]]


@dataclass
class _Kept:
    version: int = -1
    choices: OrderedDict[QuestionFilter, Choices] = field(default_factory=OrderedDict)
    # kept_for_version's values by key, dropped with the choices.
    values: dict[str, object] = field(default_factory=dict)


_KEPT: weakref.WeakKeyDictionary[Engine, _Kept] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def bank_version(session: Session) -> int:
    return int(session.scalar(text("SELECT version FROM bank_version WHERE id = 1")) or 0)


def _kept(engine: Engine, version: int) -> _Kept:
    """What is kept for ``engine``, emptied if ``version`` is newer (under ``_LOCK``)."""
    kept = _KEPT.setdefault(engine, _Kept())
    if version > kept.version:
        kept.version, kept.choices, kept.values = version, OrderedDict(), {}
    return kept


def filter_choices_data(session: Session, flt: QuestionFilter) -> Choices:
    """The chapters and ``flt``'s facet counts, computed once per bank version."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    version = bank_version(session)
    with _LOCK:  # pages run in a thread pool
        kept = _kept(engine, version)
        found = kept.choices.get(flt) if version == kept.version else None
        if found is not None:
            kept.choices.move_to_end(flt)
            return found
    chapters = chapter_summaries(session=session)
    choices = Choices(chapters, facet_values(session=session, flt=flt, chapters=chapters))
    with _LOCK:
        if kept.version == version:
            kept.choices[flt] = choices
            if len(kept.choices) > KEPT:
                kept.choices.popitem(last=False)
    return choices


def kept_for_version(session: Session, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` (a value that depends on the bank alone) computed once per bank
    version, under ``key`` (one key, one type); same lock and version as the choices."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    version = bank_version(session)
    with _LOCK:
        kept = _kept(engine, version)
        if version == kept.version and key in kept.values:
            return cast(T, kept.values[key])
    value = compute()
    with _LOCK:
        if kept.version == version:
            kept.values[key] = value
    return value
