"""Your notes and own answers in both exports: the user-data file (round trip, into a
bank that changed since, version 1 files, refusals) and the Anki deck (the card back,
the bank's answer kept, the cache)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.bank import import_bank
from app.cli import cli
from app.config import Settings
from app.content.filters import QuestionFilter
from app.db import make_sessionmaker
from app.errors import Conflict, Unprocessable
from app.export import anki, anki_cache, userdata
from app.models import Question
from app.study import notes
from app.users.service import local_user
from tests.conftest import SEED
from tests.export import test_userdata as user_data
from tests.export.history import T0, bank_ids, seeded_engine
from tests.export.test_anki import read_apkg
from tests.export.test_userdata import export

NOTE = "记住：**秩** $r \\ll d$ 时省显存。<img src=x onerror=alert(1)>"
ANSWER = "我自己的答案：冻结 $W_0$，只训练 $BA$。"
TAKEAWAY = "我的要点：低秩"


def _save(session: Session, question_id: str, **texts: str) -> None:
    notes.save_note(
        session=session,
        user=local_user(session=session),
        question_id=question_id,
        texts=texts,  # type: ignore[arg-type]
        now=T0,
    )


@pytest.fixture
def source(settings: Settings, tmp_path: Path, content_dir: Path) -> Iterator[Engine]:
    """The seed bank with notes on two questions: a note on the first, a note and an own
    answer and takeaway on the second."""
    engine = seeded_engine(settings, tmp_path / "source", content_dir)
    with make_sessionmaker(engine)() as session:
        first, second = bank_ids(session)[:2]
        _save(session, first, note=NOTE)
        _save(session, second, note="第二条", answer=ANSWER, takeaway=TAKEAWAY)
    yield engine
    engine.dispose()


def import_into(
    engine: Engine, data: dict[str, Any], *, replace: bool = False
) -> userdata.ImportSummary:
    """``data`` imported through the file's text, as an upload carries it."""
    return user_data.import_into(engine, user_data.as_file(data), replace=replace)


def mine(engine: Engine) -> dict[str, notes.NoteView]:
    with make_sessionmaker(engine)() as session:
        return notes.notes_by_question(session=session, user=local_user(session=session))


def test_the_data_file_holds_the_notes_as_markdown(source: Engine) -> None:
    data = export(source)
    assert data["version"] == 3
    with make_sessionmaker(source)() as session:
        first, second = bank_ids(session)[:2]
    assert data["notes"] == [
        {
            "question_id": q,
            "note": note,
            "answer": answer,
            "takeaway": takeaway,
            "created_at": "2026-03-02T01:00:00+00:00",
            "updated_at": "2026-03-02T01:00:00+00:00",
        }
        for q, note, answer, takeaway in sorted(
            [(first, NOTE, None, None), (second, "第二条", ANSWER, TAKEAWAY)]
        )
    ]


def test_notes_round_trip_into_another_database(source: Engine, fresh: Engine) -> None:
    data = export(source)
    summary = import_into(fresh, data)
    assert summary.notes == 2 and not summary.unknown_questions
    assert mine(fresh) == mine(source)  # texts, rendered HTML and times
    assert export(fresh) == data


def test_imported_notes_survive_a_reimport_of_a_changed_bank(
    source: Engine, fresh: Engine, tmp_path: Path
) -> None:
    """Notes imported from a file, then the bank re-imported with the answer rewritten:
    the note and the own answer stay as written, the bank's version is the new one."""
    import_into(fresh, export(source))
    with make_sessionmaker(fresh)() as session:
        second = bank_ids(session)[1]
        old_answer = session.get(Question, second).answer_md  # type: ignore[union-attr]
    first_line = old_answer.strip().splitlines()[0]
    changed_dir = tmp_path / "changed-content"
    changed_dir.mkdir()
    text = SEED.read_text(encoding="utf-8")
    assert first_line in text
    (changed_dir / "llm-sft.md").write_text(
        text.replace(first_line, "重写后的答案第一行。"), encoding="utf-8"
    )
    with make_sessionmaker(fresh)() as session, session.begin():
        report = import_bank(session, paths=[changed_dir], content_dir=changed_dir, now=T0)
        assert report.ok and report.updated >= 1
    with make_sessionmaker(fresh)() as session:
        bank = session.get(Question, second)
        assert bank is not None and "重写后的答案第一行。" in bank.answer_md
    assert mine(fresh) == mine(source)


def test_a_version_1_file_imports_with_no_notes(source: Engine, fresh: Engine) -> None:
    data = export(source)
    old = {k: v for k, v in data.items() if k not in ("notes", "mock_interviews")} | {"version": 1}
    summary = import_into(fresh, old)
    assert summary.notes == 0 and mine(fresh) == {}
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, data | {"version": 1}, replace=True)
    assert exc.value.field == "notes"


