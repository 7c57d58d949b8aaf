"""The store: engine set-up (SQLite WAL + synchronous=FULL by default, PostgreSQL by URL), loading
the current state, writing one batch of journal rows and projections, and reading the journal."""
from __future__ import annotations

import json
import os
import secrets
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, create_engine, event, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import NullPool

from edge.domain.plant import STATE_TABLES, PlantState
from edge.store import schema
from edge.store.codec import decode_event
from edge.domain.events import Event

warnings.filterwarnings("ignore", category=sa_exc.SAWarning, message=".*Decimal objects natively.*")


def sqlite_url(data_dir: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(data_dir) / 'takt.sqlite'}"


def make_engine(url: str) -> Engine:
    """An engine with the durability Takt promises: an acknowledged command survives power loss."""
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool if ":memory:" not in url else None)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy issues BEGIN itself (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    event_id: str
    node_id: str
    type: str
    subject: str
    payload: str
    actor: str
    source_device: str | None
    occurred_at: datetime
    recorded_at: datetime
    origin: str
    idempotency_key: str
    key_part: int

    def event(self) -> Event:
        return decode_event(self.type, self.payload)


class Store:
    """One node's database. Writes go through :meth:`write_batch` only, from the service's writer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # --- schema -----------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest alembic revision (a new store starts from the first)."""
        from edge.store.migrate import upgrade

        upgrade(self.engine)

    def node_id(self, default: str | None = None) -> str:
        """The node's id: fixed at first start and kept (it keys the sync's deduplication)."""
        with self.engine.begin() as conn:
            found = conn.execute(
                select(schema.node_settings.c.value).where(schema.node_settings.c.name == "node_id")
            ).scalar_one_or_none()
            if found is not None:
                return str(found)
            node_id = default or f"node-{secrets.token_hex(4)}"
            conn.execute(schema.node_settings.insert().values(name="node_id", value=node_id))
            return node_id

    # --- reading ----------------------------------------------------------------------------------

    def load_state(self, conn: Connection | None = None) -> PlantState:
        if conn is None:
            with self.engine.connect() as own:
                return self.load_state(own)
        state = PlantState()
        for name in STATE_TABLES:
            spec = schema.ENTITY_TABLES[name]
            target = getattr(state, name)
            for row in conn.execute(select(spec.table)):
                entity = spec.entity(row)
                target[spec.key_of(entity)] = entity
        state.inspections = set(conn.execute(select(schema.inspection_results.c.inspection)).scalars())
        state.reindex()
        return state

    def last_seq(self, conn: Connection | None = None) -> int:
        if conn is None:
            with self.engine.connect() as own:
                return self.last_seq(own)
        return int(conn.execute(select(func.coalesce(func.max(schema.journal.c.seq), 0))).scalar_one())

    def journal(self, after: int = 0, limit: int | None = None, conn: Connection | None = None) -> Iterator[JournalEntry]:
        """Journal entries in sequence order, after ``after``; pages internally to bound memory."""
        page = 5000 if limit is None else min(limit, 5000)
        remaining = limit
        while remaining is None or remaining > 0:
            query = select(schema.journal).where(schema.journal.c.seq > after).order_by(schema.journal.c.seq)
            query = query.limit(page if remaining is None else min(page, remaining))
            if conn is None:
                with self.engine.connect() as own:
                    rows = own.execute(query).all()
            else:
                rows = conn.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield JournalEntry(**row._mapping)
            after = rows[-1].seq
            if remaining is not None:
                remaining -= len(rows)

    def lookup_commands(self, conn: Connection, keys: Sequence[str]) -> dict[str, Any]:
        if not keys:
            return {}
        table = schema.command_log
        found: dict[str, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            for row in conn.execute(select(table).where(table.c.idempotency_key.in_(chunk))):
                found[row.idempotency_key] = row
        return found

    def history(self, table: str, conn: Connection | None = None) -> list[dict[str, Any]]:
        t = schema.HISTORY_TABLES[table]
        if conn is None:
            with self.engine.connect() as own:
                return self.history(table, own)
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.seq))]

    # --- writing ----------------------------------------------------------------------------------

    def _upsert(self, conn: Connection, spec: schema.EntityTable, rows: list[dict[str, Any]]) -> None:
        dialect_insert = sqlite.insert if self.dialect == "sqlite" else postgresql.insert
        stmt = dialect_insert(spec.table)
        others = [c.name for c in spec.table.columns if c.name not in spec.key]
        if others:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(spec.key), set_={name: stmt.excluded[name] for name in others}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(spec.key))
        conn.execute(stmt, rows)

    def _delete(self, conn: Connection, spec: schema.EntityTable, keys: list[Any]) -> None:
        cols = spec.table.c
        stmt = spec.table.delete().where(and_(*(cols[k] == bindparam(f"k_{k}") for k in spec.key)))
        params = []
        for key in keys:
            values = key if isinstance(key, tuple) else (key,)
            params.append({f"k_{k}": v for k, v in zip(spec.key, values)})
        conn.execute(stmt, params)

    def write_projections(self, conn: Connection, state: PlantState, dirty: dict[str, set[Any]]) -> None:
        for name, keys in dirty.items():
            spec = schema.ENTITY_TABLES[name]
            rows_by_key = getattr(state, name)
            upserts = [spec.row(rows_by_key[k]) for k in keys if k in rows_by_key]
            deletes = [k for k in keys if k not in rows_by_key]
            if deletes:
                self._delete(conn, spec, deletes)
            if upserts:
                self._upsert(conn, spec, upserts)

    def write_batch(
        self,
        conn: Connection,
        journal_rows: list[dict[str, Any]],
        command_rows: list[dict[str, Any]],
        history_rows: dict[str, list[dict[str, Any]]],
        state: PlantState,
        dirty: dict[str, set[Any]],
    ) -> None:
        """Append the batch's events and bring every projection up to date, in the caller's transaction."""
        if journal_rows:
            conn.execute(schema.journal.insert(), journal_rows)
        if command_rows:
            conn.execute(schema.command_log.insert(), command_rows)
        for table, rows in history_rows.items():
            if rows:
                conn.execute(schema.HISTORY_TABLES[table].insert(), rows)
        self.write_projections(conn, state, dirty)


def outcome_json(events: list[dict[str, Any]]) -> str:
    return json.dumps({"events": events}, separators=(",", ":"))
