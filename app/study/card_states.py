"""Where each question stands for a user, as a list shows it: new, learning, due,
young or mature (Anki's words), with the last grade given. One query per page of
questions, not one per row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Card, ReviewLog, User
from app.study.stats import MATURE

__all__ = ["CardState", "StateName", "card_states"]

StateName = Literal["new", "learning", "due", "young", "mature", "suspended"]
_LEARNING = (1, 3)  # fsrs.State.Learning, fsrs.State.Relearning


@dataclass(frozen=True)
class CardState:
    state: StateName
    due: dt.datetime | None = None
    last_rating: int | None = None  # 1 Again, 2 Hard, 3 Good, 4 Easy
    last_reviewed: dt.datetime | None = None


def _name(card: Card, now: dt.datetime) -> StateName:
    if card.leech_at is not None:
        return "suspended"
    if card.due <= now:
        return "due"
    if card.state in _LEARNING:
        return "learning"
    last = card.fsrs.get("last_review")
    if last and card.due - dt.datetime.fromisoformat(last) >= MATURE:
        return "mature"
    return "young"


def card_states(
    *, session: Session, user: User, question_ids: Sequence[str], now: dt.datetime
) -> dict[str, CardState]:
    """Each of ``question_ids``' state for ``user`` (missing ones are new)."""
    ids = list(question_ids)
    if not ids:
        return {}
    latest = (
        select(ReviewLog.question_id, func.max(ReviewLog.id).label("log_id"))
        .where(ReviewLog.user_id == user.id, ReviewLog.question_id.in_(ids))
        .group_by(ReviewLog.question_id)
        .subquery()
    )
    last: dict[str, tuple[int, dt.datetime]] = {
        qid: (rating, at)
        for qid, rating, at in session.execute(
            select(ReviewLog.question_id, ReviewLog.rating, ReviewLog.reviewed_at).join(
                latest, latest.c.log_id == ReviewLog.id
            )
        )
    }
    states = {qid: CardState("new") for qid in ids}
    for card in session.scalars(
        select(Card).where(Card.user_id == user.id, Card.question_id.in_(ids))
    ):
        rating, at = last.get(card.question_id, (None, None))
        states[card.question_id] = CardState(_name(card, now), card.due, rating, at)
    return states
