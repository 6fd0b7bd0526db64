"""``python -m app serve`` with a timeline of its steps (``bench/startup_bench.py`` runs
it): the app's own ``app/__main__.py`` runs, unchanged, with a few of its functions
wrapped to note when they start and end. Each note is a line appended to
``$TRACE_FILE``: seconds since ``$TRACE_T0`` (the bench's ``time.monotonic()`` before it
started this process), this process's CPU seconds, the modules loaded, the step.

    TRACE_FILE=... TRACE_T0=... IL_DATA_DIR=... IL_PORT=... python bench/startup_trace.py
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def note(step: str) -> None:
    since = time.monotonic() - float(os.environ["TRACE_T0"])
    with open(os.environ["TRACE_FILE"], "a", encoding="utf-8") as out:
        out.write(f"{since:.3f}\t{time.process_time():.3f}\t{len(sys.modules)}\t{step}\n")


def wrap(owner: Any, name: str, before: str | None, after: str | None) -> None:
    function: Callable[..., Any] = getattr(owner, name)

    def noted(*args: Any, **kwargs: Any) -> Any:
        if before:
            note(before)
        result = function(*args, **kwargs)
        if after:
            note(after)
        return result

    setattr(owner, name, noted)


def trace_serving() -> None:
    """Once ``serve`` has imported uvicorn and app.main (it then checks the content)."""
    import uvicorn
    import uvicorn.server

    from app import main
    from app.worker import pool

    startup = uvicorn.server.Server.startup

    async def server_startup(self: uvicorn.server.Server, sockets: Any = None) -> None:
        await startup(self, sockets)
        note("listening (socket bound, lifespan started)")

    uvicorn.server.Server.startup = server_startup  # type: ignore[method-assign]
    run = uvicorn.run

    def uvicorn_run(application: Any, **kwargs: Any) -> None:
        note("app built (create_app); uvicorn.run")
        first: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or first:
                await application(scope, receive, send)
                return
            first.append(scope["path"])
            note(f"first request: GET {scope['path']}")

            async def sent(message: Any) -> None:
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    note("first response sent")

            await application(scope, receive, sent)

        run(app, **kwargs)

    uvicorn.run = uvicorn_run  # type: ignore[assignment]
    wrap(main, "settle", None, "settled: lazy routers loaded, collector on")
    wrap(pool.LocalPool, "start", None, "demo workers spawned")
    wrap(main, "queue_claims", None, "claims' runs queued (thread)")


def trace_cli(cli: ModuleType) -> None:
    """Once ``app.cli`` is imported, before ``main()`` runs."""
    from app import startup

    note("app.cli imported (typer, settings, database)")
    content: Callable[..., Any] = cli.import_content

    def import_content(settings: Any) -> Any:
        trace_serving()
        note("uvicorn and app.main imported")
        report = content(settings)
        note("content/ " + ("unchanged: not imported" if report is None else "imported"))
        return report

    cli.import_content = import_content  # type: ignore[attr-defined]
    wrap(cli, "ensure_schema", None, "schema checked")
    wrap(startup, "files_fingerprint", None, "files fingerprint")
    wrap(startup, "is_unchanged", None, "database fingerprint")


class _AfterImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Calls ``then(module)`` once ``name`` has been imported."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self.name, self.then = name, then
        self.spec: importlib.machinery.ModuleSpec | None = None
        self.inner: Any = None  # the loader it stands in for

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != self.name or self.spec is not None:
            return None
        self.spec = importlib.machinery.PathFinder.find_spec(name, path)
        if self.spec is None or self.spec.loader is None:
            return None
        self.inner, self.spec.loader = self.spec.loader, self
        return self.spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        self.then(module)


if __name__ == "__main__":
    note("python started")
    sys.path.insert(0, str(REPO_ROOT))
    sys.meta_path.insert(0, _AfterImport("app.cli", trace_cli))
    sys.argv = [str(REPO_ROOT / "app" / "__main__.py"), "serve"]
    runpy.run_module("app", run_name="__main__", alter_sys=True)