def test_notes_of_questions_the_bank_lacks_are_skipped_and_listed(
    source: Engine, fresh: Engine
) -> None:
    data = export(source)
    data["notes"][0]["question_id"] = "not-in-this-bank"
    summary = import_into(fresh, data)
    assert summary.notes == 1 and summary.skipped_records == 1
    assert summary.unknown_questions == ("not-in-this-bank",)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"note": "x" * 20_001}, "notes.0.note", "20,001 characters"),
        ({"note_html": "<b>x</b>"}, "notes.0.note_html", "Extra inputs"),
        ({"answer": "a\x00"}, "notes.0.answer", "NUL"),
    ],
)
def test_bad_note_records_are_refused_naming_the_field(
    source: Engine, fresh: Engine, change: dict[str, str], field: str, words: str
) -> None:
    data = copy.deepcopy(export(source))
    data["notes"][0].update(change)
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, data)
    assert exc.value.field == field and words in exc.value.message
    assert mine(fresh) == {}


def test_two_notes_for_one_question_are_refused(source: Engine, fresh: Engine) -> None:
    data = export(source)
    data["notes"].append(dict(data["notes"][0]))
    with pytest.raises(Unprocessable) as exc:
        import_into(fresh, data)
    assert exc.value.field == "notes.2.question_id"


def test_notes_from_a_file_are_sanitised_on_import(source: Engine, fresh: Engine) -> None:
    import_into(fresh, export(source))
    for view in mine(fresh).values():
        page = BeautifulSoup(str(view.note_html), "html.parser")
        assert not page.select("script")
        assert not any(a.startswith("on") for tag in page.find_all(True) for a in tag.attrs)


def test_notes_alone_count_as_data_an_import_replaces(source: Engine) -> None:
    with pytest.raises(Conflict) as exc:
        import_into(source, export(source))
    assert "0 cards" in exc.value.message and "2 notes" in exc.value.message


def anki_deck(engine: Engine, tmp_path: Path, *, with_user: bool) -> dict[str, list[str]]:
    with make_sessionmaker(engine)() as session:
        user = local_user(session=session) if with_user else None
        data, _count = anki.export_anki(session=session, flt=QuestionFilter(), now=T0, user=user)
    package = read_apkg(data, tmp_path)
    assert package.model_fields == list(anki.FIELDS)  # the note type is unchanged
    assert package.model_ids == {anki.MODEL_ID}
    return {qid: note.fields for qid, note in package.notes.items()}


def test_the_anki_back_holds_the_note_and_your_answer_with_the_banks(
    source: Engine, tmp_path: Path
) -> None:
    with make_sessionmaker(source)() as session:
        first, second, third = bank_ids(session)[:3]
    deck = anki_deck(source, tmp_path, with_user=True)
    bank = anki_deck(source, tmp_path, with_user=False)

    back = BeautifulSoup(deck[first][1], "html.parser")
    note = back.select_one(".my-note")
    assert note is not None and "\\(r \\ll d\\)" in note.get_text()
    assert note.select_one("strong").get_text() == "秩"  # type: ignore[union-attr]
    assert not back.select("[onerror]")
    assert deck[first][1].startswith(bank[first][1])  # the bank's answer, then the note

    back = BeautifulSoup(deck[second][1], "html.parser")
    label = back.select_one(".mine-label")
    assert label is not None and label.get_text() == "你的答案"  # the default language
    folded = back.select_one("details.bank")
    assert folded is not None and str(folded).count(bank[second][1].strip()[:40]) == 1
    assert back.get_text().index("我自己的答案") < back.get_text().index(folded.get_text())
    assert deck[second][2] == "我的要点：低秩" != bank[second][2]

    assert deck[third] == bank[third]  # no notes: the bank's card
    assert not any("my-note" in fields[1] for fields in bank.values())


def test_the_cached_deck_follows_the_notes(source: Engine, fresh: Engine) -> None:
    flt = QuestionFilter()
    with make_sessionmaker(fresh)() as session:
        user = local_user(session=session)
        bank_only, _ = anki_cache.deck_version(session=session, flt=flt)
        no_notes, _ = anki_cache.deck_version(session=session, flt=flt, user=user)
        assert no_notes == bank_only  # a user without notes shares the bank's file
        _save(session, bank_ids(session)[0], note="新笔记")
        with_note, _ = anki_cache.deck_version(session=session, flt=flt, user=user)
        _save(session, bank_ids(session)[0], note="改过的笔记")
        edited, _ = anki_cache.deck_version(session=session, flt=flt, user=user)
    assert len({bank_only, with_note, edited}) == 3


def test_the_command_line_deck_has_the_local_users_notes_unless_bank_only(
    source: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(tmp_path / "source"))
    monkeypatch.setenv("IL_CONTENT_DIR", str(tmp_path / "content"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with make_sessionmaker(source)() as session:
        first = bank_ids(session)[0]
    runner = CliRunner()
    backs: dict[tuple[str, ...], str] = {}
    for flag in ([], ["--bank-only"], ["--user", "nobody"]):
        out = tmp_path / f"deck{len(backs)}.apkg"
        result = runner.invoke(cli, ["export", "anki", "--out", str(out), *flag])
        if flag == ["--user", "nobody"]:
            assert result.exit_code == 1 and "no user named 'nobody'" in result.output
            continue
        assert result.exit_code == 0, result.output
        backs[tuple(flag)] = read_apkg(out.read_bytes(), tmp_path).notes[first].fields[1]
    assert "my-note" in backs[()] and "my-note" not in backs[("--bank-only",)]
