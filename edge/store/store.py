"""The store: engine set-up (SQLite WAL + synchronous=FULL by default, PostgreSQL by URL), loading
the current state, writing one batch of journal rows and projections, and reading the journal."""
from __future__ import annotations

import contextlib
import json
import keyword
import logging
import os
import secrets
import sqlite3
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import NullPool

from edge.domain.contexts.signatures import apply_signature
from edge.domain.events import Event
from edge.domain.plant import STATE_TABLES, PlantState
from edge.store import schema
from edge.store.chain import GENESIS, CheckpointKey
from edge.store.codec import decode_event
from edge.store.migrate import upgrade
from edge.store.schema import UtcDateTime

log = logging.getLogger(__name__)

warnings.filterwarnings("ignore", category=sa_exc.SAWarning, message=".*Decimal objects natively.*")


def sqlite_url(data_dir: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(data_dir) / 'takt.sqlite'}"


WRITES = "takt_writes"  # Connection.info flag: this connection writes (see make_engine, Store.writing)


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
            # A writing connection takes the write lock up front (IMMEDIATE), so it waits its turn (busy_timeout)
            # instead of failing at once when another connection wrote after its transaction began to read.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(WRITES) else "BEGIN")

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
    recorded_by: str | None = None  # the authenticated account that sent the command (None: recorded before 0018)
    on_behalf_of: str | None = None  # the operator it was booked for, when not the sender
    chain_hash: str | None = None  # the hash chain through this event (edge.store.chain; None: archived before it)

    def event(self) -> Event:
        return decode_event(self.type, self.payload)


class WriterBusy(RuntimeError):
    """Another process is the store's writer."""


