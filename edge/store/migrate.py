"""Running the alembic migrations that ship inside the package, from code (start-up, `takt store migrate`).

All pending migrations run in one transaction (see ``migrations/env.py``): a failed or interrupted upgrade
changes nothing."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, *, script_location: Path = MIGRATIONS,
                   on_step: Callable[[str, str], None] | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["engine"] = engine
    if on_step is not None:
        cfg.attributes["on_step"] = on_step
    return cfg


def upgrade(engine: Engine, revision: str = "head", *, on_step: Callable[[str, str], None] | None = None) -> None:
    command.upgrade(alembic_config(engine, on_step=on_step), revision)


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision (None: not migrated at all)."""
    with engine.connect() as conn:
        try:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        except Exception:  # no alembic_version table: an empty database
            return None
    return None if found is None else str(found)
