"""Company names folded by the documented rule, with content/aliases.yaml in charge
(issue 18): spellings merged, one name kept apart, each merge in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.content.filters import QuestionFilter, filtered_ids
from app.content.names import Aliases, plan_names
from app.db import make_engine, make_sessionmaker
from app.models import Asked, Tag

runner = CliRunner()


def chapter(title: str, *companies: str) -> str:
    parts = [f"# {title}\n"]
    for i, company in enumerate(companies):
        parts.append(
            f"\n### Q. {title} question {i}\n> **Company**: {company} | **Round**: 一面 | "
            f"**Date**: 2025-03-01 | **Tags**: [RL]\n\nAnswer {i}.\n"
        )
    return "".join(parts)


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(settings.content_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def stored(settings: Settings) -> list[str]:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            return sorted(str(c) for c in session.scalars(select(Asked.company)))
    finally:
        engine.dispose()


def test_the_rule_folds_width_case_and_spaces() -> None:
    plan = plan_names(["上海 AI Lab", "上海AI Lab", "上海AI Lab", "上海ＡＩ lab"], Aliases())
    assert set(plan.values()) == {"上海AI Lab"}


def test_aliases_merge_two_spellings_and_keep_one_apart(
    tmp_path: Path, settings: Settings, content_dir: Path
) -> None:
    (content_dir / "aliases.yaml").write_text(
        "companies:\n  Shanghai AI Laboratory: 上海AI Lab\n  META: META\n", encoding="utf-8"
    )
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "a.md").write_text(
        chapter("A", "上海 AI Lab", "上海AI Lab", "Meta", "META"), encoding="utf-8"
    )
    (bank / "b.md").write_text(
        chapter("B", "上海AI Lab", "Shanghai AI Laboratory", "meta"), encoding="utf-8"
    )
    result = runner.invoke(cli, ["import", str(bank), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["company"] == {"上海AI Lab": 4, "Meta": 2, "META": 1}
    assert report["merges"] == [
        "Shanghai AI Laboratory -> 上海AI Lab",
        "meta -> Meta",
        "上海 AI Lab -> 上海AI Lab",
    ]
    assert stored(settings) == ["META", "Meta", "Meta"] + ["上海AI Lab"] * 4
    text = runner.invoke(cli, ["import", str(bank)]).output
    assert "merged: company 上海 AI Lab -> 上海AI Lab" in text


def test_tag_aliases_and_spaces_merge_tags(
    tmp_path: Path, settings: Settings, content_dir: Path
) -> None:
    (content_dir / "aliases.yaml").write_text(
        "tags:\n  Low-Rank Adaptation: LoRA\n", encoding="utf-8"
    )
    bank = tmp_path / "bank"
    bank.mkdir()
    text = chapter("A", "美团", "美团", "美团")
    for old, new in (("[RL]", "[LoRA 微调, Low-Rank Adaptation]"), ("[RL]", "[LoRA微调, LoRA]")):
        text = text.replace(old, new, 1)
    (bank / "a.md").write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["import", str(bank), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["tag"] == {"LoRA 微调": 2, "LoRA": 2, "RL": 1}
    assert report["tag_merges"] == ["Low-Rank Adaptation -> LoRA"]
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            assert sorted(session.scalars(select(Tag.name))) == ["LoRA", "LoRA 微调", "RL"]
    finally:
        engine.dispose()


def test_a_tag_with_spaces_still_filters_the_bank(
    tmp_path: Path, settings: Settings, content_dir: Path
) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    text = chapter("A", "美团", "美团").replace("[RL]", "[Prompt Tuning]", 1)
    (bank / "a.md").write_text(text, encoding="utf-8")
    assert runner.invoke(cli, ["import", str(bank)]).exit_code == 0
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            for spelling in ("Prompt Tuning", "prompt  tuning", "PromptTuning"):
                flt = QuestionFilter(tag=(spelling,))
                assert len(session.scalars(filtered_ids(flt)).all()) == 1, spelling
    finally:
        engine.dispose()


def test_an_interview_company_takes_the_bank_spelling_by_the_same_rule(
    tmp_path: Path, settings: Settings
) -> None:
    import datetime as dt

    from app.study.interviews import add_interview
    from app.users.service import local_user

    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "a.md").write_text(chapter("A", "上海AI Lab"), encoding="utf-8")
    assert runner.invoke(cli, ["import", str(bank)]).exit_code == 0
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
            interview = add_interview(
                session=session,
                user=local_user(session=session),
                company="上海 ai lab",
                role=None,
                stage=None,
                date=now.date() + dt.timedelta(days=3),
                now=now,
            )
            assert interview.company == "上海AI Lab"
    finally:
        engine.dispose()


def tag_counts(settings: Settings) -> dict[str, int]:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            return {
                spelling: len(session.scalars(filtered_ids(QuestionFilter(tag=(spelling,)))).all())
                for spelling in sorted(session.scalars(select(Tag.name)))
            }
    finally:
        engine.dispose()


def test_keep_apart_splits_names_the_rule_would_fold_and_the_report_lists_them(
    tmp_path: Path, settings: Settings, content_dir: Path
) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    text = chapter("A", "Meta", "META").replace("[RL]", "[GO]", 1).replace("[RL]", "[Go]", 1)
    (bank / "a.md").write_text(text, encoding="utf-8")
    # Folded by the rule: one company, one tag.
    assert runner.invoke(cli, ["import", str(bank)]).exit_code == 0
    assert stored(settings) == ["Meta", "Meta"]
    assert tag_counts(settings) == {"GO": 2}
    # Kept apart: the files did not change, the stored names and tags follow the aliases.
    aliases = content_dir / "aliases.yaml"
    aliases.write_text(
        "keep_apart:\n  companies: [Meta, META]\n  tags: [GO, Go]\n", encoding="utf-8"
    )
    result = runner.invoke(cli, ["import", str(bank), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["kept_apart"] == [
        "company META (not Meta)",
        "company Meta (not META)",
        "tag GO (not Go)",
        "tag Go (not GO)",
    ]
    assert report["merges"] == []
    assert report["counts"]["tag"] == {"GO": 1, "Go": 1}
    assert stored(settings) == ["META", "Meta"]
    assert tag_counts(settings) == {"GO": 1, "Go": 1}
    assert "kept apart: tag GO (not Go)" in runner.invoke(cli, ["import", str(bank)]).output
    # Dropped from the aliases: folded again.
    aliases.write_text("companies: {}\n", encoding="utf-8")
    assert runner.invoke(cli, ["import", str(bank)]).exit_code == 0
    assert stored(settings) == ["Meta", "Meta"]
    assert tag_counts(settings) == {"GO": 2}


def test_keep_apart_must_be_lists_of_spellings(
    tmp_path: Path, settings: Settings, content_dir: Path
) -> None:
    (content_dir / "aliases.yaml").write_text("keep_apart:\n  tags: GO\n", encoding="utf-8")
    (tmp_path / "a.md").write_text(chapter("A", "Meta"), encoding="utf-8")
    result = runner.invoke(cli, ["import", str(tmp_path / "a.md")])
    assert result.exit_code == 1
    assert "keep_apart: tags must be a list of spellings" in result.output
