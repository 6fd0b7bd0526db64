"""The layers of ``app/`` only import downwards: the question bank (``app.content``)
knows nothing of claims, runs, workers or anything built on them."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

# Everything above ``content`` in the layer order (DESIGN.md), and the demos beside them.
ABOVE_CONTENT = (
    "app.bank",
    "app.claims",
    "app.runs",
    "app.worker",
    "app.study",
    "app.quiz",
    "app.export",
    "app.web",
    "app.main",
    "app.cli",
    "app.demos",
)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: use absolute imports (line {node.lineno})")
    return found


def is_above_content(module: str) -> bool:
    return any(module == m or module.startswith(f"{m}.") for m in ABOVE_CONTENT)


def test_the_bank_layer_imports_nothing_above_it() -> None:
    files = sorted((REPO_ROOT / "app" / "content").glob("*.py"))
    assert files
    upward = {
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if is_above_content(module)
    }
    assert not upward, sorted(upward)


def test_the_walk_finds_an_upward_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from app.claims.store import store_claims\n")
    assert any(is_above_content(m) for m in imported_modules(sample))
