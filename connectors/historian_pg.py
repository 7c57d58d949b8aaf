"""The optional PostgreSQL historian target: a node forwards its process values to a plant's PostgreSQL server,
exactly once, so that the plant keeps its lines' values in one server it already backs up.

The layout is the edge's (:mod:`connectors.historian_store`) in a PostgreSQL schema (``takt_historian`` unless the
site names another): ``process_series`` maps node + equipment + name to an integer series id; ``process_values``
holds the same zlib chunks (delta times, XOR doubles; :func:`connectors.historian_store.decode` reads them, and
:func:`read_values` here), with their series, first and last time (Unix microseconds) and count, indexed by
(series, first_at); ``process_value_minutes`` holds per series and minute the count, numbers, bad ones, min, max
and sum of every forwarded value, plain columns that SQL and dashboards read directly; ``forwarded`` holds each
node's watermark.

How exactly once works. The edge keeps its local buffer: the writer's flushes land in the local file's landing
table in the order of a never-reused id, and they stay there (not consolidated) until forwarded. The forwarder
thread takes the landed chunks past the watermark in id order and, in ONE PostgreSQL transaction, locks the node's
watermark row, ``COPY``s the chunks, merges their minutes, and moves the watermark to the last id it took. The
watermark in PostgreSQL is the truth: the local copy (``process_forward`` in the file) only lets consolidation
move what is forwarded, and is read back from the server at every (re)connection. So a transaction either
committed (chunks and watermark) or not at all: a broken connection, a server outage, a kill of the node or a
restart of the writer resend from the server's watermark, never a chunk twice, never a gap. Each value (series,
time) is in exactly one chunk: exactly once per value. While the server is unreachable, values keep landing
locally (the edge's disk is the buffer), ``/health`` says ``unreachable`` and how many values wait, and the
forwarder tries again (1 s, doubling up to 30 s) and catches up in batches.

The URL comes from an environment variable or a file (``historian.postgresql_url_env`` / ``_file``), never from
the site file, and is never logged: errors are logged with the password removed.
"""
from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors import historian_store as hs

log = logging.getLogger("takt.historian")

TARGET = "postgresql"  # the row of process_forward in the local file
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(name: str) -> str:
    if not _SCHEMA_NAME.match(name):
        raise ValueError("a schema name of lower-case letters, digits and _ (at most 63), not starting with a digit")
    return name


def conninfo(url: str) -> str:
    """A libpq URL from the site's URL (SQLAlchemy's ``postgresql+psycopg://`` is accepted too)."""
    url = url.strip()
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    if not url.startswith("postgresql://"):
        raise ValueError("a postgresql:// URL")
    return url


def _ddl(schema: str) -> list[str]:
    return [
        f"CREATE SCHEMA IF NOT EXISTS {schema}",
        f"CREATE TABLE IF NOT EXISTS {schema}.process_series (series integer GENERATED ALWAYS AS IDENTITY "
        "PRIMARY KEY, node text NOT NULL, equipment text NOT NULL, name text NOT NULL, "
        "UNIQUE (node, equipment, name))",
        f"CREATE TABLE IF NOT EXISTS {schema}.process_values (series integer NOT NULL REFERENCES "
        f"{schema}.process_series, first_at bigint NOT NULL, last_at bigint NOT NULL, count integer NOT NULL, "
        "chunk bytea NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS process_values_by_series ON {schema}.process_values (series, first_at)",
        f"CREATE TABLE IF NOT EXISTS {schema}.process_value_minutes (series integer NOT NULL REFERENCES "
        f"{schema}.process_series, minute bigint NOT NULL, samples bigint NOT NULL, numbers bigint NOT NULL, "
        "bad bigint NOT NULL, min double precision, max double precision, sum double precision NOT NULL, "
        "PRIMARY KEY (series, minute))",
        f"CREATE TABLE IF NOT EXISTS {schema}.forwarded (node text PRIMARY KEY, through bigint NOT NULL, "
        "forwarded_values bigint NOT NULL DEFAULT 0, at timestamptz NOT NULL DEFAULT now())",
    ]


