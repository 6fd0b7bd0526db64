"""Related demos and questions: a question's demos come from its claims and from the
demos' topics matching its tags (so an imported bank without claims gets them too); a
demo's questions come the same two ways, and its claims are those it checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.claims.evidence import claim_checks
from app.claims.service import ClaimView, claim_views
from app.demos import registry
from app.demos.base import Demo
from app.models import Claim, Question, QuestionTag, Tag


@dataclass(frozen=True)
class RelatedDemo:
    name: str
    title: str  # an English msgid; the template translates it
    claims: int  # how many of the question's claims it checks


def _folded(names: Iterable[str]) -> set[str]:
    return {name.casefold() for name in names}


def related_demos(question: Any, claims: Sequence[Any] = ()) -> list[RelatedDemo]:
    """The demos bearing on ``question``: those its claims name first (most claims
    first), then those whose topics match its tags, in catalogue order."""
    catalogue = registry()
    counts: dict[str, int] = {}
    for claim in claims:
        name = getattr(claim, "demo", "")
        if name in catalogue:
            counts[name] = counts.get(name, 0) + 1
    tags = _folded(getattr(question, "tags", ()) or ())
    by_topic = [d.name for d in catalogue.values() if tags & _folded(d.topics)]
    names = sorted(counts, key=lambda n: -counts[n]) + [n for n in by_topic if n not in counts]
    return [RelatedDemo(n, catalogue[n].title, counts.get(n, 0)) for n in names]


def related_questions(*, session: Session, demo: Demo, limit: int = 20) -> list[Question]:
    """The live questions ``demo`` answers: those with a claim it checks, then those
    tagged with one of its topics."""
    by_claim = select(Claim.question_id).where(Claim.demo == demo.name, Claim.archived_at.is_(None))
    ids = list(dict.fromkeys(session.scalars(by_claim)))
    topics = sorted(_folded(demo.topics))
    if topics:
        by_tag = (
            select(QuestionTag.question_id)
            .join(Tag, Tag.id == QuestionTag.tag_id)
            .where(func.lower(Tag.name).in_(topics))
        )
        ids += [i for i in session.scalars(by_tag) if i not in ids]
    if not ids:
        return []
    rows = session.scalars(
        select(Question).where(Question.id.in_(ids[: limit * 2]), Question.archived_at.is_(None))
    ).all()
    order = {qid: i for i, qid in enumerate(ids)}
    return sorted(rows, key=lambda q: order[q.id])[:limit]


def demo_claims(*, session: Session, demo: Demo) -> list[ClaimView]:
    """The live claims ``demo`` checks (the whole quote or one of its halves), in bank
    order, with their verdicts."""
    live = session.scalars(select(Claim).where(Claim.archived_at.is_(None))).all()
    ids = {
        c.id
        for c in live
        if c.demo == demo.name or any(k.demo == demo.name for k in claim_checks(c).checks)
    }
    if not ids:
        return []
    questions = {c.question_id for c in live if c.id in ids}
    return [v for v in claim_views(session=session, question_ids=questions) if v.id in ids]
