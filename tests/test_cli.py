"""The import command as a user runs it: text and JSON reports, dry runs, exit codes."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli, runs_own_command
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.models import Question
from tests.conftest import REPO_ROOT, SEED

runner = CliRunner()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("IL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IL_CONTENT_DIR", str(settings.content_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def count_questions(settings: Settings) -> int:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            return session.scalar(select(func.count(Question.id))) or 0
    finally:
        engine.dispose()


def test_import_defaults_to_the_content_folder_and_prints_a_summary(
    settings: Settings, content_dir: Path
) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    result = runner.invoke(cli, ["import"])
    assert result.exit_code == 0, result.output
    assert "10 questions imported: 10 new" in result.output
    assert "阿里国际 3" in result.output
    assert count_questions(settings) == 10


def test_json_report(settings: Settings, content_dir: Path) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    (content_dir / "meta.md").write_text("# M\n### Q. 无元数据\n答案\n", encoding="utf-8")
    result = runner.invoke(cli, ["import", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["written"]
    assert report["totals"]["questions"] == 11 and report["totals"]["warnings"] == 1
    files = {f["source_file"]: f for f in report["files"]}
    assert files["llm-sft.md"]["questions"] == 10
    assert files["meta.md"]["warnings"][0]["line"] == 2
    assert report["counts"]["company"]["阿里"] == 3
    assert report["counts"]["stage"]["一面"] == 10
    assert report["counts"]["tag"]["LORA"] == 7


def test_dry_run_writes_nothing(settings: Settings, content_dir: Path) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    result = runner.invoke(cli, ["import", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "10 questions parsed" in result.output and "nothing written" in result.output
    assert not (settings.data_dir / "interview-lab.sqlite3").exists()


def test_errors_name_file_and_line_and_exit_non_zero(settings: Settings, content_dir: Path) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    bad = content_dir / "bad.md"
    bad.write_bytes(b"# ok\n### Q. x\n\xff\xfe broken\n")
    result = runner.invoke(cli, ["import"])
    assert result.exit_code == 1
    assert "bad.md:3: error: not UTF-8" in result.output
    assert "nothing was imported" in result.output
    assert count_questions(settings) == 0


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--help"], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0
    for command in ("serve", "import", "migrate"):
        assert command in result.stdout


def test_serve_refuses_a_public_address_without_accounts() -> None:
    result = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--no-import"])
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0" in result.output
    assert gc.isenabled()  # serve turns the collector off for its start, and back on


def test_serve_starts_without_the_sub_commands_which_other_runs_still_have() -> None:
    assert runs_own_command(["/repo/app/__main__.py", "serve", "--port", "8000"])
    assert runs_own_command(["/venv/bin/interview-lab", "migrate"])
    assert not runs_own_command(["/venv/bin/interview-lab", "claims", "check"])
    assert not runs_own_command(["/venv/bin/interview-lab"])
    assert not runs_own_command(["pytest", "serve"])  # another program importing the CLI
    script = "import sys; import app.cli; print('app.claims.cli' in sys.modules)"
    serve = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.argv = ['interview-lab', 'serve']; {script}"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    assert serve.stdout.strip() == "False"
    helped = subprocess.run(
        [sys.executable, "-m", "app", "claims", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert helped.returncode == 0 and "check" in helped.stdout


def test_the_console_script_turns_the_collector_off_before_the_clis_imports() -> None:
    """``interview-lab serve`` (what scripts/serve.sh runs) starts as ``python -m app
    serve`` does: the collector is already off when the CLI's modules load."""
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="interview-lab")
    assert script.value == "app.__main__:main"
    probe = (
        "import gc, sys; import builtins; real = builtins.__import__\n"
        "def spy(name, *a, **k):\n"
        "    if name == 'app.cli' and 'typer' not in sys.modules:\n"
        "        print('collector on' if gc.isenabled() else 'collector off')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = spy\n"
        "sys.argv = ['interview-lab', 'serve', '--help']\n"
        "from app.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    seen = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert seen.stdout.splitlines()[0] == "collector off"
    other = probe.replace("'serve', '--help'", "'migrate', '--help'")
    seen = subprocess.run(
        [sys.executable, "-c", other], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert seen.stdout.splitlines()[0] == "collector on"
