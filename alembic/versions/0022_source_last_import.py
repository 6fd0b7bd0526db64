"""Each source keeps its last import's report (``sources.last_import``).

The Sources page used to answer an import's POST with the report itself, so a reload
posted the form again (and after a confirmed upload, whose staged files were gone by
then, showed an error for an import that had worked). The page now redirects after an
import to ``/sources?report=<name>``, which shows the report kept here: the counts, the
files, every warning as ``file:line`` (English template and values, shown in the reader's
language), the merged spellings and the counts per company, stage and tag. A source
imported before this migration has none until its next import.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("last_import", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("last_import")
