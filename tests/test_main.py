"""The app factory's start-up as a server meets it: which routers serve the first page,
and what waits until the server settles (the lazy routers, the garbage collector that
``serve`` turns off for its start, the demo workers, the claims' runs). Behaviour, not
timing: the timing is ``bench/startup_bench.py``'s."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.schema import ensure_schema


def test_the_first_page_is_served_before_the_other_routers_load_with_accounts_too(
    tmp_path: Path,
) -> None:
    """With accounts on, the first page a visitor sees is the sign-in page: routed from
    the start, as the home page is in local mode."""
    from app.main import create_app

    for accounts, first in ((False, "/"), (True, "/login")):
        application = create_app(Settings(data_dir=tmp_path, database_url="", accounts=accounts))
        ensure_schema(application.state.engine)
        pending = list(application.state.routes.pending)
        with TestClient(application, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as c:
            assert c.get(first).status_code == 200
            assert application.state.routes.pending == pending
            assert ("auth" in pending) is not accounts


def test_workers_and_the_claims_start_after_the_first_page_and_the_collector_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` starts with the garbage collector off; the server turns it back on when
    it settles, and only then starts its demo workers and queues the claims' runs."""
    import app.main as main

    events: list[str] = []

    class Workers:
        def start(self) -> None:
            events.append(f"workers start, collector {'on' if gc.isenabled() else 'off'}")

        def stop(self) -> None:
            events.append("workers stop")

        def submit(self, run_id: int) -> None:
            raise AssertionError("nothing to run")

    monkeypatch.setattr(main, "ROUTES_WARM_UP_S", 0.3)
    monkeypatch.setattr(main, "queue_claims", lambda application: events.append("claims"))
    application = main.create_app(Settings(data_dir=tmp_path, database_url=""), warm_up_routes=True)
    application.state.dispatcher = Workers()
    ensure_schema(application.state.engine)
    gc.disable()  # as serve does
    try:
        with TestClient(application, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as c:
            assert c.get("/").status_code == 200
            assert events == [] and not gc.isenabled()
            deadline = time.monotonic() + 30
            while len(events) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert gc.isenabled() and not application.state.routes.pending
    finally:
        gc.enable()
        gc.unfreeze()
    assert events == ["workers start, collector on", "claims", "workers stop"]
