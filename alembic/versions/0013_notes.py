"""Notes and personal overrides per question (issue 20). Placeholder created by the lead so that parallel work keeps one
migration chain; its owner fills it in.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:40:00
"""

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
