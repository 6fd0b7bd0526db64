"""The importer's bulk write (migration 0020, ``app.content.bulk``): inside it the
per-row triggers skip and the importer keeps the search index and ``bank_version``
itself; outside it, any other writer still has the triggers. Checked on SQLite and
PostgreSQL: a question written by hand (after an import, and later in the import's own
transaction) is found and raises the version; an import raises it once; a restored
question is found again; an import that fails inside the window leaves the bank, the
index and the version as they were, even for a caller that commits anyway."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from alembic import command
from app.config import Settings
from app.content import rows
from app.content.filters import QuestionFilter, filtered_ids
from app.content.importer import import_paths
from app.db import alembic_config, make_engine, make_sessionmaker, migrate
from app.models import Chapter, Question
from app.web.filter_cache import bank_version

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

BANK = """
# 微调
### Q. LoRA 的低秩分解是什么？
<!-- id: lora -->
> **Company**: 美团 | **Tags**: [LoRA]
- 把权重更新分解为两个低秩矩阵。
### Q. QLoRA 加了什么？
<!-- id: qlora -->
> **Company**: 阿里 | **Tags**: [QLoRA]
- NF4 量化与分页优化器。
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    engine = make_engine(Settings(database_url=url, data_dir=tmp_path / "data"))
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()


def write(content_dir: Path, text_: str) -> None:
    (content_dir / "bank.md").write_text(textwrap.dedent(text_).lstrip("\n"), encoding="utf-8")


def load(session: Session, content_dir: Path, day: int = 0) -> None:
    now = T0 + dt.timedelta(days=day)
    report = import_paths(session, paths=[content_dir], content_dir=content_dir, now=now)
    assert report.ok, [str(d) for d in report.errors]


def found(session: Session, q: str) -> set[str]:
    return set(session.scalars(filtered_ids(QuestionFilter(q=q))))


def version(engine: Engine) -> int:
    with make_sessionmaker(engine)() as session:
        return bank_version(session)


