"""Read-side services over the question bank (keyword-only, they own the SQL)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Chapter, Question


@dataclass(frozen=True)
class ChapterSummary:
    slug: str
    title: str
    description: str | None
    questions: int


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
