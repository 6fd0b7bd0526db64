"""The layers of ``app/`` only import downwards, and no modules import each other in a
circle (issue 14: "the module import graph of app/ has no circle and no import from a
lower layer to a higher one").

Every module under ``app/`` is parsed (not imported: this runs without torch), and every
``import app.x`` / ``from app.x import y`` it holds is found, at module level or inside a
function. Each module is given its layer by ``LAYERS``; an import may point to its own
layer or one below it, never above. Imports under ``if TYPE_CHECKING:`` count for the
layers (a type from a higher layer is still a dependency on it) and for the strict circle
test; only the import-time circle test leaves them, and imports inside functions, out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

# The layers, lowest first (DESIGN.md, "Layout"). A module belongs to the entry with the
# longest prefix matching its dotted name (``app.claims.cli`` before ``app.claims``); a
# module no entry names fails the test, so a new package has to be placed here.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Anyone may import these. ``app`` is the package itself (a docstring). ``app.users.names``
    # is the username folding the ``User`` model uses: plain ``unicodedata``, no app import.
    # ``app.schema``: is the database at the newest migration (one query, no alembic).
    (
        "foundation",
        (
            "app",
            "app.config",
            "app.db",
            "app.schema",
            "app.errors",
            "app.i18n",
            "app.users.names",
        ),
    ),
    ("models", ("app.models",)),
    ("content", ("app.content",)),  # parse and import questions: knows nothing of claims
    ("claims", ("app.claims",)),  # claim files, the rule language, verdicts from stored runs
    ("bank", ("app.bank",)),  # imports the questions, then their claims, in one transaction
    ("sources", ("app.sources",)),  # folders, files, archives, git URLs imported as sources
    # Hidden jobs the demo workers run beside the demos (the FSRS fit): the demos'
    # catalogue types, no torch at import; runs refuse their permalinks, workers find them.
    ("jobs", ("app.jobs",)),
    ("runs", ("app.runs",)),  # a run's life (lifecycle: the one writer of its status)
    ("worker", ("app.worker",)),  # execute a run; local pool; Celery
    ("features", ("app.study", "app.quiz", "app.export", "app.users", "app.mock")),
    ("web", ("app.web",)),
    # The entry points. A feature's typer sub-commands live in its package but are entry
    # points too: they run the feature (a claims check executes runs with the worker's
    # code) and only ``app.cli`` imports them.
    (
        "entry",
        (
            "app.main",
            "app.cli",
            "app.startup",  # what serve's start can skip (the unchanged content import)
            "app.__main__",
            "app.claims.cli",
            "app.runs.cli",
            "app.export.cli",
            "app.sources.cli",
        ),
    ),
)
RANK = {name: rank for rank, (name, _) in enumerate(LAYERS)}

# The demos sit beside the layers, not in them. A demo imports only other demos and the
# foundation, less the settings and the database: its inputs come only through its params
# and ``RunContext`` (issue 14), so that its cache key covers them. Every layer above
# ``content`` may read the demos' catalogue (the registry, ``Demo``, params: no torch);
# only workers run a demo, and they do it through the catalogue too.
DEMOS = "app.demos"
NOT_FOR_DEMOS = frozenset({"app.config", "app.db"})
CATALOGUE = frozenset({"app.demos", "app.demos.base", "app.demos.text"})
LOWEST_CATALOGUE_READER = RANK["content"] + 1

# Known problems inside app/demos, left for the demos' move into packages (issue 14, done
# in another branch; nobody else edits app/demos meanwhile). After that merge, delete the
# entries that no longer occur: the test fails on an entry that no longer matches, so the
# lists only shrink.
KNOWN_DEMO_IMPORTS: frozenset[str] = frozenset()
# Each demo's params class lives in its entry module, which its report (or model) imports
# back: inside a function or under TYPE_CHECKING, so only the strict circle test sees them.
KNOWN_DEMO_CIRCLES: frozenset[frozenset[str]] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the app module it imports
    path: Path
    line: int
    # Runs when ``source`` is imported: at module level, not under ``if TYPE_CHECKING:``.
    at_import: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} imports {self.target}"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules(root: Path) -> dict[str, Path]:
    """Every module of the ``app`` package under ``root``, by dotted name."""
    return {module_name(p, root): p for p in sorted((root / "app").rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Finder(ast.NodeVisitor):
    """Collects the imported names of one file with where they run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[tuple[str, int, bool]] = []
        self._deferred = 0  # inside a function or a TYPE_CHECKING block

    def _defer(self, node: ast.AST) -> None:
        self._deferred += 1
        self.generic_visit(node)
        self._deferred -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _defer

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._deferred += 1
        for child in node.body:
            self.visit(child)
        self._deferred -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(alias.name, node.lineno, not self._deferred) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            raise AssertionError(f"{self.path}:{node.lineno}: use absolute imports")
        for alias in node.names:
            # ``from app.claims import service`` imports a module; ``from app.models
            # import Claim`` a name of one: resolved below to the longest known module.
            self.found.append((f"{node.module}.{alias.name}", node.lineno, not self._deferred))


