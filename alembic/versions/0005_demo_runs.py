"""Demo runs and their progress events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 04:53:33.368007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demo_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("demo", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("params_hash", sa.String(length=64), nullable=False),
        sa.Column("code_version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("device_requested", sa.String(length=8), nullable=False),
        sa.Column("device", sa.String(length=16), nullable=True),
        sa.Column("device_name", sa.String(length=200), nullable=True),
        sa.Column("torch_version", sa.String(length=64), nullable=True),
        sa.Column("worker_host", sa.String(length=200), nullable=True),
        sa.Column("progress", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("result", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wall_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_demo_runs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_runs")),
    )
    with op.batch_alter_table("demo_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_demo_runs_cache", ["demo", "params_hash", "code_version", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_demo_runs_demo"), ["demo"], unique=False)
        batch_op.create_index(batch_op.f("ix_demo_runs_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_demo_runs_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "demo_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["demo_runs.id"],
            name=op.f("fk_demo_events_run_id_demo_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_events")),
    )
    with op.batch_alter_table("demo_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demo_events_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demo_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demo_events_run_id"))

    op.drop_table("demo_events")
    with op.batch_alter_table("demo_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_demo_runs_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_demo_runs_status"))
        batch_op.drop_index(batch_op.f("ix_demo_runs_demo"))
        batch_op.drop_index("ix_demo_runs_cache")

    op.drop_table("demo_runs")
