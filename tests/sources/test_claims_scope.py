"""A user's own file imports on a fresh database while the app ships claim files for
chapters the bank does not hold (issue 18): such a claim file is skipped with one warning."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from tests.conftest import REPO_ROOT

runner = CliRunner()

MINE = """# My chapter

### Q. What is a KV cache?
**Asked at:** 上海AI Lab · 一面 · 2025-03

It keeps the keys and values of earlier tokens.
"""


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings, content_dir: Path) -> None:
    # The shipped claims, beside a content folder that does not hold their chapter.
    shutil.copytree(REPO_ROOT / "content" / "claims", content_dir / "claims")
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(settings.content_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_user_file_imports_on_a_fresh_database_with_the_shipped_claims(
    tmp_path: Path, dry_run: bool
) -> None:
    mine = tmp_path / "mine" / "my-chapter.md"
    mine.parent.mkdir()
    mine.write_text(MINE, encoding="utf-8")
    result = runner.invoke(cli, ["import", str(mine)] + (["--dry-run"] if dry_run else []))
    assert result.exit_code == 0, result.output
    assert "no question has the id" not in result.output
    assert result.output.count("llm-sft.yaml") == 1
    assert "skipped" in result.output
    assert "1 question" in result.output


def test_a_claim_file_of_an_imported_chapter_is_still_checked(content_dir: Path) -> None:
    # Naming one question the bank lacks, beside many it holds: a broken claim, an error.
    shutil.copy(REPO_ROOT / "content" / "llm-sft.md", content_dir / "llm-sft.md")
    claims = content_dir / "claims" / "llm-sft.yaml"
    text = claims.read_text(encoding="utf-8")
    claims.write_text(text.replace("llm-sft-fdc9313d", "llm-sft-00000000", 1), encoding="utf-8")
    result = runner.invoke(cli, ["import"])
    assert result.exit_code == 1
    assert "no question has the id 'llm-sft-00000000'" in result.output
