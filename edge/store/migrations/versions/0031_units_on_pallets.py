"""units: sscc, the pallet a serialised unit was packed on by its serial

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sscc', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_units_sscc', ['sscc'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_sscc')
        batch_op.drop_column('sscc')
