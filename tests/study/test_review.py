"""Showing and rating cards: stored state equals plain fsrs, labels equal what a rating
applies, one review per showing (also from two threads, on SQLite and PostgreSQL), and
exact undo."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import fsrs
import fsrs.scheduler as fsrs_scheduler
import pytest
from fsrs import Rating, State
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.content.filters import QuestionFilter
from app.db import make_engine, make_sessionmaker, migrate
from app.errors import Conflict
from app.models import LOCAL_USERNAME, Card, Question, ReviewLog, User
from app.study import review
from app.users.service import local_user
from tests.conftest import WriteMd
from tests.study.conftest import (
    ALL,
    CHAPTER_A,
    CHAPTER_B,
    DAY,
    MINUTE,
    T0,
    card_row,
    load,
    log_count,
    qid,
    rate,
)


def test_the_local_user_is_created_once(session: Session) -> None:
    first = local_user(session=session)
    again = local_user(session=session)
    assert first.id == again.id and first.username == LOCAL_USERNAME and first.is_local


def test_new_cards_come_in_chapter_file_order_with_four_previews(
    session: Session, user: User
) -> None:
    shown = review.next_card(session=session, user=user, flt=ALL, now=T0)
    assert shown is not None
    assert shown.question_id == qid(session, "问题一")
    assert (shown.version, shown.state, shown.card, shown.retrievability) == (0, 0, None, None)
    assert [shown.previews[r].label for r in (1, 2, 3)] == ["1m", "6m", "10m"]
    rate(session, user, shown.question_id, Rating.Easy, T0)
    titles = []
    for _ in range(4):
        nxt = review.next_card(session=session, user=user, flt=ALL, now=T0)
        assert nxt is not None
        titles.append(session.get(Question, nxt.question_id).title)  # type: ignore[union-attr]
        rate(session, user, nxt.question_id, Rating.Easy, T0)
    assert titles == ["问题二", "问题三", "问题四", "问题五"]
    assert review.next_card(session=session, user=user, flt=ALL, now=T0) is None


def test_stored_state_equals_plain_fsrs_for_a_sequence(
    session: Session, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    q = qid(session, "问题一")
    steps = [
        (Rating.Good, T0),
        (Rating.Good, T0 + 10 * MINUTE),
        (Rating.Again, T0 + 4 * DAY),
        (Rating.Hard, T0 + 4 * DAY + 10 * MINUTE),
        (Rating.Easy, T0 + 9 * DAY),
        (Rating.Good, T0 + 40 * DAY),
    ]
    for version, (rating, now) in enumerate(steps):
        result = rate(session, user, q, rating, now)
        assert (result.version, result.duplicate) == (version + 1, False)

    # The reference: a plain fsrs.Scheduler fed the same random draws for its fuzz.
    scheduler = fsrs.Scheduler(desired_retention=user.desired_retention)
    card = fsrs.Card(card_id=int(T0.timestamp() * 1000), due=T0)
    afters, retrievabilities = [], []
    for version, (rating, now) in enumerate(steps):
        draws = review.fuzz_rng(user_id=user.id, question_id=q, version=version)
        monkeypatch.setattr(fsrs_scheduler, "random", draws.random)
        retrievabilities.append(scheduler.get_card_retrievability(card, now) if version else None)
        card, _ = scheduler.review_card(card, rating, now)
        afters.append(card.to_dict())

    row = card_row(session, q)
    assert row is not None
    assert row.fsrs == card.to_dict()
    assert (row.due, row.state, row.reps, row.lapses, row.version) == (
        card.due,
        int(card.state),
        6,
        1,
        6,
    )
    logs = review.card_history(session=session, user=user, question_id=q)
    assert [log.card_after for log in logs] == afters
    assert [log.card_before for log in logs] == [None, *afters[:-1]]
    assert [log.rating for log in logs] == [int(r) for r, _ in steps]
    assert [log.reviewed_at for log in logs] == [now for _, now in steps]
    assert [log.lapses_before for log in logs] == [0, 0, 0, 1, 1, 1]
    assert [log.retrievability for log in logs] == retrievabilities
    assert {(log.source, log.duration_ms) for log in logs} == {("review", 1500)}


def long_card(session: Session, user: User, q: str) -> dt.datetime:
    """Rate ``q`` Easy on its due dates until its intervals are months: fuzz applies to
    every rating but Again. Returns when it is due next."""
    now = T0
    for _ in range(3):
        now = rate(session, user, q, Rating.Easy, now).due
    return now


@pytest.mark.parametrize("rating", list(Rating))
def test_previews_equal_what_the_rating_applies_with_fuzz(
    session: Session, user: User, rating: Rating
) -> None:
    q = qid(session, "问题一")
    due = long_card(session, user, q)
    flt = QuestionFilter(ids=(q,))
    shown = review.next_card(session=session, user=user, flt=flt, now=due)
    assert shown is not None and shown.state == State.Review
    # The answer took 40 s: the rating gets the previewed interval (same seeded fuzz),
    # scheduled from the moment it was made.
    took = dt.timedelta(seconds=40)
    result = rate(session, user, q, rating, due + took, shown.version)
    preview = shown.previews[rating]
    assert (result.label, result.interval) == (preview.label, preview.interval)
    assert result.due == preview.due + took
    assert card_row(session, q).fsrs == result.card  # type: ignore[union-attr]
    if rating != Rating.Again:
        assert preview.interval > dt.timedelta(days=30)


def test_undo_restores_the_card_exactly_and_removes_the_log(session: Session, user: User) -> None:
    q = qid(session, "问题一")
    due = long_card(session, user, q)
    before = card_row(session, q)
    assert before is not None
    snapshot = (
        dict(before.fsrs),
        before.due,
        before.state,
        before.reps,
        before.lapses,
        before.version,
    )
    lapsed = rate(session, user, q, Rating.Again, due)
    assert (lapsed.state, lapsed.lapses, log_count(session)) == (State.Relearning, 1, 4)
    last = review.last_review(session=session, user=user)
    assert last is not None and last.rating == Rating.Again

    undone = review.undo_last(session=session, user=user, now=due)
    assert undone is not None and undone.question_id == q and undone.rating == Rating.Again
    after = card_row(session, q)
    assert after is not None
    assert after.fsrs == snapshot[0]
    assert (after.due, after.state, after.reps, after.lapses) == snapshot[1:5]
    assert after.version == snapshot[5] + 2  # the rating and the undo each bump it
    assert undone.version == after.version and undone.card == snapshot[0] and undone.due_now
    assert log_count(session) == 3
    assert session.get(ReviewLog, last.id) is None
    # The stale showing can't be rated any more: the card moved on.
    with pytest.raises(Conflict, match="version"):
        rate(session, user, q, Rating.Good, due, version=snapshot[5] - 1)

    for _ in range(3):
        assert review.undo_last(session=session, user=user, now=due) is not None
    assert card_row(session, q) is None and log_count(session) == 0  # new again
    assert review.undo_last(session=session, user=user, now=due) is None
    shown = review.next_card(session=session, user=user, flt=ALL, now=T0)
    assert shown is not None and (shown.question_id, shown.version) == (q, 0)


def test_after_undo_the_page_can_show_that_question_again(session: Session, user: User) -> None:
    q1 = qid(session, "问题一")
    rate(session, user, q1, Rating.Good, T0)
    undone = review.undo_last(session=session, user=user, now=T0)
    assert undone is not None
    rate(session, user, q1, Rating.Easy, T0)
    rate(session, user, qid(session, "问题二"), Rating.Again, T0)
    undone = review.undo_last(session=session, user=user, now=T0)
    assert undone is not None
    shown = review.next_card(session=session, user=user, flt=ALL, now=T0, prefer=undone.question_id)
    assert shown is not None and shown.question_id == undone.question_id
    outside = QuestionFilter(company=("腾讯",))
    shown = review.next_card(session=session, user=user, flt=outside, now=T0, prefer=q1)
    assert shown is not None and shown.question_id == qid(session, "问题四")


def test_a_double_rating_of_one_showing_records_one_review(session: Session, user: User) -> None:
    q = qid(session, "问题一")
    first = rate(session, user, q, Rating.Good, T0, version=0)
    second = rate(session, user, q, Rating.Easy, T0 + MINUTE, version=0)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert (second.rating, second.due, second.version, second.card) == (
        Rating.Good,
        first.due,
        1,
        first.card,
    )
    third = rate(session, user, q, Rating.Good, T0 + 10 * MINUTE, version=1)
    fourth = rate(session, user, q, Rating.Again, T0 + 11 * MINUTE, version=1)
    assert not third.duplicate and fourth.duplicate and fourth.due == third.due
    assert log_count(session) == 2
    with pytest.raises(Conflict, match="version 7"):
        rate(session, user, q, Rating.Good, T0, version=7)


def race(
    factory: sessionmaker[Session], user_id: int, question_id: str, version: int, now: dt.datetime
) -> list[review.RateResult]:
    """Two threads, each with its own session, rate the same showing at once."""
    barrier = threading.Barrier(2)
    results: list[review.RateResult] = []
    errors: list[BaseException] = []

    def worker(rating: Rating) -> None:
        with factory() as own:
            me = own.get(User, user_id)
            assert me is not None
            barrier.wait()
            try:
                results.append(
                    review.rate(
                        session=own,
                        user=me,
                        question_id=question_id,
                        rating=rating,
                        version=version,
                        duration_ms=None,
                        now=now,
                    )
                )
            except BaseException as exc:  # surfaced below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(r,)) for r in (Rating.Good, Rating.Easy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def check_races(factory: sessionmaker[Session]) -> None:
    """Race the first showing (new card: the unique constraint decides) and the second
    (an existing card: ``UPDATE ... WHERE version``) of three questions."""
    with factory() as session:
        user_id = local_user(session=session).id
        titles = ("问题一", "问题二", "问题三")
        questions = [qid(session, t) for t in titles]
    for round_, q in enumerate(questions):
        for version, now in ((0, T0), (1, T0 + 20 * DAY)):
            results = race(factory, user_id, q, version, now + round_ * MINUTE)
            assert sorted(r.duplicate for r in results) == [False, True]
            assert results[0].due == results[1].due and results[0].version == version + 1
    with factory() as session:
        assert log_count(session) == 2 * len(questions)
        versions = session.scalars(select(Card.version).order_by(Card.id)).all()
        assert versions == [2, 2, 2]
        user = session.get(User, user_id)
        assert user is not None
        # The first reviews are told apart (SQL NULL before them) on this backend too.
        review.set_study_settings(session=session, user=user, new_per_day=4)
        counts = review.queue_counts(session=session, user=user, flt=ALL, now=T0)
        assert (counts.new_left_today, counts.reviewed_today) == (1, 3)  # 4 a day, 3 started
        assert review.undo_last(session=session, user=user, now=T0) is not None


def test_two_threads_rating_one_showing_record_one_review(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    bind = session.get_bind()
    assert isinstance(bind, Engine) and bind.url.get_backend_name() == "sqlite"
    assert bind.url.database not in (None, "", ":memory:")  # a file: real locking
    check_races(session_factory)


@pytest.mark.postgres
def test_two_threads_rating_one_showing_record_one_review_on_postgresql(
    pg_url: str, tmp_path: Path, write_md: WriteMd, content_dir: Path
) -> None:
    write_md("a.md", CHAPTER_A)
    write_md("b.md", CHAPTER_B)
    engine = make_engine(Settings(database_url=pg_url, data_dir=tmp_path))
    try:
        migrate(engine)
        factory = make_sessionmaker(engine)
        load(factory, content_dir)
        check_races(factory)
    finally:
        engine.dispose()
