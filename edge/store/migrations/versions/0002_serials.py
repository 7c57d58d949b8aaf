"""serials: serialised units issued to work orders (duplicate-serial poka-yoke)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:15:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('serials',
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=200), nullable=False),
    sa.Column('lot', sa.String(length=200), nullable=False),
    sa.Column('work_order', sa.String(length=200), nullable=False),
    sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('item', 'serial', name=op.f('pk_serials'))
    )


def downgrade() -> None:
    op.drop_table('serials')