def imports(root: Path) -> list[Import]:
    """Every import of an ``app`` module by an ``app`` module under ``root``."""
    modules = app_modules(root)
    found = []
    for source, path in modules.items():
        finder = _Finder(path.relative_to(root))
        finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for name, line, at_import in finder.found:
            target = name
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != source:
                found.append(Import(source, target, finder.path, line, at_import))
    return found


def layer_of(module: str) -> str | None:
    if module == DEMOS or module.startswith(f"{DEMOS}."):
        return "demos"
    best: tuple[int, str] | None = None
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(f"{prefix}.")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), name)
    return None if best is None else best[1]


def wrong_way(imp: Import) -> str | None:
    """Why ``imp`` breaks the layering, or None. Imports under ``TYPE_CHECKING`` count
    too: a type from a higher layer is a dependency on that layer all the same."""
    source, target = layer_of(imp.source), layer_of(imp.target)
    assert source is not None and target is not None
    if source == "demos":
        if imp.target in NOT_FOR_DEMOS:
            return "a demo's inputs come through its params and RunContext"
        return None if target in ("demos", "foundation") else f"a demo imports the {target} layer"
    if target == "demos":
        if RANK[source] < LOWEST_CATALOGUE_READER:
            return f"the {source} layer imports a demo"
        return None if imp.target in CATALOGUE else "only workers run demos, via the catalogue"
    if RANK[target] > RANK[source]:
        return f"{source} imports {target}, a higher layer"
    return None


def circles(edges: list[Import]) -> list[list[str]]:
    """The import circles among ``edges``: for each strongly connected group of modules,
    one shortest circle through its first module, as ``[a, b, ..., a]``."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
    found = []
    for group in _strongly_connected(graph):
        start = min(group)
        paths = {start: [start]}
        frontier = [start]
        while frontier and start not in graph.get(frontier[0], set()):
            node = frontier.pop(0)
            for nxt in sorted(graph.get(node, set()) & group):
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    frontier.append(nxt)
        found.append([*paths[frontier[0]], start])
    return sorted(found)


def _strongly_connected(graph: dict[str, set[str]]) -> Iterator[set[str]]:
    """Tarjan's groups of more than one module (a module never imports itself here)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> Iterator[set[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, set())):
            if nxt not in index:
                yield from visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                yield group

    for node in sorted(graph):
        if node not in index:
            yield from visit(node)


def test_every_module_has_a_layer() -> None:
    modules = app_modules(REPO_ROOT)
    assert "app.claims.service" in modules and "app.demos.base" in modules
    assert [m for m in modules if layer_of(m) is None] == []


def test_no_import_points_to_a_higher_layer() -> None:
    found = imports(REPO_ROOT)
    assert any(not i.at_import for i in found)  # the walk sees imports inside functions
    wrong = [(i, why) for i in found if (why := wrong_way(i))]
    known = {f"{i.source} -> {i.target}" for i, _ in wrong} & KNOWN_DEMO_IMPORTS
    unknown = [f"{i}: {why}" for i, why in wrong if f"{i.source} -> {i.target}" not in known]
    assert sorted(unknown) == []
    assert sorted(KNOWN_DEMO_IMPORTS - known) == [], "fixed: delete from KNOWN_DEMO_IMPORTS"


def test_no_import_circles_at_import_time() -> None:
    """Module-level imports: a circle here breaks or half-initialises a module depending
    on which side is imported first."""
    found = circles([i for i in imports(REPO_ROOT) if i.at_import])
    assert [" -> ".join(c) for c in found] == []


