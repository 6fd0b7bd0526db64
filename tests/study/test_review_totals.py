"""The stats page's stored review totals (``review_totals``, issue 19 item 5, kept by
triggers on ``review_logs``) hold exactly what the review log holds: after ratings (a
year of them, so cards turn mature), quiz answers that feed the schedule (not counted),
undo, a log row edited by hand, a user-data re-import that replaces the log, and
migration 0017's backfill from an existing log; and the page's figures read from them
equal those counted from the log. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from alembic import command
from app.config import Settings
from app.db import alembic_config, make_sessionmaker
from app.export import userdata
from app.models import Card, ReviewLog, User
from app.study import review, review_totals, stats
from app.users.service import local_user
from tests.export.history import DAY, MINUTE, T0, bank_ids, make_history, rate, seeded_engine

ZONES = ("Asia/Shanghai", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe")


def _same(session: Session, user: User) -> None:
    """Stored totals equal the log's, and the page's figures equal the log's, in each zone."""
    session.expire_all()
    stored = review_totals.stored(session, user.id)
    assert stored == review_totals.from_log(session, user.id)
    zone = user.timezone
    for name in ZONES:
        user.timezone = name
        now = T0 + 400 * DAY
        today = now.astimezone(zoneinfo.ZoneInfo(name)).date()
        start = today - dt.timedelta(days=420)
        assert stats.activity(
            session=session, user=user, start=start, today=today
        ) == stats.activity_from_log(session=session, user=user, start=start, today=today)
        assert stats.retention(session=session, user=user, today=today) == stats.retention_from_log(
            session=session, user=user, today=today
        )
    user.timezone = zone


def _check(engine: Engine) -> None:
    factory = make_sessionmaker(engine)
    with factory() as session:
        user = local_user(session=session)
        make_history(session, user)  # ratings, learning steps, a lapse, quiz answers
        quiz_logs = session.scalars(select(ReviewLog).where(ReviewLog.source != "review")).all()
        assert quiz_logs, "the history has quiz answers in the log"
        _same(session, user)
        # A year of Good on one card, at each due date: its reviews turn mature.
        qid = bank_ids(session)[5]
        at = T0 + 6 * DAY
        for _ in range(12):
            rate(session, user, qid, 3, at)
            due = session.scalars(select(Card.due).where(Card.question_id == qid)).one()
            at = max(due, at + MINUTE)
        rate(session, user, qid, 1, at)  # a lapse of a mature card: mature, not passed
        stored = review_totals.stored(session, user.id)
        assert sum(row["mature"] for row in stored.values()) >= 3
        assert sum(row["passed"] for row in stored.values()) >= 2
        _same(session, user)
        # Undo the lapse and the last Good: both leave the totals.
        before = sum(row["reviews"] for row in stored.values())
        assert review.undo_last(session=session, user=user, now=at) is not None
        assert review.undo_last(session=session, user=user, now=at) is not None
        after = review_totals.stored(session, user.id)
        assert sum(row["reviews"] for row in after.values()) == before - 2
        _same(session, user)
        # Re-import the user's own export: the log is replaced, the totals rebuilt.
        data = userdata.export_user_data(session=session, user=user, now=at)
        parsed = userdata.parse_user_data(data)
        userdata.import_user_data(session=session, user=user, data=parsed, replace=True)
        assert review_totals.stored(session, user.id) == after
        _same(session, user)
        # A log row moved by hand (another quarter hour, then a quiz answer): counted anew.
        log = session.scalars(select(ReviewLog).where(ReviewLog.source == "review")).first()
        assert log is not None
        log.reviewed_at += dt.timedelta(minutes=20)
        session.commit()
        _same(session, user)
        log.source = "quiz"
        session.commit()
        _same(session, user)
        after = review_totals.stored(session, user.id)
        session.close()
    # Migration 0017 fills the totals from an existing log.
    command.downgrade(alembic_config(engine), "0016")
    command.upgrade(alembic_config(engine), "head")
    with factory() as session:
        user = local_user(session=session)
        assert review_totals.stored(session, user.id) == after


def test_totals_follow_ratings_undo_and_reimport_on_sqlite(
    settings: Settings, tmp_path: Path, content_dir: Path
) -> None:
    engine = seeded_engine(settings, tmp_path / "data", content_dir)
    try:
        _check(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_totals_follow_ratings_undo_and_reimport_on_postgresql(
    settings: Settings, pg_url: str, tmp_path: Path, content_dir: Path
) -> None:
    pg = settings.model_copy(update={"database_url": pg_url})
    engine = seeded_engine(pg, tmp_path / "data", content_dir)
    try:
        _check(engine)
    finally:
        engine.dispose()


def test_the_triggers_are_there_at_head_on_sqlite(engine: Engine) -> None:
    """A later migration that rebuilds ``review_logs`` (an SQLite batch copies the table)
    drops its triggers, and the totals would silently stop following the log."""
    with engine.connect() as conn:
        names = set(
            conn.scalars(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                    " AND tbl_name = 'review_logs'"
                )
            )
        )
    assert names == {
        "review_totals_insert_new",
        "review_totals_delete_old",
        "review_totals_update_old",
        "review_totals_update_new",
    }
