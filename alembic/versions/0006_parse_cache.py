"""The parse cache: the last parse of each content file.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 05:49:08.106622
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('parsed_files',
    sa.Column('source_file', sa.String(length=500), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('source_file', name=op.f('pk_parsed_files'))
    )
    with op.batch_alter_table('parsed_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parsed_files_key'), ['key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('parsed_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parsed_files_key'))

    op.drop_table('parsed_files')
