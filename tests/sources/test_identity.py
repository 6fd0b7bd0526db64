"""A chapter's identity (and its question ids) survives moving or re-cloning a bank
(issue 18): it comes from the path inside the imported folder, never an absolute path."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.bank import BankReport, import_bank
from app.config import Settings
from app.content.filters import QuestionFilter
from app.export.anki import deck_notes
from app.models import Card, Chapter, Question, Quiz, QuizItem, ReviewLog, Source
from app.sources.fetch import SourceError
from app.sources.service import import_sources
from app.study.review import rate
from app.users.service import local_user

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

CHAPTER = """# RLs

### Q. What is PPO?
> **Company**: 上海AI Lab | **Round**: 一面 | **Date**: 2025-03-01 | **Tags**: [RL]

Proximal policy optimisation.

### Q. What is DPO?
> **Company**: 美团 | **Round**: 二面 | **Date**: 2025-03-02 | **Tags**: [RL]

Direct preference optimisation.
"""


def write_bank(folder: Path) -> Path:
    (folder / "part").mkdir(parents=True)
    (folder / "1.3 RLs.md").write_text(CHAPTER, encoding="utf-8")
    (folder / "part" / "2.1 more.md").write_text(
        CHAPTER.replace("# RLs", "# More"), encoding="utf-8"
    )
    return folder


def do_import(factory: sessionmaker[Session], content_dir: Path, path: Path) -> None:
    with factory() as session, session.begin():
        report = import_bank(session, paths=[path], content_dir=content_dir, now=NOW)
        assert report.ok, [str(d) for d in report.errors]


def study_first(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        qid = session.scalars(select(Question.id).order_by(Question.id)).first()
        assert qid is not None
        user = local_user(session=session)
        rate(
            session=session,
            user=user,
            question_id=qid,
            rating=3,
            version=0,
            duration_ms=None,
            now=NOW,
        )
        return qid


def test_a_file_keeps_its_ids_when_moved(
    tmp_path: Path, content_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    first = tmp_path / "x" / "1.3 RLs.md"
    first.parent.mkdir()
    first.write_text(CHAPTER, encoding="utf-8")
    do_import(session_factory, content_dir, first)
    qid = study_first(session_factory)
    assert qid.startswith("1-3-rls-"), qid
    moved = tmp_path / "elsewhere" / "1.3 RLs.md"
    moved.parent.mkdir()
    shutil.move(first, moved)
    do_import(session_factory, content_dir, moved)
    with session_factory() as session:
        assert session.scalar(select(func.count(Chapter.id))) == 1
        assert session.scalar(select(func.count(Question.id))) == 2
        assert session.scalar(select(Card.question_id)) == qid
        tags = [t for note in deck_notes(session=session, flt=QuestionFilter()) for t in note.tags]
        assert "chapter::1-3-rls" in tags
        assert not [t for t in tags if str(tmp_path.name) in t or "tmp" in t], tags


def test_the_same_folder_from_two_locations_is_one_bank(
    tmp_path: Path, content_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    here = write_bank(tmp_path / "a" / "bank")
    do_import(session_factory, content_dir, here)
    qid = study_first(session_factory)
    assert qid.startswith("bank-1-3-rls-"), qid
    there = tmp_path / "b" / "bank"
    there.parent.mkdir()
    shutil.copytree(here, there)
    shutil.rmtree(here)
    do_import(session_factory, content_dir, there)
    with session_factory() as session:
        chapters = session.scalars(select(Chapter.source_file).order_by(Chapter.id)).all()
        assert chapters == ["bank/1.3 RLs.md", "bank/part/2.1 more.md"]
        assert session.scalar(select(func.count(Question.id))) == 4
        assert (
            session.scalar(select(func.count(Question.id)).where(Question.archived_at.is_not(None)))
            == 0
        )
        assert session.scalar(select(Card.question_id)) == qid


def source_import(factory: sessionmaker[Session], content_dir: Path, target: Path) -> BankReport:
    """``interview-lab import TARGET``: as a source, in one transaction."""
    with factory() as session, session.begin():
        report, _ = import_sources(
            session,
            targets=[str(target)],
            data_dir=content_dir.parent / "data",
            content_dir=content_dir,
            now=NOW,
        )
        assert report.ok, [str(d) for d in report.errors]
        return report


def chapters_and_card(factory: sessionmaker[Session]) -> tuple[list[str], str | None, int]:
    with factory() as session:
        chapters = session.scalars(select(Chapter.source_file).order_by(Chapter.id)).all()
        card = session.scalar(select(Card.question_id))
        logs = session.scalar(select(func.count(ReviewLog.id))) or 0
        return list(chapters), card, logs


def test_a_file_imported_alone_from_an_imported_folder_is_the_folder_s_chapter(
    tmp_path: Path, content_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    bank = write_bank(tmp_path / "bank")
    source_import(session_factory, content_dir, bank)
    qid = study_first(session_factory)
    (bank / "1.3 RLs.md").write_text(CHAPTER.replace("Proximal", "PPO:"), encoding="utf-8")
    report = source_import(session_factory, content_dir, bank / "1.3 RLs.md")
    assert [str(w) for w in report.warnings] == [
        f"{bank / '1.3 RLs.md'}:1: warning: part of source bank: imported with it"
    ]
    assert report.updated == 1
    chapters, card, logs = chapters_and_card(session_factory)
    assert chapters == ["bank/1.3 RLs.md", "bank/part/2.1 more.md"]
    assert (card, logs) == (qid, 1)


def quiz_naming(factory: sessionmaker[Session], qid: str) -> int:
    """A quiz whose JSON names question ``qid`` and its chapter."""
    with factory() as session, session.begin():
        spec = {"filter": {"chapter": ["1-3-rls"], "ids": [qid]}}
        quiz = Quiz(user_id=local_user(session=session).id, created_at=NOW, seed=1, spec=spec)
        choices = [{"question_id": qid, "html": "a"}, {"question_id": "other", "html": "b"}]
        payload = {"choices": choices, "answer": 0}
        quiz.items.append(QuizItem(position=0, question_id=qid, type="takeaway", payload=payload))
        session.add(quiz)
        session.flush()
        return quiz.id


def test_a_file_imported_alone_moves_into_its_folder_with_its_cards(
    tmp_path: Path, content_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    bank = write_bank(tmp_path / "bank")
    source_import(session_factory, content_dir, bank / "1.3 RLs.md")
    qid = study_first(session_factory)
    assert qid.startswith("1-3-rls-"), qid
    quiz_id = quiz_naming(session_factory, qid)
    report = source_import(session_factory, content_dir, bank)
    assert "1.3 RLs.md:1: warning: now bank/1.3 RLs.md, in source bank (cards kept)" in [
        str(w) for w in report.warnings
    ]
    assert (report.created, report.archived) == (2, 0)  # only part/2.1 more.md is new
    chapters, card, logs = chapters_and_card(session_factory)
    assert chapters == ["bank/1.3 RLs.md", "bank/part/2.1 more.md"]
    assert card == "bank-" + qid and logs == 1
    with session_factory() as session:
        assert session.scalar(select(func.count(Question.id))) == 4
        assert session.scalars(select(Source.name)).all() == ["bank"]
        quiz = session.get(Quiz, quiz_id)
        assert quiz is not None
        assert quiz.spec["filter"] == {"chapter": ["bank-1-3-rls"], "ids": ["bank-" + qid]}
        [item] = quiz.items
        assert item.question_id == "bank-" + qid
        assert [c["question_id"] for c in item.payload["choices"]] == ["bank-" + qid, "other"]


def test_two_different_folders_with_one_name_are_not_one_source(
    tmp_path: Path, content_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    first = write_bank(tmp_path / "a" / "notes")
    source_import(session_factory, content_dir, first)
    other = tmp_path / "b" / "notes"
    other.mkdir(parents=True)
    (other / "x.md").write_text(CHAPTER.replace("# RLs", "# X"), encoding="utf-8")
    with pytest.raises(SourceError, match="a different folder named notes is already a source"):
        source_import(session_factory, content_dir, other)
    with session_factory() as session:  # the first one's questions are untouched
        assert (
            session.scalar(select(func.count(Question.id)).where(Question.archived_at.is_(None)))
            == 4
        )
    # The same folder moved (its old place gone) is the same source, cards and all.
    qid = study_first(session_factory)
    moved = tmp_path / "c" / "notes"
    shutil.copytree(first, moved)
    shutil.rmtree(first)
    source_import(session_factory, content_dir, moved)
    chapters, card, _ = chapters_and_card(session_factory)
    assert chapters == ["notes/1.3 RLs.md", "notes/part/2.1 more.md"] and card == qid
    with session_factory() as session:
        assert session.scalar(select(Source.local_path)) == str(moved.resolve())


def test_moving_into_a_folder_keeps_cards_on_postgresql(
    tmp_path: Path, content_dir: Path, settings: Settings, pg_url: str
) -> None:
    from app.db import make_engine, make_sessionmaker, migrate

    engine = make_engine(settings.model_copy(update={"database_url": pg_url}))
    try:
        migrate(engine)
        test_a_file_imported_alone_moves_into_its_folder_with_its_cards(
            tmp_path, content_dir, make_sessionmaker(engine)
        )
    finally:
        engine.dispose()


def test_a_subfolder_and_its_folder_are_one_source_either_way(
    tmp_path: Path, content_dir: Path, session_factory: sessionmaker[Session]
) -> None:
    bank = write_bank(tmp_path / "bank")
    source_import(session_factory, content_dir, bank / "part")
    qid = study_first(session_factory)
    assert qid.startswith("part-2-1-more-"), qid
    source_import(session_factory, content_dir, bank)
    chapters, card, _ = chapters_and_card(session_factory)
    assert chapters == ["bank/part/2.1 more.md", "bank/1.3 RLs.md"]
    assert card == "bank-" + qid
    report = source_import(session_factory, content_dir, bank / "part")
    assert "part of source bank" in str(report.warnings[0])
    assert chapters_and_card(session_factory)[0] == chapters
    with session_factory() as session:
        assert session.scalars(select(Source.name)).all() == ["bank"]
