"""Fixtures the export tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.config import Settings
from app.db import make_sessionmaker
from app.users.service import local_user
from tests.export.history import make_history, make_mocks, seeded_engine


@pytest.fixture
def fresh(settings: Settings, tmp_path: Path, content_dir: Path) -> Iterator[Engine]:
    """Another database with the same bank and no study data: where an export goes."""
    engine = seeded_engine(settings, tmp_path / "fresh", content_dir)
    yield engine
    engine.dispose()


@pytest.fixture
def source(settings: Settings, tmp_path: Path, content_dir: Path) -> Iterator[Engine]:
    """A database with the seed bank and a real history for the local user, mock
    interviews included."""
    engine = seeded_engine(settings, tmp_path / "source", content_dir)
    with make_sessionmaker(engine)() as session:
        user = local_user(session=session)
        make_history(session, user)
        make_mocks(session, user)
    yield engine
    engine.dispose()
