"""Quiz tests. ``seed_questions`` turns the seed file into the builder's input."""

from __future__ import annotations

from app.content.parser import parse_text
from app.content.tags import tag_key
from app.quiz.build import QuizQuestion
from tests.conftest import SEED


def seed_questions() -> list[QuizQuestion]:
    """The seed's ten questions as the service would pass them (one chapter)."""
    parsed = parse_text(SEED.read_text(encoding="utf-8"), path="llm-sft.md")
    return [
        QuizQuestion(
            id=q.id,
            title=q.title,
            chapter_id=1,
            tags=tuple(dict.fromkeys(tag_key(t) for t in q.tags)),
            takeaway=q.takeaway,
            key_terms=tuple(q.key_terms),
        )
        for q in parsed.questions
    ]
