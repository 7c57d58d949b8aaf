"""Alembic environment: migrations run on the engine the caller hands over (never from an ini file).

Every pending migration runs in **one** transaction (``engine.begin()`` here; on SQLite the store's engine issues a
real ``BEGIN``, see ``edge.store.store.make_engine``, and SQLite's DDL is transactional): an upgrade that fails or is
cut off halfway (power loss, ``kill -9``) leaves the store at the revision it had, with its data as it was. Tested in
tests/integration/test_upgrades.py and tests/integration/test_power_loss.py.

``config.attributes["on_step"]``, when given, is called with each migration's revision and description after it
ran (inside that transaction: nothing is committed until the last one ran).
"""
from __future__ import annotations

from typing import Any

from alembic import context

from edge.store.schema import metadata

engine = context.config.attributes["engine"]
on_step = context.config.attributes.get("on_step")


def _applied(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    if on_step is not None:
        on_step(step.up_revision_id, step.up_revision.doc if step.up_revision is not None else "")


with engine.connect() as connection:
    raw = connection.connection.dbapi_connection
    legacy = connection.dialect.name == "sqlite" and getattr(raw, "isolation_level", None) is not None
    original = getattr(raw, "isolation_level", None)
    if legacy:
        # An engine other than the store's (``make_engine`` issues BEGIN itself): the sqlite3 module in its legacy
        # mode begins a transaction only before INSERT/UPDATE/DELETE, so each DDL statement would commit on its own
        # and a failed upgrade would leave tables behind. Take the transaction into our own hands for the upgrade.
        raw.isolation_level = None
    try:
        with connection.begin():
            if legacy:
                connection.exec_driver_sql("BEGIN")
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                              on_version_apply=_applied)
            context.run_migrations()
    finally:
        if legacy:
            raw.isolation_level = original  # as the engine handed it over
