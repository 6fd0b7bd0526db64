"""Page indexes: the active questions' ids from an index alone.

Every page that counts or filters the bank selects ``questions.id WHERE archived_at IS
NULL`` (facet counts, queue counts, the coverage matrix). With only ``ix_questions_archived_at``
SQLite read the whole table, answers and all, for it: (archived_at, id) answers from the
index (10x on the facet counts of a 3,000-question bank; bench/pages_bench.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 17:35:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index("ix_questions_archived_at_id", ["archived_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index("ix_questions_archived_at_id")
