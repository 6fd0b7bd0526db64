"""Custom study ("practise these now"): review a slice of the bank ahead of schedule,
as Anki's filtered decks do, without corrupting the schedule.

A card practised ahead is rated like any other (``review.rate``): fsrs schedules it from
the real time elapsed since its last review (``Card.fsrs["last_review"]`` to ``now``),
so an early Good grows the stability less than an on-time one, and the stored due date
follows from that. Nothing here changes how a rating is applied; this module only says
which card comes next once the ordinary queue of the slice is empty:

- Review cards of the slice not due today, earliest due first (the ones closest to
  being due lose least by an early review);
- never a card reviewed since the practice session began (``since``: each card comes
  once a session, so a session ends), nor a leech;
- new questions only when asked for (``include_new``): they then come after the due
  cards, past the daily limit, and count as first reviews of the day like any other.

Also here: when the next card of a slice comes due (the empty queue says so).
"""

from __future__ import annotations

import datetime as dt

from fsrs import State
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from app.content.filters import QuestionFilter, question_conditions
from app.models import Card, Question, ReviewLog, User
from app.study.queue import study_day_bounds
from app.study.scheduler import as_utc


def _ahead(user: User, now: dt.datetime, since: dt.datetime) -> list[ColumnElement[bool]]:
    _, end = study_day_bounds(user=user, now=now)
    # The cards reviewed in the session, read once from the user's reviews since it began
    # (an index range): a NOT EXISTS probe per card read every log of every card (150 ms
    # for a year of reviews, 7,320 cards).
    practised = select(ReviewLog.card_id).where(
        ReviewLog.user_id == user.id,
        ReviewLog.reviewed_at >= as_utc(since),
        ReviewLog.card_id.is_not(None),
    )
    return [
        Card.user_id == user.id,
        Card.state == int(State.Review),
        Card.due >= end,
        Card.leech_at.is_(None),
        Card.id.not_in(practised),
    ]


def pick_ahead(
    *, session: Session, user: User, flt: QuestionFilter, now: dt.datetime, since: dt.datetime
) -> Card | None:
    """The next card of ``flt`` to practise ahead of schedule in the session that began
    at ``since`` (see the module docstring), or ``None`` when every card of the slice was
    practised in it or is due anyway."""
    return session.scalars(
        select(Card)
        .join(Question, Question.id == Card.question_id)
        .where(*_ahead(user, as_utc(now), since), *question_conditions(flt))
        .order_by(Card.due, Card.id)
        .limit(1)
    ).first()


def ahead_left(
    *, session: Session, user: User, flt: QuestionFilter, now: dt.datetime, since: dt.datetime
) -> int:
    """How many cards of ``flt`` are left to practise ahead in the session since ``since``."""
    return int(
        session.scalar(
            select(func.count(Card.id))
            .join(Question, Question.id == Card.question_id)
            .where(*_ahead(user, as_utc(now), since), *question_conditions(flt))
        )
        or 0
    )


def next_due(*, session: Session, user: User, flt: QuestionFilter) -> dt.datetime | None:
    """When the user's next card under ``flt`` comes due (leeches left out); ``None``
    without a card."""
    found = session.scalar(
        select(func.min(Card.due))
        .join(Question, Question.id == Card.question_id)
        .where(and_(Card.user_id == user.id, Card.leech_at.is_(None)), *question_conditions(flt))
    )
    return as_utc(found) if found is not None else None
