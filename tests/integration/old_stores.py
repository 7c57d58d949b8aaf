"""A store of the first schema revision (0001) with real data in it, for upgrade and power-loss tests.

``tests/data/stores/takt-rev0001.sql`` is the dump of a store that the demo node of the commit before migration
0002 recorded over its HTTP API (``make_rev0001.py`` beside it says how).
"""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from edge.store import Store
from edge.store.migrate import current_revision, upgrade
from edge.store.schema import metadata

OldRows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]

DUMP = Path(__file__).resolve().parents[1] / "data" / "stores" / "takt-rev0001.sql"
REV0001_EVENTS = 99  # journal rows in the dump


@contextlib.contextmanager
def old_rows(tmp_path: Path) -> Iterator[dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    """Per table of the revision-0001 store: its columns and its rows, as Python values (read through this
    version's column types, which 0001's columns share)."""
    file = tmp_path / "rev0001.sqlite"
    with contextlib.closing(sqlite3.connect(file)) as conn:
        conn.executescript(DUMP.read_text())
        conn.commit()
        tables = {name: [col[1] for col in conn.execute(f'PRAGMA table_info("{name}")')]
                  for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    engine = create_engine(f"sqlite:///{file}")
    try:
        found: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        with engine.connect() as conn:
            for name, columns in tables.items():
                if name == "alembic_version":
                    continue
                table = metadata.tables[name]
                rows = conn.execute(select(*(table.c[col] for col in columns))).all()
                found[name] = (columns, [tuple(r) for r in rows])
        yield found
    finally:
        engine.dispose()


def store_at_rev0001(url: str, tmp_path: Path) -> tuple[Store, dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    """A store at revision 0001 holding the old store's rows."""
    store = Store(url)
    upgrade(store.engine, "0001")
    with old_rows(tmp_path) as old, store.engine.begin() as conn:
        for name, (columns, rows) in old.items():
            if rows:
                conn.execute(metadata.tables[name].insert(), [dict(zip(columns, r, strict=True)) for r in rows])
    assert current_revision(store.engine) == "0001"
    return store, old


def rows_of(store: Store, old: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The store's rows of the old store's tables and columns, sorted."""
    with store.engine.connect() as conn:
        return {name: sorted((tuple(r) for r in conn.execute(select(*(metadata.tables[name].c[col] for col in cols)))),
                             key=repr)
                for name, (cols, _) in old.items()}
