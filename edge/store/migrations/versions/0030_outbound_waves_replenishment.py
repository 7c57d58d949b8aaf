"""outbound: waves and their picks (reservations), picks corrected (the mis-pick report), line-side bins and their
replenishment tasks; sales_orders: allow_substitution; pallets: kind (pallet or parcel) and gross weight

Revision ID: 0030
Revises: 0025
Create Date: 2026-12-07 17:30:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

Q = edge.store.schema.Quantity(precision=24, scale=6)
T = edge.store.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('line_side_bins',
    sa.Column('bin', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('minimum', Q, nullable=False),
    sa.Column('maximum', Q, nullable=False),
    sa.Column('pack', Q, nullable=True),
    sa.Column('kanban_bins', sa.Integer(), nullable=False),
    sa.Column('source_zone', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('bin', 'item', name=op.f('pk_line_side_bins'))
    )
    op.create_table('replenishment_tasks',
    sa.Column('task', sa.String(length=200), nullable=False),
    sa.Column('bin', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('quantity', Q, nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('raised_at', T, nullable=False),
    sa.Column('lot', sa.String(length=200), nullable=True),
    sa.Column('from_bin', sa.String(length=200), nullable=True),
    sa.Column('work_order', sa.String(length=200), nullable=True),
    sa.Column('moved', Q, nullable=False),
    sa.Column('done_by', sa.String(length=200), nullable=True),
    sa.Column('done_at', T, nullable=True),
    sa.PrimaryKeyConstraint('task', name=op.f('pk_replenishment_tasks'))
    )
    op.create_table('waves',
    sa.Column('wave', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('mode', sa.String(length=200), nullable=False),
    sa.Column('group', sa.String(length=200), nullable=False),
    sa.Column('to_bin', sa.String(length=200), nullable=False),
    sa.Column('released_by', sa.String(length=200), nullable=False),
    sa.Column('released_at', T, nullable=False),
    sa.PrimaryKeyConstraint('wave', name=op.f('pk_waves'))
    )
    op.create_table('wave_picks',
    sa.Column('wave', sa.String(length=200), nullable=False),
    sa.Column('pick', sa.Integer(), nullable=False),
    sa.Column('sales_order', sa.String(length=200), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('lot', sa.String(length=200), nullable=False),
    sa.Column('bin', sa.String(length=200), nullable=False),
    sa.Column('zone', sa.String(length=200), nullable=False),
    sa.Column('walk_sequence', sa.Integer(), nullable=True),
    sa.Column('quantity', Q, nullable=False),
    sa.Column('tote', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('picked', Q, nullable=False),
    sa.Column('min_expiry', sa.Date(), nullable=True),
    sa.Column('picked_lot', sa.String(length=200), nullable=True),
    sa.Column('picked_by', sa.String(length=200), nullable=True),
    sa.Column('device', sa.String(length=200), nullable=True),
    sa.Column('picked_at', T, nullable=True),
    sa.Column('short_reason', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('wave', 'pick', name=op.f('pk_wave_picks'))
    )
    op.create_table('pick_corrections',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('wave', sa.String(length=200), nullable=False),
    sa.Column('pick', sa.Integer(), nullable=False),
    sa.Column('sales_order', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('zone', sa.String(length=200), nullable=False),
    sa.Column('bin', sa.String(length=200), nullable=False),
    sa.Column('wrong_lot', sa.String(length=200), nullable=False),
    sa.Column('right_lot', sa.String(length=200), nullable=False),
    sa.Column('picked_by', sa.String(length=100), nullable=False),
    sa.Column('device', sa.String(length=100), nullable=True),
    sa.Column('picked_at', T, nullable=False),
    sa.Column('found_at', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', T, nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_pick_corrections'))
    )
    with op.batch_alter_table('pick_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pick_corrections_sales_order'), ['sales_order'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_corrections_picked_by'), ['picked_by'], unique=False)
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:  # orders before: no substitution
        batch_op.add_column(sa.Column('allow_substitution', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('pallets', schema=None) as batch_op:  # packed before: pallets, not weighed
        batch_op.add_column(sa.Column('kind', sa.String(length=200), server_default='pallet', nullable=False))
        batch_op.add_column(sa.Column('gross_weight', Q, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pallets', schema=None) as batch_op:
        batch_op.drop_column('gross_weight')
        batch_op.drop_column('kind')
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_column('allow_substitution')
    with op.batch_alter_table('pick_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pick_corrections_picked_by'))
        batch_op.drop_index(batch_op.f('ix_pick_corrections_sales_order'))
    op.drop_table('pick_corrections')
    op.drop_table('wave_picks')
    op.drop_table('waves')
    op.drop_table('replenishment_tasks')
    op.drop_table('line_side_bins')
