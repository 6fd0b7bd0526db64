"""The filter choices (facet counts, chapters) are kept per bank version: an import, a
re-import with a changed question, an archive and a renamed chapter show at once, on
SQLite and PostgreSQL; reviews and page views leave the kept choices in place. The
coverage matrix's bank slices, kept the same way, show an import and an archive at once."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings
from app.content.filters import QuestionFilter
from app.content.importer import import_paths
from app.content.queries import chapter_summaries, facet_values
from app.db import make_engine, make_sessionmaker, migrate
from app.study import coverage
from app.users.service import local_user
from app.web.filter_cache import bank_version, filter_choices_data
from app.web.stats_pages import user_coverage

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

BANK = """
# 微调
### Q. LoRA 是什么？
<!-- id: lora -->
> **Company**: 美团 | **Round**: 算法 一面 | **Tags**: [LoRA]
- 低秩分解。
### Q. QLoRA 是什么？
<!-- id: qlora -->
> **Company**: 阿里 | **Tags**: [QLoRA, LoRA]
- NF4。
"""

FILTERS = [
    QuestionFilter(),
    QuestionFilter(company=("美团",)),
    QuestionFilter(tag=("LoRA",)),
    QuestionFilter(q="nf4"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    engine = make_engine(Settings(database_url=url, data_dir=tmp_path / "data"))
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()


def load(engine: Engine, content_dir: Path, files: dict[str, str], day: int) -> None:
    for old in content_dir.glob("*.md"):
        old.unlink()
    for name, text in files.items():
        (content_dir / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with make_sessionmaker(engine)() as session, session.begin():
        report = import_paths(
            session,
            paths=[content_dir],
            content_dir=content_dir,
            now=T0 + dt.timedelta(days=day),
        )
    assert report.ok, [str(d) for d in report.errors]


def assert_fresh(engine: Engine) -> None:
    """What a page gets equals what the queries give now, for each filter (read twice:
    the second read comes from the kept choices)."""
    for _ in range(2):
        with make_sessionmaker(engine)() as session:
            for flt in FILTERS:
                choices = filter_choices_data(session, flt)
                assert choices.facets == facet_values(session=session, flt=flt), flt
                assert choices.chapters == chapter_summaries(session=session)


def version(engine: Engine) -> int:
    with make_sessionmaker(engine)() as session:
        return bank_version(session)


def companies(session: Session) -> dict[str, int]:
    return dict(filter_choices_data(session, QuestionFilter()).facets["company"])


def test_an_import_a_change_and_an_archive_show_at_once(engine: Engine, content_dir: Path) -> None:
    load(engine, content_dir, {"a.md": BANK}, 0)
    assert_fresh(engine)
    with make_sessionmaker(engine)() as session:
        assert companies(session) == {"美团": 1, "阿里": 1}
    first = version(engine)

    load(engine, content_dir, {"a.md": BANK}, 1)  # unchanged
    if engine.dialect.name == "sqlite":  # per-row triggers: no row written, choices kept
        assert version(engine) == first
    # (PostgreSQL's triggers fire per statement, even one that writes no row.)
    assert_fresh(engine)

    load(engine, content_dir, {"a.md": BANK.replace("阿里", "字节")}, 2)  # a changed question
    assert version(engine) > first
    with make_sessionmaker(engine)() as session:
        assert companies(session) == {"美团": 1, "字节": 1}
    assert_fresh(engine)

    second = BANK.replace("# 微调", "# 量化").replace("id: lora", "id: lora2")
    second = second.replace("id: qlora", "id: qlora2").replace("美团", "腾讯")
    load(engine, content_dir, {"a.md": BANK, "b.md": second}, 3)  # a new file
    with make_sessionmaker(engine)() as session:
        assert companies(session) == {"美团": 1, "阿里": 2, "腾讯": 1}
        assert [c.title for c in filter_choices_data(session, QuestionFilter()).chapters] == [
            "微调",
            "量化",
        ]
    assert_fresh(engine)

    load(engine, content_dir, {"a.md": BANK.replace("# 微调", "# 微调方法")}, 4)  # archive
    with make_sessionmaker(engine)() as session:
        assert companies(session) == {"美团": 1, "阿里": 1}
        assert [c.title for c in filter_choices_data(session, QuestionFilter()).chapters] == [
            "微调方法"
        ]
    assert_fresh(engine)


def matrix_rows(engine: Engine) -> dict[str, dict[str, int]]:
    """What the stats page shows: each company's questions per topic (read twice, the
    second from the kept bank slices), checked against a fresh read of the bank."""
    for _ in range(2):
        with make_sessionmaker(engine)() as session:
            user = local_user(session=session)
            shown = user_coverage(session=session, user=user, now=T0)
            assert shown == coverage.coverage(session=session, user=user, now=T0)
    matrix = shown.companies
    return {
        row: {col: cell.questions for col, cell in zip(matrix.columns, line, strict=True) if cell}
        for row, line in zip(matrix.rows, matrix.cells, strict=True)
    }


def test_the_coverage_matrix_shows_an_import_and_an_archive_at_once(
    engine: Engine, content_dir: Path
) -> None:
    load(engine, content_dir, {"a.md": BANK}, 0)
    assert matrix_rows(engine) == {"美团": {"LoRA": 1}, "阿里": {"LoRA": 1, "QLoRA": 1}}

    load(engine, content_dir, {"a.md": BANK.replace("阿里", "字节")}, 1)  # a changed question
    assert matrix_rows(engine) == {"美团": {"LoRA": 1}, "字节": {"LoRA": 1, "QLoRA": 1}}

    second = BANK.replace("# 微调", "# 量化").replace("id: lora", "id: lora2")
    second = second.replace("id: qlora", "id: qlora2").replace("美团", "腾讯")
    load(engine, content_dir, {"a.md": BANK, "b.md": second}, 2)  # a new file
    assert matrix_rows(engine) == {
        "阿里": {"LoRA": 2, "QLoRA": 2},
        "美团": {"LoRA": 1},
        "腾讯": {"LoRA": 1},
    }

    load(engine, content_dir, {"b.md": second}, 3)  # a.md gone: its questions archived
    assert matrix_rows(engine) == {"腾讯": {"LoRA": 1}, "阿里": {"LoRA": 1, "QLoRA": 1}}
