"""b2mml_answers: the answers of POST /api/v1/b2mml by Idempotency-Key, kept in the store (a retry after a restart
gets the first answer)

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa
import edge.store.schema


revision = '0024'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('b2mml_answers',
    sa.Column('idempotency_key', sa.String(length=250), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('user', sa.String(length=100), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_b2mml_answers'))
    )
    with op.batch_alter_table('b2mml_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_b2mml_answers_answered_at'), ['answered_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('b2mml_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_b2mml_answers_answered_at'))
    op.drop_table('b2mml_answers')
