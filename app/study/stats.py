"""Progress you can see: a year of review activity, true retention, the due forecast and
card counts by state (one card's history: ``app.study.card_stats``).

Activity and retention are read from the per-quarter-hour totals the database keeps
(``app.study.review_totals``), the forecast and the counts grouped in SQL: a year of
reviews costs a few thousand small rows, not every review's JSON.

Definitions (the stats page states them too):

- A **day** is a study day in the user's time zone (``app.study.queue``).
- **Reviews** are flashcard reviews (``ReviewLog.source == "review"``); a wrong quiz
  answer that fed the schedule is logged too but is not counted here.
- A card is **mature** at a review when the interval it was on (the card before the
  review: due minus last review) was 21 days or more, and it was in the Review state,
  as Anki defines it. **True retention** is the share of Hard, Good and Easy among the
  reviews of mature cards: learning and relearning steps are not recall tests.
- The **forecast** counts the cards due on each of the next 30 days; cards already
  overdue count today, leeches (out of the queue) not at all.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from fsrs import State
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from app.models import Card, Question, ReviewLog, ReviewTotal, User
from app.study.days import day_start as zone_day_start
from app.study.days import on_slot, slot_of
from app.study.queue import REVIEW_SOURCE, study_day_bounds, user_zone
from app.study.review_totals import MATURE as MATURE  # the definition, named here too
from app.study.review_totals import is_mature as is_mature  # the definition, named here too
from app.study.scheduler import as_utc

HEATMAP_WEEKS = 53
RECENT_DAYS = 30
FORECAST_DAYS = 30
# Retention windows in study days ending today; None: all time.
RETENTION_WINDOWS: tuple[int | None, ...] = (RECENT_DAYS, None)


@dataclass(frozen=True)
class DayActivity:
    day: dt.date
    reviews: int
    # Answer time: the sum of the reviews' durations (a review without one adds 0).
    seconds: float


@dataclass(frozen=True)
class Retention:
    """True retention over ``days`` study days ending today (``None``: all time)."""

    days: int | None
    mature_reviews: int
    passed: int
    # passed / mature_reviews; None without mature reviews.
    rate: float | None


@dataclass(frozen=True)
class DueDay:
    day: dt.date
    due: int


@dataclass(frozen=True)
class StateCounts:
    """Active questions by card state; leeches are counted apart from their state."""

    new: int
    learning: int
    review: int
    relearning: int
    leeches: int


@dataclass(frozen=True)
class Overview:
    today: dt.date
    timezone: str
    # Every study day from a Monday 52 weeks back through today (a 53-week heatmap).
    days: list[DayActivity]
    retention: list[Retention]
    forecast: list[DueDay]
    states: StateCounts


def day_start(user: User, day: dt.date) -> dt.datetime:
    """When study day ``day`` starts, in UTC."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=user_zone(user))
    return study_day_bounds(user=user, now=noon)[0]


def _hour_key(session: Session, shift_minutes: int) -> ColumnElement[Any]:
    """``ReviewLog.reviewed_at`` less ``shift_minutes``, cut to the UTC hour, in SQL."""
    at = ReviewLog.reviewed_at
    if session.get_bind().dialect.name == "postgresql":
        # Constants inline (shift_minutes is an int): the GROUP BY must repeat the same SQL.
        shifted = at - literal_column(f"interval '{int(shift_minutes)} minutes'")
        return func.date_trunc(
            literal_column("'hour'"), func.timezone(literal_column("'UTC'"), shifted)
        )
    # SQLite keeps UTC as naive "YYYY-MM-DD HH:MM:SS.ffffff" text: with no shift the hour
    # is its first 13 characters (half strftime's cost over a year of rows).
    if shift_minutes == 0:
        return func.substr(at, 1, 13, type_=String).concat(":00:00")
    return func.strftime("%Y-%m-%d %H:00:00", at, f"-{shift_minutes} minutes")


def _days(user: User, start: dt.date, today: dt.date) -> tuple[list[dt.date], list[dt.datetime]]:
    """The days from ``start`` through ``today`` and their starts (and tomorrow's), UTC."""
    zone = user_zone(user)
    days = [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]
    return days, [zone_day_start(d, zone) for d in (*days, today + dt.timedelta(days=1))]


def _block_width(bounds: list[int]) -> int:
    """The most slots a block counted from ``bounds[0]`` can hold with no day boundary
    inside it (the days' lengths' greatest common divisor): a whole day where every day
    is as long (a zone without daylight saving), an hour or half an hour across changes.
    Counting by block in SQL returns a row per day, not one per quarter hour."""
    return reduce(math.gcd, (b - a for a, b in itertools.pairwise(bounds)), 0) or 1


