"""The stats page's activity and true retention are read from the stored review totals
and, where a zone's days start off a quarter hour, counted from the review log in SQL
(issue 19, item 5: a year of reviews in tens of milliseconds). Here both are checked
against the definitions applied row by row in Python, on a generated history with reviews
around local midnight, on SQLite and PostgreSQL, in zones with whole-hour, half-hour and
half-hour-DST offsets."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections import Counter
from pathlib import Path
from typing import Any

import fsrs
import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from app.content.importer import import_paths
from app.db import make_sessionmaker
from app.models import Card, Question, ReviewLog
from app.study import review_totals, stats
from app.users.service import local_user
from tests.conftest import WriteMd
from tests.study.conftest import CHAPTER_A, CHAPTER_B

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
ZONES = ("Asia/Kolkata", "America/New_York", "Australia/Lord_Howe", "UTC")


def _history(session: Session, user_id: int) -> list[tuple[dt.datetime, int, Any]]:
    """Reviews of each question every day or few, at random minutes (many near
    midnight in each zone), rated at random; written with direct inserts."""
    rng = random.Random(7)
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    ids = list(session.scalars(select(Question.id).order_by(Question.id)))
    made = []
    for n, qid in enumerate(ids, start=1):
        card = fsrs.Card(card_id=n, due=NOW - dt.timedelta(days=400))
        at = NOW - dt.timedelta(days=400)
        logs = []
        while True:
            at += dt.timedelta(minutes=rng.randrange(1, 3 * 24 * 60))  # due or not
            if at >= NOW:
                break
            rating = rng.choices(list(fsrs.Rating), weights=(1, 1, 6, 2))[0]
            after, _ = scheduler.review_card(card, rating, at)
            before = None if card.last_review is None else card.to_dict()
            logs.append(
                {
                    "user_id": user_id,
                    "card_id": n,
                    "question_id": qid,
                    "rating": int(rating),
                    "reviewed_at": at,
                    "duration_ms": rng.choice([None, rng.randrange(1000, 60000)]),
                    "card_before": before,
                    "card_after": after.to_dict(),
                    "source": rng.choice(["review"] * 9 + ["quiz"]),
                }
            )
            made.append((at, int(rating), before, logs[-1]))
            card = after
        session.execute(
            insert(Card),
            [
                {
                    "id": n,
                    "user_id": user_id,
                    "question_id": qid,
                    "fsrs": card.to_dict(),
                    "due": card.due,
                    "state": int(card.state),
                }
            ],
        )
        session.execute(insert(ReviewLog), logs)
    return [(at, r, b) for at, r, b, log in made if log["source"] == "review"]


def _check(engine: Engine, content_dir: Path, write_md: WriteMd) -> None:
    write_md("a.md", CHAPTER_A)
    write_md("b.md", CHAPTER_B)
    factory = make_sessionmaker(engine)
    with factory() as session, session.begin():
        assert import_paths(session, paths=[content_dir], content_dir=content_dir, now=NOW).ok
    with factory() as session:
        user = local_user(session=session)
        with session.begin_nested():
            reviews = _history(session, user.id)
        session.commit()
        # Direct inserts: the triggers counted them all the same.
        assert review_totals.stored(session, user.id) == review_totals.from_log(session, user.id)
        assert len(reviews) > 500
        for name in ZONES:
            user.timezone = name
            zone = zoneinfo.ZoneInfo(name)
            view = stats.overview(session=session, user=user, now=NOW)
            first = stats.day_start(user, view.days[0].day)
            expected: Counter[dt.date] = Counter(
                at.astimezone(zone).date() for at, _, _ in reviews if at >= first
            )
            assert {d.day: d.reviews for d in view.days if d.reviews} == dict(expected), name
            mature = [(at, r) for at, r, before in reviews if stats.is_mature(before)]
            since = stats.day_start(user, view.today - dt.timedelta(days=stats.RECENT_DAYS - 1))
            recent = [r for at, r in mature if at >= since]
            (month, ever) = view.retention
            assert (ever.mature_reviews, ever.passed) == (
                len(mature),
                sum(r > 1 for _, r in mature),
            )
            assert (month.mature_reviews, month.passed) == (
                len(recent),
                sum(r > 1 for r in recent),
            )
            assert ever.mature_reviews > 20
            # The review log's own SQL paths (zones whose days start off a quarter hour).
            today, start = view.today, view.days[0].day
            logged = stats.retention_from_log(session=session, user=user, today=today)
            assert logged == view.retention
            days = stats.activity_from_log(session=session, user=user, start=start, today=today)
            assert days == view.days


def test_activity_and_retention_in_sql_match_the_definitions_on_sqlite(
    engine: Engine, content_dir: Path, write_md: WriteMd
) -> None:
    _check(engine, content_dir, write_md)


@pytest.mark.postgres
def test_activity_and_retention_in_sql_match_the_definitions_on_postgresql(
    pg_engine: Engine, content_dir: Path, write_md: WriteMd
) -> None:
    _check(pg_engine, content_dir, write_md)
