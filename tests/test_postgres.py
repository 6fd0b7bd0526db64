"""The at-scale database: migrations and an import against the real PostgreSQL here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config import Settings
from app.content.importer import import_paths
from app.db import make_engine, make_sessionmaker, migrate
from app.models import Question, Tag
from tests.conftest import SEED

pytestmark = pytest.mark.postgres


def test_migrate_and_import_on_postgresql(pg_url: str, tmp_path: Path, content_dir: Path) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    engine = make_engine(Settings(database_url=pg_url, data_dir=tmp_path))
    try:
        migrate(engine)
        factory = make_sessionmaker(engine)
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for _ in range(2):  # the second import finds everything unchanged
            with factory() as session, session.begin():
                report = import_paths(
                    session, paths=[content_dir], content_dir=content_dir, now=now
                )
        assert report.ok and report.unchanged == 10
        with factory() as session:
            questions = session.scalars(select(Question)).all()
            assert len(questions) == 10
            assert all(q.created_at == now for q in questions)
            names = set(session.scalars(select(Tag.name)))
            assert {"LORA", "PEFT", "QLORA"} <= names
    finally:
        engine.dispose()


def test_filters_and_chinese_search_on_postgresql(
    pg_url: str, tmp_path: Path, content_dir: Path
) -> None:
    from app.content.filters import QuestionFilter
    from app.content.queries import list_questions

    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    engine = make_engine(Settings(database_url=pg_url, data_dir=tmp_path))
    try:
        migrate(engine)
        factory = make_sessionmaker(engine)
        with factory() as session, session.begin():
            import_paths(
                session,
                paths=[content_dir],
                content_dir=content_dir,
                now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        with factory() as session:
            total, found = list_questions(session=session, flt=QuestionFilter(q="低秩"))
            assert "LORA的原理" in [q.title for q in found]
            total, found = list_questions(
                session=session, flt=QuestionFilter(company=("阿里国际",), tag=("qlora",))
            )
            assert [q.title for q in found] == ["QLORA相对于LORA改进是什么？"]
            total, _ = list_questions(session=session, flt=QuestionFilter(q="100%_"))
            assert total == 0  # LIKE wildcards in the query are literal
    finally:
        engine.dispose()
