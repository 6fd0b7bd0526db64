"""The first new card (``queue_sql.first_new``, which seeks from the user's mark kept by
migration 0019's triggers) is always the definition: the first active question under
the filter, in bank order, without a card of the user. Cards are made out of order
(ratings under filters, cards inserted directly as quizzes and imports do), undone, and
the bank re-imported with questions added, moved and archived; SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fsrs import Rating
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.content.filters import QuestionFilter, filtered_ids
from app.db import make_engine, make_sessionmaker, migrate
from app.models import Card, NewCardMark, Question, User
from app.study import queue, queue_sql
from app.study.undo import undo_last
from app.users.service import local_user
from app.web.filter_cache import bank_version
from tests.conftest import WriteMd
from tests.study.conftest import ALL, MINUTE, T0, load, rate

FILTERS = (ALL, QuestionFilter(tag=("LoRA",)), QuestionFilter(company=("阿里",)))


def _chapter(name: str, titles: list[str]) -> str:
    body = "".join(
        f"### Q. {t}\n> **Company**: {'阿里' if i % 3 == 0 else '美团'} | "
        f"**Tags**: [{'LoRA' if i % 2 else 'RLHF'}]\n答案 {t}\n"
        for i, t in enumerate(titles)
    )
    return f"# {name}\n{body}"


def _bank(write_md: WriteMd, extra: str | None = None, drop: str | None = None) -> None:
    for chapter in ("a", "b", "c"):
        titles = [f"{chapter}{i}" for i in range(8) if f"{chapter}{i}" != drop]
        if extra is not None and chapter == "b":
            titles.insert(0, extra)
        write_md(f"{chapter}.md", _chapter(f"第{chapter}章", titles))


def _definition(session: Session, user: User, flt: QuestionFilter) -> str | None:
    carded = set(session.scalars(select(Card.question_id).where(Card.user_id == user.id)))
    ordered = filtered_ids(flt).order_by(Question.source_file, Question.position)
    return next((q for q in session.scalars(ordered) if q not in carded), None)


def _check(session: Session, user: User) -> None:
    for flt in FILTERS:
        picked = session.scalars(queue_sql.first_new(flt), {"user_id": user.id}).first()
        assert picked == _definition(session, user, flt), flt
    first = _definition(session, user, ALL)
    mark = session.get(NewCardMark, user.id, populate_existing=True)
    assert mark is not None
    if first is not None and mark.bank == bank_version(session):
        question = session.get(Question, first)
        assert question is not None
        # A current mark never passes the first new question (it may trail it).
        assert (mark.source_file, mark.position) <= (question.source_file, question.position)


def _card(session: Session, user: User, question_id: str) -> None:
    """A card made the way a quiz or a user-data import makes one: inserted directly."""
    session.add(
        Card(user_id=user.id, question_id=question_id, fsrs={}, due=T0 + 30 * MINUTE, state=2)
    )
    session.commit()


def _scenario(factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path) -> None:
    _bank(write_md)
    load(factory, content_dir)
    rng = random.Random(19)
    now = T0
    with factory() as session:
        user = local_user(session=session)
        _check(session, user)
        ids = list(
            session.scalars(filtered_ids(ALL).order_by(Question.source_file, Question.position))
        )
        # In bank order, then out of order: a later question first, the gap after.
        for question_id in ids[:3] + [ids[6], ids[4], ids[3]]:
            now += MINUTE
            rate(session, user, question_id, Rating.Good, now)
            _check(session, user)
        assert _definition(session, user, ALL) == ids[5]
        # Undo takes the last card away again (ids[3]): the first new goes back to it.
        assert undo_last(session=session, user=user, now=now) is not None
        _check(session, user)
        assert _definition(session, user, ALL) == ids[3]
        for _ in range(30):
            question_id = rng.choice(ids)
            if session.scalar(select(Card.id).where(Card.question_id == question_id)) is None:
                _card(session, user, question_id)
            elif rng.random() < 0.3:
                session.execute(delete(Card).where(Card.question_id == question_id))
                session.commit()
            _check(session, user)
        # What the review loop serves as new follows too.
        shown = queue.pick_next(session=session, user=user, flt=ALL, now=now, new="all")
        assert shown is not None and shown[0] in (
            _definition(session, user, ALL),
            *session.scalars(select(Card.question_id)),
        )
        for question_id in ids[:12]:
            if session.scalar(select(Card.id).where(Card.question_id == question_id)) is None:
                _card(session, user, question_id)
        _check(session, user)
    # A re-import adds a question before the user's mark and archives a carded one.
    _bank(write_md, extra="new first of b", drop="a1")
    load(factory, content_dir, now=T0 + 60 * MINUTE)
    with factory() as session:
        user = local_user(session=session)
        _check(session, user)
        assert _definition(session, user, ALL) is not None
        # Archived a1 comes back uncarded? It has a card: the first new stays the same.
        session.execute(delete(Card).where(Card.question_id == ids[1]))
        session.commit()
    _bank(write_md, extra="new first of b")
    load(factory, content_dir, now=T0 + 90 * MINUTE)
    with factory() as session:
        user = local_user(session=session)
        _check(session, user)
        assert _definition(session, user, ALL) == ids[1]
        for question_id in ids:
            if session.scalar(select(Card.id).where(Card.question_id == question_id)) is None:
                _card(session, user, question_id)
        _check(session, user)


def _run(engine: Engine, write_md: WriteMd, content_dir: Path) -> None:
    try:
        _scenario(make_sessionmaker(engine), write_md, content_dir)
    finally:
        engine.dispose()


def test_the_first_new_card_is_the_definition_on_sqlite(
    settings: Settings, write_md: WriteMd, content_dir: Path
) -> None:
    engine = make_engine(settings)
    migrate(engine)
    _run(engine, write_md, content_dir)


@pytest.mark.postgres
def test_the_first_new_card_is_the_definition_on_postgresql(
    pg_url: str, tmp_path: Path, write_md: WriteMd, content_dir: Path
) -> None:
    engine = make_engine(Settings(database_url=pg_url, data_dir=tmp_path))
    migrate(engine)
    _run(engine, write_md, content_dir)


def test_the_mark_follows_a_user_through_the_bank(
    settings: Settings, write_md: WriteMd, content_dir: Path
) -> None:
    """Studied in bank order, the mark sits on the first new question, so the query
    walks no carded ones."""
    engine = make_engine(settings)
    migrate(engine)
    try:
        _bank(write_md)
        factory = make_sessionmaker(engine)
        load(factory, content_dir)
        with factory() as session:
            user = local_user(session=session)
            for step in range(10):
                first = _definition(session, user, ALL)
                assert first is not None
                rate(session, user, first, Rating.Good, T0 + step * MINUTE)
            first = _definition(session, user, ALL)
            mark = session.get(NewCardMark, user.id, populate_existing=True)
            question = session.get(Question, first)
            assert mark is not None and question is not None
            assert (mark.source_file, mark.position) == (question.source_file, question.position)
    finally:
        engine.dispose()


def test_the_triggers_are_there_at_head_on_sqlite(engine: Engine) -> None:
    """A later migration that rebuilds ``cards`` or ``users`` (an SQLite batch copies the
    table) drops their triggers, and the marks would silently stop following the cards."""
    with engine.connect() as conn:
        names = set(
            conn.scalars(text("SELECT name FROM sqlite_master WHERE name LIKE 'new_card_marks_%'"))
        )
    assert names == {
        "new_card_marks_user",
        "new_card_marks_card_insert",
        "new_card_marks_card_delete",
        "new_card_marks_card_update",
    }
