"""Undo: the last flashcard review is taken back exactly, from the card state its log
row kept from before it (a leech flag it set goes too); and a card's review history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from fsrs import Rating
from sqlalchemy import CursorResult, Delete, Update, delete, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import Card, ReviewLog, User, fsrs_columns
from app.study import scheduler
from app.study.queue import REVIEW_SOURCE
from app.study.scheduler import CardDict, as_utc


@dataclass(frozen=True)
class UndoResult:
    """The undone review: show ``question_id`` again. ``card`` is the restored state
    (``None``: new again, version 0)."""

    question_id: str
    rating: Rating
    version: int
    card: CardDict | None
    due_now: bool


def rows_changed(session: Session, stmt: Update | Delete) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed (optimistic checks)."""
    return int(cast(CursorResult[Any], session.execute(stmt)).rowcount)


def last_review(*, session: Session, user: User) -> ReviewLog | None:
    """The user's most recent flashcard review (what ``undo_last`` would undo)."""
    return session.scalars(
        select(ReviewLog)
        .where(ReviewLog.user_id == user.id, ReviewLog.source == REVIEW_SOURCE)
        .order_by(ReviewLog.id.desc())
        .limit(1)
    ).first()


def can_undo(*, session: Session, user: User) -> bool:
    """Whether ``undo_last`` would undo something now: there is a last review and its
    card has not changed since (a "Relearn it" reset after it, for one, can't be undone
    through it, so a page should not offer the undo)."""
    log = last_review(session=session, user=user)
    if log is None:
        return False
    after = session.scalar(select(Card.fsrs).where(Card.id == log.card_id))
    return after is not None and after == log.card_after


def undo_last(*, session: Session, user: User, now: dt.datetime) -> UndoResult | None:
    """Undo the most recent review: the card gets back exactly its state from before it
    (or goes back to new), reps and lapses too, and the log row goes. ``None`` when
    there is nothing to undo. ``now`` only decides ``UndoResult.due_now``."""
    now = as_utc(now)
    log = last_review(session=session, user=user)
    if log is None:
        return None
    row = session.scalars(
        select(Card).where(Card.id == log.card_id).execution_options(populate_existing=True)
    ).first()
    if row is None or row.fsrs != log.card_after:
        raise Conflict(
            f"the review of question {log.question_id!r} at {log.reviewed_at.isoformat()} "
            "can't be undone: its card changed after it",
        )
    before = dict(log.card_before) if log.card_before is not None else None
    log_id, question_id = log.id, log.question_id
    session.execute(delete(ReviewLog).where(ReviewLog.id == log_id))
    same = (Card.id == row.id, Card.version == row.version)
    if before is None:
        done = rows_changed(session, delete(Card).where(*same))
        version, due = 0, now
    else:
        restored = scheduler.load(before, now=now)
        version, due = row.version + 1, restored.due
        # A leech flag this review set (``review.rate`` stamps it with the review's time)
        # goes with it; an older flag stays.
        set_here = row.leech_at is not None and row.leech_at >= log.reviewed_at
        unflag = {"leech_at": None} if set_here else {}
        done = rows_changed(
            session,
            update(Card)
            .where(*same)
            .values(
                fsrs=before,
                **fsrs_columns(before),
                due=due,
                state=int(restored.state),
                reps=Card.reps - 1,
                lapses=log.lapses_before,
                version=version,
                **unflag,
            )
            .execution_options(synchronize_session=False),
        )
    result = UndoResult(
        question_id=question_id,
        rating=Rating(log.rating),
        version=version,
        card=before,
        due_now=due <= now,
    )
    if done != 1:  # a concurrent rating or undo changed the card first
        session.rollback()
        if session.scalar(select(ReviewLog.id).where(ReviewLog.id == log_id)) is None:
            return result  # a concurrent undo of this same review (double click) did it
        raise Conflict(f"question {question_id!r} changed while undoing; try again")
    # The statements bypassed the identity map: drop or reload what they changed.
    session.expunge(log)
    if before is None:
        session.expunge(row)
    else:
        session.expire(row)
    session.commit()
    return result


def card_history(*, session: Session, user: User, question_id: str) -> list[ReviewLog]:
    """The user's reviews of ``question_id``, oldest first (any source)."""
    return list(
        session.scalars(
            select(ReviewLog)
            .where(ReviewLog.user_id == user.id, ReviewLog.question_id == question_id)
            .order_by(ReviewLog.id)
        )
    )
