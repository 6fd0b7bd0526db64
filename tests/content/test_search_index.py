"""The search index (migration 0018: SQLite FTS5 trigram, PostgreSQL pg_trgm) finds what
the substring definition finds: every word of ``q`` in the question's folded search text,
Chinese words of one or two characters too, case- and width-insensitively. Checked on a
mixed Chinese/English bank after an import, a re-import with a changed question, and an
archive, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.content.filters import QuestionFilter, filtered_ids
from app.content.importer import import_paths
from app.content.tags import fold
from app.db import make_engine, make_sessionmaker, migrate
from app.models import Question

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

BANK = """
# 微调 Fine-tuning
### Q. LoRA 的低秩分解是什么？
<!-- id: lora -->
> **Company**: 美团 | **Round**: 算法 一面 | **Tags**: [LoRA, PEFT]
- 把权重更新 ΔW 分解为 **B·A**，秩 r 远小于 d；LoRA adapters train 0.1% of weights.
### Q. What does QLoRA add on top of LoRA?
<!-- id: qlora -->
> **Company**: 阿里 | **Tags**: [QLoRA]
- NF4 quantisation, double quantisation and paged optimizers；显存占用约为 1/4。
### Q. ＦＵＬＬ-width 全参数微调 vs PEFT
<!-- id: full -->
> **Tags**: [PEFT]
- Full fine-tuning updates 100% of the weights: 显存 = 参数 × 16 bytes (Adam)。
### Q. 为什么 "quotes" 和 50%_off 这种字符要转义？
<!-- id: escape -->
- A word with a double quote "like this", a percent 50% and an underscore a_b.
"""

QUERIES = [
    "lora",
    "LoRA",
    "ｌｏｒａ",  # full width
    "秩",  # one CJK character: LIKE
    "低秩",  # two: LIKE
    "低秩分解",  # four: the index
    "分解 lora",  # two words, any order
    "显存",
    "显存占用",
    "qlora",
    "Ful",
    "full-width",
    "100%",
    "50%_",
    "a_b",
    '"like',
    '"quotes"',
    "adam)",
    "nothing-like-this",
    "quantisation paged",
    "PEFT",
    "b·a",
    "1/4",
    "xyz 秩",
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


def load(engine: Engine, content_dir: Path, text: str, now: dt.datetime) -> None:
    (content_dir / "bank.md").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with make_sessionmaker(engine)() as session, session.begin():
        report = import_paths(session, paths=[content_dir], content_dir=content_dir, now=now)
    assert report.ok, [str(d) for d in report.errors]


def found(session: Session, q: str) -> set[str]:
    return set(session.scalars(filtered_ids(QuestionFilter(q=q))))


def expected(session: Session, q: str) -> set[str]:
    """The definition: every folded word occurs in the folded text of an active question."""
    words = fold(q).split()
    rows = session.execute(
        select(Question.id, Question.search_text).where(Question.archived_at.is_(None))
    )
    return {qid for qid, text in rows if all(w in text for w in words)}


def assert_same(engine: Engine) -> None:
    with make_sessionmaker(engine)() as session:
        for q in QUERIES:
            assert found(session, q) == expected(session, q), q
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":  # the index agrees with its table (else raises)
            conn.exec_driver_sql(
                "INSERT INTO questions_fts(questions_fts, rank) VALUES ('integrity-check', 1)"
            )
        else:  # the trigram index exists where pg_trgm does (here)
            indexes = conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'questions'"
            ).scalars()
            assert "ix_questions_search_text_trgm" in set(indexes)


def test_the_index_finds_what_the_substring_definition_finds(
    engine: Engine, content_dir: Path
) -> None:
    load(engine, content_dir, BANK, T0)
    with make_sessionmaker(engine)() as session:
        # Not vacuous: the queries find something, and the short and long ones agree.
        assert found(session, "lora") == {"lora", "qlora"}
        assert found(session, "秩") == found(session, "低秩分解") == {"lora"}
        assert found(session, "ｌｏｒａ") == found(session, "LoRA")
        assert found(session, "50%_") == {"escape"}
        assert found(session, '"like') == {"escape"}
        assert found(session, "nothing-like-this") == set()
    assert_same(engine)

    # Re-import with a changed question: the old words leave it, the new ones find it.
    changed = BANK.replace("秩 r 远小于 d", "rank r 远小于 d，梯度只流经 B 和 A")
    load(engine, content_dir, changed, T0 + dt.timedelta(days=1))
    with make_sessionmaker(engine)() as session:
        assert found(session, "梯度只流经") == {"lora"}
        assert found(session, "远小于") == {"lora"}
        assert "lora" in found(session, "低秩分解")  # still in its title
    assert_same(engine)

    # Archive: a question gone from its file is no longer found.
    head, rest = changed.split("### Q. What does QLoRA")
    gone = head + "### Q. ＦＵＬＬ" + rest.split("### Q. ＦＵＬＬ")[1]
    load(engine, content_dir, gone, T0 + dt.timedelta(days=2))
    with make_sessionmaker(engine)() as session:
        assert found(session, "qlora") == set()
        assert found(session, "paged optimizers") == set()
        assert found(session, "lora") == {"lora"}
    assert_same(engine)
