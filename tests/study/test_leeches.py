"""Leeches: flagged at the threshold's lapse (and every half threshold after), taken back
by undo, listed, put back; the threshold is a checked setting."""

from __future__ import annotations

import datetime as dt

import pytest
from fsrs import Rating, State
from sqlalchemy.orm import Session

from app.errors import NotFound, Unprocessable
from app.models import User
from app.study import leeches, review
from tests.study.conftest import ALL, DAY, MINUTE, T0, card_row, qid, rate


def lapse_times(session: Session, user: User, q: str, lapses: int) -> list[dt.datetime]:
    """Graduate ``q`` and make it lapse ``lapses`` times, one day apart; the times of
    the lapses."""
    rate(session, user, q, Rating.Good, T0)
    rate(session, user, q, Rating.Good, T0 + 10 * MINUTE)
    times = []
    for i in range(1, lapses + 1):
        at = T0 + i * DAY
        row = card_row(session, q)
        assert row is not None and row.state == State.Review
        rate(session, user, q, Rating.Again, at)
        times.append(at)
        rate(session, user, q, Rating.Good, at + 10 * MINUTE)
    return times


def test_the_rule_is_ankis() -> None:
    flagged = [
        n for n in range(1, 21) if leeches.becomes_leech(lapses_after=n, threshold=8, lapsed=True)
    ]
    assert flagged == [8, 12, 16, 20]
    assert not leeches.becomes_leech(lapses_after=8, threshold=8, lapsed=False)
    every = [
        n for n in range(1, 4) if leeches.becomes_leech(lapses_after=n, threshold=1, lapsed=True)
    ]
    assert every == [1, 2, 3]


def test_a_card_is_flagged_at_the_threshold_and_listed(session: Session, user: User) -> None:
    user.leech_threshold = 3
    session.commit()
    q = qid(session, "问题一")
    times = lapse_times(session, user, q, 2)
    row = card_row(session, q)
    assert row is not None and row.lapses == 2 and row.leech_at is None
    assert leeches.list_leeches(session=session, user=user) == []

    at = T0 + 3 * DAY
    rate(session, user, q, Rating.Again, at)
    row = card_row(session, q)
    assert row is not None and row.lapses == 3 and row.leech_at == at
    listed = leeches.list_leeches(session=session, user=user)
    assert [(x.question_id, x.lapses, x.leech_at, x.claims) for x in listed] == [(q, 3, at, 0)]
    assert times == [T0 + DAY, T0 + 2 * DAY]


def test_a_leech_is_not_served_by_the_review_queue(session: Session, user: User) -> None:
    """Needs ``Card.leech_at.is_(None)`` in ``app.study.queue`` (owned by another change)."""
    user.leech_threshold = 1
    user.new_per_day = 0
    session.commit()
    q = qid(session, "问题一")
    lapse_times(session, user, q, 1)
    row = card_row(session, q)
    assert row is not None and row.leech_at is not None
    # Due again by day 2 (without the flag it would be shown), but a leech.
    shown = review.next_card(session=session, user=user, flt=ALL, now=T0 + 2 * DAY)
    assert shown is None


def test_undo_takes_the_flag_back_with_the_lapse(session: Session, user: User) -> None:
    user.leech_threshold = 1
    session.commit()
    q = qid(session, "问题一")
    rate(session, user, q, Rating.Good, T0)
    rate(session, user, q, Rating.Good, T0 + 10 * MINUTE)
    rate(session, user, q, Rating.Again, T0 + DAY)
    row = card_row(session, q)
    assert row is not None and row.leech_at == T0 + DAY and row.lapses == 1

    undone = review.undo_last(session=session, user=user, now=T0 + DAY + MINUTE)
    assert undone is not None and undone.rating == Rating.Again
    row = card_row(session, q)
    assert row is not None and row.leech_at is None and row.lapses == 0
    assert row.state == State.Review


def test_undo_keeps_a_flag_an_earlier_review_set(session: Session, user: User) -> None:
    user.leech_threshold = 1
    session.commit()
    q = qid(session, "问题一")
    rate(session, user, q, Rating.Good, T0)
    rate(session, user, q, Rating.Good, T0 + 10 * MINUTE)
    rate(session, user, q, Rating.Again, T0 + DAY)
    rate(session, user, q, Rating.Good, T0 + DAY + 10 * MINUTE)  # e.g. from a filtered link
    review.undo_last(session=session, user=user, now=T0 + DAY + 11 * MINUTE)
    row = card_row(session, q)
    assert row is not None and row.leech_at == T0 + DAY


def test_put_back_returns_the_leech_to_the_queue(session: Session, user: User) -> None:
    user.leech_threshold = 4
    session.commit()
    q = qid(session, "问题一")
    lapse_times(session, user, q, 4)
    assert [x.question_id for x in leeches.list_leeches(session=session, user=user)] == [q]

    assert leeches.put_back(session=session, user=user, question_id=q) is True
    assert leeches.put_back(session=session, user=user, question_id=q) is False
    assert leeches.list_leeches(session=session, user=user) == []
    row = card_row(session, q)
    assert row is not None and row.leech_at is None and row.lapses == 4
    # The next flag comes half a threshold later (lapse 6), not at the next lapse.
    rate(session, user, q, Rating.Again, T0 + 10 * DAY)
    assert card_row(session, q).leech_at is None  # type: ignore[union-attr]
    rate(session, user, q, Rating.Good, T0 + 10 * DAY + 10 * MINUTE)
    rate(session, user, q, Rating.Again, T0 + 30 * DAY)
    assert card_row(session, q).leech_at == T0 + 30 * DAY  # type: ignore[union-attr]

    with pytest.raises(NotFound):
        leeches.put_back(session=session, user=user, question_id=qid(session, "问题二"))


def test_the_threshold_is_a_checked_setting(session: Session, user: User) -> None:
    review.set_study_settings(session=session, user=user, leech_threshold=100)
    assert user.leech_threshold == 100
    for bad in (0, 101, True):
        with pytest.raises(Unprocessable) as err:
            review.set_study_settings(session=session, user=user, leech_threshold=bad)
        assert err.value.field == "leech_threshold"
    assert user.leech_threshold == 100
