"""Web fixtures: one app-client factory with named variants (local user or accounts),
each on a fresh migrated database with the seed bank imported."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.types import ASGIApp

from app.bank import import_bank
from app.config import Settings
from app.db import make_sessionmaker
from app.main import create_app
from tests.conftest import SEED

MakeClient = Callable[..., TestClient]

# The app answers only loopback clients under a loopback name in local mode (see
# app.web.security); the test client's defaults ("testserver", "testclient") are neither.
LOCAL_URL = "http://127.0.0.1"
LOCAL_ADDRESS = ("127.0.0.1", 50000)


def local_client(app: ASGIApp, **kwargs: Any) -> TestClient:
    """A TestClient that talks to ``app`` as a browser on this machine would."""
    return TestClient(app, base_url=LOCAL_URL, client=LOCAL_ADDRESS, **kwargs)


def import_seed(engine: Engine, content_dir: Path) -> None:
    (content_dir / "llm-sft.md").write_bytes(SEED.read_bytes())
    with make_sessionmaker(engine)() as session, session.begin():
        report = import_bank(
            session, paths=[content_dir], content_dir=content_dir, now=dt.datetime.now(dt.UTC)
        )
    assert report.ok


@pytest.fixture
def make_client(settings: Settings, engine: Engine, content_dir: Path) -> Iterator[MakeClient]:
    clients: list[TestClient] = []

    def make(*, accounts: bool = False, seed: bool = True, language: str = "en") -> TestClient:
        if seed and not clients:
            import_seed(engine, content_dir)
        app_settings = settings.model_copy(update={"accounts": accounts})
        client = local_client(create_app(app_settings), headers={"Accept-Language": language})
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """The embedded default: the local user, English interface, the seed bank."""
    return make_client()


def soup(response: object) -> BeautifulSoup:
    text = getattr(response, "text")  # noqa: B009
    return BeautifulSoup(text, "html.parser")


def csrf(page: BeautifulSoup) -> str:
    field = page.select_one("input[name=csrf_token]")
    assert field is not None, "the page has no CSRF field"
    return str(field["value"])


def number(page: BeautifulSoup, selector: str) -> int:
    node = page.select_one(selector)
    assert node is not None, selector
    return int(re.sub(r"\D", "", node.get_text()))
