"""journal: who sent each command (recorded_by) and on whose behalf (on_behalf_of)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 03:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: rows recorded before are left as they were (their `actor` is who sent them).
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('on_behalf_of', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.drop_column('on_behalf_of')
        batch_op.drop_column('recorded_by')
