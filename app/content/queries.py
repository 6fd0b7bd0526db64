"""Read-side services over the question bank (keyword-only; they own the SQL)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import (
    BindParameter,
    Result,
    bindparam,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from app.content.filters import FACETS, QuestionFilter, filtered_ids, question_conditions
from app.content.snippets import snippet
from app.content.tags import filter_keys
from app.errors import NotFound
from app.i18n import mark as N_
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
    # Browse with a search: the answer around the first match, the matches marked.
    snippet_html: Markup | None = None


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
    *,
    session: Session,
    flt: QuestionFilter | None = None,
    chapters: list[ChapterSummary] | None = None,
) -> dict[str, list[tuple[str, int]]]:
    """Each facet's values with their count of active questions, most frequent first.

    Counts follow the other filters: with ``flt`` selecting 阿里, the topic facet counts
    阿里's questions per topic. A facet's own values are counted without that facet (so
    the alternatives to 阿里 still show what they would add). Values with no question
    left are dropped, except the ones selected. ``chapters``: the chapter summaries, when
    the caller already has them (used for the chapters' order)."""
    flt = flt or QuestionFilter()
    result: dict[str, list[tuple[str, int]]] = {}
    for name, column in (("company", Asked.company), ("role", Asked.role), ("stage", Asked.stage)):
        n = func.count(func.distinct(Asked.question_id))
        rows = session.execute(
            select(column, n)
            .where(column.is_not(None), Asked.question_id.in_(filtered_ids(flt.cleared(name))))
            .group_by(column)
            .order_by(n.desc(), column)
        )
        result[name] = _with_selected([(str(v), int(c)) for v, c in rows], getattr(flt, name))
    n = func.count(QuestionTag.question_id)
    tag_rows = session.execute(
        select(Tag.name, Tag.key, n)
        .join(QuestionTag, QuestionTag.tag_id == Tag.id)
        .where(QuestionTag.question_id.in_(filtered_ids(flt.cleared("tag"))))
        .group_by(Tag.id, Tag.name, Tag.key)
        .order_by(n.desc(), Tag.name)
    )
    tags: list[tuple[str, int]] = []
    chosen = {t: filter_keys(t) for t in flt.tag}
    for tag_name, key, count in tag_rows:
        tags.append((str(tag_name), int(count)))
        # Selected under another spelling: already listed.
        chosen = {t: keys for t, keys in chosen.items() if str(key) not in keys}
    result["tag"] = tags + [(t, 0) for t in chosen]
    if chapters is None:
        chapters = chapter_summaries(session=session)
    per_chapter: dict[str, int] = dict(
        session.execute(
            select(Chapter.slug, func.count(Question.id))
            .join(Question, Question.chapter_id == Chapter.id)
            .where(*question_conditions(flt.cleared("chapter")))
            .group_by(Chapter.slug)
        ).all()
    )
    result["chapter"] = [
        (c.slug, int(per_chapter.get(c.slug, 0)))
        for c in chapters
        if per_chapter.get(c.slug) or c.slug in flt.chapter
    ]
    assert set(result) == set(FACETS)
    return result


def _with_selected(rows: list[tuple[str, int]], selected: tuple[str, ...]) -> list[tuple[str, int]]:
    """``rows`` plus the selected values that no longer match anything (count 0)."""
    listed = {value for value, _ in rows}
    return rows + [(v, 0) for v in selected if v not in listed]


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
    """The active questions passing ``flt`` in bank order, one page, and their total;
    with a search, each carries a snippet of its answer around the match."""
    total = session.scalar(select(func.count()).select_from(filtered_ids(flt).subquery())) or 0
    rows = session.execute(
        select(
            Question.id,
            Question.title,
            Question.title_html,
            Chapter.slug,
            Chapter.title,
            Question.section,
            Question.answer_md,
        )
        .join(Chapter, Chapter.id == Question.chapter_id)
        # The conditions on the joined rows themselves (not ``id IN (...)``): unfiltered,
        # SQLite walks the chapters in file order by index and stops after the page.
        .where(*question_conditions(flt))
        .order_by(Chapter.source_file, Question.position)
        .limit(limit)
        .offset(offset)
    ).all()
    asked, tags = _details(session, [r[0] for r in rows])
    words = flt.words()
    return total, [
        QuestionSummary(
            *r[:6],
            asked=asked[r[0]],
            tags=tags[r[0]],
            snippet_html=snippet(r[6], words) if words else None,
        )
        for r in rows
    ]


_QUESTION_ID: BindParameter[str] = bindparam("question_id")
# get_question's two statements, built once (building one costs more than running it).
_QUESTION = (
    select(
        Question.title,
        Question.title_html,
        Chapter.slug,
        Chapter.title,
        Question.section,
        Question.answer_md,
        Question.answer_html,
        Question.takeaway,
        Question.takeaway_html,
        Question.key_terms,
        Question.reference_links,
        Question.source_file,
        Question.source_line,
        Question.archived_at,
    )
    .join(Chapter, Chapter.id == Question.chapter_id)
    .where(Question.id == _QUESTION_ID)
)
# Asked records (kind 0) and tag names (kind 1), each in its own order.
_ASKED_AND_TAGS: Executable = union_all(
    select(
        literal(0).label("kind"),
        Asked.position,
        Asked.company,
        Asked.role,
        Asked.stage,
        Asked.date,
    ).where(Asked.question_id == _QUESTION_ID),
    select(literal(1), QuestionTag.position, Tag.name, null(), null(), null())
    .join(Tag, Tag.id == QuestionTag.tag_id)
    .where(QuestionTag.question_id == _QUESTION_ID),
).order_by("kind", "position")


def get_question(*, session: Session, question_id: str) -> QuestionDetail:
    """One question (archived ones too: old links and review history still resolve), in
    two statements: the question with its chapter, then its asked records and tags
    together (the review loop reads one per card)."""
    params = {"question_id": question_id}
    row = session.execute(_QUESTION, params).first()
    if row is None:
        raise NotFound(N_("question %(id)r does not exist"), id=question_id)
    asked: list[AskedPublic] = []
    tags: list[str] = []
    parts: Result[int, int, str | None, str | None, str | None, dt.date | None]
    parts = session.execute(_ASKED_AND_TAGS, params)
    for part in parts:
        kind, _position, name, role, stage, date = part
        if kind == 0:
            asked.append(AskedPublic(name, role, stage, date))
        elif name is not None:
            tags.append(name)
    (title, title_html, slug, chapter_title, section, answer_md, answer_html) = row[:7]
    return QuestionDetail(
        id=question_id,
        title=title,
        title_html=title_html,
        chapter_slug=slug,
        chapter_title=chapter_title,
        section=section,
        asked=asked,
        tags=tags,
        answer_md=answer_md,
        answer_html=answer_html,
        takeaway=row.takeaway,
        takeaway_html=row.takeaway_html,
        key_terms=list(row.key_terms),
        reference_links=list(row.reference_links),
        source_file=row.source_file,
        source_line=row.source_line,
        archived=row.archived_at is not None,
    )
