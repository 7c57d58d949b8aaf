"""sales_orders: priority, carrier and the carrier's cut-off (waves by priority and by cut-off)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 19:15:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

T = edge.store.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:  # orders before: no priority, no carrier
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('carrier', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('cutoff', T, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_column('cutoff')
        batch_op.drop_column('carrier')
        batch_op.drop_column('priority')
