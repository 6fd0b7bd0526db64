"""The Anki export, read back the way Anki reads it: the ``.apkg`` is a zip holding
``collection.anki2`` (SQLite); its notes' fields, tags and GUIDs are checked there."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import genanki  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.content.filters import QuestionFilter
from app.content.importer import import_paths
from app.errors import Unprocessable
from app.export import anki
from app.models import Asked, Question
from tests.conftest import SEED, WriteMd

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
FIELD_SEP = "\x1f"

BANK = """
# 第一章
### Q. 为什么 \\(W = W_0 + BA\\) 能省显存？
> **Company**: 阿里 国际 | **Round**: 算法工程师 一面 | **Date**: 2025-08-01 | **Tags**: [Prompt Tuning, LoRA]
冻结 $W_0$，只训练 $B$ 和 $A$，且 $r<d$。

$$
\\Delta W = B A
$$

<script>alert(1)</script>
<mark>只训练低秩的 $BA$。</mark>
### Q. 问题二
> **Company**: 美团 | **Round**: 算法工程师 二面 | **Date**: 2025-08-02 | **Tags**: [LoRA]
答案二
### Q. 问题三
> **Company**: 快手 | **Tags**: [量化]
答案三
"""


@dataclass(frozen=True)
class Note:
    guid: str
    model_id: int
    fields: list[str]
    tags: list[str]
    mod: int


@dataclass(frozen=True)
class Package:
    notes: dict[str, Note]  # by the QuestionId field
    model_ids: set[int]
    deck_ids: set[int]
    model_fields: list[str]


def read_apkg(data: bytes, tmp_path: Path) -> Package:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "collection.anki2" in z.namelist()
        path = tmp_path / f"collection-{len(list(tmp_path.iterdir()))}.anki2"
        path.write_bytes(z.read("collection.anki2"))
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT guid, mid, flds, tags, mod FROM notes").fetchall()
        models_json, decks_json = db.execute("SELECT models, decks FROM col").fetchone()
        deck_ids = {int(d) for (d,) in db.execute("SELECT DISTINCT did FROM cards")}
    notes = {}
    for guid, mid, flds, tags, mod in rows:
        fields = flds.split(FIELD_SEP)
        notes[fields[4]] = Note(guid, int(mid), fields, tags.split(), int(mod))
    models = json.loads(models_json)
    (model,) = models.values()
    assert {int(d) for d in json.loads(decks_json)} >= deck_ids
    return Package(
        notes=notes,
        model_ids={int(m) for m in models},
        deck_ids=deck_ids,
        model_fields=[f["name"] for f in model["flds"]],
    )


@pytest.fixture
def factory(
    session_factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path
) -> Iterator[sessionmaker[Session]]:
    write_md("a.md", BANK)
    with session_factory() as session, session.begin():
        assert import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0).ok
    yield session_factory


def export(factory: sessionmaker[Session], flt: QuestionFilter, now: dt.datetime = T0) -> bytes:
    with factory() as session:
        data, _count = anki.export_anki(session=session, flt=flt, now=now)
    return data


def ids_by_title(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        return {title: qid for qid, title in session.execute(select(Question.id, Question.title))}


def test_one_note_per_question_with_the_answer_math_as_tex(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    pkg = read_apkg(export(factory, QuestionFilter()), tmp_path)
    ids = ids_by_title(factory)
    assert set(pkg.notes) == set(ids.values())
    assert pkg.model_fields == ["Front", "Back", "Takeaway", "Source", "QuestionId"]
    first = pkg.notes[ids["为什么 \\(W = W_0 + BA\\) 能省显存？"]]
    front, back, takeaway, source, _qid = first.fields
    assert front == "为什么 \\(W = W_0 + BA\\) 能省显存？"
    assert "\\(W_0\\)" in back and "\\(r&lt;d\\)" in back  # TeX, escaped as HTML text
    assert "\\[\\Delta W = B A\\]" in back
    assert "<math" not in back + front + takeaway
    assert "<script" not in back and "alert" not in back  # sanitised like the pages
    assert "\\(BA\\)" in takeaway
    assert source == "a.md:2"


def test_tags_name_company_stage_role_and_topic_without_spaces(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    pkg = read_apkg(export(factory, QuestionFilter()), tmp_path)
    ids = ids_by_title(factory)
    first = pkg.notes[ids["为什么 \\(W = W_0 + BA\\) 能省显存？"]]
    assert set(first.tags) == {
        "company::阿里_国际",
        "role::算法工程师",
        "stage::一面",
        "topic::Prompt_Tuning",
        "topic::LoRA",
        "chapter::a",
    }
    third = pkg.notes[ids["问题三"]]
    assert set(third.tags) == {"company::快手", "topic::量化", "chapter::a"}
    assert anki.anki_tag("topic", " Prompt\u3000 Tuning ") == "topic::Prompt_Tuning"


def test_guids_and_ids_are_stable_so_a_second_export_updates_the_same_notes(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    first = read_apkg(export(factory, QuestionFilter(), T0), tmp_path)
    later = T0 + dt.timedelta(days=30)
    second = read_apkg(export(factory, QuestionFilter(), later), tmp_path)
    for qid, note in first.notes.items():
        assert note.guid == genanki.guid_for(qid) == second.notes[qid].guid
        assert second.notes[qid].mod > note.mod  # newer: Anki's import updates it
    assert first.model_ids == second.model_ids == {anki.MODEL_ID}
    assert first.deck_ids == second.deck_ids == {anki.DECK_ID}
    # Pinned: a change here would make every user's Anki add copies of every note.
    assert anki.note_guid("llm-sft-0cd816d5") == genanki.guid_for("llm-sft-0cd816d5")
    assert (anki.MODEL_ID, anki.DECK_ID) == (
        anki.stable_id("interview-lab/anki-model/v1"),
        anki.stable_id("interview-lab/anki-deck"),
    )
    assert anki.stable_id("interview-lab/anki-deck") == anki.stable_id("interview-lab/anki-deck")
    assert 2**30 <= anki.MODEL_ID < 2**31 and 2**30 <= anki.DECK_ID < 2**31


def test_archived_questions_are_left_out(
    factory: sessionmaker[Session], write_md: WriteMd, content_dir: Path, tmp_path: Path
) -> None:
    ids = ids_by_title(factory)
    write_md("a.md", BANK.split("### Q. 问题三")[0])  # 问题三 leaves the bank
    with factory() as session, session.begin():
        assert import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0).ok
    pkg = read_apkg(export(factory, QuestionFilter()), tmp_path)
    assert ids["问题三"] not in pkg.notes and len(pkg.notes) == 2


def test_the_filter_narrows_the_notes(factory: sessionmaker[Session], tmp_path: Path) -> None:
    ids = ids_by_title(factory)
    by_company = read_apkg(export(factory, QuestionFilter(company=("美团",))), tmp_path)
    assert set(by_company.notes) == {ids["问题二"]}
    by_tag = read_apkg(export(factory, QuestionFilter(tag=("lora",))), tmp_path)
    assert set(by_tag.notes) == {ids["问题二"], ids["为什么 \\(W = W_0 + BA\\) 能省显存？"]}
    with pytest.raises(Unprocessable, match="no question matches"):
        export(factory, QuestionFilter(q="没有这个词"))


def test_the_seed_bank_exports_every_question(
    session_factory: sessionmaker[Session], content_dir: Path, tmp_path: Path
) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    with session_factory() as session, session.begin():
        import_paths(session, paths=[content_dir], content_dir=content_dir, now=T0)
    pkg = read_apkg(export(session_factory, QuestionFilter()), tmp_path)
    with session_factory() as session:
        asked = session.execute(select(Asked.question_id, Asked.company, Asked.stage)).all()
    assert len(pkg.notes) == 10
    for qid, company, stage in asked:
        tags = pkg.notes[qid].tags
        assert f"company::{company}" in tags and f"stage::{stage}" in tags
        assert any(t.startswith("topic::") for t in tags)
    for note in pkg.notes.values():
        assert "<math" not in note.fields[1]
    assert sum("\\(" in note.fields[1] for note in pkg.notes.values()) >= 3


def test_command_line_writes_the_deck(
    factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(tmp_path / "content"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    out = tmp_path / "deck.apkg"
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "anki", "--out", str(out), "--company", "美团"])
    assert result.exit_code == 0, result.output
    assert "wrote 1 notes" in result.output
    assert len(read_apkg(out.read_bytes(), tmp_path).notes) == 1
    result = runner.invoke(cli, ["export", "anki", "--out", str(out), "--tag", "nothing"])
    assert result.exit_code == 1 and "no question matches" in result.output
