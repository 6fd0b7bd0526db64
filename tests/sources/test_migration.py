"""Migration 0012 (issue 18): chapters stored by an absolute path get the name a file
imported by itself gets now, their questions new ids, and every card follows them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from alembic import command
from app.bank import import_bank
from app.config import Settings
from app.content import cache as parse_cache
from app.db import alembic_config, make_engine, make_sessionmaker
from app.models import Asked, Card, Chapter, Question
from tests.conftest import SEED
from tests.sources.test_identity import CHAPTER

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_absolute_chapter_ids_are_migrated_with_their_cards(
    tmp_path: Path,
    settings: Settings,
    content_dir: Path,
    database: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Today's importer writes the parse cache as bytes (0021); 0011's column is JSON,
    # which PostgreSQL holds to. The cache plays no part in what is checked here.
    monkeypatch.setattr(parse_cache, "store", lambda session, payloads: None)
    if database == "postgresql":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})
    shutil.copy(SEED, content_dir / "llm-sft.md")
    old = tmp_path / "x" / "1.3 RLs.md"
    old.parent.mkdir()
    old.write_text(CHAPTER, encoding="utf-8")
    engine = make_engine(settings)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0011")
        factory = make_sessionmaker(engine)
        with factory() as session, session.begin():
            # As the importer stored a file outside the content folder before 0012:
            # relative to "/", then made absolute.
            for paths, root in (([content_dir], content_dir), ([old], Path("/"))):
                assert import_bank(session, paths=paths, content_dir=root, now=NOW).ok
            key = old.resolve().relative_to("/").as_posix()
            for table in ("chapters", "questions"):
                session.execute(
                    text(f"UPDATE {table} SET source_file = :a WHERE source_file = :k"),
                    {"a": "/" + key, "k": key},
                )
        with factory() as session:
            old_ids = session.scalars(
                select(Question.id).where(Question.source_file == "/" + key)
            ).all()
            assert old_ids and all(i.startswith("tmp-") for i in old_ids), old_ids
        # Cards as 0011 stored them, written in SQL: today's models have columns
        # (users.fsrs_parameters, ...) that a database at 0011 lacks.
        with engine.begin() as conn:
            user_id = conn.execute(
                text(
                    "INSERT INTO users (username, is_local, created_at, new_per_day,"
                    " desired_retention, timezone) VALUES ('local', :t, :now, 20, 0.9, 'UTC')"
                    " RETURNING id"
                ),
                {"t": True, "now": NOW},
            ).scalar_one()
            for qid in (old_ids[0], "llm-sft-2e76f170"):
                conn.execute(
                    text(
                        "INSERT INTO cards (user_id, question_id, fsrs, due, state, reps,"
                        " lapses, version, created_at) VALUES (:u, :q, '{}', :now, 2, 1, 0,"
                        " 1, :now)"
                    ),
                    {"u": user_id, "q": qid, "now": NOW},
                )
        command.upgrade(config, "head")
        with factory() as session:
            chapter = session.scalars(select(Chapter).where(Chapter.slug == "1-3-rls")).one()
            assert chapter.source_file == "1.3 RLs.md"
            ids = session.scalars(
                select(Question.id)
                .where(Question.chapter_id == chapter.id)
                .order_by(Question.position)
            ).all()
            assert len(ids) == 2 and all(i.startswith("1-3-rls-") for i in ids)
            assert {i.split("-")[-1] for i in ids} == {i.split("-")[-1] for i in old_ids}
            cards = set(session.scalars(select(Card.question_id)).all())
            assert cards == {"llm-sft-2e76f170", "1-3-rls-" + old_ids[0].split("-")[-1]}
            assert session.scalar(select(Asked.company).where(Asked.question_id == ids[0]))
        # The next import of the moved file finds its chapter: nothing new.
        with make_sessionmaker(engine)() as session, session.begin():
            report = import_bank(session, paths=[old], content_dir=content_dir, now=NOW)
            assert report.ok and report.created == 0
    finally:
        engine.dispose()


def test_tag_keys_lose_their_spaces_and_merge(
    tmp_path: Path, settings: Settings, content_dir: Path
) -> None:
    (content_dir / "a.md").write_text(
        CHAPTER.replace("[RL]", "[LoRA 微调]", 1).replace("[RL]", "[PEFT]", 1), encoding="utf-8"
    )
    engine = make_engine(settings)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0011")
        factory = make_sessionmaker(engine)
        with factory() as session, session.begin():
            assert import_bank(session, paths=[content_dir], content_dir=content_dir, now=NOW).ok
            # As 0011 stored them: the key kept one space; a second spelling, its own tag.
            session.execute(text("UPDATE tags SET key = 'lora 微调' WHERE key = 'lora微调'"))
            session.execute(text("INSERT INTO tags (key, name) VALUES ('lora微调', 'LoRA微调')"))
            session.execute(
                text(
                    "INSERT INTO question_tags (question_id, tag_id, spelling, position) "
                    "SELECT q.id, t.id, 'LoRA微调', 1 FROM questions q, tags t "
                    "WHERE t.key = 'lora微调'"
                )
            )
        command.upgrade(config, "head")
        with factory() as session:
            rows = session.execute(text("SELECT key FROM tags ORDER BY key")).scalars().all()
            assert rows == ["lora微调", "peft"]
            links = session.execute(
                text(
                    "SELECT count(*) FROM question_tags qt JOIN tags t ON t.id = qt.tag_id "
                    "WHERE t.key = 'lora微调'"
                )
            ).scalar()
            assert links == 2  # both questions, the first one once
    finally:
        engine.dispose()
