"""The review loop's statements, built once (per filter) with bound parameters.

Building a SQLAlchemy statement and its cache key costs more CPU than SQLite takes to run
it (profiled: about a third of a round trip's service time went to constructing
expressions). These are the statements ``app.study.queue`` runs on every card, built on
first use for each filter (at most ``FILTERS`` kept) and executed with the user, the
study day and the time as parameters: the SQL sent is the same as before.

Parameters: ``user_id``; ``today`` (the user's date); ``start`` and ``end`` (the study
day's bounds in UTC); ``now``; ``soon`` (now plus the learn-ahead window).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fsrs import State
from sqlalchemy import BindParameter, Date, Select, and_, bindparam, exists, func, or_, select

from app.content.filters import QuestionFilter, question_conditions
from app.models import Card, Interview, Question, ReviewLog
from app.models.base import UTCDateTime
from app.study.days import REVIEW_SOURCE

FILTERS = 128
USER: BindParameter[int] = bindparam("user_id")
TODAY = bindparam("today", type_=Date)
START = bindparam("start", type_=UTCDateTime)
END = bindparam("end", type_=UTCDateTime)
NOW = bindparam("now", type_=UTCDateTime)
SOON = bindparam("soon", type_=UTCDateTime)

# The user's reviews (not quiz answers) of the study day.
_TODAY_LOGS = select(func.count(ReviewLog.id)).where(
    ReviewLog.user_id == USER,
    ReviewLog.source == REVIEW_SOURCE,
    ReviewLog.reviewed_at >= START,
    ReviewLog.reviewed_at < END,
)
# A first review stores SQL NULL before it (see review._log).
_STARTED_TODAY = _TODAY_LOGS.where(ReviewLog.card_before.is_(None))
# The user has an interview on or after today (``load_focus`` then has work).
HAS_INTERVIEW = exists().where(Interview.user_id == USER, Interview.date >= TODAY)
# ``pick_next``'s first statement: (an interview is coming, new cards started today).
INTERVIEW_AND_STARTED = select(HAS_INTERVIEW, _STARTED_TODAY.scalar_subquery())


def _last_review(before: Any) -> Any:
    return (
        select(func.max(ReviewLog.reviewed_at))
        .where(
            ReviewLog.user_id == USER,
            ReviewLog.source == REVIEW_SOURCE,
            ReviewLog.reviewed_at < before,
        )
        .scalar_subquery()
    )


@lru_cache(maxsize=FILTERS)
def counts(flt: QuestionFilter) -> Select[Any]:
    """Due, questions under ``flt``, carded, today's first reviews, today's reviews, the
    last review before tomorrow and before today (the streak), an interview coming."""
    conditions = question_conditions(flt)
    mine = select(func.count(Card.id)).join(Question, Question.id == Card.question_id)
    return select(
        mine.where(
            Card.user_id == USER, Card.due < END, Card.leech_at.is_(None), *conditions
        ).scalar_subquery(),
        select(func.count()).select_from(Question).where(*conditions).scalar_subquery(),
        mine.where(Card.user_id == USER, *conditions).scalar_subquery(),
        _STARTED_TODAY.scalar_subquery(),
        _TODAY_LOGS.scalar_subquery(),
        _last_review(END),
        _last_review(START),
        HAS_INTERVIEW,
    )


@lru_cache(maxsize=FILTERS)
def first_card(flt: QuestionFilter, ahead: bool) -> Select[Card]:
    """The user's first card under ``flt`` by due time, leeches left out: due now
    (Review cards due before the day's ``end``, others by ``now``), or with ``ahead``
    a Learning/Relearning card due by ``soon``."""
    learning = Card.state != int(State.Review)
    review_due = and_(Card.state == int(State.Review), Card.due < END)
    when = (
        and_(learning, Card.due <= SOON)
        if ahead
        else or_(review_due, and_(learning, Card.due <= NOW))
    )
    return (
        select(Card)
        .join(Question, Question.id == Card.question_id)
        .where(Card.user_id == USER, when, Card.leech_at.is_(None), *question_conditions(flt))
        .order_by(Card.due, Card.id)
        .limit(1)
    )


@lru_cache(maxsize=FILTERS)
def first_new(flt: QuestionFilter) -> Select[str]:
    """The first question under ``flt`` in bank order the user has no card of."""
    has_card = exists().where(Card.user_id == USER, Card.question_id == Question.id)
    return (
        select(Question.id)
        .where(*question_conditions(flt), ~has_card)
        .order_by(Question.source_file, Question.position)
        .limit(1)
    )
