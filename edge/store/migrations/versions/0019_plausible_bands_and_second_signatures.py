"""inspection_plans: plausible_bands (how far beyond its limits a measurement is still a plausible reading);
nonconformances: the proposed disposition and its proposer, and the second signer (segregation of duties)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:00:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        # plans before: the default of edge.domain.model.PLAUSIBLE_BANDS
        batch_op.add_column(sa.Column('plausible_bands', edge.store.schema.Quantity(precision=24, scale=6),
                                      nullable=False, server_default='10'))
    with op.batch_alter_table('nonconformances', schema=None) as batch_op:  # NCRs before: one signature
        batch_op.add_column(sa.Column('proposed_disposition', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('proposed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('countersigned_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nonconformances', schema=None) as batch_op:
        batch_op.drop_column('countersigned_by')
        batch_op.drop_column('proposed_by')
        batch_op.drop_column('proposed_disposition')
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.drop_column('plausible_bands')
