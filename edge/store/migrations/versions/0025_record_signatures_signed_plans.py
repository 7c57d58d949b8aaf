"""record_signatures: electronic signatures as journal events (RecordsSigned), one history row each; inspection_plans:
signed (a verdict by the plan carries the inspector's signature)

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_signatures',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('signature', sa.String(length=40), nullable=False),
    sa.Column('signer', sa.String(length=100), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('meaning', sa.String(length=64), nullable=False),
    sa.Column('records', sa.JSON(), nullable=False),
    sa.Column('supersedes', sa.String(length=40), nullable=True),
    sa.Column('comment', sa.String(length=200), nullable=False),
    sa.Column('at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_record_signatures')),
    sa.UniqueConstraint('signature', name=op.f('uq_record_signatures_signature'))
    )
    with op.batch_alter_table('record_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_signatures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_signatures_signer'), ['signer'], unique=False)
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:  # plans before: not signed
        batch_op.add_column(sa.Column('signed', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.drop_column('signed')
    with op.batch_alter_table('record_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_signatures_signer'))
        batch_op.drop_index(batch_op.f('ix_record_signatures_at'))
    op.drop_table('record_signatures')
