"""Sources (issue 18): a folder of chapters, an archive, a git repository by file:// URL;
listed, re-imported after a change (cards kept), removed (archived) and restored."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.models import Card, Question
from tests.sources.test_identity import CHAPTER, NOW, write_bank

runner = CliRunner()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(settings.content_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def cli_ok(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def active(settings: Settings) -> dict[str, str]:
    """Active question id -> title."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(
                select(Question.id, Question.title).where(Question.archived_at.is_(None))
            )
            return {str(row[0]): str(row[1]) for row in rows}
    finally:
        engine.dispose()


def study(settings: Settings, qid: str) -> None:
    from app.study.review import rate
    from app.users.service import local_user

    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
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
    finally:
        engine.dispose()


def cards(settings: Settings) -> list[str]:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(Card.question_id)).all())
    finally:
        engine.dispose()


def test_a_folder_of_chapters_is_a_source_listed_removed_and_restored(
    tmp_path: Path, settings: Settings
) -> None:
    bank = write_bank(tmp_path / "bank")
    (bank / "3 third.md").write_text(CHAPTER.replace("# RLs", "# Third"), encoding="utf-8")
    out = cli_ok("import", str(bank))
    assert "6 questions imported: 6 new" in out
    ids = active(settings)
    assert sorted({i.rsplit("-", 1)[0] for i in ids}) == [
        "bank-1-3-rls",
        "bank-3-third",
        "bank-part-2-1-more",
    ]
    qid = sorted(ids)[0]
    study(settings, qid)
    listing = cli_ok("sources")
    assert "bank" in listing and "folder" in listing and str(bank) in listing
    assert " 6 " in listing and " 3 " in listing
    out = cli_ok("sources", "remove", "bank")
    assert "6 questions archived" in out
    assert active(settings) == {} and cards(settings) == [qid]
    assert "removed" in cli_ok("sources")
    cli_ok("import", str(bank))
    assert len(active(settings)) == 6 and cards(settings) == [qid]
    result = runner.invoke(cli, ["sources", "remove", "nope"])
    assert result.exit_code == 1 and "no source is named 'nope'" in result.output


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _tgz(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_is_unpacked_into_the_data_folder(tmp_path: Path, settings: Settings) -> None:
    archive = _zip(
        tmp_path / "notes.zip", {"notes/a.md": CHAPTER, "b.md": CHAPTER.replace("RLs", "B")}
    )
    out = cli_ok("import", str(archive))
    assert "4 questions imported" in out
    assert (settings.data_dir / "sources" / "notes" / "notes" / "a.md").is_file()
    assert all(i.startswith(("notes-notes-a-", "notes-b-")) for i in active(settings))
    assert "archive" in cli_ok("sources")


@pytest.mark.parametrize("make", [_zip, _tgz])
@pytest.mark.parametrize("evil", ["../evil.md", "/tmp/evil-abs.md", "a/../../evil.md"])
def test_an_archive_with_a_path_outside_it_is_refused(
    tmp_path: Path, settings: Settings, make: object, evil: str
) -> None:
    assert callable(make)
    suffix = ".zip" if make is _zip else ".tar.gz"
    archive = make(tmp_path / f"bad{suffix}", {"ok.md": CHAPTER, evil: CHAPTER})
    result = runner.invoke(cli, ["import", str(archive)])
    assert result.exit_code == 1
    assert "points outside the archive: refused" in result.output
    assert not (tmp_path / "evil.md").exists() and not Path("/tmp/evil-abs.md").exists()
    assert not (settings.data_dir / "sources" / "bad").exists()


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the system git")
def test_a_git_repository_by_file_url_and_its_re_import(tmp_path: Path, settings: Settings) -> None:
    repo = write_bank(tmp_path / "upstream" / "interview-notes")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "one", cwd=repo)
    url = repo.as_uri()
    assert "4 questions imported: 4 new" in cli_ok("import", url)
    ids = active(settings)
    ppo = next(i for i, t in ids.items() if t == "What is PPO?" and "1-3-rls" in i)
    assert ppo.startswith("interview-notes-1-3-rls-")
    study(settings, ppo)
    # Upstream edits the answer and adds a question.
    chapter = repo / "1.3 RLs.md"
    chapter.write_text(
        chapter.read_text(encoding="utf-8").replace(
            "Proximal policy optimisation.", "Proximal policy optimisation, clipped."
        )
        + "\n### Q. What is GRPO?\n> **Company**: 美团 | **Round**: 一面 | **Date**: 2025-04-01"
        " | **Tags**: [RL]\n\nGroup relative policy optimisation.\n",
        encoding="utf-8",
    )
    git("commit", "-q", "-am", "two", cwd=repo)
    out = cli_ok("import", url)
    assert "1 new" in out and "1 updated" in out
    assert cards(settings) == [ppo] and ppo in active(settings)
    assert "git" in cli_ok("sources") and url in cli_ok("sources")
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            assert session.scalar(select(func.count(Question.id))) == 5
    finally:
        engine.dispose()


def test_a_dry_run_of_an_archive_leaves_the_sources_alone(
    tmp_path: Path, settings: Settings
) -> None:
    archive = _zip(tmp_path / "notes.zip", {"a.md": CHAPTER})
    out = cli_ok("import", "--dry-run", str(archive))
    assert "2 questions parsed" in out and "nothing written" in out
    assert not (settings.data_dir / "sources").exists()
    assert [p.name for p in settings.data_dir.iterdir()] == []
