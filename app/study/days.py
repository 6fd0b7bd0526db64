"""Study days: the user's time zone, the bounds of the day holding a moment, and the
streak of consecutive days with a review. A study day runs from midnight to midnight in
``User.timezone``."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from app.models import ReviewLog, User
from app.study.scheduler import as_utc

# ReviewLog.source of flashcard reviews (quizzes log their own source).
REVIEW_SOURCE = "review"


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

    Walks back one indexed ``max(reviewed_at)`` query per study day in the streak.
    """
    return streak_from(session, user, now, None)


def _last_review_before(session: Session, user_id: int, cursor: dt.datetime) -> dt.datetime | None:
    return session.scalar(
        select(func.max(ReviewLog.reviewed_at)).where(
            reviews_of(user_id), ReviewLog.reviewed_at < cursor
        )
    )


def streak_from(
    session: Session,
    user: User,
    now: dt.datetime,
    known: tuple[dt.datetime | None, dt.datetime | None] | None,
) -> int:
    """``streak_days``; ``known`` holds the walk's first two answers when the caller read
    them already (the last review before tomorrow, and the last one before today)."""
    zone = user_zone(user)
    today = as_utc(now).astimezone(zone).date()
    cursor = day_start(today + dt.timedelta(days=1), zone)
    expected: dt.date | None = None
    streak = 0
    while True:
        if known is not None and cursor == day_start(today + dt.timedelta(days=1), zone):
            last = known[0]
        elif known is not None and cursor == day_start(today, zone):
            last = known[1]
        else:
            last = _last_review_before(session, user.id, cursor)
        if last is None:
            return streak
        day = last.astimezone(zone).date()
        if expected is None:
            if day < today - dt.timedelta(days=1):
                return 0
            expected = day
        if day != expected:
            return streak
        streak += 1
        expected = day - dt.timedelta(days=1)
        cursor = day_start(day, zone)