class Store:
    """One node's database. Writes go through :meth:`write_batch` only, from the service's writer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._prepared_tables: dict[str, _PreparedTable] = {}
        self._max_variables: int | None = None
        self._entity_loaders: dict[str, _EntityLoader] = {}
        # SQLite has one write lock per file, and a writer that finds it taken sleeps in SQLite's busy handler: 1, 2,
        # 5, 10, 15, 20, 25 ms ... between tries, however soon the lock is free. Within the process the writers (the
        # service's writer, the sync's bookkeeping, user changes) take turns on this lock instead, woken as soon as
        # it is free: the sync's acknowledgement after each push round cost the writer's group commit, and every
        # command waiting on it, those sleeps. Another process still meets SQLite's busy handler (busy_timeout).
        self.write_mutex: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else contextlib.nullcontext())

    def close(self) -> None:
        self.release_writer()
        self.engine.dispose()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A transaction that writes besides the service's writer (the sync's bookkeeping, user changes):
        on SQLite it takes the write lock when it begins and waits for it, rather than failing halfway."""
        with self.engine.connect() as conn:  # connected (and its pragmas run) before taking the writers' turn
            conn.info[WRITES] = True
            with self.write_mutex, conn.begin():
                yield conn

    # --- the one writer ----------------------------------------------------------------------------

    _writer_lock: Any = None

    def claim_writer(self) -> None:
        """Make this process the store's only writer, or raise :class:`WriterBusy`. Two writers would hand out
        the same journal sequence numbers; a second ``takt run`` (or ``takt sync pull`` beside a running node)
        must be refused. SQLite: an exclusive lock on ``<store>.writer.lock``; PostgreSQL: an advisory lock
        held by a connection of its own. Either is released when the process ends, however it ends."""
        if self._writer_lock is not None:
            return
        if self.dialect == "sqlite":
            database = self.engine.url.database
            if not database or database == ":memory:":
                return
            import fcntl

            handle = open(f"{database}.writer.lock", "a+")  # noqa: SIM115 - held for the store's life
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise WriterBusy(f"another process is recording into {database} (a running node?)") from None
            self._writer_lock = handle
        else:
            conn = self.engine.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(hashtext('takt-writer'))")).scalar_one()
            conn.commit()
            if not got:
                conn.close()
                raise WriterBusy("another process is recording into this database (a running node?)")
            self._writer_lock = conn

    def release_writer(self) -> None:
        """Give up the writer's claim. On PostgreSQL the advisory lock belongs to the database session, not to
        the SQLAlchemy connection: closing the connection would return the session to the pool with the lock
        still held, and the next ``claim_writer`` (a restarted service in the same process) would find it busy.
        So the lock is released by name and the session is thrown away, never pooled."""
        lock, self._writer_lock = self._writer_lock, None
        if lock is None:
            return
        if isinstance(lock, Connection):
            try:
                lock.execute(text("SELECT pg_advisory_unlock(hashtext('takt-writer'))"))
                lock.commit()
            except Exception:  # a broken session holds no lock once the server notices; drop it below
                log.warning("could not release the writer's advisory lock by name; dropping its session")
            lock.invalidate()
        lock.close()

    # --- schema -----------------------------------------------------------------------------------

    def migrate(self, on_step: Callable[[str, str], None] | None = None) -> None:
        """Bring the schema to the newest alembic revision (a new store starts from the first), all pending
        migrations in one transaction; ``on_step(revision, description)`` after each ran (uncommitted)."""
        upgrade(self.engine, on_step=on_step)

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
        fast = self.dialect == "sqlite"
        if not conn.in_transaction():
            conn.begin()  # one snapshot for every table (the driver's cursor below would not begin one)
        for name in STATE_TABLES:
            spec = schema.ENTITY_TABLES[name]
            target = getattr(state, name)
            if fast:
                self._loader(spec).load(conn, target)
                continue
            for row in conn.execute(select(spec.table)):
                entity = spec.entity(row)
                target[spec.key_of(entity)] = entity
        ir = schema.inspection_results
        for row in conn.execute(select(ir.c.inspection, ir.c.plan, ir.c.results).order_by(ir.c.seq)):
            state.inspections.add(row.inspection)
            state.measured(row.plan, row.results)
        uc = schema.unit_components
        for fit in conn.execute(select(uc.c.component, uc.c.component_serial, uc.c.serial)
                                .where(uc.c.component_serial.is_not(None)).order_by(uc.c.seq)):
            state.fitted[(fit.component, fit.component_serial)] = fit.serial
        rs = schema.record_signatures
        for sig in conn.execute(select(rs).order_by(rs.c.seq)):
            apply_signature(state, sig.signature, sig.signer, sig.signer_name, sig.meaning, sig.at,
                            ((r["type"], r["subject"]) for r in sig.records), sig.supersedes)
        state.reindex()
        return state

    def _loader(self, spec: schema.EntityTable) -> _EntityLoader:
        loader = self._entity_loaders.get(spec.name)
        if loader is None:
            loader = self._entity_loaders[spec.name] = _EntityLoader(spec, self.engine.dialect)
        return loader

    def last_seq(self, conn: Connection | None = None) -> int:
        if conn is None:
            with self.engine.connect() as own:
                return self.last_seq(own)
        return int(conn.execute(select(func.coalesce(func.max(schema.journal.c.seq), 0))).scalar_one())

    def chain_hash_at(self, conn: Connection, seq: int) -> str:
        """The journal's chain hash through ``seq`` (edge.store.chain): the row's, or the archive's that ends there
        (retention moved it), or the chain's start for an empty journal."""
        if seq <= 0:
            return GENESIS
        found = conn.execute(select(schema.journal.c.chain_hash).where(schema.journal.c.seq == seq)).first()
        if found is None:
            a = schema.journal_archives
            found = conn.execute(select(a.c.last_hash).where(a.c.last_seq == seq)).first()
        return str(found[0]) if found is not None and found[0] is not None else GENESIS

    def write_checkpoints(self, conn: Connection, node_id: str, heads: Sequence[tuple[int, str]], key: CheckpointKey,
                          every: int, at: datetime, reason: str = "interval") -> None:
        """Signed checkpoints of the chain at ``heads`` ((seq, chain hash)), in the caller's transaction."""
        conn.execute(schema.journal_checkpoints.insert(), [
            {"seq": seq, "chain_hash": chain, "signature": key.sign(node_id, seq, chain), "reason": reason,
             "every": every, "signed_at": at} for seq, chain in heads])

    def checkpoint_at_stop(self, conn: Connection, node_id: str, seq: int, chain: str, key: CheckpointKey,
                           every: int, at: datetime) -> None:
        """The checkpoint a stopping node signs at its head (none when the head already has one)."""
        cp = schema.journal_checkpoints
        with conn.begin():
            if seq <= 0 or conn.execute(select(cp.c.seq).where(cp.c.seq == seq)).first() is not None:
                return
            self.write_checkpoints(conn, node_id, [(seq, chain)], key, every, at, reason="shutdown")

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

    def history(self, table: str, conn: Connection | None = None) -> list[dict[str, Any]]:
        t = schema.HISTORY_TABLES[table]
        if conn is None:
            with self.engine.connect() as own:
                return self.history(table, own)
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.seq))]

    # --- writing ----------------------------------------------------------------------------------
    #
    # The write path runs once per group commit with hundreds of rows, so it skips SQLAlchemy's
    # per-row statement machinery: each table's INSERT / upsert / DELETE is rendered once (in the
    # driver's paramstyle, identifiers quoted by the dialect), values are converted with the very
    # bind processors SQLAlchemy would use (so what lands in the database is identical), and the
    # rows go to the DBAPI cursor's executemany on the connection of the caller's transaction.

    def _prepared(self, table: Any) -> _PreparedTable:
        prepared = self._prepared_tables.get(table.name)
        if prepared is None:
            key = next((spec.key for spec in schema.ENTITY_TABLES.values() if spec.table is table), None)
            prepared = _PreparedTable(table, self.engine.dialect, key)
            self._prepared_tables[table.name] = prepared
        return prepared

    def lookup_commands(self, conn: Connection, keys: Sequence[str]) -> dict[str, LoggedCommand]:
        """The command-log rows of those ``keys`` that were recorded before."""
        if not keys:
            return {}
        found: dict[str, LoggedCommand] = {}
        mark = _placeholder(self.engine.dialect)
        cursor = conn.connection.cursor()
        try:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start:start + 500])
                sql = (f"SELECT idempotency_key, command, fingerprint, outcome FROM command_log "
                       f"WHERE idempotency_key IN ({', '.join([mark] * len(chunk))})")
                cursor.execute(sql, chunk)
                for row in cursor.fetchall():
                    found[row[0]] = LoggedCommand(*row)
        finally:
            cursor.close()
        return found

    def _insert(self, conn: Connection, table: Any, rows: Sequence[Any]) -> None:
        prepared = self._prepared(table)
        self._write_rows(conn, prepared, prepared.values(rows), "")

    def _write_rows(self, conn: Connection, prepared: _PreparedTable, params: list[tuple[Any, ...]],
                    tail: str) -> None:
        """INSERT (``tail`` empty) or upsert many rows.

        On SQLite the rows go as multi-row ``VALUES (..), (..)`` statements, not ``executemany``:
        the sqlite3 module releases and re-takes the GIL for every statement it steps, and under
        HTTP load each re-take makes the writer thread and the event loop swap the GIL. One
        statement per table per batch keeps that to a handful of swaps per group commit.
        """
        if self.dialect != "sqlite" or len(params) == 1:
            _executemany(conn, prepared.insert_sql + tail, params)
            return
        per_statement = max(1, self._sqlite_max_variables(conn) // len(prepared.columns))
        cursor = conn.connection.cursor()
        try:
            for start in range(0, len(params), per_statement):
                chunk = params[start:start + per_statement]
                sql = prepared.insert_head + ", ".join([prepared.row_marks] * len(chunk)) + tail
                cursor.execute(sql, [value for row in chunk for value in row])
        finally:
            cursor.close()

    def _sqlite_max_variables(self, conn: Connection) -> int:
        if self._max_variables is None:
            raw: Any = conn.connection.dbapi_connection
            limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if hasattr(raw, "getlimit") else 999
            self._max_variables = int(limit)
        return self._max_variables

    def write_projections(self, conn: Connection, state: PlantState, dirty: dict[str, set[Any]]) -> None:
        for name, keys in dirty.items():
            spec = schema.ENTITY_TABLES[name]
            prepared = self._prepared(spec.table)
            rows_by_key = getattr(state, name)
            upserts = [rows_by_key[k] for k in keys if k in rows_by_key]
            deletes = [k for k in keys if k not in rows_by_key]
            if deletes:
                _executemany(conn, prepared.delete_sql, prepared.key_values(deletes))
            if upserts:
                self._write_rows(conn, prepared, prepared.entity_values(upserts), prepared.upsert_tail)

    def write_batch(
        self,
        conn: Connection,
        journal_rows: Sequence[Any],
        command_rows: Sequence[Any],
        history_rows: dict[str, list[dict[str, Any]]],
        state: PlantState,
        dirty: dict[str, set[Any]],
    ) -> None:
        """Append the batch's events and bring every projection up to date, in the caller's transaction.

        Rows are dicts keyed by column name, or tuples in the table's column order
        (``JOURNAL_COLUMNS``, ``COMMAND_LOG_COLUMNS``)."""
        if journal_rows:
            self._insert(conn, schema.journal, journal_rows)
        if command_rows:
            self._insert(conn, schema.command_log, command_rows)
        for table, rows in history_rows.items():
            if rows:
                self._insert(conn, schema.HISTORY_TABLES[table], rows)
        self.write_projections(conn, state, dirty)


class LoggedCommand(NamedTuple):
    """What the command log holds about an accepted command, as far as a repeat needs it."""

    idempotency_key: str
    command: str
    fingerprint: str
    outcome: str


JOURNAL_COLUMNS: tuple[str, ...] = tuple(schema.journal.columns.keys())
COMMAND_LOG_COLUMNS: tuple[str, ...] = tuple(schema.command_log.columns.keys())


def _placeholder(dialect: Dialect) -> str:
    if dialect.paramstyle == "qmark":
        return "?"
    if dialect.paramstyle in ("format", "pyformat"):
        return "%s"
    raise ValueError(f"Takt's store does not support the paramstyle {dialect.paramstyle} ({dialect.name})")


def _executemany(conn: Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def _same_object_memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` remembering its last argument: a batch stamps most rows with the same datetime."""
    last: list[Any] = [_MISSING, None]

    def memo(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        result = convert(value)
        last[0], last[1] = value, result  # holding ``value`` keeps its id from being reused
        return result

    return memo


_MISSING = object()


class _PreparedTable:
    """One table's SQL for the driver, and functions that turn a row (a dict by column name, a tuple
    in column order, or an entity dataclass) into the tuple of driver values."""

    def __init__(self, table: Any, dialect: Dialect, key: tuple[str, ...] | None) -> None:
        quote = dialect.identifier_preparer.quote
        mark = _placeholder(dialect)
        self.columns: tuple[str, ...] = tuple(table.columns.keys())
        cols = ", ".join(quote(c) for c in self.columns)
        marks = ", ".join([mark] * len(self.columns))
        name = quote(table.name)
        self.insert_head = f"INSERT INTO {name} ({cols}) VALUES "
        self.row_marks = f"({marks})"
        self.insert_sql = self.insert_head + self.row_marks
        self.upsert_tail = ""
        processors: dict[str, Callable[[Any], Any]] = {}
        for column in table.columns:
            process = column.type._cached_bind_processor(dialect)
            if process is not None:
                processors[column.name] = (
                    _same_object_memo(process) if isinstance(column.type, UtcDateTime) else process
                )
        by_index = [f"r[{i}]" for i in range(len(self.columns))]
        by_name = [f"r[{c!r}]" for c in self.columns]
        by_attribute = [f"getattr(r, {c!r})" if keyword.iskeyword(c) else f"r.{c}" for c in self.columns]
        self.from_tuple = _row_builder(self.columns, by_index, processors)
        self.from_dict = _row_builder(self.columns, by_name, processors)
        self.from_entity = _row_builder(self.columns, by_attribute, processors)
        self.upsert_sql = self.delete_sql = ""
        self.key_of = self.from_tuple
        if key:
            others = [c for c in self.columns if c not in key]
            conflict = ", ".join(quote(k) for k in key)
            if others:
                updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in others)
                self.upsert_tail = f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            else:
                self.upsert_tail = f" ON CONFLICT ({conflict}) DO NOTHING"
            self.upsert_sql = self.insert_sql + self.upsert_tail
            where = " AND ".join(f"{quote(k)} = {mark}" for k in key)
            self.delete_sql = f"DELETE FROM {name} WHERE {where}"
            self.key_of = _row_builder(key, [f"r[{i}]" for i in range(len(key))], processors)

    def values(self, rows: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not rows:
            return []
        build = self.from_dict if isinstance(rows[0], dict) else self.from_tuple
        return [build(r) for r in rows]

    def entity_values(self, entities: Sequence[Any]) -> list[tuple[Any, ...]]:
        build = self.from_entity
        return [build(e) for e in entities]

    def key_values(self, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        build = self.key_of
        return [build(k if isinstance(k, tuple) else (k,)) for k in keys]


def _row_builder(columns: Sequence[str], reads: list[str], processors: dict[str, Callable[[Any], Any]]
                 ) -> Callable[[Any], tuple[Any, ...]]:
    """A function ``r -> (value, ...)`` that reads each column as ``reads`` says and passes it through
    the column's bind processor, generated as one expression (a per-row loop costs more than the
    inserts it feeds)."""
    names: dict[str, Any] = {}
    parts = []
    for column, read in zip(columns, reads, strict=True):
        if column in processors:
            names[f"p{len(names)}"] = processors[column]
            parts.append(f"p{len(names) - 1}({read})")
        else:
            parts.append(read)
    source = f"lambda r: ({', '.join(parts)},)"
    built: Callable[[Any], tuple[Any, ...]] = eval(source, names)  # noqa: S307 - built from column names
    return built


class _EntityLoader:
    """Reads one state table into entities, fast: at start-up a node loads every current-state row (a store of a
    year may hold a million items), and SQLAlchemy's per-row ``Row`` and mapping machinery cost more than the
    rows themselves. The SELECT goes to the driver's cursor in pages; each row becomes its entity through one
    generated expression that applies the column's own result processor (the very one SQLAlchemy would apply,
    so the entities are identical) and turns JSON lists into tuples as :meth:`EntityTable.entity` does."""

    PAGE = 20_000

    def __init__(self, spec: schema.EntityTable, dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        columns = list(spec.table.columns.keys())
        self.sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(spec.table.name)}"
        names: dict[str, Any] = {"cls": spec.cls}
        parts = []
        for i, column in enumerate(spec.table.columns):
            read = f"r[{i}]"
            process = column.type._cached_result_processor(dialect, None)
            if process is not None:
                names[f"p{i}"] = process
                read = f"p{i}({read})"
            if column.name in spec.tuple_fields:
                read = f"tuple({read} or ())"
            parts.append(read)
        key = spec.key
        key_expr = f"e.{key[0]}" if len(key) == 1 else "(" + ", ".join(f"e.{k}" for k in key) + ")"
        source = (f"def fill(rows, target):\n    for r in rows:\n        e = cls({', '.join(parts)})\n"
                  f"        target[{key_expr}] = e\n")
        exec(source, names)  # noqa: S102 - built from the table's column names
        self._fill: Callable[[Sequence[Any], dict[Any, Any]], None] = names["fill"]

    def load(self, conn: Connection, target: dict[Any, Any]) -> None:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql)
            while rows := cursor.fetchmany(self.PAGE):
                self._fill(rows, target)
        finally:
            cursor.close()


def outcome_json(events: list[dict[str, Any]]) -> str:
    """``{"events": [...]}`` as compact JSON; the same text ``json.dumps`` gives, built faster for
    the usual summaries ({seq, type, subject})."""
    parts = []
    for ev in events:
        if tuple(ev) != _SUMMARY_ORDER or type(ev["seq"]) is not int:
            return json.dumps({"events": events}, separators=(",", ":"))
        parts.append(f'{{"seq":{ev["seq"]},"type":{_json_text(ev["type"])},"subject":{_json_text(ev["subject"])}}}')
    return '{"events":[' + ",".join(parts) + "]}"


_SUMMARY_ORDER = ("seq", "type", "subject")
_json_text = json.encoder.encode_basestring_ascii  # what json.dumps uses for str (ensure_ascii)
