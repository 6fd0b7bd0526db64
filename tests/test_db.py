"""The database layer: SQLite pragmas, migrations, settings from the environment."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Dialect

from app.config import Settings
from app.db import make_engine, migrate
from app.models import Base


def test_sqlite_runs_in_wal_with_busy_timeout_and_foreign_keys(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO asked (question_id, position) VALUES ('missing', 0)"))


def test_migrations_create_every_table_and_are_idempotent(engine: Engine) -> None:
    migrate(engine)  # a second run changes nothing
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("IL_PORT", "9001")
    monkeypatch.setenv("IL_HOST", "127.0.0.2")
    monkeypatch.setenv("IL_CONTENT_DIR", "/tmp/bank")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert (settings.port, settings.host, str(settings.content_dir)) == (
        9001,
        "127.0.0.2",
        "/tmp/bank",
    )


def test_default_database_is_a_sqlite_file_in_the_data_dir() -> None:
    settings = Settings(data_dir="/srv/il", database_url="")
    assert settings.resolved_database_url == "sqlite:////srv/il/interview-lab.sqlite3"


def test_datetimes_are_stored_as_aware_utc() -> None:
    from app.models import UTCDateTime

    column = UTCDateTime()
    stored = column.process_bind_param(
        dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8))), engine_dialect()
    )
    assert stored == dt.datetime(2026, 1, 1, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(dt.datetime(2026, 1, 1), engine_dialect())


def engine_dialect() -> Dialect:
    return make_engine(Settings(database_url="sqlite://")).dialect
