"""Indexes for the review queue, the review log by day, and bank order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:35:06.434380
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.create_index("ix_cards_user_id_due", ["user_id", "due"], unique=False)

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_questions_source_file_position", ["source_file", "position"], unique=False
        )

    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_logs_user_id_reviewed_at", ["user_id", "reviewed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_review_logs_user_id_reviewed_at")

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index("ix_questions_source_file_position")

    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index("ix_cards_user_id_due")
