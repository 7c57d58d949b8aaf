"""work instructions, their steps, the runs of units and orders through them, serialised units (units: not the
``serials`` of 0002, which are component serials issued to work orders), the steps done (unit_steps) and the
components fitted per unit (unit_components); items.serialised

Revision ID: 0028
Revises: 0025
Create Date: 2026-12-07 17:40:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:  # items before: not serialised
        batch_op.add_column(sa.Column('serialised', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('work_instructions',
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.Integer(), nullable=False),
    sa.Column('revision', sa.String(length=200), nullable=False),
    sa.Column('item_revision', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('defined_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('item', 'operation', 'revision', name=op.f('pk_work_instructions'))
    )
    op.create_table('instruction_steps',
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.Integer(), nullable=False),
    sa.Column('revision', sa.String(length=200), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=200), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('nominal', edge.store.schema.Quantity(precision=24, scale=6), nullable=True),
    sa.Column('lsl', edge.store.schema.Quantity(precision=24, scale=6), nullable=True),
    sa.Column('usl', edge.store.schema.Quantity(precision=24, scale=6), nullable=True),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('expect', sa.String(length=200), nullable=True),
    sa.Column('component', sa.String(length=200), nullable=True),
    sa.Column('on_fail', sa.String(length=200), nullable=False),
    sa.Column('plan', sa.String(length=200), nullable=True),
    sa.Column('characteristic', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('item', 'operation', 'revision', 'step', name=op.f('pk_instruction_steps'))
    )
    op.create_table('instruction_runs',
    sa.Column('work_order', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=200), nullable=False),
    sa.Column('revision', sa.String(length=200), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('last_actor', sa.String(length=200), nullable=False),
    sa.Column('updated_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('blocked_step', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('work_order', 'operation', 'serial', name=op.f('pk_instruction_runs'))
    )
    op.create_table('units',
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=200), nullable=False),
    sa.Column('work_order', sa.String(length=200), nullable=False),
    sa.Column('item_revision', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('started_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('gtin', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('lot', sa.String(length=200), nullable=True),
    sa.Column('ncr', sa.String(length=200), nullable=True),
    sa.Column('instructions', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('item', 'serial', name=op.f('pk_units'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_serial', ['serial'], unique=False)
        batch_op.create_index('ix_units_work_order', ['work_order'], unique=False)
        batch_op.create_index('ix_units_lot', ['lot'], unique=False)
    op.create_table('unit_steps',
    sa.Column('seq', _SEQ, autoincrement=False, nullable=False),
    sa.Column('work_order', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=200), nullable=True),
    sa.Column('instruction_revision', sa.String(length=200), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('value', edge.store.schema.Quantity(precision=24, scale=6), nullable=True),
    sa.Column('scanned', sa.String(length=200), nullable=True),
    sa.Column('photo', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('ncr', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('started_at', edge.store.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_unit_steps'))
    )
    with op.batch_alter_table('unit_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_steps_serial'), ['serial'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_steps_work_order'), ['work_order'], unique=False)
    op.create_table('unit_components',
    sa.Column('seq', _SEQ, autoincrement=False, nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=200), nullable=False),
    sa.Column('work_order', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.Integer(), nullable=False),
    sa.Column('component', sa.String(length=200), nullable=False),
    sa.Column('component_lot', sa.String(length=200), nullable=True),
    sa.Column('component_serial', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_unit_components'))
    )
    with op.batch_alter_table('unit_components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_components_component_lot'), ['component_lot'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_components_component_serial'), ['component_serial'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_components_serial'), ['serial'], unique=False)


def downgrade() -> None:
    op.drop_table('unit_components')
    op.drop_table('unit_steps')
    op.drop_table('units')
    op.drop_table('instruction_runs')
    op.drop_table('instruction_steps')
    op.drop_table('work_instructions')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('serialised')
