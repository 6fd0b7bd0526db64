"""What the FSRS fit job is given (``app.jobs.fsrs_fit.params``), read from a user's
rows: their review log cut into histories, their cards as they are at ``now``, how many
questions they have not started, and their settings.

A history is one card's reviews from a new card on. A card reset to new ("relearn it",
``app.study.relearn``) keeps its log, and its next review starts from a card with no
stability: that review starts a new history, as Anki cuts a card's history at a reset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jobs.fsrs_fit.params import CardNow, Review
from app.models import Card, Question, ReviewLog, User

DAY_S = 86_400.0


@dataclass(frozen=True)
class LogRow:
    """The columns of a ``ReviewLog`` row the fit reads."""

    card_id: int
    rating: int
    reviewed_at: dt.datetime
    duration_ms: int | None
    card_before: Mapping[str, Any] | None


def _starts_history(before: Mapping[str, Any] | None) -> bool:
    return before is None or before.get("stability") is None


def reviews_of(rows: Iterable[LogRow]) -> list[Review]:
    """``rows`` (in any order) as the job's reviews: numbered histories, whole seconds."""
    ordered = sorted(rows, key=lambda r: (r.card_id, r.reviewed_at))
    reviews: list[Review] = []
    history = -1
    previous_card: int | None = None
    for row in ordered:
        if row.card_id != previous_card or _starts_history(row.card_before):
            history += 1
            previous_card = row.card_id
        seconds = int(row.reviewed_at.timestamp())
        reviews.append((history, row.rating, seconds, row.duration_ms))
    return reviews


def log_rows(session: Session, user: User) -> tuple[list[LogRow], int | None]:
    """The user's review log, and its highest id (None: empty)."""
    result = session.execute(
        select(
            ReviewLog.id,
            ReviewLog.card_id,
            ReviewLog.rating,
            ReviewLog.reviewed_at,
            ReviewLog.duration_ms,
            ReviewLog.card_before,
        ).where(ReviewLog.user_id == user.id)
    ).all()
    rows = [
        LogRow(r.card_id, r.rating, r.reviewed_at, r.duration_ms, r.card_before) for r in result
    ]
    return rows, max((r.id for r in result), default=None)


def card_now(fsrs_card: Mapping[str, Any], now: dt.datetime) -> CardNow | None:
    """A stored card as the workload simulation starts it (None: never reviewed)."""
    stability, difficulty = fsrs_card.get("stability"), fsrs_card.get("difficulty")
    last = fsrs_card.get("last_review")
    if stability is None or difficulty is None or last is None:
        return None
    due = dt.datetime.fromisoformat(fsrs_card["due"])
    since = (now - dt.datetime.fromisoformat(last)).total_seconds() / DAY_S
    return (
        int(fsrs_card["state"]),
        float(stability),
        float(difficulty),
        max(since, 0.0),
        (due - now).total_seconds() / DAY_S,
    )


def cards_now(session: Session, user: User, now: dt.datetime) -> list[CardNow]:
    """The user's reviewed cards still in the review queue (leeches stay out of it)."""
    stored = session.scalars(
        select(Card.fsrs).where(Card.user_id == user.id, Card.leech_at.is_(None))
    )
    return [c for c in (card_now(fsrs_card, now) for fsrs_card in stored) if c is not None]


def new_questions(session: Session, user: User) -> int:
    """Questions of the bank the user has no card for."""
    started = select(Card.question_id).where(Card.user_id == user.id)
    return int(
        session.scalar(
            select(func.count(Question.id)).where(
                Question.archived_at.is_(None), Question.id.not_in(started)
            )
        )
        or 0
    )


def review_count(session: Session, user: User) -> tuple[int, int | None]:
    """How many reviews the user's log holds, and its highest id."""
    count, last = session.execute(
        select(func.count(ReviewLog.id), func.max(ReviewLog.id)).where(ReviewLog.user_id == user.id)
    ).one()
    return int(count), last
