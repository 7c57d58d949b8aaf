"""journal: a hash chain through every event (chain_hash), signed checkpoints, the chain hash an archive ends with

The chain over the rows the journal holds is computed here, by the migration, in seq order (edge.store.chain):
those events are only as trustworthy as the store was at this moment. The first seq the chain covers and the last
seq this migration chained go to ``journal_chain`` (events archived before stay checked by their file's SHA-256
only). Checkpoints start with the node's next start (the migration has no secret to sign with).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:30:00
"""
import sqlalchemy as sa
from alembic import op

import edge.store.schema
from datetime import UTC, datetime

from edge.store.chain import GENESIS, row_hash

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_PAGE = 5000


def upgrade() -> None:
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('journal_archives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_hash', sa.String(length=64), nullable=True))
    op.create_table(
        'journal_checkpoints',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('chain_hash', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('every', sa.Integer(), nullable=False),
        sa.Column('signed_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_journal_checkpoints')),
    )
    op.create_table(
        'journal_chain',
        sa.Column('chained_from', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False,
                  nullable=False),
        sa.Column('chained_since', sa.BigInteger(), nullable=False),
        sa.Column('chained_at', edge.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('chained_from', name=op.f('pk_journal_chain')),
    )
    _chain_existing_rows()


def _chain_existing_rows() -> None:
    conn = op.get_bind()
    journal = sa.table(
        'journal', *(sa.column(c) for c in ('seq', 'event_id', 'type', 'subject', 'payload', 'actor', 'recorded_by',
                                           'on_behalf_of', 'source_device', 'origin', 'chain_hash')),
        sa.column('occurred_at', edge.store.schema.UtcDateTime()), sa.column('recorded_at', edge.store.schema.UtcDateTime()),
    )
    start = sa.table('journal_chain', sa.column('chained_from'), sa.column('chained_since'),
                     sa.column('chained_at', edge.store.schema.UtcDateTime()))
    first = conn.execute(sa.select(sa.func.min(journal.c.seq))).scalar()
    chain_from = int(first) if first is not None else 1
    prev, after, last = GENESIS, chain_from - 1, 0
    update = sa.update(journal).where(journal.c.seq == sa.bindparam('s')).values(chain_hash=sa.bindparam('h'))
    while True:
        rows = conn.execute(sa.select(journal).where(journal.c.seq > after).order_by(journal.c.seq)
                            .limit(_PAGE)).all()
        if not rows:
            break
        hashes = []
        for row in rows:
            prev = row_hash(prev, row)
            hashes.append({'s': row.seq, 'h': prev})
        conn.execute(update, hashes)
        after = last = int(rows[-1].seq)
    conn.execute(sa.insert(start).values(chained_from=chain_from, chained_since=last, chained_at=datetime.now(UTC)))


def downgrade() -> None:
    op.drop_table('journal_chain')
    op.drop_table('journal_checkpoints')
    with op.batch_alter_table('journal_archives', schema=None) as batch_op:
        batch_op.drop_column('last_hash')
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.drop_column('chain_hash')
