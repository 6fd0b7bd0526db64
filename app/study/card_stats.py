"""One card's page: its state now and every rating it had (the interval each gave, the
recall predicted before it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.i18n import mark as N_
from app.models import Card, Question, User
from app.study import scheduler
from app.study.undo import card_history


@dataclass(frozen=True)
class HistoryEntry:
    """One rating of a card: the interval it gave and the recall predicted before it."""

    reviewed_at: dt.datetime
    rating: int
    source: str
    # The card's state before the review: 0 new, else fsrs.State.
    state_before: int
    # card_after.due - reviewed_at, in days (minutes show as fractions of a day).
    interval_days: float
    retrievability: float | None
    duration_ms: int | None


@dataclass(frozen=True)
class CardStats:
    question_id: str
    title: str
    # 0 new (no card), else fsrs.State.
    state: int
    due: dt.datetime | None
    reps: int
    lapses: int
    stability: float | None
    difficulty: float | None
    retrievability: float | None
    leech_at: dt.datetime | None
    history: list[HistoryEntry]


def card_stats(*, session: Session, user: User, question_id: str, now: dt.datetime) -> CardStats:
    """A card's state now and every rating it had, oldest first."""
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound(N_("question %(id)r does not exist"), field="question_id", id=question_id)
    card = session.scalars(
        select(Card).where(Card.user_id == user.id, Card.question_id == question_id)
    ).first()
    history = [
        HistoryEntry(
            reviewed_at=log.reviewed_at,
            rating=log.rating,
            source=log.source,
            state_before=int(log.card_before["state"]) if log.card_before else 0,
            interval_days=(
                dt.datetime.fromisoformat(log.card_after["due"]) - log.reviewed_at
            ).total_seconds()
            / 86400,
            retrievability=log.retrievability,
            duration_ms=log.duration_ms,
        )
        for log in card_history(session=session, user=user, question_id=question_id)
    ]
    fsrs_card = dict(card.fsrs) if card is not None else None
    return CardStats(
        question_id=question.id,
        title=question.title,
        state=card.state if card is not None else 0,
        due=card.due if card is not None else None,
        reps=card.reps if card is not None else 0,
        lapses=card.lapses if card is not None else 0,
        stability=fsrs_card.get("stability") if fsrs_card else None,
        difficulty=fsrs_card.get("difficulty") if fsrs_card else None,
        retrievability=scheduler.retrievability(
            fsrs_card,
            desired_retention=user.desired_retention,
            now=now,
            parameters=user.fsrs_parameters,
        ),
        leech_at=card.leech_at if card is not None else None,
        history=history,
    )
