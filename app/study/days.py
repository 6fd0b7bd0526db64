"""Study days: the user's time zone, the bounds of the day holding a moment, and the
streak of consecutive days with a review. A study day runs from midnight to midnight in
``User.timezone``."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from bisect import bisect_right
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select
from sqlalchemy.orm import Session

from app.models import ReviewLog, ReviewTotal, User
from app.study.scheduler import as_utc

# ReviewLog.source of flashcard reviews (quizzes log their own source).
REVIEW_SOURCE = "review"

# review_totals counts the reviews per user and UTC quarter hour (slot).
SLOT = dt.timedelta(minutes=15)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def slot_of(moment: dt.datetime) -> int:
    """The number of the UTC quarter hour holding ``moment``."""
    return (moment - EPOCH) // SLOT


def on_slot(moment: dt.datetime) -> bool:
    """Whether ``moment`` starts a quarter hour (a study day starting there is whole slots)."""
    return (moment - EPOCH) % SLOT == dt.timedelta(0)


@cache
def iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def user_zone(user: User) -> zoneinfo.ZoneInfo:
    """The user's zone; UTC if the stored name is unknown on this machine (settings
    validate it, but a database can move to a machine with an older tz database)."""
    try:
        return zoneinfo.ZoneInfo(user.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def day_start(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def study_day_bounds(*, user: User, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The study day holding ``now`` as ``[start, end)`` in UTC (23 or 25 hours long
    across a daylight-saving change)."""
    zone = user_zone(user)
    today = as_utc(now).astimezone(zone).date()
    return day_start(today, zone), day_start(today + dt.timedelta(days=1), zone)


def reviews_of(user_id: int) -> ColumnElement[bool]:
    return and_(ReviewLog.user_id == user_id, ReviewLog.source == REVIEW_SOURCE)


def streak_days(*, session: Session, user: User, now: dt.datetime) -> int:
    """Consecutive study days with a review, ending today, or yesterday while today has
    none yet (the streak is not lost before the day is over).

    Reads the days with a review in blocks (32 days, then 128, then 512), each one query
    grouped by hour: a year-long streak costs three queries, not one a day.
    """
    return streak_from(session, user, now, None)


def _last_review_before(session: Session, user_id: int, cursor: dt.datetime) -> dt.datetime | None:
    return session.scalar(
        select(func.max(ReviewLog.reviewed_at)).where(
            reviews_of(user_id), ReviewLog.reviewed_at < cursor
        )
    )


def review_days(
    session: Session, user_id: int, zone: zoneinfo.ZoneInfo, start: dt.date, end: dt.date
) -> set[dt.date]:
    """The study days from ``start`` up to (not including) ``end`` with a review: from
    the review totals when the days start on quarter hours (every zone's offset today),
    else from the log."""
    starts = [day_start(start + dt.timedelta(days=i), zone) for i in range((end - start).days + 1)]
    if all(on_slot(moment) for moment in starts):
        return review_days_from_totals(session, user_id, start, starts)
    return review_days_from_log(session, user_id, zone, start, end)


def review_days_from_totals(
    session: Session, user_id: int, start: dt.date, starts: list[dt.datetime]
) -> set[dt.date]:
    """The quarter hours with a review, each placed in its day by the days' first slots
    (``starts``: the first moment of each day from ``start`` on, and of the day after)."""
    edges = [slot_of(moment) for moment in starts]  # day i is slots edges[i] to edges[i+1]-1
    slots = session.scalars(
        select(ReviewTotal.slot).where(
            ReviewTotal.user_id == user_id,
            ReviewTotal.slot >= edges[0],
            ReviewTotal.slot < edges[-1],
            ReviewTotal.reviews > 0,
        )
    )
    return {start + dt.timedelta(days=bisect_right(edges, slot) - 1) for slot in slots}


def review_days_from_log(
    session: Session, user_id: int, zone: zoneinfo.ZoneInfo, start: dt.date, end: dt.date
) -> set[dt.date]:
    """The log grouped by the hour (at most 24 rows a day): an hour's reviews lie on at
    most two study days, and its first and last review name both."""
    at = ReviewLog.reviewed_at
    if session.get_bind().dialect.name == "postgresql":
        hour: ColumnElement[Any] = func.date_trunc(literal_column("'hour'"), at)
    else:  # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff" text: the hour is 13 characters
        hour = func.substr(at, 1, 13)
    rows = session.execute(
        select(func.min(at), func.max(at))
        .where(reviews_of(user_id), at >= day_start(start, zone), at < day_start(end, zone))
        .group_by(hour)
    ).all()
    return {as_utc(moment).astimezone(zone).date() for row in rows for moment in row}


def streak_from(
    session: Session,
    user: User,
    now: dt.datetime,
    known: tuple[dt.datetime | None, dt.datetime | None] | None,
) -> int:
    """``streak_days``; ``known`` holds the last review before tomorrow (and the last one
    before today) when the caller read them already."""
    zone = user_zone(user)
    today = as_utc(now).astimezone(zone).date()
    tomorrow = today + dt.timedelta(days=1)
    last = (
        known[0]
        if known is not None
        else _last_review_before(session, user.id, day_start(tomorrow, zone))
    )
    if last is None:
        return 0
    day = as_utc(last).astimezone(zone).date()
    if day < today - dt.timedelta(days=1):
        return 0
    seen = {day}
    fetched_from = day  # the days in [fetched_from, last's day] are read into seen
    if known is not None and day == today:  # the last review before today: yesterday's?
        before = known[1]
        if before is None or as_utc(before).astimezone(zone).date() != day - dt.timedelta(days=1):
            return 1
        seen.add(day - dt.timedelta(days=1))
        fetched_from = day - dt.timedelta(days=1)
    block = 32
    streak = 0
    while True:
        if day < fetched_from:
            start = fetched_from - dt.timedelta(days=block)
            seen |= review_days(session, user.id, zone, start, fetched_from)
            fetched_from, block = start, min(block * 4, 512)
        if day not in seen:
            return streak
        streak += 1
        day -= dt.timedelta(days=1)
