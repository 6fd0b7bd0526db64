"""``cards.stability`` and ``cards.last_review`` (migration 0019: what the stats page's
recall reads instead of the card's JSON) agree with ``cards.fsrs`` after everything that
writes a card: ratings (a new card, a review, quiz answers, a lapse), undo (back to an
earlier state and back to new), relearning a changed answer, a user-data import, a
direct insert that leaves them out, and migration 0019's backfill of existing cards
(one with a time stored at another UTC offset). On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from alembic import command
from app.config import Settings
from app.db import alembic_config, make_sessionmaker
from app.export import userdata
from app.models import Card, User
from app.study import coverage, relearn, review, scheduler
from app.users.service import local_user
from tests.export.history import DAY, T0, bank_ids, make_history, rate, seeded_engine


def _agree(session: Session, user: User) -> int:
    """Every card's columns equal its JSON's two fields; the recall read from them equals
    fsrs's own. The number of cards checked."""
    session.expire_all()
    cards = session.scalars(select(Card).where(Card.user_id == user.id)).all()
    for card in cards:
        stability, last = card.fsrs.get("stability"), card.fsrs.get("last_review")
        assert card.stability == stability, card.question_id
        expected = None if last is None else dt.datetime.fromisoformat(last)
        assert card.last_review == expected, card.question_id
        assert card.last_review is None or card.last_review.tzinfo is not None
    sched = scheduler.make_scheduler(user.desired_retention, user.fsrs_parameters)
    for now in (T0, T0 + DAY, T0 + 40 * DAY + dt.timedelta(microseconds=7)):
        expected_recall = {
            c.question_id: float(
                sched.get_card_retrievability(scheduler.load(c.fsrs, now=now), now)
            )
            for c in cards
        }
        assert coverage.recall_now(session=session, user=user, now=now) == expected_recall
    return len(cards)


def _check(engine: Engine) -> None:
    factory = make_sessionmaker(engine)
    with factory() as session:
        user = local_user(session=session)
        make_history(session, user)  # new cards, reviews, a lapse, quiz answers
        assert _agree(session, user) >= 3
        qid = bank_ids(session)[6]
        rate(session, user, qid, 3, T0 + 2 * DAY)  # a new card
        rate(session, user, qid, 1, T0 + 3 * DAY + dt.timedelta(microseconds=123))
        assert _agree(session, user)
        # Undo: back to the first review's card, then back to new (no card).
        assert review.undo_last(session=session, user=user, now=T0 + 4 * DAY) is not None
        _agree(session, user)
        assert review.undo_last(session=session, user=user, now=T0 + 4 * DAY) is not None
        assert session.scalar(select(Card.id).where(Card.question_id == qid)) is None
        _agree(session, user)
        # Relearning a changed answer: a never-reviewed card again (both columns None).
        reviewed = session.scalars(select(Card).where(Card.stability.is_not(None))).first()
        assert reviewed is not None
        relearnt = reviewed.question_id
        session.execute(
            update(Card).where(Card.id == reviewed.id).values(answer_changed_at=T0 + 5 * DAY)
        )
        session.commit()
        assert relearn.relearn(session=session, user=user, question_id=relearnt, now=T0 + 5 * DAY)
        row = session.scalars(select(Card).where(Card.question_id == relearnt)).one()
        assert (row.stability, row.last_review) == (None, None)
        _agree(session, user)
        # The user's own export imported back: cards written from their JSON alone.
        data = userdata.export_user_data(session=session, user=user, now=T0 + 6 * DAY)
        parsed = userdata.parse_user_data(data)
        userdata.import_user_data(session=session, user=user, data=parsed, replace=True)
        assert _agree(session, user) >= 3
        # A direct insert that leaves the columns out: the column defaults fill them.
        source = session.scalars(select(Card).where(Card.stability.is_not(None))).first()
        assert source is not None
        session.execute(
            insert(Card),
            [
                {
                    "user_id": user.id,
                    "question_id": bank_ids(session)[7],
                    "fsrs": dict(source.fsrs),
                    "due": T0 + 9 * DAY,
                    "state": 2,
                }
            ],
        )
        session.commit()
        _agree(session, user)
        session.close()
    # Migration 0019 fills the columns of existing cards from their JSON, a time stored
    # at +08:00 taken to UTC.
    command.downgrade(alembic_config(engine), "0018")
    with engine.begin() as conn:
        found = conn.execute(
            select(Card.id, Card.fsrs).where(Card.fsrs["last_review"].isnot(None))
        ).first()
        assert found is not None
        card_id, card = found
        at = dt.datetime.fromisoformat(card["last_review"]).astimezone(
            dt.timezone(dt.timedelta(hours=8))
        )
        # Core UPDATE on the table: the model at head has columns this schema lacks.
        conn.execute(
            update(Card.__table__)  # type: ignore[arg-type]
            .where(Card.__table__.c.id == card_id)
            .values(fsrs={**card, "last_review": at.isoformat()})
        )
    command.upgrade(alembic_config(engine), "head")
    with factory() as session:
        user = local_user(session=session)
        shifted = session.get(Card, card_id)
        assert shifted is not None and shifted.last_review == at
        assert shifted.last_review is not None
        assert shifted.last_review.utcoffset() == dt.timedelta(0)
        assert _agree(session, user) >= 3


def test_columns_follow_the_json_on_sqlite(
    settings: Settings, tmp_path: Path, content_dir: Path
) -> None:
    engine = seeded_engine(settings, tmp_path / "data", content_dir)
    try:
        _check(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_columns_follow_the_json_on_postgresql(
    settings: Settings, pg_url: str, tmp_path: Path, content_dir: Path
) -> None:
    pg = settings.model_copy(update={"database_url": pg_url})
    engine = seeded_engine(pg, tmp_path / "data", content_dir)
    try:
        _check(engine)
    finally:
        engine.dispose()
