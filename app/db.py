"""Database engine, sessions and migrations.

``make_engine(settings)`` is called by the CLI, the app factory and the tests, never at
import time. SQLite (the embedded default) runs in WAL mode with a busy timeout and
foreign keys on; PostgreSQL is used as it comes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from app.config import REPO_ROOT, Settings

if TYPE_CHECKING:  # alembic loads only when a migration runs (start-up time)
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_MS = 5000
# JSON columns keep non-ASCII text as UTF-8, not ``\uXXXX`` escapes: Chinese text is a
# third smaller (the parse cache, a JSON column before migration 0021: 79 -> 52 MB at
# 10,000 questions) and encodes and decodes about 30% faster. Either form reads back
# the same.
_JSON_SERIALIZER = functools.partial(json.dumps, ensure_ascii=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL + NORMAL is durable across application crashes; only an OS crash can lose
    # the last transactions, which is the usual trade for a local study app.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(settings: Settings) -> Engine:
    """Create the engine for ``settings`` (SQLite file, in-memory SQLite or PostgreSQL)."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            path = url.removeprefix("sqlite:///")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=settings.sql_echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # An in-memory database lives in one connection: share it, or tables vanish.
            poolclass=StaticPool if memory else None,
            json_serializer=_JSON_SERIALIZER,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, echo=settings.sql_echo, pool_pre_ping=True, json_serializer=_JSON_SERIALIZER
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
