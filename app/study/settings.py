"""Study settings: the daily new-card limit, desired retention, time zone, whether
wrong quiz answers feed the review schedule, and the lapses that make a card a leech."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.i18n import mark as _
from app.models import User
from app.study.leeches import LEECH_THRESHOLD_RANGE
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
    leech_threshold: int | None = None,
) -> User:
    """Change the daily new-card limit, desired retention, time zone, whether a wrong
    quiz answer counts as an Again, or the leech threshold (``None``: keep).
    Everything is checked before anything changes."""
    low, high = NEW_PER_DAY_RANGE
    if new_per_day is not None and (
        isinstance(new_per_day, bool) or not low <= new_per_day <= high
    ):
        raise Unprocessable(
            _("new_per_day %(value)s must be a whole number from %(low)d to %(high)d"),
            value=repr(new_per_day),
            low=low,
            high=high,
            field="new_per_day",
        )
    lo, hi = RETENTION_RANGE
    if desired_retention is not None and not lo <= desired_retention <= hi:  # NaN fails too
        raise Unprocessable(
            _("desired_retention %(value)s must be from %(low).2f to %(high).2f"),
            value=repr(desired_retention),
            low=lo,
            high=hi,
            field="desired_retention",
        )
    zone = timezone.strip() if timezone is not None else None
    if zone is not None and zone not in iana_zones():
        raise Unprocessable(
            _("timezone %(zone)s is not an IANA time zone such as 'Asia/Shanghai' or 'UTC'"),
            zone=repr(timezone),
            field="timezone",
        )
    lo_leech, hi_leech = LEECH_THRESHOLD_RANGE
    if leech_threshold is not None and (
        isinstance(leech_threshold, bool) or not lo_leech <= leech_threshold <= hi_leech
    ):
        raise Unprocessable(
            _("leech_threshold %(value)s must be a whole number from %(low)d to %(high)d"),
            value=repr(leech_threshold),
            low=lo_leech,
            high=hi_leech,
            field="leech_threshold",
        )
    if new_per_day is not None:
        user.new_per_day = new_per_day
    if desired_retention is not None:
        user.desired_retention = float(desired_retention)
    if zone is not None:
        user.timezone = zone
    if quiz_feeds_reviews is not None:
        user.quiz_feeds_reviews = quiz_feeds_reviews
    if leech_threshold is not None:
        user.leech_threshold = leech_threshold
    session.commit()
    return user
