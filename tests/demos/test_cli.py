"""`interview-lab demo list` and `demo run` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import REPO_ROOT

runner = CliRunner()


def test_demo_list_json_has_each_parameter_with_its_bounds() -> None:
    result = runner.invoke(cli, ["demo", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    catalogue = {d["name"]: d for d in json.loads(result.stdout)}
    m = next(p for p in catalogue["rank"]["params"] if p["name"] == "m")
    assert (m["minimum"], m["maximum"], m["default"]) == (2, 512, 64)


def test_demo_list_text_names_the_demos() -> None:
    result = runner.invoke(cli, ["demo", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "rank" in result.stdout


def test_demo_run_prints_json_on_stdout_and_progress_on_stderr() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "demo",
            "run",
            "rank",
            "--set",
            "m=8",
            "--set",
            "n=6",
            "--set",
            "r=2",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["figures"]["rank"] == 2
    assert data["meta"]["device"] == "cpu" and data["meta"]["torch_version"]
    assert all(check["passed"] for check in data["checks"])


def test_demo_run_rejects_a_bad_parameter_naming_it() -> None:
    result = runner.invoke(cli, ["demo", "run", "rank", "--set", "m=100000"])
    assert result.exit_code == 2
    assert "m" in result.output and "512" in result.output
    result = runner.invoke(cli, ["demo", "run", "rank", "--set", "oops"])
    assert result.exit_code != 0
    # The message is printed as it is: brackets in it are not taken for rich's markup.
    result = runner.invoke(cli, ["demo", "run", "[bold]nope[/bold]"])
    assert result.exit_code == 2
    assert "demo '[bold]nope[/bold]' does not exist" in result.output


def test_demo_run_refuses_a_cross_field_rule_in_one_line_naming_the_field() -> None:
    """Every value is inside its bounds; r > min(m, n) is refused before the run."""
    result = subprocess.run(
        [sys.executable, "-m", "app", "demo", "run", "rank"]
        + ["--set", "m=4", "--set", "n=4", "--set", "r=8"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == ["r: must be at most min(m, n) = 4 (got '8')"]
