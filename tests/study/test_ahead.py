"""Custom study: practising a slice ahead of schedule. A card reviewed early is
scheduled by fsrs from the real time elapsed since its last review, and practising
ahead uses up no new card of the day unless new questions were asked for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import fsrs
import fsrs.scheduler as fsrs_scheduler
import pytest
from fsrs import Rating, State
from sqlalchemy.orm import Session

from app.content.filters import QuestionFilter
from app.models import User
from app.study import review
from app.study.shown import fuzz_rng
from tests.study.conftest import ALL, DAY, MINUTE, T0, card_row, qid, rate

ALI = QuestionFilter(company=("阿里",))
ALI_FIRST_ROUND = QuestionFilter(company=("阿里",), stage=("一面",))  # 问题一 alone


def graduate(session: Session, user: User, question_id: str) -> None:
    """Learn ``question_id`` to a Review card due days from now."""
    rate(session, user, question_id, Rating.Good, T0)
    rate(session, user, question_id, Rating.Good, T0 + 10 * MINUTE)
    rate(session, user, question_id, Rating.Good, T0 + 3 * DAY)
    row = card_row(session, question_id)
    assert row is not None and row.state == State.Review
    assert row.due > T0 + 6 * DAY


def fsrs_review(
    card: dict[str, Any], rating: Rating, when: dt.datetime, rng: Any, retention: float
) -> fsrs.Card:
    """What fsrs itself computes for reviewing ``card`` at ``when`` (fuzz from ``rng``)."""
    scheduler = fsrs.Scheduler(desired_retention=retention, enable_fuzzing=True)
    saved = fsrs_scheduler.random  # type: ignore[attr-defined]
    fsrs_scheduler.random = rng.random  # type: ignore[attr-defined]
    try:
        reviewed, _ = scheduler.review_card(fsrs.Card.from_dict(card), rating, when)  # type: ignore[arg-type]
    finally:
        fsrs_scheduler.random = saved  # type: ignore[attr-defined]
    return reviewed


def test_a_card_practised_ahead_is_scheduled_from_its_real_elapsed_time(
    session: Session, user: User
) -> None:
    q = qid(session, "问题一")
    graduate(session, user, q)
    row = card_row(session, q)
    assert row is not None
    before, version, due_before = dict(row.fsrs), row.version, row.due
    early = T0 + 4 * DAY  # a day after its last review, days before it is due
    assert early < due_before
    # The ordinary queue has nothing; custom study shows the card.
    slice_ = ALI_FIRST_ROUND
    assert review.next_card(session=session, user=user, flt=slice_, now=early) is None
    shown = review.next_card(session=session, user=user, flt=slice_, now=early, ahead=early)
    assert shown is not None and shown.question_id == q and shown.version == version

    result = rate(session, user, q, Rating.Good, early)
    rng = fuzz_rng(user_id=user.id, question_id=q, version=version)
    expected = fsrs_review(before, Rating.Good, early, rng, user.desired_retention)
    row = card_row(session, q)
    assert row is not None
    assert row.fsrs["stability"] == pytest.approx(expected.stability)
    assert row.fsrs["difficulty"] == pytest.approx(expected.difficulty)
    assert dt.datetime.fromisoformat(row.fsrs["last_review"]) == early
    assert row.due == expected.due == result.due
    assert row.state == State.Review
    # The label shown was the interval applied.
    assert shown.previews[Rating.Good].label == result.label
    # An early review grows stability less than one on time would.
    on_time = fsrs_review(
        before,
        Rating.Good,
        due_before,
        fuzz_rng(user_id=0, question_id=q, version=0),
        user.desired_retention,
    )
    assert expected.stability is not None and on_time.stability is not None
    assert expected.stability < on_time.stability


def test_practising_ahead_serves_each_card_once_a_session_and_no_new_card(
    session: Session, user: User
) -> None:
    first, third = qid(session, "问题一"), qid(session, "问题三")
    graduate(session, user, first)
    graduate(session, user, third)
    now = T0 + 4 * DAY
    before = review.queue_counts(session=session, user=user, flt=ALL, now=now)
    assert before.new_left_today == 3  # 问题二, 四 and 五
    assert review.ahead_left(session=session, user=user, flt=ALI, now=now, since=now) == 2
    seen = []
    for _ in range(2):
        shown = review.next_card(session=session, user=user, flt=ALI, now=now, ahead=now)
        assert shown is not None and shown.state == State.Review
        seen.append(shown.question_id)
        rate(session, user, shown.question_id, Rating.Good, now)
    assert sorted(seen) == sorted([first, third])
    # Both practised: the session is over (and no new question came)...
    later = now + MINUTE
    assert review.next_card(session=session, user=user, flt=ALI, now=later, ahead=now) is None
    assert review.ahead_left(session=session, user=user, flt=ALI, now=later, since=now) == 0
    # ...and a new session may practise them again.
    again = review.next_card(session=session, user=user, flt=ALI, now=later, ahead=later)
    assert again is not None and again.question_id in seen
    after = review.queue_counts(session=session, user=user, flt=ALL, now=now)
    assert after.new_left_today == 3  # no new card used up
    assert after.reviewed_today == 2


def test_new_questions_come_in_custom_study_only_when_asked_for(
    session: Session, user: User
) -> None:
    user.new_per_day = 0
    session.commit()
    now = T0
    # The daily limit is spent: neither the ordinary queue nor plain custom study
    # shows a new question...
    assert review.next_card(session=session, user=user, flt=ALI, now=now) is None
    assert review.next_card(session=session, user=user, flt=ALI, now=now, ahead=now) is None
    # ...custom study with new questions does, past the limit.
    shown = review.next_card(
        session=session, user=user, flt=ALI, now=now, ahead=now, include_new=True
    )
    assert shown is not None and shown.state == 0
    assert shown.question_id in (qid(session, "问题一"), qid(session, "问题三"))


def test_next_due_is_the_slices_earliest_card(session: Session, user: User) -> None:
    assert review.next_due(session=session, user=user, flt=ALL) is None
    q = qid(session, "问题四")
    result = rate(session, user, q, Rating.Good, T0)
    assert review.next_due(session=session, user=user, flt=ALL) == result.due
    assert review.next_due(session=session, user=user, flt=ALI) is None