class PostgresForwarder:
    """Forwards the landed chunks of the process-values file ``path`` to PostgreSQL, on its own thread.

    ``url``: the server (never logged); ``node``: this node's id (its series and watermark there);
    ``batch_chunks``: chunks per transaction."""

    def __init__(self, path: str, url: str, node: str, *, schema: str = "takt_historian",
                 batch_chunks: int = 2000, every_s: float = 1.0, retry_max_s: float = 30.0,
                 synchronous: str = "NORMAL") -> None:
        self.path, self.node, self.schema = path, node, check_schema_name(schema)
        self._conninfo = conninfo(url)
        import psycopg.conninfo

        self._secret = str(psycopg.conninfo.conninfo_to_dict(self._conninfo).get("password") or "")
        self.batch_chunks, self.every_s, self.retry_max_s = batch_chunks, every_s, retry_max_s
        self._synchronous = synchronous
        self.state = "starting"  # connected, unreachable, stopped
        self.forwarded = 0  # values forwarded by this process
        self.forwarded_chunks = 0
        self.relanded_chunks = 0  # consolidated chunks the server did not have, landed again to be forwarded
        self.failures = 0
        self.last_error: str | None = None
        self.last_forward_at: float | None = None  # time.time() of the last committed batch
        self.through: int | None = None  # the server's watermark, as last read or written
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pg: Any = None
        self._series: dict[int, int] = {}  # local series → the server's
        self._names: dict[int, tuple[str, str]] = {}  # local series → equipment, name
        self._lock = threading.Lock()  # one forwarding pass at a time
        self._remembered: int | None = None  # the local watermark as last written

    # --- the thread ---------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="historian-forwarder", daemon=True)
            self._thread.start()

    def poke(self) -> None:
        """Something landed: forward soon (the writer calls it after each flush)."""
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """One last pass (what the writer wrote at its stop), then stop; what the server did not take stays landed
        and goes at the next start."""
        thread = self._thread
        if thread is not None:
            self._stopping = True
            self._wake.set()
            thread.join(timeout_s)
            self._thread = None
        self._disconnect()
        self.state = "stopped"

    def _run(self) -> None:
        local = hs.connect(self.path, self._synchronous)
        delay = self.every_s
        try:
            while True:
                self._wake.wait(delay)
                self._wake.clear()
                stopping = self._stopping
                try:
                    # catching up batch after batch; then the history the target does not have yet (kept before
                    # it was configured, or consolidated during an outage), a batch at a time
                    while self.forward_once(local) == self.batch_chunks or self.reland(local):
                        pass
                    delay = self.every_s
                except Exception as exc:  # the server is away or the connection broke: values stay landed
                    self._failed(exc)
                    delay = min(self.retry_max_s, delay * 2 if self.state == "unreachable" else self.every_s)
                    self.state = "unreachable"
                if stopping:
                    break
        finally:
            local.close()

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        message = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        if self._secret:
            message = message.replace(self._secret, "***")
        if message != self.last_error or self.state != "unreachable":
            log.error("historian: forwarding to PostgreSQL failed (%s); values stay in the local buffer and are "
                      "sent when the server is back", message)
        self.last_error = message
        self._disconnect()

    def _disconnect(self) -> None:
        pg, self._pg = self._pg, None
        if pg is not None:
            try:
                pg.close()
            except Exception:  # a broken connection may fail to close: it is gone either way
                log.debug("historian: closing the PostgreSQL connection failed", exc_info=True)

    # --- forwarding -------------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._pg is None:
            import psycopg

            pg = psycopg.connect(self._conninfo, connect_timeout=5, application_name="takt-historian",
                                 keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
            with pg.transaction():
                for statement in _ddl(self.schema):
                    pg.execute(statement)
            self._pg = pg
            self._series = {}  # ids are the server's: read again after a reconnection
        return self._pg

    def forward_once(self, local: sqlite3.Connection) -> int:
        """One batch: the landed chunks past the server's watermark, in one transaction; returns how many chunks
        were forwarded (0: nothing waited)."""
        with self._lock:
            pg = self._connect()
            s = self.schema
            with pg.transaction():
                pg.execute(f"INSERT INTO {s}.forwarded (node, through) VALUES (%s, 0) ON CONFLICT (node) DO NOTHING",
                           (self.node,))
                # the row lock: two processes forwarding for the same node wait for each other's batch
                through = int(pg.execute(f"SELECT through FROM {s}.forwarded WHERE node = %s FOR UPDATE",
                                         (self.node,)).fetchone()[0])
                found = self._take(local, through)
                self._check_not_consolidated(local, through, found)
                if found:
                    self._write(pg, local, found)
                    values = sum(int(r[4]) for r in found)
                    pg.execute(f"UPDATE {s}.forwarded SET through = %s, forwarded_values = forwarded_values + %s, "
                               "at = now() WHERE node = %s", (found[-1][0], values, self.node))
            # committed: the server has them. The local watermark only lets consolidation move them.
            self.through = found[-1][0] if found else through
            self._remember(local, self.through)
            self.state = "connected"
            self.last_error = None
            if found:
                self.forwarded += sum(int(r[4]) for r in found)
                self.forwarded_chunks += len(found)
                self.last_forward_at = time.time()
            return len(found)

    def _take(self, local: sqlite3.Connection, through: int) -> list[Any]:
        """The landed chunks past ``through`` for one batch, and (in the same local transaction, before anything
        is sent) the last of them as ``attempted``: the writer consolidates during an outage only chunks past it,
        never one a transaction may have committed on the server."""
        local.execute("BEGIN IMMEDIATE")
        try:
            found = local.execute("SELECT id, series, first_at, last_at, count, chunk FROM process_values_recent "
                                  "WHERE id > ? ORDER BY id LIMIT ?", (through, self.batch_chunks)).fetchall()
            if found:
                local.execute("INSERT INTO process_forward (target, through, attempted) VALUES (?, ?, ?) "
                              "ON CONFLICT (target) DO UPDATE SET attempted = max(coalesce(attempted, 0), "
                              "excluded.attempted)", (TARGET, through, found[-1][0]))
            local.execute("COMMIT")
        except BaseException:
            if local.in_transaction:
                local.execute("ROLLBACK")
            raise
        return found

    def reland(self, local: sqlite3.Connection) -> int:
        """Re-land a batch of consolidated chunks the server does not have (:func:`historian_store.
        reland_unforwarded`) once everything landed is forwarded; returns how many (0: none left)."""
        with self._lock:
            local.execute("BEGIN IMMEDIATE")
            try:
                waiting = local.execute("SELECT 1 FROM process_values_recent WHERE id > ? LIMIT 1",
                                        (self.through if self.through is not None else 0,)).fetchone()
                moved = 0 if waiting is not None or self.state != "connected" else hs.reland_unforwarded(
                    local, self.batch_chunks)
                local.execute("COMMIT")
            except BaseException:
                if local.in_transaction:
                    local.execute("ROLLBACK")
                raise
        if moved:
            self.relanded_chunks += moved
            log.info("historian: %d chunks kept before the PostgreSQL target had them are on their way to it", moved)
        return moved

    def _check_not_consolidated(self, local: sqlite3.Connection, through: int, found: list[Any]) -> None:
        """The server's watermark behind the local one (a server restored from a backup) would leave a gap: said
        once in the log, and forwarding goes on from what is still landed."""
        mine = local.execute("SELECT through FROM process_forward WHERE target = ?", (TARGET,)).fetchone()
        if mine is not None and int(mine[0]) > through and (not found or found[0][0] != through + 1):
            if self.last_error != "behind":
                log.error("historian: the PostgreSQL server's watermark (%d) is behind this node's (%d): values "
                          "landed in between were consolidated locally and are not forwarded", through, mine[0])
            self.last_error = "behind"

    def _remember(self, local: sqlite3.Connection, through: int) -> None:
        """The local copy of the watermark (written only when it moves: no write per idle pass)."""
        if through == self._remembered:
            return
        try:
            local.execute("INSERT INTO process_forward (target, through) VALUES (?, ?) ON CONFLICT (target) "
                          "DO UPDATE SET through = excluded.through", (TARGET, through))
        except sqlite3.Error as exc:  # a full local disk: the server has the values; consolidation waits
            log.warning("historian: the local forwarding watermark could not be written (%s)", exc)
            return
        self._remembered = through

    def _server_series(self, pg: Any, local: sqlite3.Connection, series: set[int]) -> None:
        missing = series - self._series.keys()
        if not missing:
            return
        for one, equipment, name in local.execute(
                f"SELECT series, equipment, name FROM process_series WHERE series IN "
                f"({','.join('?' * len(missing))})", sorted(missing)):
            self._names[int(one)] = (str(equipment), str(name))
        s = self.schema
        for one in sorted(missing):
            equipment, name = self._names[one]
            pg.execute(f"INSERT INTO {s}.process_series (node, equipment, name) VALUES (%s, %s, %s) "
                       "ON CONFLICT (node, equipment, name) DO NOTHING", (self.node, equipment, name))
            self._series[one] = int(pg.execute(
                f"SELECT series FROM {s}.process_series WHERE node = %s AND equipment = %s AND name = %s",
                (self.node, equipment, name)).fetchone()[0])

    def _write(self, pg: Any, local: sqlite3.Connection, found: list[Any]) -> None:
        s = self.schema
        self._server_series(pg, local, {int(r[1]) for r in found})
        minutes: dict[tuple[int, int], list[Any]] = {}
        with pg.cursor() as cur, cur.copy(f"COPY {s}.process_values (series, first_at, last_at, count, chunk) "
                                          "FROM STDIN") as copy:
            for _id, series, first_at, last_at, count, chunk in found:
                theirs = self._series[int(series)]
                copy.write_row((theirs, first_at, last_at, count, bytes(chunk)))
                for minute, (samples, numbers, bad, low, high, total) in hs.minute_summaries(hs.decode(chunk)).items():
                    have = minutes.get((theirs, minute))
                    minutes[(theirs, minute)] = [samples, numbers, bad, low, high, total] if have is None else [
                        have[0] + samples, have[1] + numbers, have[2] + bad, _pick(have[3], low, min),
                        _pick(have[4], high, max), have[5] + total]
        pg.execute("CREATE TEMPORARY TABLE IF NOT EXISTS takt_minutes (series integer, minute bigint, samples bigint, "
                   "numbers bigint, bad bigint, min double precision, max double precision, sum double precision) "
                   "ON COMMIT DELETE ROWS")
        with pg.cursor() as cur, cur.copy("COPY takt_minutes FROM STDIN") as copy:
            for (series, minute), summary in minutes.items():
                copy.write_row((series, minute, *summary))
        pg.execute(
            f"INSERT INTO {s}.process_value_minutes AS m SELECT * FROM takt_minutes "
            "ON CONFLICT (series, minute) DO UPDATE SET samples = m.samples + excluded.samples, "
            "numbers = m.numbers + excluded.numbers, bad = m.bad + excluded.bad, "
            "min = least(m.min, excluded.min), max = greatest(m.max, excluded.max), sum = m.sum + excluded.sum")

    def waiting(self, local: sqlite3.Connection) -> int:
        """Values not yet forwarded (as far as this node knows): landed past the watermark, and consolidated ones
        the server does not have (kept before the target was configured, or during an outage)."""
        mine = local.execute("SELECT through FROM process_forward WHERE target = ?", (TARGET,)).fetchone()
        through = int(mine[0]) if mine is not None else 0
        return int(local.execute("SELECT coalesce(sum(count), 0) FROM process_values_recent WHERE id > ?",
                                 (through,)).fetchone()[0]) + hs.unforwarded_values(local)

    def health(self, local: sqlite3.Connection | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {
            "target": TARGET, "schema": self.schema, "state": self.state, "forwarded": self.forwarded,
            "failures": self.failures, "last_error": self.last_error,
            "last_forward_age_s": None if self.last_forward_at is None else round(time.time() - self.last_forward_at, 3)}
        if local is not None:
            found["waiting"] = self.waiting(local)
        return found


def _pick(a: float | None, b: float | None, choose: Callable[[float, float], float]) -> float | None:
    return b if a is None else a if b is None else choose(a, b)


def configure(db: sqlite3.Connection) -> None:
    """A PostgreSQL target is configured: from now on consolidation leaves the landed chunks it has not taken
    (before the forwarder's first pass, too); what was consolidated before is re-landed and forwarded."""
    db.execute("INSERT INTO process_forward (target, through, attempted) VALUES (?, 0, 0) "
               "ON CONFLICT (target) DO NOTHING", (TARGET,))


def start_forgetting(path: str | Path) -> None:
    """No PostgreSQL target any more: forget its watermark, so that consolidation moves every landed chunk."""
    db = hs.connect(path)
    try:
        db.execute("DELETE FROM process_forward WHERE target = ?", (TARGET,))
    finally:
        db.close()


def read_values(pg: Any, schema: str, node: str, equipment: str, name: str,
                since_us: int | None = None, until_us: int | None = None) -> list[hs.Row]:
    """One series' forwarded values from the server, oldest first (a psycopg connection ``pg``)."""
    s = check_schema_name(schema)
    sql = (f"SELECT v.chunk FROM {s}.process_values v JOIN {s}.process_series p ON p.series = v.series "
           "WHERE p.node = %s AND p.equipment = %s AND p.name = %s")
    args: list[Any] = [node, equipment, name]
    if since_us is not None:
        sql += " AND v.last_at >= %s"
        args.append(since_us)
    if until_us is not None:
        sql += " AND v.first_at <= %s"
        args.append(until_us)
    rows = [r for (chunk,) in pg.execute(sql, args) for r in hs.decode(bytes(chunk))
            if (since_us is None or r[0] >= since_us) and (until_us is None or r[0] <= until_us)]
    rows.sort(key=lambda r: r[0])
    return rows
