"""maintenance: when machines' stops raise requests (maintenance_settings), their use (machine_usage), preventive
plans (maintenance_plans), requests (maintenance_requests) and the photos attached to them (maintenance_photos)

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-07 17:30:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def _quantity() -> edge.store.schema.Quantity:
    return edge.store.schema.Quantity(precision=24, scale=6)


def _time() -> edge.store.schema.UtcDateTime:
    return edge.store.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('maintenance_settings',
    sa.Column('equipment', sa.String(length=200), nullable=False),
    sa.Column('request_reasons', sa.JSON(), nullable=False),
    sa.Column('request_after_s', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('equipment', name=op.f('pk_maintenance_settings'))
    )
    op.create_table('machine_usage',
    sa.Column('equipment', sa.String(length=200), nullable=False),
    sa.Column('cycles', _quantity(), nullable=False),
    sa.Column('parts', _quantity(), nullable=False),
    sa.Column('run_s', _quantity(), nullable=False),
    sa.Column('running_since', _time(), nullable=True),
    sa.PrimaryKeyConstraint('equipment', name=op.f('pk_machine_usage'))
    )
    op.create_table('maintenance_plans',
    sa.Column('plan', sa.String(length=200), nullable=False),
    sa.Column('equipment', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=200), nullable=False),
    sa.Column('interval', _quantity(), nullable=False),
    sa.Column('blocks_start', sa.Boolean(), nullable=False),
    sa.Column('overdue_after_pct', _quantity(), nullable=False),
    sa.Column('last_done_at', _time(), nullable=False),
    sa.Column('usage_at_done', _quantity(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('plan', name=op.f('pk_maintenance_plans'))
    )
    op.create_table('maintenance_requests',
    sa.Column('request', sa.String(length=200), nullable=False),
    sa.Column('equipment', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=200), nullable=False),
    sa.Column('trigger', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('stop_since', _time(), nullable=True),
    sa.Column('stop_s', _quantity(), nullable=True),
    sa.Column('plan', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('has_photo', sa.Boolean(), nullable=False),
    sa.Column('raised_by', sa.String(length=200), nullable=False),
    sa.Column('raised_at', _time(), nullable=False),
    sa.Column('technician', sa.String(length=200), nullable=True),
    sa.Column('accepted_at', _time(), nullable=True),
    sa.Column('working_since', _time(), nullable=True),
    sa.Column('labour_minutes', _quantity(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('closed_at', _time(), nullable=True),
    sa.Column('released', sa.Boolean(), nullable=True),
    sa.Column('closing_note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('request', name=op.f('pk_maintenance_requests'))
    )
    op.create_table('maintenance_photos',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('request', sa.String(length=200), nullable=False),
    sa.Column('photo', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', _time(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_maintenance_photos'))
    )
    with op.batch_alter_table('maintenance_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_photos_request'), ['request'], unique=False)
    _machine_usage_from_the_journal()


# The events a machine's use is counted from (edge.domain.contexts.maintenance), in the journal of an older store.
_USAGE_EVENTS = ("MachineStateChanged", "ProductionReported", "UnassignedProductionRecorded")


def _machine_usage_from_the_journal() -> None:
    """A store recorded before this revision: its machines' use (cycles, parts, run seconds) replayed from the
    journal rows it holds, as the maintenance context's evolvers count it, so the new projection equals a replay."""
    from edge.domain import PlantState
    from edge.domain.contexts import maintenance
    from edge.domain.model import Equipment
    from edge.store.codec import decode_event

    conn = op.get_bind()
    journal = sa.table('journal', sa.column('seq'), sa.column('type'), sa.column('payload'))
    equipment = sa.table('equipment', sa.column('equipment'), sa.column('workstation'))
    state = PlantState()
    for code, workstation in conn.execute(sa.select(equipment.c.equipment, equipment.c.workstation)):
        state.equipment[code] = Equipment(code, workstation)
    rows = conn.execute(sa.select(journal.c.type, journal.c.payload).where(journal.c.type.in_(_USAGE_EVENTS))
                        .order_by(journal.c.seq))
    for type_name, payload in rows:
        event = decode_event(type_name, payload)
        maintenance.EVOLVERS[type(event)](state, event)
    if state.machine_usage:
        usage = edge.store.schema.ENTITY_TABLES['machine_usage']
        conn.execute(sa.insert(usage.table), [usage.row(u) for u in state.machine_usage.values()])


def downgrade() -> None:
    with op.batch_alter_table('maintenance_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_photos_request'))
    op.drop_table('maintenance_photos')
    op.drop_table('maintenance_requests')
    op.drop_table('maintenance_plans')
    op.drop_table('machine_usage')
    op.drop_table('maintenance_settings')
