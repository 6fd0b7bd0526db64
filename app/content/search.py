"""The browse search's condition: every word a substring of ``questions.search_text``.

Both sides are folded (``app.content.tags.fold``), so a substring of the folded text is
the definition, and ``LIKE '%word%'`` states it. On SQLite a word of three characters or
more is looked up in ``questions_fts`` instead (migration 0018: FTS5, ``trigram``
tokenizer, kept in step with ``questions`` by triggers, or by the importer itself in
one statement: ``app.content.bulk``, 0020): a phrase of trigrams matches
exactly the texts that contain the word, without reading every answer. Shorter words
(``秩``, ``低秩``; trigrams need three characters) keep ``LIKE``. On PostgreSQL the
``LIKE`` stays and a pg_trgm GIN index (0018) serves it.

The condition is one SQL element compiled per dialect, so callers (browse, review
queues, quizzes, exports) build the same statement on either database and SQLAlchemy's
statement cache keeps the words as bound parameters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    bindparam,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal

from app.models import Question

TRIGRAM = 3  # the shortest word the trigram index can look up


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fts_query(words: list[str]) -> str:
    """An FTS5 query that needs each word as a phrase (a run of adjacent trigrams)."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


class ContainsWords(ColumnElement[bool]):
    """``search_text`` contains every word (folded, non-empty, no spaces)."""

    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it stands: no "= 1" after it
    inherit_cache = True
    _traverse_internals = [
        ("needles", InternalTraversal.dp_clauseelement_list),
        ("long_needles", InternalTraversal.dp_clauseelement_list),
        ("phrase", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, words: list[str]) -> None:
        long_words = [w for w in words if len(w) >= TRIGRAM]
        short_words = [w for w in words if len(w) < TRIGRAM]
        # Cache key: the number of words of each kind (their values are parameters).
        self.needles = [_needle(w) for w in short_words]
        self.long_needles = [_needle(w) for w in long_words]
        self.phrase: BindParameter[str] | None = (
            bindparam(None, fts_query(long_words)) if long_words else None
        )


def _needle(word: str) -> BindParameter[str]:
    return bindparam(None, f"%{escape_like(word)}%")


def _like(needle: BindParameter[str]) -> ColumnElement[bool]:
    return Question.search_text.like(needle, escape="\\")


@compiles(ContainsWords)
def _compile_like(element: ContainsWords, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(and_(*map(_like, element.needles + element.long_needles)), **kw)


@compiles(ContainsWords, "sqlite")
def _compile_sqlite(element: ContainsWords, compiler: SQLCompiler, **kw: Any) -> str:
    conditions = [_like(n) for n in element.needles]
    if element.phrase is not None:
        fts = table("questions_fts")
        matched: Select[tuple[Any]] = (
            select(literal_column("questions_fts.rowid"))
            .select_from(fts)
            .where(literal_column("questions_fts").op("MATCH")(element.phrase))
        )
        # ``+``: the matches are a set to probe, not the rows to start from. A word found
        # in most of the bank (``lora``: 9,494 of 10,000) would otherwise have SQLite look
        # up and sort every match to show one page; probing while it walks an index in
        # bank order (or the active ids for a count) costs little for few matches too.
        conditions.append(literal_column("+questions.rowid").in_(matched))
    return compiler.process(and_(*conditions), **kw)


def contains_words(words: list[str]) -> ColumnElement[bool]:
    """The condition that ``questions.search_text`` contains each of ``words``."""
    return ContainsWords(words)
