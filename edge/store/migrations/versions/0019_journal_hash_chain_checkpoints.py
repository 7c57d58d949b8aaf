"""journal: a hash chain through every event (chain_hash), signed checkpoints, the chain hash an archive ends with

The chain over the rows the journal holds is computed here, by the migration, in seq order (edge.store.chain):
those events are only as trustworthy as the store was at this moment. ``node_settings`` keeps the first seq the
chain covers (``journal_chain_from``: events archived before stay checked by their file's SHA-256 only) and the
last seq this migration chained (``journal_chain_since``). Checkpoints start with the node's next start (the
migration has no secret to sign with).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:30:00
"""
import sqlalchemy as sa
from alembic import op

import edge.store.schema
from edge.store.chain import CHAIN_FROM, CHAIN_SINCE, GENESIS, row_hash

revision = '0019'
down_revision = '0018'
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
    _chain_existing_rows()


def _chain_existing_rows() -> None:
    conn = op.get_bind()
    journal = sa.table(
        'journal', *(sa.column(c) for c in ('seq', 'event_id', 'type', 'subject', 'payload', 'actor', 'recorded_by',
                                           'on_behalf_of', 'source_device', 'origin', 'chain_hash')),
        sa.column('occurred_at', edge.store.schema.UtcDateTime()), sa.column('recorded_at', edge.store.schema.UtcDateTime()),
    )
    settings = sa.table('node_settings', sa.column('name'), sa.column('value'))
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
    conn.execute(sa.delete(settings).where(settings.c.name.in_([CHAIN_FROM, CHAIN_SINCE])))
    conn.execute(sa.insert(settings), [{'name': CHAIN_FROM, 'value': str(chain_from)},
                                       {'name': CHAIN_SINCE, 'value': str(last)}])


def downgrade() -> None:
    op.execute("DELETE FROM node_settings WHERE name IN ('journal_chain_from', 'journal_chain_since')")
    op.drop_table('journal_checkpoints')
    with op.batch_alter_table('journal_archives', schema=None) as batch_op:
        batch_op.drop_column('last_hash')
    with op.batch_alter_table('journal', schema=None) as batch_op:
        batch_op.drop_column('chain_hash')
