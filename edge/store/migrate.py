"""Running the alembic migrations that ship inside the package, from code (start-up, `takt store migrate`).

All pending migrations run in one transaction (see ``migrations/env.py``): a failed or interrupted upgrade
changes nothing.

A store already at the newest revision is recognised without alembic (its import alone costs a node's start-up
0.4 s): the head is read from the migration files' ``revision`` / ``down_revision`` lines and compared with the
store's ``alembic_version``. Anything else (an older store, a text this check does not understand, a merge) goes
to alembic as before."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]\s*$", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=\n]+)?\s*=\s*(?:['\"]([^'\"]+)['\"]|None)\s*$", re.M)


def alembic_config(engine: Engine, *, script_location: Path = MIGRATIONS,
                   on_step: Callable[[str, str], None] | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["engine"] = engine
    if on_step is not None:
        cfg.attributes["on_step"] = on_step
    return cfg


def shipped_head() -> str | None:
    """The one head revision of the shipped migrations, from their text; None when unsure (alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for file in (MIGRATIONS / "versions").glob("*.py"):
        source = file.read_text(encoding="utf-8")
        found, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(found) != 1 or len(down) != 1:
            return None
        revisions.add(found[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision (None: not migrated at all)."""
    with engine.connect() as conn:
        try:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        except Exception:  # no alembic_version table: an empty database
            return None
    return None if found is None else str(found)


def at_head(engine: Engine) -> bool:
    head = shipped_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except Exception:  # no alembic_version table yet: a new store
        return False
    return versions == [head]


def upgrade(engine: Engine, revision: str = "head", *, on_step: Callable[[str, str], None] | None = None) -> None:
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine, on_step=on_step), revision)
