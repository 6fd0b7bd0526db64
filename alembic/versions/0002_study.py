"""Study: users, FSRS cards and the review log; rendered HTML and search text on questions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 04:03:44.035910
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_per_day", sa.Integer(), nullable=False),
        sa.Column("desired_retention", sa.Float(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("fsrs", sa.JSON(), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_cards_question_id_questions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cards_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("user_id", "question_id", name=op.f("uq_cards_user_id")),
    )
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cards_due"), ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_cards_question_id"), ["question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cards_user_id"), ["user_id"], unique=False)

    op.create_table(
        "review_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("card_before", sa.JSON(), nullable=True),
        sa.Column("card_after", sa.JSON(), nullable=False),
        sa.Column("lapses_before", sa.Integer(), nullable=False),
        sa.Column("retrievability", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_review_logs_card_id_cards"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_review_logs_question_id_questions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_review_logs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_logs")),
    )
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_logs_card_id"), ["card_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_logs_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_logs_reviewed_at"), ["reviewed_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_review_logs_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_html", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("answer_html", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("takeaway_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    # Questions imported before rendering existed: the next import renders them all.
    op.execute("UPDATE questions SET content_hash = ''")


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("search_text")
        batch_op.drop_column("takeaway_html")
        batch_op.drop_column("answer_html")
        batch_op.drop_column("title_html")

    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_logs_user_id"))
        batch_op.drop_index(batch_op.f("ix_review_logs_reviewed_at"))
        batch_op.drop_index(batch_op.f("ix_review_logs_question_id"))
        batch_op.drop_index(batch_op.f("ix_review_logs_card_id"))

    op.drop_table("review_logs")
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cards_user_id"))
        batch_op.drop_index(batch_op.f("ix_cards_question_id"))
        batch_op.drop_index(batch_op.f("ix_cards_due"))

    op.drop_table("cards")
    op.drop_table("users")
