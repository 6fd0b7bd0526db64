"""accounts hardening: folded usernames under a unique index, and session generations

Every user gets ``username_key``, the NFKC + case-folded name (``app.users.names``), kept
unique, and ``session_generation`` (0), which sign-out bumps to revoke the cookies issued
before.

Existing names that fold to the same key (``Alice`` and ``alice``, made by concurrent
sign-ups before this revision): the local user, then the oldest account (lowest id), keeps
the name; each other one is renamed ``<name>~<id>`` (username and key). The ``~`` cannot be
chosen at sign-up, so the new name is free, and its owner signs in with it and the same
password. Nothing is merged or deleted; each rename is logged. The downgrade drops both
columns and keeps the renames.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 13:45:00
"""
import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def fold(name: str) -> str:
    # A frozen copy of app.users.names.fold_username: a migration must not change when
    # the app's code does.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN and CREATE INDEX only: on SQLite any change that
    # makes batch mode rebuild ``users`` would drop it with foreign keys on, and the
    # implicit DELETE would cascade to every card, review and quiz.
    op.add_column(
        'users',
        sa.Column('username_key', sa.String(length=100), nullable=False, server_default=''),
    )
    op.add_column(
        'users',
        sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'),
    )

    users = sa.table(
        'users',
        sa.column('id', sa.Integer()),
        sa.column('username', sa.String()),
        sa.column('username_key', sa.String()),
        sa.column('is_local', sa.Boolean()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(users.c.id, users.c.username).order_by(sa.desc(users.c.is_local), users.c.id)
    ).all()
    seen: set[str] = set()
    for user_id, username in rows:
        name, key = username, fold(username)
        if key in seen:
            name = f"{username}~{user_id}"
            key = fold(name)
            log.warning("users: %r folds to an older account's name; renamed %r", username, name)
        seen.add(key)
        conn.execute(
            users.update().where(users.c.id == user_id).values(username=name, username_key=key)
        )

    op.create_index(op.f('ix_users_username_key'), 'users', ['username_key'], unique=True)


def downgrade() -> None:
    # Not in batch mode, for the same reason (SQLite 3.35+ drops columns in place).
    op.drop_index(op.f('ix_users_username_key'), table_name='users')
    op.drop_column('users', 'session_generation')
    op.drop_column('users', 'username_key')