def test_no_import_circles_at_all() -> None:
    """Imports inside functions and under ``TYPE_CHECKING`` too: they don't run at import
    time, but the two modules still can't be read, tested or versioned one without the
    other (issue 14 counts ``lora`` <-> ``lora_report``, whose way back is a
    ``TYPE_CHECKING`` import of the params class)."""
    found = circles(imports(REPO_ROOT))
    unknown = [" -> ".join(c) for c in found if frozenset(c) not in KNOWN_DEMO_CIRCLES]
    assert unknown == []
    stale = KNOWN_DEMO_CIRCLES - {frozenset(c) for c in found}
    assert not stale, "fixed: delete from KNOWN_DEMO_CIRCLES"


# Modules that load torch when imported (fsrs's optimizer imports it at module level), and
# the packages that alone may import them, at module level or inside a function: the web
# process imports everything else (DESIGN.md: "FastAPI ... never imports torch").
TORCH = ("torch", "fsrs.optimizer")
TORCH_PACKAGES = ("app.demos", "app.worker")


def torch_imports(root: Path) -> list[str]:
    """Every import of a torch module by an ``app`` module outside ``TORCH_PACKAGES``."""
    found = []
    for source, path in app_modules(root).items():
        if any(source == p or source.startswith(f"{p}.") for p in TORCH_PACKAGES):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            if any(n == t or n.startswith(f"{t}.") for n in names for t in TORCH):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {source} imports torch")
    return sorted(set(found))


def test_only_demos_and_workers_import_torch() -> None:
    assert torch_imports(REPO_ROOT) == []


def test_the_torch_check_finds_torch_inside_a_function(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/jobs/__init__.py": "def fit():\n    import torch.nn\n",
            "app/jobs/fit.py": "def fit():\n    from fsrs import optimizer\n",
            "app/study/fit.py": "from fsrs.optimizer import Optimizer\nimport fsrs\n",
            "app/worker/jobs.py": "import torch\n",
            "app/demos/lora/model.py": "from torch import nn\n",
        },
    )
    assert torch_imports(root) == [
        "app/jobs/__init__.py:2: app.jobs imports torch",
        "app/jobs/fit.py:2: app.jobs.fit imports torch",
        "app/study/fit.py:1: app.study.fit imports torch",
    ]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"app/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_check_finds_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/claims/__init__.py": "",
            "app/claims/service.py": "def f():\n    from app.runs.lifecycle import queue_run\n",
            "app/runs/__init__.py": "",
            "app/runs/lifecycle.py": "from app.claims import service\n",
            "app/demos/__init__.py": "from app.content.loader import load\nimport app.errors\n",
            "app/demos/run.py": "def run():\n    from app.config import get_settings\n",
            "app/errors.py": "",
            "app/config.py": "",
            "app/content/__init__.py": "",
            "app/content/loader.py": "import app.demos.base\n",
            "app/demos/base.py": "",
        },
    )
    found = imports(root)
    assert {str(i): wrong_way(i) for i in found} == {
        "app/claims/service.py:2: app.claims.service imports app.runs.lifecycle": (
            "claims imports runs, a higher layer"
        ),
        "app/runs/lifecycle.py:1: app.runs.lifecycle imports app.claims.service": None,
        "app/demos/__init__.py:1: app.demos imports app.content.loader": (
            "a demo imports the content layer"
        ),
        "app/demos/__init__.py:2: app.demos imports app.errors": None,
        "app/demos/run.py:2: app.demos.run imports app.config": (
            "a demo's inputs come through its params and RunContext"
        ),
        "app/content/loader.py:1: app.content.loader imports app.demos.base": (
            "the content layer imports a demo"
        ),
    }


def test_the_check_names_each_circle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/web/__init__.py": "",
            "app/web/a.py": "from app.web.b import x\n",
            "app/web/b.py": "import app.web.c\nx = 1\n",
            "app/web/c.py": "from app.web import a\n",
            "app/web/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from app.web.e import y\n",
            "app/web/e.py": "def f():\n    from app.web.d import z\n",
        },
    )
    found = imports(root)
    assert circles([i for i in found if i.at_import]) == [
        ["app.web.a", "app.web.b", "app.web.c", "app.web.a"]
    ]
    assert circles(found) == [
        ["app.web.a", "app.web.b", "app.web.c", "app.web.a"],
        ["app.web.d", "app.web.e", "app.web.d"],
    ]
