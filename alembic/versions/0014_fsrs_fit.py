"""FSRS parameters fitted to a user's reviews (issue 20): ``users.fsrs_parameters`` (the
parameters the user applied; NULL: fsrs's defaults) and the ``fsrs_fits`` table, one row
per fit the user asked for, pointing at the worker run that computes it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in batch mode: on SQLite a batch rebuilds ``users``, and dropping the old table
    # cascades to every row that points at a user (SQLite 3.35+ adds and drops in place).
    op.add_column("users", sa.Column("fsrs_parameters", sa.JSON(), nullable=True))
    op.create_table(
        "fsrs_fits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("last_review_id", sa.Integer(), nullable=True),
        sa.Column("parameters_before", sa.JSON(), nullable=True),
        sa.Column("fit", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["demo_runs.id"],
            name=op.f("fk_fsrs_fits_run_id_demo_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_fsrs_fits_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fsrs_fits")),
    )
    with op.batch_alter_table("fsrs_fits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fsrs_fits_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fsrs_fits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fsrs_fits_user_id"))
    op.drop_table("fsrs_fits")
    op.drop_column("users", "fsrs_parameters")
