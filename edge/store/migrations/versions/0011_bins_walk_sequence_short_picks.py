"""bins: walk_sequence (a picker's walk order); short_picks: kitting's short picks

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 03:10:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_sequence', sa.Integer(), nullable=True))  # bins before: no walk order
    op.create_table(
        'short_picks',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('work_order', sa.String(length=200), nullable=False),
        sa.Column('bom_line', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(length=200), nullable=False),
        sa.Column('lot', sa.String(length=200), nullable=False),
        sa.Column('bin', sa.String(length=200), nullable=False),
        sa.Column('asked', edge.store.schema.Quantity(precision=24, scale=6), nullable=False),
        sa.Column('picked', edge.store.schema.Quantity(precision=24, scale=6), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_short_picks')),
    )
    with op.batch_alter_table('short_picks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_short_picks_work_order'), ['work_order'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('short_picks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_short_picks_work_order'))
    op.drop_table('short_picks')
    with op.batch_alter_table('bins', schema=None) as batch_op:
        batch_op.drop_column('walk_sequence')
