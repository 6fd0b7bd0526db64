"""Shared fixtures: fresh settings and a migrated database per test (SQLite in a
temporary folder, or a fresh PostgreSQL database), and a content folder to write into.

The suite runs in parallel (pytest-xdist, ``-n 2``): whatever a test takes from a shared
service is its own per test (a PostgreSQL database of a random name) or per worker
process (``worker_index`` picks its Redis database and its range of ports)."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_sessionmaker, migrate
from app.i18n import DEFAULT_LANGUAGE, set_language

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = REPO_ROOT / "content" / "llm-sft.md"
PG_ADMIN_URL = os.environ.get("IL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"

if "PYTEST_XDIST_WORKER" in os.environ:
    # Two test processes on two cores: torch's one intra-op thread each (set before any
    # test imports torch), not two that keep losing their core to the other process.
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def worker_index() -> int:
    """0 for ``gw0`` (and without xdist), 1 for ``gw1``, ..."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw") or 0)


WriteMd = Callable[[str, str], Path]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language (Chinese), whatever a test before it in
    the same process switched to: text read outside a request follows the language of
    the calling thread, and xdist deals tests to workers in no fixed order."""
    set_language(DEFAULT_LANGUAGE)
    yield
    set_language(DEFAULT_LANGUAGE)


def need_service(reason: str) -> None:
    """Skip a test whose service is missing, except under CI where it must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: service tests must run)")
    pytest.skip(reason)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    path = tmp_path / "content"
    path.mkdir()
    return path


@pytest.fixture
def write_md(content_dir: Path) -> WriteMd:
    """Write a dedented markdown file into the content folder and return its path."""

    def write(name: str, text: str) -> Path:
        path = content_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def settings(tmp_path: Path, content_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", content_dir=content_dir, database_url="")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"il_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        need_service(f"PostgreSQL not reachable at {admin}: {exc}")
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_engine(pg_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL database migrated to head (``engine``'s twin)."""
    engine = make_engine(Settings(data_dir=tmp_path / "pg-data", database_url=pg_url))
    migrate(engine)
    yield engine
    engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` the tests of a module that share a module- or class-
    scoped fixture (a demo run, a worker pool) go to one worker, which builds it once;
    every other test goes wherever a worker is free."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = any(
            d.scope in ("module", "class", "package")
            for defs in info.name2fixturedefs.values()
            for d in defs
        )
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
