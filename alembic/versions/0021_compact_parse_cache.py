"""The parse cache's payload is compressed JSON bytes, built by the parse workers.

The first import of 10,000 questions wrote 52 MB of JSON into ``parsed_files`` (each
file's parse, answers' HTML included), encoded by the parent process after the parse:
0.75 s of the parent's time, and the same bytes again at the commit. Now each parse
worker encodes its file's parse (``app.content.cache.encode``: JSON, then Zstandard
level 1, about 0.03 ms per question), so the parent only inserts bytes; the table is
several times smaller.

The table is a cache: its rows are dropped with the old column (the next import parses
every file once and stores them in the new form). The fingerprint row
(``app.startup``) goes too, so the next start re-imports the content folder.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(payload: sa.types.TypeEngine[object]) -> None:
    with op.batch_alter_table("parsed_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parsed_files_key"))
    op.drop_table("parsed_files")
    op.create_table(
        "parsed_files",
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("payload", payload, nullable=False),
        sa.PrimaryKeyConstraint("source_file", name=op.f("pk_parsed_files")),
    )
    with op.batch_alter_table("parsed_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parsed_files_key"), ["key"], unique=False)


def upgrade() -> None:
    _recreate(sa.LargeBinary())


def downgrade() -> None:
    _recreate(sa.JSON())
