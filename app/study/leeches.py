"""Leeches: cards the user keeps forgetting. Reviewing them forever wastes time, so a
card that lapses ``User.leech_threshold`` times (8 by default) is flagged
(``Card.leech_at``), leaves the review queue and is listed on the stats page with its
answer and claims, until the user puts it back.

The rule is Anki's: a lapse flags the card when its lapses reach the threshold, and
again every half threshold after that (8, 12, 16, ... for 8). So a card that was put
back gets a few more chances before it is flagged again, rather than leaving the queue
at its very next lapse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.i18n import mark as N_
from app.models import Card, Claim, Question, User
from app.study.undo import rows_changed

LEECH_THRESHOLD_RANGE = (1, 100)


def becomes_leech(*, lapses_after: int, threshold: int, lapsed: bool) -> bool:
    """Whether a review that left the card with ``lapses_after`` lapses flags it
    (``lapsed``: this review was itself a lapse)."""
    if not lapsed or lapses_after < threshold:
        return False
    return (lapses_after - threshold) % max(1, threshold // 2) == 0


@dataclass(frozen=True)
class Leech:
    """A flagged card, as the stats page lists it."""

    question_id: str
    title: str
    lapses: int
    reps: int
    leech_at: dt.datetime
    # Claims checked in the question's answer (shown on the question page).
    claims: int
    archived: bool


def list_leeches(*, session: Session, user: User) -> list[Leech]:
    """The user's leeches, most recently flagged first."""
    claims = (
        select(Claim.question_id, func.count(Claim.id).label("n"))
        .where(Claim.archived_at.is_(None))
        .group_by(Claim.question_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Card.question_id,
            Question.title,
            Card.lapses,
            Card.reps,
            Card.leech_at,
            func.coalesce(claims.c.n, 0),
            Question.archived_at,
        )
        .join(Question, Question.id == Card.question_id)
        .outerjoin(claims, claims.c.question_id == Card.question_id)
        .where(Card.user_id == user.id, Card.leech_at.is_not(None))
        .order_by(Card.leech_at.desc(), Card.id)
    ).all()
    return [
        Leech(
            question_id=qid,
            title=title,
            lapses=lapses,
            reps=reps,
            leech_at=leech_at,
            claims=int(n),
            archived=archived_at is not None,
        )
        for qid, title, lapses, reps, leech_at, n, archived_at in rows
    ]


def put_back(*, session: Session, user: User, question_id: str) -> bool:
    """Return a leech to the review queue (its schedule is kept) and commit. ``False``
    when the card was not a leech (already put back: a second click is harmless)."""
    card_id = session.scalar(
        select(Card.id).where(Card.user_id == user.id, Card.question_id == question_id)
    )
    if card_id is None:
        raise NotFound(
            N_("you have no card for question %(id)r"), field="question_id", id=question_id
        )
    changed = rows_changed(
        session,
        update(Card)
        .where(Card.id == card_id, Card.leech_at.is_not(None))
        .values(leech_at=None)
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return changed == 1
