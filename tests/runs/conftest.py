"""Engines on both databases (a SQLite file and a fresh PostgreSQL database), and users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine, migrate
from app.models import User


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of each kind: every cap must hold on both."""
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path, database_url="")
    else:
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("pg_url"))
    engine = make_engine(settings)
    migrate(engine)
    yield engine
    engine.dispose()


def add_user(engine: Engine, name: str) -> User:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        user = User(username=name)
        session.add(user)
    return user
