"""The question bank: chapters, questions, asked records and topic tags.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 03:52:17.416376
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapters")),
        sa.UniqueConstraint("slug", name=op.f("uq_chapters_slug")),
        sa.UniqueConstraint("source_file", name=op.f("uq_chapters_source_file")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("key", name=op.f("uq_tags_key")),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("answer_md", sa.Text(), nullable=False),
        sa.Column("takeaway", sa.Text(), nullable=True),
        sa.Column("key_terms", sa.JSON(), nullable=False),
        sa.Column("reference_links", sa.JSON(), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"], ["chapters.id"], name=op.f("fk_questions_chapter_id_chapters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questions_archived_at"), ["archived_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_chapter_id"), ["chapter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_source_file"), ["source_file"], unique=False)

    op.create_table(
        "asked",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("stage", sa.String(length=100), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_asked_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asked")),
    )
    with op.batch_alter_table("asked", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asked_company"), ["company"], unique=False)
        batch_op.create_index(batch_op.f("ix_asked_question_id"), ["question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_asked_role"), ["role"], unique=False)
        batch_op.create_index(batch_op.f("ix_asked_stage"), ["stage"], unique=False)

    op.create_table(
        "question_tags",
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("spelling", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_question_tags_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_question_tags_tag_id_tags")),
        sa.PrimaryKeyConstraint("question_id", "tag_id", name=op.f("pk_question_tags")),
    )
    with op.batch_alter_table("question_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_tags_tag_id"), ["tag_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_tags_tag_id"))

    op.drop_table("question_tags")
    with op.batch_alter_table("asked", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asked_stage"))
        batch_op.drop_index(batch_op.f("ix_asked_role"))
        batch_op.drop_index(batch_op.f("ix_asked_question_id"))
        batch_op.drop_index(batch_op.f("ix_asked_company"))

    op.drop_table("asked")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_source_file"))
        batch_op.drop_index(batch_op.f("ix_questions_chapter_id"))
        batch_op.drop_index(batch_op.f("ix_questions_archived_at"))

    op.drop_table("questions")
    op.drop_table("tags")
    op.drop_table("chapters")
