"""logon: badge codes and PINs as scrypt hashes, failed logons kept in the store

The unsalted SHA-256 PIN digests (``pin_sha256``) are not converted: a PIN cannot be rehashed without the PIN itself.
The upgrade changes no old column, so they stay until the node's next start, which empties them (a 4-digit PIN's
SHA-256 is reversed in a moment) and writes every configured PIN from the site file as a scrypt hash.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('badge_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_badge_hash'), ['badge_hash'])
    op.create_table(
        'logon_failures',
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=250), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('clients', sa.JSON(), nullable=False),
        sa.Column('last_failed_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column('locked_until', edge.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column('lockouts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_logon_failures')),
    )


def downgrade() -> None:
    op.drop_table('logon_failures')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_badge_hash'), type_='unique')
        batch_op.drop_column('pin_hash')
        batch_op.drop_column('badge_hash')
