"""reworks (a rework disposition's rework and its re-inspection), capas and capa_actions (CAPA records), lot_splits
(sub-lots split off a lot under inspection: partial acceptance and its genealogy)

Revision ID: 0029
Revises: 0025
Create Date: 2026-12-07 17:15:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reworks',
    sa.Column('rework', sa.String(length=200), nullable=False),
    sa.Column('ncr', sa.String(length=200), nullable=False),
    sa.Column('mode', sa.String(length=200), nullable=False),
    sa.Column('work_order', sa.String(length=200), nullable=False),
    sa.Column('operations', sa.JSON(), nullable=False),
    sa.Column('subjects', sa.JSON(), nullable=False),
    sa.Column('task', sa.String(length=200), nullable=False),
    sa.Column('plan', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('opened_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', edge.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('rework', name=op.f('pk_reworks'))
    )
    op.create_table('capas',
    sa.Column('capa', sa.String(length=200), nullable=False),
    sa.Column('problem', sa.String(length=200), nullable=False),
    sa.Column('ncrs', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('containment', sa.String(length=200), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('opened_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('root_cause', sa.String(length=200), nullable=False),
    sa.Column('whys', sa.JSON(), nullable=False),
    sa.Column('fishbone', sa.String(length=200), nullable=True),
    sa.Column('effective', sa.Boolean(), nullable=True),
    sa.Column('effectiveness', sa.String(length=200), nullable=False),
    sa.Column('closed_at', edge.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('capa', name=op.f('pk_capas'))
    )
    op.create_table('capa_actions',
    sa.Column('capa', sa.String(length=200), nullable=False),
    sa.Column('action', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('done_by', sa.String(length=200), nullable=True),
    sa.Column('done_at', edge.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('capa', 'action', name=op.f('pk_capa_actions'))
    )
    with op.batch_alter_table('capa_actions', schema=None) as batch_op:
        batch_op.create_index('ix_capa_actions_status_due', ['status', 'due'], unique=False)
    op.create_table('lot_splits',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('parent', sa.String(length=200), nullable=False),
    sa.Column('lot', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('quantity', edge.store.schema.Quantity(precision=24, scale=6), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_lot_splits'))
    )
    with op.batch_alter_table('lot_splits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lot_splits_lot'), ['lot'], unique=False)
        batch_op.create_index(batch_op.f('ix_lot_splits_parent'), ['parent'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lot_splits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lot_splits_parent'))
        batch_op.drop_index(batch_op.f('ix_lot_splits_lot'))
    op.drop_table('lot_splits')
    with op.batch_alter_table('capa_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_capa_actions_status_due')
    op.drop_table('capa_actions')
    op.drop_table('capas')
    op.drop_table('reworks')
