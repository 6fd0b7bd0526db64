"""Fixtures the export tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.config import Settings
from tests.export.history import seeded_engine


@pytest.fixture
def fresh(settings: Settings, tmp_path: Path, content_dir: Path) -> Iterator[Engine]:
    """Another database with the same bank and no study data: where an export goes."""
    engine = seeded_engine(settings, tmp_path / "fresh", content_dir)
    yield engine
    engine.dispose()
