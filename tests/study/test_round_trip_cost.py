"""The review loop's database work per round trip stays small (issue 19): the counts are
one statement, picking the next card at most three, a rating one read and its writes.
Counted on the engine, so an added query per request fails here before the bench."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from fsrs import Rating
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.content.queries import get_question
from app.models import Question, ReviewLog, User
from app.study import review
from app.study.days import day_start, review_days_from_log, review_days_from_totals, streak_days
from app.study.undo import undo_last
from tests.study.conftest import ALL, DAY, MINUTE, T0, qid, rate


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements ``session`` sends while the block runs."""
    seen: list[str] = []
    engine = session.get_bind()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_queue_counts_is_one_statement_without_an_interview(session: Session, user: User) -> None:
    rate(session, user, qid(session, "问题一"), Rating.Good, T0)
    with statements(session) as seen:
        counts = review.queue_counts(session=session, user=user, flt=ALL, now=T0 + MINUTE)
    assert seen == ["SELECT"]
    assert (counts.reviewed_today, counts.new_available, counts.streak_days) == (1, 4, 1)


def test_next_card_and_rating_stay_within_their_statement_budget(
    session: Session, user: User
) -> None:
    with statements(session) as seen:
        shown = review.next_card(session=session, user=user, flt=ALL, now=T0)
    assert shown is not None
    # The interview check with today's starts, the due card, the first new question.
    assert len(seen) <= 3, seen
    with statements(session) as seen:
        review.rate(
            session=session,
            user=user,
            question_id=shown.question_id,
            rating=3,
            version=shown.version,
            duration_ms=1000,
            now=T0,
        )
    # One read (question state and card), the card and its log written.
    assert seen.count("SELECT") == 1, seen
    assert seen.count("INSERT") + seen.count("UPDATE") == 2, seen


def test_the_streak_read_with_the_counts_matches_the_day_by_day_walk(
    session: Session, user: User
) -> None:
    titles = ["问题一", "问题二", "问题三", "问题四"]
    for days_ago, title in enumerate(titles):
        rate(session, user, qid(session, title), Rating.Easy, T0 + 3 * DAY - days_ago * DAY)
    for now in (T0 + 3 * DAY, T0 + 4 * DAY, T0 + 5 * DAY, T0 + 2 * DAY + MINUTE):
        counts = review.queue_counts(session=session, user=user, flt=ALL, now=now)
        assert counts.streak_days == streak_days(session=session, user=user, now=now)
    assert (
        review.queue_counts(session=session, user=user, flt=ALL, now=T0 + 3 * DAY).streak_days == 4
    )
    assert (
        review.queue_counts(session=session, user=user, flt=ALL, now=T0 + 4 * DAY).streak_days == 4
    )
    assert (
        review.queue_counts(session=session, user=user, flt=ALL, now=T0 + 5 * DAY).streak_days == 0
    )


def test_a_long_streak_is_read_in_a_few_statements_in_a_half_hour_zone(
    session: Session, user: User
) -> None:
    # One review a day for 150 days, but none on the 11th; in a zone half an hour off UTC
    # reviews at 18:45 UTC fall on the next local day.
    user.timezone = "Asia/Kolkata"
    first = T0.replace(hour=18, minute=45)
    question = qid(session, "问题一")
    for day in range(150):
        if day != 10:
            rate(session, user, question, Rating.Good, first + day * DAY)
    now = first + 149 * DAY + MINUTE
    zone = ZoneInfo("Asia/Kolkata")
    days = {at.astimezone(zone).date() for at in session.scalars(select(ReviewLog.reviewed_at))}
    today, expected = now.astimezone(zone).date(), 0
    while today - dt.timedelta(days=expected) in days:
        expected += 1
    assert expected == 139  # the 139 days after the gap
    with statements(session) as seen:
        assert streak_days(session=session, user=user, now=now) == expected
    assert len(seen) <= 4, seen  # the last review, then blocks of 32 and 128 days
    # Past its last day (two days without a review) the streak is over.
    assert streak_days(session=session, user=user, now=now + 2 * DAY) == 0
    # The days are read from the review totals (quarter hours); the log says the same,
    # undone reviews included.
    start, end = min(days) - dt.timedelta(days=3), max(days) + dt.timedelta(days=2)
    starts = [
        day_start(start + i * dt.timedelta(days=1), zone) for i in range((end - start).days + 1)
    ]
    assert review_days_from_totals(session, user.id, start, starts) == days
    assert review_days_from_log(session, user.id, zone, start, end) == days
    assert undo_last(session=session, user=user, now=now + MINUTE) is not None
    last_day = max(days)
    assert review_days_from_totals(session, user.id, start, starts) == days - {last_day}
    assert review_days_from_log(session, user.id, zone, start, end) == days - {last_day}


def test_the_shown_question_is_two_statements(session: Session, user: User) -> None:
    question_id = qid(session, "问题一")
    with statements(session) as seen:
        question = get_question(session=session, question_id=question_id)
    # The question with its chapter; its asked records and tags together.
    assert seen == ["SELECT", "SELECT"]
    assert question.id == question_id and question.title == "问题一"
    # The same as the ORM's relationships read them, in their order.
    row = session.get(Question, question_id)
    assert row is not None
    assert question.chapter_slug == row.chapter.slug
    assert question.tags == row.tags and question.tags
    assert [(a.company, a.role, a.stage, a.date) for a in question.asked] == [
        (a.company, a.role, a.stage, a.date) for a in row.asked
    ]
