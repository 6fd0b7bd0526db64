"""Review totals per user and UTC quarter hour (``ReviewTotal``), so the stats page reads
a year of activity and true retention from a few thousand small rows instead of every
review-log row and its JSON.

The database keeps them: triggers on ``review_logs`` (migration 0017) count each
flashcard review inserted and take back each one deleted (undo, a user-data import that
replaces the log), in the same statement; quiz answers (``source != "review"``) are
logged but never counted. Here: what the triggers compute, in Python (the definition the
tests hold them to), and the reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fsrs import State
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ReviewLog, ReviewTotal
from app.study.days import REVIEW_SOURCE, slot_of

MATURE = dt.timedelta(days=21)
FIGURES = ("reviews", "duration_ms", "mature", "passed")


def is_mature(card: dict[str, Any] | None) -> bool:
    """Whether a card (as stored before a review) was a mature review card: in the Review
    state on an interval (due minus last review) of 21 days or more, as Anki defines it."""
    if card is None or int(card["state"]) != State.Review or not card.get("last_review"):
        return False
    due = dt.datetime.fromisoformat(card["due"])
    return due - dt.datetime.fromisoformat(card["last_review"]) >= MATURE


def from_log(session: Session, user_id: int) -> dict[int, dict[str, int]]:
    """The user's totals by slot, counted from the review log row by row (the definition)."""
    totals: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(
            ReviewLog.reviewed_at, ReviewLog.rating, ReviewLog.duration_ms, ReviewLog.card_before
        ).where(ReviewLog.user_id == user_id, ReviewLog.source == REVIEW_SOURCE)
    )
    for reviewed_at, rating, duration_ms, before in rows:
        row = totals.setdefault(slot_of(reviewed_at), dict.fromkeys(FIGURES, 0))
        mature = is_mature(before)
        row["reviews"] += 1
        row["duration_ms"] += duration_ms or 0
        row["mature"] += mature
        row["passed"] += mature and rating > 1
    return totals


def stored(session: Session, user_id: int) -> dict[int, dict[str, int]]:
    """The user's totals by slot as stored."""
    columns = [getattr(ReviewTotal, name) for name in FIGURES]
    rows = session.execute(select(ReviewTotal.slot, *columns).where(ReviewTotal.user_id == user_id))
    return {slot: dict(zip(FIGURES, figures, strict=True)) for slot, *figures in rows}