def activity(*, session: Session, user: User, start: dt.date, today: dt.date) -> list[DayActivity]:
    """Reviews and seconds spent on each study day from ``start`` through ``today``.

    Read from the stored quarter-hour totals (``app.study.review_totals``: a year of daily
    study is a few thousand rows) when every day of the span starts on a quarter hour, as
    in every zone today; else counted from the review log (``activity_from_log``)."""
    days, starts = _days(user, start, today)
    if not all(on_slot(s) for s in starts):
        return activity_from_log(session=session, user=user, start=start, today=today)
    bounds = [slot_of(s) for s in starts]  # day i is slots bounds[i] to bounds[i + 1] - 1
    # Summed in SQL by block (a year is 372 rows, not the thousands of quarter hours with
    # reviews where every day is as long).
    width = _block_width(bounds)
    totals = ReviewTotal.__table__.c  # table columns: plain rows, not the ORM's loading
    block = ((totals.slot - bounds[0]) // width).label("block")
    reviews = [0] * len(days)
    millis = [0] * len(days)
    for n, count, duration_ms in session.execute(
        select(block, func.sum(totals.reviews), func.sum(totals.duration_ms))
        .where(totals.user_id == user.id, totals.slot >= bounds[0], totals.slot < bounds[-1])
        .group_by(block)
    ).all():
        i = bisect_right(bounds, bounds[0] + int(n) * width) - 1
        reviews[i] += int(count)
        millis[i] += int(duration_ms)
    return [DayActivity(d, reviews[i], millis[i] / 1000) for i, d in enumerate(days)]


def activity_from_log(
    *, session: Session, user: User, start: dt.date, today: dt.date
) -> list[DayActivity]:
    """``activity`` counted from the review log.

    Counted in SQL by hour (a year of reviews is tens of thousands of rows): each day of
    the span starts at the same minute past a UTC hour (daylight saving moves whole
    hours), so hours counted from that minute each fall within one study day."""
    zone = user_zone(user)
    days, starts = _days(user, start, today)
    window = (
        ReviewLog.user_id == user.id,
        ReviewLog.source == REVIEW_SOURCE,
        ReviewLog.reviewed_at >= starts[0],
        ReviewLog.reviewed_at < starts[-1],
    )
    reviews: Counter[dt.date] = Counter()
    millis: Counter[dt.date] = Counter()
    minutes = {s.minute for s in starts}
    if len(minutes) == 1 and all(s.second == s.microsecond == 0 for s in starts):
        (shift,) = minutes
        hour = _hour_key(session, shift).label("hour")
        rows = session.execute(
            select(hour, func.count(), func.sum(ReviewLog.duration_ms))
            .where(*window)
            .group_by(hour)
        ).all()
        for key, count, duration_ms in rows:
            begun = key if isinstance(key, dt.datetime) else dt.datetime.fromisoformat(key)
            begun = begun.replace(tzinfo=dt.UTC) + dt.timedelta(minutes=shift)
            day = begun.astimezone(zone).date()
            reviews[day] += int(count)
            millis[day] += int(duration_ms or 0)
    else:  # a zone whose offset moved by part of an hour in the span: row by row
        for reviewed_at, duration_ms in session.execute(
            select(ReviewLog.reviewed_at, ReviewLog.duration_ms).where(*window)
        ):
            day = reviewed_at.astimezone(zone).date()
            reviews[day] += 1
            millis[day] += duration_ms or 0
    return [DayActivity(d, reviews[d], millis[d] / 1000) for d in days]


def _mature_before(session: Session) -> ColumnElement[bool]:
    """SQL for ``is_mature(ReviewLog.card_before)``."""
    before = ReviewLog.card_before
    due, last = before["due"].as_string(), before["last_review"].as_string()
    in_review = before["state"].as_integer() == int(State.Review)
    if session.get_bind().dialect.name == "postgresql":
        stamp = DateTime(timezone=True)
        return and_(in_review, cast(due, stamp) - cast(last, stamp) >= MATURE)
    # julianday is a double: a 21-day interval may come out a few microseconds short.
    days = func.julianday(due) - func.julianday(last)
    return and_(in_review, days >= MATURE / dt.timedelta(days=1) - 1e-8)


def retention(*, session: Session, user: User, today: dt.date) -> list[Retention]:
    """True retention for each of ``RETENTION_WINDOWS``: from the stored totals when every
    window starts on a quarter hour (any zone today), else from the review log."""
    starts = [
        day_start(user, today - dt.timedelta(days=days - 1)) if days else None
        for days in RETENTION_WINDOWS
    ]
    if not all(start is None or on_slot(start) for start in starts):
        return retention_from_log(session=session, user=user, today=today)
    columns = []
    for start in starts:
        since = ReviewTotal.slot >= slot_of(start) if start is not None else true()
        columns += [
            func.coalesce(func.sum(case((since, ReviewTotal.mature), else_=0)), 0),
            func.coalesce(func.sum(case((since, ReviewTotal.passed), else_=0)), 0),
        ]
    counts = session.execute(select(*columns).where(ReviewTotal.user_id == user.id)).one()
    return _retentions(counts)


def _retentions(counts: Sequence[Any]) -> list[Retention]:
    result = []
    for i, days in enumerate(RETENTION_WINDOWS):
        total, passed = int(counts[2 * i]), int(counts[2 * i + 1])
        result.append(Retention(days, total, passed, passed / total if total else None))
    return result


def retention_from_log(*, session: Session, user: User, today: dt.date) -> list[Retention]:
    """``retention`` counted from the review log in SQL, in one query."""
    passed_rating = ReviewLog.rating > 1
    columns = []
    for days in RETENTION_WINDOWS:
        since = (
            ReviewLog.reviewed_at >= day_start(user, today - dt.timedelta(days=days - 1))
            if days
            else true()
        )
        columns += [
            func.coalesce(func.sum(case((since, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(since, passed_rating), 1), else_=0)), 0),
        ]
    counts = session.execute(
        select(*columns).where(
            ReviewLog.user_id == user.id,
            ReviewLog.source == REVIEW_SOURCE,
            ReviewLog.card_before.is_not(None),
            _mature_before(session),
        )
    ).one()
    return _retentions(counts)


def _active_cards(user: User) -> tuple[ColumnElement[bool], ...]:
    """The user's cards of questions not archived (the archived ids are few: a NOT IN of
    them spares a join with ``questions`` per card)."""
    archived = select(Question.id).where(Question.archived_at.is_not(None))
    return (Card.user_id == user.id, Card.question_id.not_in(archived.scalar_subquery()))


def _slot_key(session: Session, at: Any) -> ColumnElement[int]:
    """``review_totals.slot_of(at)`` in SQL: the quarter hour since the epoch."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", at) / 900), Integer)
    # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff": %s truncates to whole seconds.
    return cast(func.strftime("%s", at), Integer) // 900


def forecast(*, session: Session, user: User, today: dt.date) -> list[DueDay]:
    """Cards due on each of the next ``FORECAST_DAYS`` study days (overdue: today).

    Counted in SQL by block of quarter hours (``_block_width``) when every day starts on
    a quarter hour (any zone today), else card by card."""
    zone = user_zone(user)
    days, starts = _days(user, today, today + dt.timedelta(days=FORECAST_DAYS - 1))
    due = (*_active_cards(user), Card.leech_at.is_(None), Card.due < starts[-1])
    if not all(on_slot(s) for s in starts):
        dues = session.scalars(select(Card.due).where(*due)).all()
        counts = Counter(max(today, d.astimezone(zone).date()) for d in dues)
        return [DueDay(d, counts[d]) for d in days]
    bounds = [slot_of(s) for s in starts]
    width = _block_width(bounds)
    first = (_slot_key(session, Card.due) - bounds[0]) // width
    block = case((Card.due < starts[0], 0), else_=first).label("block")  # overdue: today
    per_day = [0] * len(days)
    for n, count in session.execute(select(block, func.count()).where(*due).group_by(block)):
        per_day[bisect_right(bounds, bounds[0] + int(n) * width) - 1] += count
    return [DueDay(d, n) for d, n in zip(days, per_day, strict=True)]


def state_counts(*, session: Session, user: User) -> StateCounts:
    """Active questions by card state (new: no card yet); two queries."""
    leech = Card.leech_at.is_not(None).label("leech")
    by_state: Counter[int] = Counter()
    leeches = 0
    for state, is_leech, n in session.execute(
        select(Card.state, leech, func.count())
        .where(*_active_cards(user))
        .group_by(Card.state, leech)
    ):
        if is_leech:
            leeches += n
        else:
            by_state[int(state)] += n
    active = Question.archived_at.is_(None)
    questions = int(session.scalar(select(func.count()).select_from(Question).where(active)) or 0)
    return StateCounts(
        new=questions - sum(by_state.values()) - leeches,
        learning=by_state[State.Learning],
        review=by_state[State.Review],
        relearning=by_state[State.Relearning],
        leeches=leeches,
    )


def overview(*, session: Session, user: User, now: dt.datetime) -> Overview:
    """Everything the stats page charts, as of ``now``."""
    today = as_utc(now).astimezone(user_zone(user)).date()
    start = today - dt.timedelta(days=today.weekday() + 7 * (HEATMAP_WEEKS - 1))
    return Overview(
        today=today,
        timezone=user_zone(user).key,
        days=activity(session=session, user=user, start=start, today=today),
        retention=retention(session=session, user=user, today=today),
        forecast=forecast(session=session, user=user, today=today),
        states=state_counts(session=session, user=user),
    )
