"""The question filter shared by browsing, review and quizzes.

Values within one facet are alternatives (company 阿里 or 美团); facets combine (阿里 and
LoRA). Company, role and stage must hold for the same asked record, so "阿里 一面" means
a question 阿里 asked in a first round. ``q`` is a substring search over the title, the
answer, tags and companies that is case- and width-insensitive and works for Chinese;
words separated by spaces must all occur, in any order (``低秩 分解``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from app.content.search import contains_words
from app.content.tags import filter_keys, fold
from app.models import Asked, Chapter, Question, QuestionTag, Tag

FACETS = ("company", "role", "stage", "tag", "chapter")


@dataclass(frozen=True)
class QuestionFilter:
    company: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    stage: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    chapter: tuple[str, ...] = ()
    q: str = ""
    # Internal: restrict to these ids (used by quizzes and coverage cells later).
    ids: tuple[str, ...] = field(default=(), compare=True)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> QuestionFilter:
        """Build from a query-string mapping (``company=阿里&tag=LoRA&tag=PEFT``)."""

        def values(name: str) -> tuple[str, ...]:
            raw = params.get(name) or ()
            items = [raw] if isinstance(raw, str) else list(raw)
            return tuple(dict.fromkeys(v.strip() for v in items if v and v.strip()))

        return cls(
            company=values("company"),
            role=values("role"),
            stage=values("stage"),
            tag=values("tag"),
            chapter=values("chapter"),
            q=str(params.get("q") or "").strip(),
        )

    def words(self) -> list[str]:
        """The search's words, folded, once each: each one must occur (AND)."""
        return list(dict.fromkeys(fold(self.q).split()))

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def chips(self) -> list[tuple[str, str]]:
        """(facet, value) pairs, in facet order, for removable chips."""
        return [(name, v) for name in FACETS for v in getattr(self, name)] + (
            [("q", self.q)] if self.q else []
        )

    def cleared(self, facet: str) -> QuestionFilter:
        """This filter without any value of ``facet`` (what that facet's counts follow)."""
        return QuestionFilter(**{**self._dict(), facet: "" if facet == "q" else ()})

    def without(self, facet: str, value: str) -> QuestionFilter:
        """This filter with one chip removed."""
        if facet == "q":
            return QuestionFilter(**{**self._dict(), "q": ""})
        kept = tuple(v for v in getattr(self, facet) if v != value)
        return QuestionFilter(**{**self._dict(), facet: kept})

    def _dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def question_conditions(flt: QuestionFilter) -> list[ColumnElement[bool]]:
    """Conditions on ``Question`` for the active questions that pass ``flt``; callers
    that join ``Question`` apply them directly (cheaper than ``IN (SELECT ...)``)."""
    conditions: list[ColumnElement[bool]] = [Question.archived_at.is_(None)]
    if flt.company or flt.role or flt.stage:
        asked = select(Asked.question_id)
        if flt.company:
            asked = asked.where(Asked.company.in_(flt.company))
        if flt.role:
            asked = asked.where(Asked.role.in_(flt.role))
        if flt.stage:
            asked = asked.where(Asked.stage.in_(flt.stage))
        conditions.append(Question.id.in_(asked))
    if flt.tag:
        keys = [k for t in flt.tag for k in filter_keys(t)]
        tagged = (
            select(QuestionTag.question_id)
            .join(Tag, Tag.id == QuestionTag.tag_id)
            .where(Tag.key.in_(keys))
        )
        conditions.append(Question.id.in_(tagged))
    if flt.chapter:
        chapters = select(Chapter.id).where(Chapter.slug.in_(flt.chapter))
        conditions.append(Question.chapter_id.in_(chapters))
    if words := flt.words():
        conditions.append(contains_words(words))
    if flt.ids:
        conditions.append(Question.id.in_(flt.ids))
    return conditions


def filtered_ids(flt: QuestionFilter) -> Select[str]:
    """``SELECT questions.id`` of the active questions that pass ``flt``."""
    return select(Question.id).where(*question_conditions(flt))
