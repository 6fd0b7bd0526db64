"""Accounts fixtures: an accounts app on SQLite or on a fresh PostgreSQL database, and
clients that each come from their own address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine, migrate
from app.main import create_app

MakeApp = Callable[..., FastAPI]
# What TestClient answers: httpx's Response, or httpx2's where starlette finds httpx2.
Response = Any
Connect = Callable[..., TestClient]
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """ "" (SQLite in the data folder) or a fresh PostgreSQL database, by the test's
    ``backend`` parameter (SQLite when it has none)."""
    backend = getattr(request, "param", "sqlite")
    return str(request.getfixturevalue("pg_url")) if backend == "postgresql" else ""


@pytest.fixture
def make_app(tmp_path: Path, content_dir: Path, database_url: str) -> Iterator[MakeApp]:
    """An accounts app on a migrated database, with settings overridden by keyword."""
    engines = []

    def make(**overrides: object) -> FastAPI:
        settings = Settings(
            data_dir=tmp_path / "data",
            content_dir=content_dir,
            database_url=database_url,
            accounts=True,
            **overrides,  # type: ignore[arg-type]
        )
        engine = make_engine(settings)
        migrate(engine)
        engines.append(engine)
        return create_app(settings)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def connect() -> Iterator[Connect]:
    """A client of ``app`` from ``address`` (started; closed after the test)."""
    with ExitStack() as stack:

        def make(app: FastAPI, address: str = "10.0.0.1", language: str = "en") -> TestClient:
            client = TestClient(
                app,
                base_url="http://localhost",
                client=(address, 50000),
                headers={"Accept-Language": language},
                raise_server_exceptions=False,
            )
            return stack.enter_context(client)

        yield make
