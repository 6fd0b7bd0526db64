"""Migration 0009 on a database with accounts: names are folded into a unique key;
names that collide keep the oldest account and rename the others ``<name>~<id>``, who
sign in under that name; no card, review or interview is lost (no table rebuild)."""

from __future__ import annotations

import pytest
from pwdlib import PasswordHash
from sqlalchemy import Engine, inspect, text

from alembic import command
from app.config import Settings
from app.db import alembic_config, make_engine, make_sessionmaker
from app.users.limits import AuthGuard
from app.users.service import authenticate
from tests.users.conftest import BACKENDS

USERS = [  # (id, username, is_local), in creation order
    (1, "Alice", False),
    (2, "local", True),
    (3, "alice", False),
    (4, "Local", False),
    (5, "bob", False),
]


@pytest.fixture
def old_engine(tmp_path: object, database_url: str) -> Engine:
    settings = Settings(data_dir=f"{tmp_path}/data", database_url=database_url)
    engine = make_engine(settings)
    command.upgrade(alembic_config(engine), "0008")
    digest = PasswordHash.recommended().hash("correct horse")
    with engine.begin() as conn:
        for user_id, name, is_local in USERS:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, is_local, created_at,"
                    " new_per_day, desired_retention, timezone) VALUES (:id, :name, :hash,"
                    " :local, '2026-01-01 00:00:00', 20, 0.9, 'UTC')"
                ),
                {
                    "id": user_id,
                    "name": name,
                    "hash": None if is_local else digest,
                    "local": is_local,
                },
            )
        conn.execute(
            text(
                "INSERT INTO interviews (user_id, company, date, created_at)"
                " VALUES (3, 'Acme', '2026-02-01', '2026-01-01 00:00:00')"
            )
        )
    return engine


def rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_upgrade_folds_names_and_renames_collisions(old_engine: Engine) -> None:
    command.upgrade(alembic_config(old_engine), "0009")
    assert rows(old_engine, "SELECT id, username, username_key FROM users ORDER BY id") == [
        (1, "Alice", "alice"),
        (2, "local", "local"),  # the built-in user keeps its name
        (3, "alice~3", "alice~3"),
        (4, "Local~4", "local~4"),
        (5, "bob", "bob"),
    ]
    assert rows(old_engine, "SELECT user_id FROM interviews") == [(3,)]
    # Signing in goes through today's models: bring the schema to head first (the
    # downgrade below then runs every later migration's downgrade too).
    command.upgrade(alembic_config(old_engine), "head")
    guard = AuthGuard.from_settings(Settings(auth_per_minute=100))
    with make_sessionmaker(old_engine)() as session:
        for name, user_id in (("ALICE", 1), ("Alice~3", 3), ("local~4", 4)):
            user = authenticate(
                session=session,
                guard=guard,
                address="10.0.0.1",
                username=name,
                password="correct horse",
            )
            assert user.id == user_id
    with pytest.raises(Exception, match="UNIQUE|unique"), old_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, username_key, is_local, created_at, new_per_day,"
                " desired_retention, timezone) VALUES ('BOB', 'bob', false,"
                " '2026-01-01 00:00:00', 20, 0.9, 'UTC')"
            )
        )

    command.downgrade(alembic_config(old_engine), "0008")
    columns = {c["name"] for c in inspect(old_engine).get_columns("users")}
    assert "username_key" not in columns and "session_generation" not in columns
    assert rows(old_engine, "SELECT user_id FROM interviews") == [(3,)]
    old_engine.dispose()
