"""Catalogue-wide rules on the demos' code itself: no function over 60 lines (a long
``run`` or ``result_of`` is built from small named parts), and each demo's ``params.py``
and ``report.py`` load without torch (the web process builds forms from the one and may
read results with the other)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.demos import registry

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMOS_ROOT = REPO_ROOT / "app" / "demos"
MAX_LINES = 60


def long_functions(root: Path, limit: int) -> list[str]:
    """ "path:function (n lines)" for each function or method longer than ``limit`` lines,
    its decorators and docstring included."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - first + 1
                if length > limit:
                    where = path.relative_to(root).as_posix()
                    found.append(f"{where}:{node.name} ({length} lines)")
    return found


def test_no_demo_function_is_over_60_lines() -> None:
    offenders = long_functions(DEMOS_ROOT, MAX_LINES)
    assert not offenders, "split these into small named parts:\n" + "\n".join(offenders)


def test_the_length_rule_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text(f"def run() -> None:\n{body}\n")
    (tmp_path / "short.py").write_text("def run() -> None:\n    pass\n")
    assert long_functions(tmp_path, MAX_LINES) == [f"long.py:run ({MAX_LINES + 1} lines)"]


# Imports the demo's params and report without running app/demos/__init__.py (which
# loads the whole catalogue), then prints whether torch was loaded.
IMPORT_ONE = textwrap.dedent(
    """
    import importlib, sys, types
    from pathlib import Path
    import app
    catalogue = types.ModuleType("app.demos")
    catalogue.__path__ = [str(Path(app.__file__).parent / "demos")]
    sys.modules["app.demos"] = catalogue
    for role in ("params", "report"):
        importlib.import_module(f"{sys.argv[1]}.{role}")
    print(sorted(m for m in ("torch", "numpy") if m in sys.modules))
    """
)


@pytest.mark.parametrize("name", list(registry()))
def test_params_and_report_load_without_torch(name: str) -> None:
    package = registry()[name].package
    assert (DEMOS_ROOT / package.rsplit(".", 1)[1] / "report.py").is_file()
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ONE, package],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "torch" not in done.stdout.strip().splitlines()[-1], (
        f"{package}.params or .report imports torch"
    )
