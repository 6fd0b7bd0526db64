"""The queue: the daily new-card limit, study days and streaks in the user's time zone,
filters, archived questions, learn-ahead, and settings and errors that name the field
and the value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fsrs import Rating, State
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.content.filters import QuestionFilter
from app.errors import NotFound, Unprocessable
from app.models import Card, User
from app.study import review
from tests.conftest import WriteMd
from tests.study.conftest import (
    ALL,
    CHAPTER_A,
    DAY,
    MINUTE,
    T0,
    load,
    log_count,
    qid,
    rate,
)


def test_the_daily_new_card_limit(session: Session, user: User) -> None:
    review.set_study_settings(session=session, user=user, new_per_day=2)
    counts = review.queue_counts(session=session, user=user, flt=ALL, now=T0)
    assert (counts.new_left_today, counts.new_available) == (2, 5)
    for _ in range(2):
        shown = review.next_card(session=session, user=user, flt=ALL, now=T0)
        assert shown is not None and shown.version == 0
        rate(session, user, shown.question_id, Rating.Easy, T0)
    assert review.next_card(session=session, user=user, flt=ALL, now=T0 + MINUTE) is None
    counts = review.queue_counts(session=session, user=user, flt=ALL, now=T0 + MINUTE)
    assert (counts.new_left_today, counts.new_available, counts.reviewed_today) == (0, 3, 2)
    # Undoing a first review gives its place back; the next day brings a fresh allowance.
    review.undo_last(session=session, user=user, now=T0)
    assert review.queue_counts(session=session, user=user, flt=ALL, now=T0).new_left_today == 1
    tomorrow = review.queue_counts(session=session, user=user, flt=ALL, now=T0 + DAY)
    assert (tomorrow.new_left_today, tomorrow.new_available) == (2, 4)
    # The limit never exceeds what the filter has left.
    one = QuestionFilter(company=("快手",))
    assert (
        review.queue_counts(session=session, user=user, flt=one, now=T0 + DAY).new_left_today == 1
    )


def test_study_days_and_the_streak_follow_the_users_time_zone(session: Session, user: User) -> None:
    review.set_study_settings(session=session, user=user, timezone="Asia/Shanghai")
    start, end = review.study_day_bounds(user=user, now=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    assert (start, end) == (
        dt.datetime(2026, 3, 1, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 2, 16, tzinfo=dt.UTC),
    )
    # 17:00 UTC on 1 March and 10:00 UTC on 2 March: two UTC days, one Shanghai day.
    rate(
        session,
        user,
        qid(session, "问题一"),
        Rating.Easy,
        dt.datetime(2026, 3, 1, 17, tzinfo=dt.UTC),
    )
    rate(
        session,
        user,
        qid(session, "问题二"),
        Rating.Easy,
        dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
    )

    def streak(zone: str, now: dt.datetime) -> int:
        review.set_study_settings(session=session, user=user, timezone=zone)
        return review.queue_counts(session=session, user=user, flt=ALL, now=now).streak_days

    evening = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)  # 20:00 in Shanghai
    assert streak("Asia/Shanghai", evening) == 1
    assert streak("UTC", evening) == 2
    # Next morning in Shanghai, nothing reviewed yet: the streak holds until the day ends.
    assert streak("Asia/Shanghai", dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)) == 1
    assert streak("Asia/Shanghai", dt.datetime(2026, 3, 3, 17, tzinfo=dt.UTC)) == 0
    # A review the day before extends it.
    rate(
        session,
        user,
        qid(session, "问题三"),
        Rating.Easy,
        dt.datetime(2026, 2, 28, 23, tzinfo=dt.UTC),
    )
    assert streak("Asia/Shanghai", evening) == 2
    counts = review.queue_counts(session=session, user=user, flt=ALL, now=evening)
    assert counts.reviewed_today == 2


def test_a_study_day_is_23_hours_when_clocks_go_forward() -> None:
    user = User(username="x", timezone="America/New_York")
    start, end = review.study_day_bounds(user=user, now=dt.datetime(2026, 3, 8, 15, tzinfo=dt.UTC))
    assert end - start == dt.timedelta(hours=23)
    assert start == dt.datetime(2026, 3, 8, 5, tzinfo=dt.UTC)


def test_counts_and_the_queue_honour_the_filter(session: Session, user: User) -> None:
    def counts(flt: QuestionFilter, now: dt.datetime = T0) -> tuple[int, int]:
        c = review.queue_counts(session=session, user=user, flt=flt, now=now)
        return c.due_today, c.new_available

    ali, lora = QuestionFilter(company=("阿里",)), QuestionFilter(tag=("LoRA",))
    assert counts(ALL) == (0, 5)
    assert counts(ali) == (0, 2)
    assert counts(lora) == (0, 2)  # LoRA and LORA are one tag
    assert counts(QuestionFilter(company=("阿里",), tag=("LoRA",))) == (0, 1)
    for title in ("问题一", "问题二", "问题四"):
        rate(session, user, qid(session, title), Rating.Easy, T0)
    later = T0 + 60 * DAY
    assert counts(ali, later) == (1, 1)
    assert counts(lora, later) == (2, 0)
    assert counts(QuestionFilter(tag=("RLHF",)), later) == (0, 1)
    shown = review.next_card(
        session=session, user=user, flt=QuestionFilter(company=("美团",)), now=later
    )
    assert shown is not None and shown.question_id == qid(session, "问题二")
    assert shown.state == State.Review and shown.retrievability is not None


def test_archived_questions_never_show(
    session_factory: sessionmaker[Session],
    session: Session,
    user: User,
    write_md: WriteMd,
    content_dir: Path,
) -> None:
    gone = qid(session, "问题一")
    rate(session, user, gone, Rating.Easy, T0)
    write_md("a.md", CHAPTER_A.replace("### Q. 问题一", "### Q. 问题零"))
    load(session_factory, content_dir, now=T0 + DAY)
    later = T0 + 90 * DAY
    assert review.queue_counts(session=session, user=user, flt=ALL, now=later).due_today == 0
    seen = set()
    while shown := review.next_card(session=session, user=user, flt=ALL, now=later, prefer=gone):
        seen.add(shown.question_id)
        rate(session, user, shown.question_id, Rating.Easy, later)
    assert gone not in seen and len(seen) == 5
    with pytest.raises(NotFound, match=f"{gone!r} is archived") as err:
        rate(session, user, gone, Rating.Good, later, version=1)
    assert err.value.status_code == 404


def test_learning_cards_are_shown_ahead_only_when_nothing_else_is_left(
    session: Session, user: User
) -> None:
    q = qid(session, "问题五")
    only = QuestionFilter(ids=(q,))
    rate(session, user, q, Rating.Good, T0)  # learning, due in 10 minutes
    shown = review.next_card(session=session, user=user, flt=ALL, now=T0 + MINUTE)
    assert shown is not None and shown.question_id != q  # new cards come first
    shown = review.next_card(session=session, user=user, flt=only, now=T0 + MINUTE)
    assert shown is not None and shown.question_id == q  # 9 minutes early: learn ahead
    session.execute(update(Card).values(due=T0 + 40 * MINUTE))
    session.commit()
    assert review.next_card(session=session, user=user, flt=only, now=T0 + MINUTE) is None
    assert review.queue_counts(session=session, user=user, flt=only, now=T0 + MINUTE).due_today == 1


def test_review_cards_due_later_today_are_due_now(session: Session, user: User) -> None:
    q = qid(session, "问题五")
    due = rate(session, user, q, Rating.Easy, T0).due  # a review card, due at 01:00 UTC
    morning = due.replace(hour=0)  # earlier the same (UTC) study day
    shown = review.next_card(session=session, user=user, flt=QuestionFilter(ids=(q,)), now=morning)
    assert shown is not None and shown.question_id == q


def test_errors_name_the_field_and_the_value(session: Session, user: User) -> None:
    q = qid(session, "问题一")

    def fails(field: str, *texts: str, **kwargs: Any) -> None:
        args: dict[str, Any] = {"question_id": q, "rating": 3, "version": 0, "duration_ms": None}
        with pytest.raises(Unprocessable) as err:
            review.rate(session=session, user=user, now=T0, **(args | kwargs))
        assert err.value.field == field and err.value.status_code == 422
        for text in texts:
            assert text in err.value.message

    fails("rating", "rating 5", "1 (Again), 2 (Hard), 3 (Good), 4 (Easy)", rating=5)
    fails("rating", "rating 0", rating=0)
    fails("version", "version -1", version=-1)
    fails("duration_ms", "duration_ms -3", duration_ms=-3)
    with pytest.raises(NotFound, match="'nope' does not exist"):
        review.rate(
            session=session,
            user=user,
            question_id="nope",
            rating=3,
            version=0,
            duration_ms=None,
            now=T0,
        )
    with pytest.raises(ValueError, match="naive"):
        review.rate(
            session=session,
            user=user,
            question_id=q,
            rating=3,
            version=0,
            duration_ms=None,
            now=dt.datetime(2026, 1, 1),
        )
    assert log_count(session) == 0

    def bad_setting(field: str, *texts: str, **kwargs: Any) -> None:
        with pytest.raises(Unprocessable) as err:
            review.set_study_settings(session=session, user=user, **kwargs)
        assert err.value.field == field
        for text in texts:
            assert text in err.value.message

    bad_setting("new_per_day", "10000", "9999", new_per_day=10000)
    bad_setting("new_per_day", "-1", new_per_day=-1)
    bad_setting("desired_retention", "0.5", "0.70", "0.99", desired_retention=0.5)
    bad_setting("desired_retention", "nan", desired_retention=float("nan"))
    bad_setting("timezone", "'Mars/Olympus'", timezone="Mars/Olympus")
    # Nothing changes when one value is wrong.
    bad_setting("timezone", timezone="Nowhere", new_per_day=7)
    assert (user.new_per_day, user.desired_retention, user.timezone) == (20, 0.9, "UTC")
    review.set_study_settings(
        session=session, user=user, new_per_day=0, desired_retention=0.99, timezone="Asia/Tokyo"
    )
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored is not None
    assert (stored.new_per_day, stored.desired_retention, stored.timezone) == (
        0,
        0.99,
        "Asia/Tokyo",
    )
