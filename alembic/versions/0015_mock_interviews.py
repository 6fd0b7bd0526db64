"""Mock interviews and their attempts (issue 20).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mock_interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("stage", sa.String(length=100), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("limit_s", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("feeds_reviews", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_mock_interviews_interview_id_interviews"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mock_interviews_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_interviews")),
    )
    with op.batch_alter_table("mock_interviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mock_interviews_interview_id"), ["interview_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mock_interviews_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mock_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mock_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("covered", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["mock_id"],
            ["mock_interviews.id"],
            name=op.f("fk_mock_attempts_mock_id_mock_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_mock_attempts_question_id_questions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mock_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mock_attempts")),
        sa.UniqueConstraint("mock_id", "position", name=op.f("uq_mock_attempts_mock_id")),
    )
    with op.batch_alter_table("mock_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mock_attempts_mock_id"), ["mock_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mock_attempts_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(
            "ix_mock_attempts_user_id_question_id", ["user_id", "question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mock_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_mock_attempts_user_id_question_id")
        batch_op.drop_index(batch_op.f("ix_mock_attempts_question_id"))
        batch_op.drop_index(batch_op.f("ix_mock_attempts_mock_id"))

    op.drop_table("mock_attempts")
    with op.batch_alter_table("mock_interviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mock_interviews_user_id"))
        batch_op.drop_index(batch_op.f("ix_mock_interviews_interview_id"))

    op.drop_table("mock_interviews")
