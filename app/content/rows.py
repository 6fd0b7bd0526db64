"""The database rows of parsed questions: the question row itself (with its search
text), its companies and tag links, and the tags. ``app.content.importer`` decides which
questions are written; this module builds and writes their rows."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from app.content.model import ParsedFile, ParsedQuestion
from app.content.tags import display_name, fold, tag_key
from app.models import Asked, Base, Question, QuestionTag, Tag

__all__ = [
    "ensure_tags",
    "insert_details",
    "insert_rows",
    "precompute",
    "question_row",
    "refresh_tag_names",
    "search_text",
    "tag_names",
]


def tag_names(
    questions: Iterable[ParsedQuestion], kept: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Tag key -> display name (the most frequent spelling)."""
    spellings: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        for t in q.tags:
            spellings[tag_key(t, kept)].append(t)
    return {key: display_name(values) for key, values in spellings.items()}


_MARKUP = re.compile(r"\*\*|__|`|<[^>]{1,40}>")


def search_text(q: ParsedQuestion) -> str:
    """What substring search looks in: title, answer text, tags, companies (folded);
    kept on the question once built (``precompute``)."""
    if q.cached_search is not None:
        return q.cached_search
    companies = " ".join(a.company for a in q.asked if a.company)
    answer = _MARKUP.sub("", q.answer_md)
    return fold("\n".join([q.title, answer, " ".join(q.tags), companies]))


def precompute(parsed: ParsedFile) -> ParsedFile:
    """Build each question's content hash and search text where the file is parsed (a
    worker process, when parsing is spread), not in the process that writes: they are
    most of the writer's own time. The tag aliases, applied later, clear them on the
    questions whose tags they rewrite."""
    for q in parsed.questions:
        q.content_hash()
        q.cached_search = search_text(q)
    return parsed


def question_row(
    q: ParsedQuestion, chapter_id: int, source_file: str, content_hash: str, now: dt.datetime
) -> dict[str, Any]:
    """The ``questions`` row of ``q`` (``created_at`` is added for a new one)."""
    return {
        "id": q.id,
        "chapter_id": chapter_id,
        "section": q.section,
        "title": q.title,
        "answer_md": q.answer_md,
        "title_html": q.title_html,
        "answer_html": q.answer_html,
        "takeaway_html": q.takeaway_html,
        "search_text": search_text(q),
        "takeaway": q.takeaway,
        "key_terms": q.key_terms,
        "reference_links": q.reference_links,
        "source_file": source_file,
        "source_line": q.line,
        "position": q.position,
        "content_hash": content_hash,
        "archived_at": None,
        "updated_at": now,
    }


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One Core ``executemany``. The ORM's bulk insert leaves ``None`` values out, so it
    splits the rows into a statement per run of rows with the same keys present (811
    statements for 2,000 questions); the columns here have no defaults a ``None`` would
    have picked up."""
    table = model.__table__
    assert isinstance(table, Table)
    session.connection().execute(insert(table), rows)


def ensure_tags(
    session: Session, questions: Sequence[ParsedQuestion], kept: frozenset[str] = frozenset()
) -> dict[str, int]:
    """Tag key -> tag id, creating the tags not yet in the database."""
    ids = dict(session.execute(select(Tag.key, Tag.id)).all())
    names = tag_names(questions, kept)
    missing = [{"key": k, "name": n} for k, n in names.items() if k not in ids]
    if missing:
        insert_rows(session, Tag, missing)
        ids = dict(session.execute(select(Tag.key, Tag.id)).all())
    return ids


def insert_details(
    session: Session,
    questions: Sequence[ParsedQuestion],
    tag_ids: dict[str, int],
    company_names: Mapping[str, str],
    kept: frozenset[str] = frozenset(),
) -> None:
    asked_rows = [
        {
            "question_id": q.id,
            "position": i,
            "company": company_names.get(a.company, a.company) if a.company else a.company,
            "role": a.role,
            "stage": a.stage,
            "date": a.date,
        }
        for q in questions
        for i, a in enumerate(q.asked)
    ]
    tag_rows = [
        {"question_id": q.id, "tag_id": tag_ids[tag_key(t, kept)], "spelling": t, "position": i}
        for q in questions
        for i, t in enumerate(q.tags)
    ]
    if asked_rows:
        insert_rows(session, Asked, asked_rows)
    if tag_rows:
        insert_rows(session, QuestionTag, tag_rows)


def refresh_tag_names(session: Session) -> None:
    """Name each tag by its most frequent spelling over the active questions; drop tags
    no question carries."""
    spellings: dict[int, list[str]] = defaultdict(list)
    rows = session.connection().execute(
        select(QuestionTag.tag_id, QuestionTag.spelling)
        .join(Question, Question.id == QuestionTag.question_id)
        .where(Question.archived_at.is_(None))
        .order_by(Question.source_file, Question.position, QuestionTag.position)
    )
    for tag_id, spelling in rows:
        spellings[tag_id].append(spelling)
    current = dict(session.execute(select(Tag.id, Tag.name)).all())
    renames = [
        {"id": tid, "name": display_name(values)}
        for tid, values in spellings.items()
        if current.get(tid) != display_name(values)
    ]
    if renames:
        session.execute(update(Tag), renames)
    linked = select(QuestionTag.tag_id).distinct()
    session.execute(delete(Tag).where(Tag.id.not_in(linked)))
