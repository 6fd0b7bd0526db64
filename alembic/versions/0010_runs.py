"""Runs: when a run was last handed to the queue (resends), and an index for the caps.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demo_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_demo_runs_user_id_status", ["user_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demo_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_demo_runs_user_id_status")
        batch_op.drop_column("dispatched_at")
