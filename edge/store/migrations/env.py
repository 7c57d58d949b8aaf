"""Alembic environment: migrations run on the engine the caller hands over (never from an ini file)."""
from __future__ import annotations

from alembic import context

from edge.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