def assert_index_whole(engine: Engine) -> None:
    """SQLite: the index agrees with its table (FTS5 raises otherwise), and the flag is
    off. PostgreSQL: nothing is left set for the next transaction."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "INSERT INTO questions_fts(questions_fts, rank) VALUES ('integrity-check', 1)"
            )
            assert conn.exec_driver_sql("SELECT bulk FROM bank_version").scalar_one() == 0
        else:
            setting = conn.exec_driver_sql("SELECT current_setting('il.bulk_write', true)")
            assert setting.scalar() in (None, "", "off")


def hand_written(session: Session, qid: str, words: str) -> None:
    """A question written as any other writer would (not the importer)."""
    chapter_id = session.scalars(select(Chapter.id)).first()
    assert chapter_id is not None
    session.add(
        Question(
            id=qid,
            chapter_id=chapter_id,
            title=words,
            answer_md=words,
            answer_html=f"<p>{words}</p>",
            search_text=words,
            source_file="bank.md",
            source_line=1,
            position=99,
            content_hash="x",
            created_at=T0,
            updated_at=T0,
        )
    )
    session.flush()


def test_other_writers_keep_the_index_and_the_version(engine: Engine, content_dir: Path) -> None:
    write(content_dir, BANK)
    factory = make_sessionmaker(engine)
    before = version(engine)
    with factory() as session, session.begin():
        load(session, content_dir)
    imported = version(engine)
    assert imported > before
    if engine.dialect.name == "sqlite":
        assert imported == before + 1  # once per import, not once per row
    assert_index_whole(engine)

    with factory() as session, session.begin():  # a writer of its own
        hand_written(session, "by-hand", "梯度检查点 checkpointing")
    assert version(engine) > imported
    with factory() as session:
        assert found(session, "梯度检查点") == {"by-hand"}
    after_insert = version(engine)
    with factory() as session, session.begin():
        session.execute(
            update(Question).where(Question.id == "by-hand").values(search_text="激活重计算")
        )
    with factory() as session:
        assert found(session, "梯度检查点") == set()
        assert found(session, "激活重计算") == {"by-hand"}
    assert version(engine) > after_insert
    after_update = version(engine)
    with factory() as session, session.begin():
        session.execute(delete(Question).where(Question.id == "by-hand"))
    with factory() as session:
        assert found(session, "激活重计算") == set()
    assert version(engine) > after_update
    assert_index_whole(engine)


def test_a_write_after_the_import_in_its_own_transaction_keeps_the_triggers(
    engine: Engine, content_dir: Path
) -> None:
    write(content_dir, BANK)
    before = version(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        load(session, content_dir)
        mid = bank_version(session)
        hand_written(session, "same-transaction", "显存占用估算")  # as the claims step writes
        assert bank_version(session) > mid > before
    with make_sessionmaker(engine)() as session:
        assert found(session, "显存占用估算") == {"same-transaction"}
        assert found(session, "低秩矩阵") == {"lora"}
    assert_index_whole(engine)


def test_changed_archived_and_restored_questions_are_indexed(
    engine: Engine, content_dir: Path
) -> None:
    factory = make_sessionmaker(engine)
    write(content_dir, BANK)
    with factory() as session, session.begin():
        load(session, content_dir)
    write(content_dir, BANK.split("### Q. QLoRA")[0].replace("两个低秩矩阵", "B 与 A 的乘积"))
    with factory() as session, session.begin():
        load(session, content_dir, day=1)  # lora changed, qlora archived
    with factory() as session:
        assert found(session, "乘积") == {"lora"}
        assert found(session, "两个低秩矩阵") == set()
        assert found(session, "分页优化器") == set()
    assert_index_whole(engine)
    write(content_dir, BANK)
    with factory() as session, session.begin():
        load(session, content_dir, day=2)  # both back as they were
    with factory() as session:
        assert found(session, "两个低秩矩阵") == {"lora"}
        assert found(session, "分页优化器") == {"qlora"}
        assert found(session, "乘积") == set()
    assert_index_whole(engine)


@pytest.mark.parametrize("caller", ["rolls back", "commits anyway"])
def test_an_import_that_fails_in_the_window_leaves_everything_as_it_was(
    engine: Engine, content_dir: Path, monkeypatch: pytest.MonkeyPatch, caller: str
) -> None:
    factory = make_sessionmaker(engine)
    write(content_dir, BANK)
    with factory() as session, session.begin():
        load(session, content_dir)
    before = version(engine)

    def broken(session: Session) -> None:  # the last step of the window
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rows, "refresh_tag_names", broken)
    fresh = "### Q. 新问题\n<!-- id: fresh -->\n> **Tags**: [LoRA]\n- 全新的答案内容。\n"
    write(content_dir, BANK.replace("两个低秩矩阵", "秩分解的乘积") + fresh)
    with factory() as session:
        session.begin()
        with pytest.raises(RuntimeError, match="disk on fire"):
            load(session, content_dir, day=1)  # lora changed, a new question
        if caller == "rolls back":
            session.rollback()
        else:
            session.commit()
    assert version(engine) == before
    with factory() as session:
        assert set(session.scalars(select(Question.id))) == {"lora", "qlora"}
        assert found(session, "两个低秩矩阵") == {"lora"}
        assert found(session, "秩分解的乘积") == found(session, "全新的答案") == set()
    assert_index_whole(engine)


def test_downgrading_0020_gives_the_unconditional_triggers_back(tmp_path: Path) -> None:
    """SQLite: below 0020 the triggers have no condition (a write raises the version),
    and the flag column and the FTS5 hash size are gone; upgrading restores them."""
    engine = make_engine(Settings(database_url="", data_dir=tmp_path / "data"))
    chapter = "INSERT INTO chapters (source_file, slug, title) VALUES (:f, :f, :f)"
    try:
        migrate(engine)
        command.downgrade(alembic_config(engine), "0019")
        with engine.begin() as conn:
            columns = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(bank_version)")}
            assert "bulk" not in columns
            triggers = conn.exec_driver_sql(
                "SELECT group_concat(sql) FROM sqlite_master WHERE type = 'trigger'"
                " AND (name LIKE 'bank_version%' OR name LIKE 'questions_fts%')"
            ).scalar_one()
            assert "WHEN" not in triggers and "bulk" not in triggers
            config = conn.exec_driver_sql("SELECT k FROM questions_fts_config").scalars()
            assert "hashsize" not in set(config)
            conn.execute(text(chapter), {"f": "a.md"})
            assert conn.exec_driver_sql("SELECT version FROM bank_version").scalar_one() == 1
        command.upgrade(alembic_config(engine), "head")
        with engine.begin() as conn:
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'bank_version_asked_insert'"
            ).scalar_one()
            assert "bulk" in sql
            hashsize = conn.exec_driver_sql(
                "SELECT v FROM questions_fts_config WHERE k = 'hashsize'"
            ).scalar_one()
            assert hashsize == 16 * 1024 * 1024
            conn.execute(text(chapter), {"f": "b.md"})  # the flag is off: the trigger runs
            assert conn.exec_driver_sql("SELECT version FROM bank_version").scalar_one() == 2
    finally:
        engine.dispose()


def test_a_failure_after_the_window_undoes_the_whole_import(
    engine: Engine, content_dir: Path
) -> None:
    """The window's savepoint is released into the import's transaction, not committed
    (SQLite's driver begins a transaction only at a write: the window writes first), so
    a later step that fails (the claims, say) takes the questions with it."""
    write(content_dir, BANK)
    before = version(engine)
    with make_sessionmaker(engine)() as session:
        session.begin()
        load(session, content_dir)
        session.rollback()
    assert version(engine) == before
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(Question.id)).all() == []
        assert found(session, "低秩矩阵") == set()
    assert_index_whole(engine)
