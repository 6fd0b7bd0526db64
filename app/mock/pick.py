"""Which questions a mock interview asks: weighted to what the company asked (at the
round first) and to the user's weak topics, drawn without replacement.

A question's weight is ``TIER_WEIGHT[tier] * (1 + WEAK_BOOST * weakness)``. The tier is
the plan's (``app.study.plan.question_tiers``): 1 asked by the company at this round,
2 asked by it at another round, 3 sharing a topic tag with those, 4 any other question
(only drawn when the first three run out, or with no company chosen). A topic's
weakness is the mean, over the user's cards of that topic, of ``1 - retrievability``
plus ``LAPSE_WEAKNESS`` per lapse (capped at 1); a question is as weak as its weakest
topic, so a new question of a topic the user keeps forgetting comes up more too.

The draw is Efraimidis-Spirakis weighted sampling (key ``u ** (1 / w)``, highest keys
first) from a seeded generator, so a mock interview is repeatable from its seed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.content.names import company_key
from app.models import Asked, Card, Question, QuestionTag, User
from app.study import plan, scheduler

TIER_WEIGHT: Mapping[int, float] = {1: 8.0, 2: 4.0, 3: 2.0, 4: 1.0}
TIER_OTHER = 4
WEAK_BOOST = 3.0
LAPSE_WEAKNESS = 0.2


@dataclass(frozen=True)
class Candidate:
    question_id: str
    tier: int
    weakness: float  # 0 (well known) to 1 (forgotten)

    @property
    def weight(self) -> float:
        return TIER_WEIGHT[self.tier] * (1.0 + WEAK_BOOST * self.weakness)


def card_weakness(*, retrievability: float | None, lapses: int) -> float:
    """How weak one card is, 0 to 1: what the user would forget now, plus lapses."""
    forgetting = 1.0 - retrievability if retrievability is not None else 0.5
    return min(1.0, max(0.0, forgetting) + LAPSE_WEAKNESS * lapses)


def topic_weakness(cards: Iterable[tuple[Sequence[str], float]]) -> dict[str, float]:
    """Each topic's mean card weakness, from (topic keys of a card, its weakness)."""
    sums: dict[str, list[float]] = {}
    for topics, weakness in cards:
        for topic in topics:
            sums.setdefault(topic, []).append(weakness)
    return {topic: sum(values) / len(values) for topic, values in sums.items()}


def draw(candidates: Sequence[Candidate], count: int, rng: random.Random) -> list[Candidate]:
    """``count`` candidates (fewer if there are fewer), drawn without replacement with
    probability in proportion to their weights, in the order drawn."""
    keyed = [(rng.random() ** (1.0 / c.weight), c) for c in candidates]
    keyed.sort(key=lambda pair: -pair[0])
    return [c for _, c in keyed[:count]]


def company_spelling(session: Session, company: str) -> str | None:
    """The bank's spelling of ``company`` (by the bank's company rule), or None when
    no question of the bank was asked there."""
    key = company_key(company)
    known = session.scalars(select(Asked.company).where(Asked.company.is_not(None)).distinct())
    return next((str(k) for k in known if company_key(str(k)) == key), None)


def _tiers(session: Session, company: str | None, stage: str | None) -> dict[str, int]:
    active = list(
        session.scalars(
            select(Question.id)
            .where(Question.archived_at.is_(None))
            .order_by(Question.source_file, Question.position)
        )
    )
    if company is None:
        return dict.fromkeys(active, TIER_OTHER)
    live = set(active)
    asked = [
        (question_id, asked_stage)
        for question_id, asked_stage in session.execute(
            select(Asked.question_id, Asked.stage).where(Asked.company == company)
        )
        if question_id in live
    ]
    asked_ids = {q for q, _ in asked}
    topics = set(
        session.scalars(select(QuestionTag.tag_id).where(QuestionTag.question_id.in_(asked_ids)))
    )
    related = [
        q
        for q in session.scalars(
            select(QuestionTag.question_id).where(QuestionTag.tag_id.in_(topics)).distinct()
        )
        if q in live
    ]
    tiers = plan.question_tiers(asked=asked, related=related, stage=stage)
    return {q: tiers.get(q, TIER_OTHER) for q in active}


def _question_topics(session: Session) -> dict[str, list[str]]:
    topics: dict[str, list[str]] = {}
    for question_id, tag_id in session.execute(select(QuestionTag.question_id, QuestionTag.tag_id)):
        topics.setdefault(question_id, []).append(str(tag_id))
    return topics


def candidates(
    *, session: Session, user: User, company: str | None, stage: str | None, now: dt.datetime
) -> list[Candidate]:
    """Every active question with its tier for ``company`` and ``stage`` and the
    user's weakness in its topics, in bank order."""
    tiers = _tiers(session, company, stage)
    topics = _question_topics(session)
    cards = session.execute(
        select(Card.question_id, Card.fsrs, Card.lapses).where(Card.user_id == user.id)
    )
    retention = user.desired_retention
    weak = topic_weakness(
        (
            topics.get(question_id, []),
            card_weakness(
                retrievability=scheduler.retrievability(fsrs, desired_retention=retention, now=now),
                lapses=lapses,
            ),
        )
        for question_id, fsrs, lapses in cards
    )
    return [
        Candidate(
            question_id=q,
            tier=tier,
            weakness=max((weak.get(t, 0.0) for t in topics.get(q, [])), default=0.0),
        )
        for q, tier in tiers.items()
    ]


def choose(pool: Sequence[Candidate], count: int, rng: random.Random) -> list[Candidate]:
    """The questions of a mock interview: drawn from the company's questions (tiers
    1-3) first; any other question only fills what they leave."""
    focused = [c for c in pool if c.tier < TIER_OTHER]
    picked = draw(focused, count, rng) if focused else []
    if len(picked) < count:
        rest = [c for c in pool if c.tier == TIER_OTHER]
        picked += draw(rest, count - len(picked), rng)
    return picked
