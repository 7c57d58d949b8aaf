"""directory_users: people from the plant's directory (LDAP/AD), where they are in it and when it last confirmed
them (the cache that keeps a line working while the directory is away)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:30:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'directory_users',
        sa.Column('user', sa.String(length=100), nullable=False),
        sa.Column('dn', sa.String(length=500), nullable=False),
        sa.Column('groups', sa.JSON(), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('confirmed_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user', name=op.f('pk_directory_users')),
    )


def downgrade() -> None:
    op.drop_table('directory_users')
