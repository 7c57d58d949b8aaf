"""operations: segment, parameters, staging (a B2MML routing's segment IDs, production parameters, material staging)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Operations released before have none: no segment, no parameters, nothing staged.
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('segment', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('parameters', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('staging', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_column('staging')
        batch_op.drop_column('parameters')
        batch_op.drop_column('segment')
