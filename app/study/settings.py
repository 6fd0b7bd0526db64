"""Study settings: the daily new-card limit, desired retention, time zone, and whether
wrong quiz answers feed the review schedule."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.models import User
from app.study.queue import iana_zones

NEW_PER_DAY_RANGE = (0, 9999)
RETENTION_RANGE = (0.70, 0.99)


def set_study_settings(
    *,
    session: Session,
    user: User,
    new_per_day: int | None = None,
    desired_retention: float | None = None,
    timezone: str | None = None,
    quiz_feeds_reviews: bool | None = None,
) -> User:
    """Change the daily new-card limit, desired retention, time zone or whether a wrong
    quiz answer counts as an Again (``None``: keep).
    Everything is checked before anything changes."""
    low, high = NEW_PER_DAY_RANGE
    if new_per_day is not None and (
        isinstance(new_per_day, bool) or not low <= new_per_day <= high
    ):
        raise Unprocessable(
            f"new_per_day {new_per_day!r} must be a whole number from {low} to {high}",
            field="new_per_day",
        )
    lo, hi = RETENTION_RANGE
    if desired_retention is not None and not lo <= desired_retention <= hi:  # NaN fails too
        raise Unprocessable(
            f"desired_retention {desired_retention!r} must be from {lo:.2f} to {hi:.2f}",
            field="desired_retention",
        )
    zone = timezone.strip() if timezone is not None else None
    if zone is not None and zone not in iana_zones():
        raise Unprocessable(
            f"timezone {timezone!r} is not an IANA time zone such as 'Asia/Shanghai' or 'UTC'",
            field="timezone",
        )
    if new_per_day is not None:
        user.new_per_day = new_per_day
    if desired_retention is not None:
        user.desired_retention = float(desired_retention)
    if zone is not None:
        user.timezone = zone
    if quiz_feeds_reviews is not None:
        user.quiz_feeds_reviews = quiz_feeds_reviews
    session.commit()
    return user
