"""items: gtin, the GS1 trade item number that labels name an item by (AI 01)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:20:25.844596
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gtin', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('gtin')
