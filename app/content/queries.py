"""Read-side services over the question bank (keyword-only; they own the SQL)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.content.filters import FACETS, QuestionFilter, filtered_ids
from app.errors import NotFound
from app.models import Asked, Chapter, Question, QuestionTag, Tag


@dataclass(frozen=True)
class ChapterSummary:
    slug: str
    title: str
    description: str | None
    questions: int


@dataclass(frozen=True)
class AskedPublic:
    company: str | None
    role: str | None
    stage: str | None
    date: dt.date | None


@dataclass
class QuestionSummary:
    id: str
    title: str
    title_html: str
    chapter_slug: str
    chapter_title: str
    section: str | None
    asked: list[AskedPublic] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class QuestionDetail(QuestionSummary):
    answer_md: str = ""
    answer_html: str = ""
    takeaway: str | None = None
    takeaway_html: str | None = None
    key_terms: list[str] = field(default_factory=list)
    reference_links: list[str] = field(default_factory=list)
    source_file: str = ""
    source_line: int = 0
    archived: bool = False


def chapter_summaries(*, session: Session) -> list[ChapterSummary]:
    """Active chapters with their count of active questions, in file order."""
    count = func.count(Question.id)
    rows = session.execute(
        select(Chapter.slug, Chapter.title, Chapter.description, count)
        .join(Question, (Question.chapter_id == Chapter.id) & Question.archived_at.is_(None))
        .where(Chapter.archived_at.is_(None))
        .group_by(Chapter.id)
        .order_by(Chapter.source_file)
    )
    return [ChapterSummary(*row) for row in rows]


def facet_values(
    *, session: Session, chapters: list[ChapterSummary] | None = None
) -> dict[str, list[tuple[str, int]]]:
    """Each facet's values with their count of active questions, most frequent first
    (``chapters``: the chapter summaries, when the caller already has them)."""
    active = select(Question.id).where(Question.archived_at.is_(None))
    result: dict[str, list[tuple[str, int]]] = {}
    for name, column in (("company", Asked.company), ("role", Asked.role), ("stage", Asked.stage)):
        n = func.count(func.distinct(Asked.question_id))
        rows = session.execute(
            select(column, n)
            .where(column.is_not(None), Asked.question_id.in_(active))
            .group_by(column)
            .order_by(n.desc(), column)
        )
        result[name] = [(str(v), int(c)) for v, c in rows]
    n = func.count(QuestionTag.question_id)
    rows = session.execute(
        select(Tag.name, n)
        .join(QuestionTag, QuestionTag.tag_id == Tag.id)
        .where(QuestionTag.question_id.in_(active))
        .group_by(Tag.id, Tag.name)
        .order_by(n.desc(), Tag.name)
    )
    result["tag"] = [(str(v), int(c)) for v, c in rows]
    if chapters is None:
        chapters = chapter_summaries(session=session)
    result["chapter"] = [(c.slug, c.questions) for c in chapters]
    assert set(result) == set(FACETS)
    return result


def _details(
    session: Session, ids: list[str]
) -> tuple[dict[str, list[AskedPublic]], dict[str, list[str]]]:
    asked: dict[str, list[AskedPublic]] = defaultdict(list)
    tags: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return asked, tags
    for row in session.execute(
        select(Asked.question_id, Asked.company, Asked.role, Asked.stage, Asked.date)
        .where(Asked.question_id.in_(ids))
        .order_by(Asked.question_id, Asked.position)
    ):
        asked[row[0]].append(AskedPublic(*row[1:]))
    for qid, name in session.execute(
        select(QuestionTag.question_id, Tag.name)
        .join(Tag, Tag.id == QuestionTag.tag_id)
        .where(QuestionTag.question_id.in_(ids))
        .order_by(QuestionTag.question_id, QuestionTag.position)
    ):
        tags[qid].append(name)
    return asked, tags


def list_questions(
    *, session: Session, flt: QuestionFilter, limit: int = 50, offset: int = 0
) -> tuple[int, list[QuestionSummary]]:
    """The active questions passing ``flt`` in bank order, one page, and their total."""
    ids = filtered_ids(flt).subquery()
    total = session.scalar(select(func.count()).select_from(ids)) or 0
    rows = session.execute(
        select(
            Question.id,
            Question.title,
            Question.title_html,
            Chapter.slug,
            Chapter.title,
            Question.section,
        )
        .join(Chapter, Chapter.id == Question.chapter_id)
        .where(Question.id.in_(select(ids.c.id)))
        .order_by(Chapter.source_file, Question.position)
        .limit(limit)
        .offset(offset)
    ).all()
    asked, tags = _details(session, [r[0] for r in rows])
    return total, [QuestionSummary(*r, asked=asked[r[0]], tags=tags[r[0]]) for r in rows]


def get_question(*, session: Session, question_id: str) -> QuestionDetail:
    """One question (archived ones too: old links and review history still resolve)."""
    q = session.get(Question, question_id)
    if q is None:
        raise NotFound(f"question {question_id!r} does not exist")
    chapter = session.get(Chapter, q.chapter_id)
    assert chapter is not None
    asked, tags = _details(session, [q.id])
    return QuestionDetail(
        id=q.id,
        title=q.title,
        title_html=q.title_html,
        chapter_slug=chapter.slug,
        chapter_title=chapter.title,
        section=q.section,
        asked=asked[q.id],
        tags=tags[q.id],
        answer_md=q.answer_md,
        answer_html=q.answer_html,
        takeaway=q.takeaway,
        takeaway_html=q.takeaway_html,
        key_terms=list(q.key_terms),
        reference_links=list(q.reference_links),
        source_file=q.source_file,
        source_line=q.source_line,
        archived=q.archived_at is not None,
    )
