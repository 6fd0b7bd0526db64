"""Importing into the database: one transaction, stable ids, archive instead of delete."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.content import cache as parse_cache
from app.content.importer import ImportReport, import_paths
from app.content.parser import parse_text
from app.models import Asked, Chapter, ParsedFileCache, Question, Tag
from tests.conftest import SEED, WriteMd

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)

ONE = """
# 第一章
> 描述
## 小节
### Q. 问题一
> **Company**: 阿里 | **Round**: 算法工程师 一面 | **Date**: 2025-08-01 | **Tags**: [LORA, PEFT]
答案一 <mark>要点一</mark>
### Q. 问题二
> **Company**: 美团 | **Round**: 算法工程师 二面 | **Date**: 2025-08-02 | **Tags**: [LoRA]
答案二
"""


def run(
    factory: sessionmaker[Session], paths: list[Path], content_dir: Path, now: dt.datetime = T0
) -> ImportReport:
    with factory() as session, session.begin():
        return import_paths(session, paths=paths, content_dir=content_dir, now=now)


def active(session: Session) -> dict[str, Question]:
    rows = session.scalars(select(Question).where(Question.archived_at.is_(None)))
    return {q.title: q for q in rows}


def test_seed_imports_ten_questions(
    session_factory: sessionmaker[Session], content_dir: Path
) -> None:
    (content_dir / "llm-sft.md").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    report = run(session_factory, [content_dir], content_dir)
    assert report.ok and report.created == 10
    with session_factory() as session:
        questions = active(session)
        assert len(questions) == 10
        q = questions["LORA的原理"]
        assert [(a.company, a.role, a.stage, a.date) for a in q.asked] == [
            ("阿里国际", "算法工程师", "一面", dt.date(2025, 8, 1))
        ]
        assert q.tags == ["LORA", "PEFT", "参数高效微调"]
        assert q.source_file == "llm-sft.md" and q.source_line == 49
        chapter = session.scalars(select(Chapter)).one()
        assert (chapter.title, chapter.slug) == ("LLM SFT Stage", "llm-sft")
        assert q.created_at == T0


def test_tag_variants_are_one_tag_named_by_the_most_frequent_spelling(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    write_md("a.md", ONE)
    write_md(
        "b.md",
        """
        # 第二章
        ### Q. 问题三
        > **Company**: 腾讯 | **Tags**: [ＬｏＲＡ, QLORA]
        ### Q. 问题四
        > **Company**: 腾讯 | **Tags**: [LoRA, QLoRA, qlora]
        """,
    )
    report = run(session_factory, [content_dir], content_dir)
    assert report.counts()["tag"]["LoRA"] == 4
    with session_factory() as session:
        tags = {t.key: t.name for t in session.scalars(select(Tag))}
        assert tags == {"lora": "LoRA", "peft": "PEFT", "qlora": "QLORA"}
        questions = active(session)
        assert questions["问题一"].tags == ["LoRA", "PEFT"]
        assert questions["问题四"].tags == ["LoRA", "QLORA"]


def test_reimport_updates_in_place_and_keeps_attached_rows(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    path = write_md("a.md", ONE)
    run(session_factory, [content_dir], content_dir)
    with session_factory() as session, session.begin():
        original = active(session)["问题一"]
        qid = original.id
        # Something attached to the question (later: review history). A delete-and-insert
        # re-import would take it with the question through ON DELETE CASCADE.
        session.execute(
            text(
                "CREATE TABLE notes (question_id VARCHAR REFERENCES questions(id) "
                "ON DELETE CASCADE, body TEXT)"
            )
        )
        session.execute(text("INSERT INTO notes VALUES (:q, 'mine')"), {"q": qid})

    path.write_text(path.read_text().replace("答案一", "改过的答案"), encoding="utf-8")
    report = run(session_factory, [content_dir], content_dir, now=T1)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    with session_factory() as session:
        edited = active(session)["问题一"]
        assert edited.id == qid
        assert "改过的答案" in edited.answer_md
        assert edited.created_at == T0 and edited.updated_at == T1
        assert session.execute(text("SELECT body FROM notes")).scalar_one() == "mine"
        assert [a.company for a in edited.asked] == ["阿里"]


def test_a_removed_question_is_archived_and_comes_back(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    path = write_md("a.md", ONE)
    run(session_factory, [content_dir], content_dir)
    without_two = ONE.split("### Q. 问题二")[0]
    write_md("a.md", without_two)
    report = run(session_factory, [content_dir], content_dir, now=T1)
    assert report.archived == 1
    with session_factory() as session:
        archived = session.scalars(select(Question).where(Question.title == "问题二")).one()
        assert archived.archived_at == T1
        assert list(active(session)) == ["问题一"]
        assert session.scalars(select(Asked).where(Asked.question_id == archived.id)).all()
    write_md("a.md", ONE)
    report = run(session_factory, [path], content_dir)
    assert report.restored == 1
    with session_factory() as session:
        assert sorted(active(session)) == ["问题一", "问题二"]


def test_deleted_file_archives_its_questions_only_when_its_folder_is_imported(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    a = write_md("a.md", ONE)
    b = write_md("b.md", "# B\n### Q. 问题五\n**Company**: 腾讯 | **Tags**: [RAG]\n")
    run(session_factory, [content_dir], content_dir)
    b.unlink()
    report = run(session_factory, [a], content_dir)  # a single file: b is out of scope
    assert report.archived == 0
    report = run(session_factory, [content_dir], content_dir)
    assert report.archived == 1
    with session_factory() as session:
        assert sorted(active(session)) == ["问题一", "问题二"]
        chapter_b = session.scalars(select(Chapter).where(Chapter.source_file == "b.md")).one()
        assert chapter_b.archived_at is not None
        # Archived questions keep their tags (and everything else) for their history.
        archived = session.scalars(select(Question).where(Question.title == "问题五")).one()
        assert archived.tags == ["RAG"]


def test_an_error_in_any_file_imports_nothing(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    write_md("a.md", ONE)
    run(session_factory, [content_dir], content_dir)
    write_md("a.md", ONE.replace("答案一", "新答案"))
    write_md("z.md", "## 1. Other format\n**Answer:** no\n")
    report = run(session_factory, [content_dir], content_dir, now=T1)
    assert not report.ok and not report.written
    [error] = report.errors
    assert error.file.endswith("z.md") and error.line == 1
    with session_factory() as session:
        assert "新答案" not in active(session)["问题一"].answer_md


def test_pinned_id_survives_a_renamed_title(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    pinned = ONE.replace("### Q. 问题一\n", "### Q. 问题一\n<!-- id: q-one -->\n")
    write_md("a.md", pinned)
    run(session_factory, [content_dir], content_dir)
    write_md("a.md", pinned.replace("### Q. 问题一", "### Q. 改名的问题一"))
    report = run(session_factory, [content_dir], content_dir)
    assert (report.created, report.updated, report.archived) == (0, 1, 0)
    with session_factory() as session:
        assert session.get(Question, "q-one") is not None
        assert session.get(Question, "q-one").title == "改名的问题一"  # type: ignore[union-attr]


def test_the_same_pinned_id_in_two_files_is_an_error(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    write_md("a.md", "# A\n### Q. 一\n<!-- id: same -->\n**Company**: 腾讯\n")
    write_md("b.md", "# B\n### Q. 二\n<!-- id: same -->\n**Company**: 腾讯\n")
    report = run(session_factory, [content_dir], content_dir)
    [error] = report.errors
    assert error.file.endswith("b.md") and error.line == 2
    assert "a.md:2" in error.message


def test_parsing_across_processes_gives_the_same_result(
    content_dir: Path, write_md: WriteMd, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.content import importer

    for i in range(4):  # sizes not in path order: the workers take the largest first
        write_md(f"c{i}.md", ONE.replace("问题", f"问题{i}-") + "补充。" * (100 * (i % 3)))
    serial = importer.parse_paths([content_dir], content_dir)
    monkeypatch.setattr(importer, "PARALLEL_BYTES", 1)
    parallel = importer.parse_paths([content_dir], content_dir)
    assert [f.source_file for f in parallel.files] == ["c0.md", "c1.md", "c2.md", "c3.md"]
    assert [f.questions for f in parallel.files] == [f.questions for f in serial.files]
    assert len(parallel.questions) == 8


def test_unchanged_files_are_not_parsed_again(
    session_factory: sessionmaker[Session],
    content_dir: Path,
    write_md: WriteMd,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.content import loader

    write_md("a.md", ONE)
    write_md("b.md", "# B\n### Q. 问题五\n**Company**: 腾讯 | **Tags**: [RAG]\n")
    first = run(session_factory, [content_dir], content_dir)
    parsed: list[str] = []
    real = loader.parse_text  # type: ignore[attr-defined]

    def counting(text: str, *, path: str, source_file: str | None = None) -> object:
        parsed.append(path)
        return real(text, path=path, source_file=source_file)

    monkeypatch.setattr(loader, "parse_text", counting)
    again = run(session_factory, [content_dir], content_dir)
    assert parsed == []  # both files came from the cache
    assert [f.questions for f in again.files] == [f.questions for f in first.files]
    assert again.unchanged == 3 and again.counts() == first.counts()
    write_md("a.md", ONE.replace("答案一", "新答案"))
    edited = run(session_factory, [content_dir], content_dir)
    assert [p.rsplit("/", 1)[-1] for p in parsed] == ["a.md"]  # only the edited file
    assert edited.updated == 1
    # A cached parse that cannot be read back (damaged) is a miss: the file is parsed.
    with session_factory() as session, session.begin():
        session.execute(
            update(ParsedFileCache)
            .where(ParsedFileCache.source_file == "b.md")
            .values(payload=b"not zstd")
        )
    parsed.clear()
    again = run(session_factory, [content_dir], content_dir)
    assert [p.rsplit("/", 1)[-1] for p in parsed] == ["b.md"]
    assert again.ok and again.unchanged == 3


def test_a_check_does_not_encode_parses_for_the_cache(
    session_factory: sessionmaker[Session], content_dir: Path, write_md: WriteMd
) -> None:
    """``check`` reads the cache but writes nothing, so it encodes no payload for it;
    an import parsing the same file afresh does."""
    from app.bank import check_bank
    from app.content.importer import parse_paths

    write_md("a.md", ONE)
    with session_factory() as session:
        checked = check_bank(paths=[content_dir], content_dir=content_dir, session=session)
        to_import = parse_paths([content_dir], content_dir, session=session)
    assert checked.ok and checked.to_cache == {} and len(checked.questions) == 2
    assert set(to_import.to_cache) == {"a.md"}


def test_the_cache_key_covers_every_module_the_parser_runs() -> None:
    """A change to any module a parse runs (the outline, the fast answers, ...) parses
    every file again: each ``app.content`` module loaded by a parse is in the key."""
    code = (
        "import sys; from app.content.parser import parse_text; "
        "parse_text('# C\\n### Q. 一\\n**Tags**: [a]\\n\\n**b** $x$ | c', path='f.md'); "
        "print(' '.join(m.__file__ for n, m in sys.modules.items() "
        "if n.startswith('app.content.')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {Path(f) for f in run.stdout.split()}
    assert {p.name for p in loaded} >= {"parser.py", "outline.py", "fast_answer.py", "render.py"}
    assert loaded <= set(parse_cache.parser_files())


def test_a_cached_parse_reads_back_equal_and_compressed() -> None:
    parsed = parse_text(SEED.read_text(encoding="utf-8"), path="seed.md")
    payload = parse_cache.encode(parsed)
    assert parse_cache.decode(payload) == parsed
    assert len(payload) * 3 < len(json.dumps(parse_cache.to_dict(parsed)).encode())


def test_search_text_and_hash_follow_tag_aliases(
    session_factory: sessionmaker[Session], content_dir: Path
) -> None:
    """Search text and content hashes are built where files are parsed, before the tag
    aliases rewrite the tags: the aliased spelling is what gets stored and searched."""
    (content_dir / "aliases.yaml").write_text("tags:\n  PEFT: 参数高效\n", encoding="utf-8")
    (content_dir / "one.md").write_text(ONE, encoding="utf-8")
    report = run(session_factory, [content_dir], content_dir)
    assert report.ok and report.tag_merges == ["PEFT -> 参数高效"]
    parsed = next(q for q in report.questions if q.title == "问题一")
    with session_factory() as session:
        stored = active(session)["问题一"]
        assert "参数高效" in stored.search_text and "peft" not in stored.search_text
        assert stored.tags == ["LORA", "参数高效"]
        parsed.cached_hash = None  # built again from the question as stored
        assert stored.content_hash == parsed.content_hash()
    again = run(session_factory, [content_dir], content_dir, now=T1)
    assert (again.unchanged, again.updated, again.created) == (2, 0, 0)
