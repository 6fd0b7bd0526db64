"""Notes and personal overrides per question (issue 20): the ``question_notes`` table, one
row per user and question with the user's note, their own answer and their own takeaway
(markdown and its rendered HTML). The bank's questions are not touched.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "question_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("note_md", sa.Text(), nullable=True),
        sa.Column("note_html", sa.Text(), nullable=True),
        sa.Column("answer_md", sa.Text(), nullable=True),
        sa.Column("answer_html", sa.Text(), nullable=True),
        sa.Column("takeaway_md", sa.Text(), nullable=True),
        sa.Column("takeaway_html", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_question_notes_question_id_questions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_question_notes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_notes")),
        sa.UniqueConstraint("user_id", "question_id", name=op.f("uq_question_notes_user_id")),
    )
    with op.batch_alter_table("question_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_question_notes_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_question_notes_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_notes_user_id"))
        batch_op.drop_index(batch_op.f("ix_question_notes_question_id"))
    op.drop_table("question_notes")
