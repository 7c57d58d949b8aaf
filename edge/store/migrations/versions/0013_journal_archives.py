"""journal_archives: journal events moved to archive files by retention

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'journal_archives',
        sa.Column('first_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False,
                  nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('archived_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('first_seq'),
    )


def downgrade() -> None:
    op.drop_table('journal_archives')
