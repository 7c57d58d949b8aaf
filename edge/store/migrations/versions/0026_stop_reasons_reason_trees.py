"""stop_reasons: people's decisions on machine stops (a reason given at the terminal, a supervisor's
re-classification), one history row per StopReasonGiven event; reason_trees: downtime reason trees from the
central systems, one row per ReasonTreeDefined event

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 17:40:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stop_reasons',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('equipment', sa.String(length=200), nullable=False),
    sa.Column('stop_start', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('why', sa.String(length=200), nullable=True),
    sa.Column('previous', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_stop_reasons'))
    )
    with op.batch_alter_table('stop_reasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stop_reasons_equipment'), ['equipment'], unique=False)
    op.create_table('reason_trees',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('workstations', sa.JSON(), nullable=False),
    sa.Column('machine_class', sa.String(length=200), nullable=True),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_reason_trees'))
    )
    with op.batch_alter_table('reason_trees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reason_trees_name'), ['name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reason_trees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reason_trees_name'))
    op.drop_table('reason_trees')
    with op.batch_alter_table('stop_reasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stop_reasons_equipment'))
    op.drop_table('stop_reasons')
