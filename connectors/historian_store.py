"""The historian's storage layout: process values as compressed chunks per series in a SQLite file.

Measured on this machine (1,000 series, 20,000 values/s, WAL): one row per value keyed by (series, time) writes
117-473 bytes per value (each commit touches the tail page of every series, and WAL writes each page twice);
one compressed chunk per series and flush writes, on a file already holding 12 million values, ~46 bytes per
value at a 5 s flush (100 values per series and chunk) and ~12 at a 10 s flush (200): the cost is the pages a
flush touches (about one index page per series), so it falls with the values per series per flush. Page sizes
of 1, 2, 8 and 16 KB did not do better than the default 4 KB (75, 69, 41, 37 bytes at a 5 s flush).
So values are kept as chunks, and the writer's flushes land in time order in a table without an index,
consolidated into the indexed chunks every ``consolidate_s`` (one index page per series per consolidation, not per
flush): on the same file, 5 bytes per value for the benchmark's values and 47 for random doubles (whose chunks
do not compress: ~9 bytes, written four times through two WAL checkpoints). A consolidation still touches a page
or two per series it moves, so at a low rate per series (1,500 values/s over 1,000 tags, 30 s periods: ~47 values
per series) that cost was ~119 bytes per value; the writer's periodic consolidation therefore moves only series
with a whole chunk landed (:data:`CHUNK_MAX` values) or landed values older than a chunk's span, which bounds the
per-series cost to once per 1,000 values whatever the rate (a stop and retention move everything).

- ``process_series``: a small table mapping equipment + process value name to an integer series id.
- ``process_values``: one row per chunk of up to :data:`CHUNK_MAX` values of one series in time order, with its
  first and last time (integer microseconds, at most an hour apart) and count; the chunk holds the times (delta
  encoded), the numbers (XOR of each double with the one before, as Gorilla does) and the rare text values,
  qualities and details, compressed with zlib. Rows are appended in rowid order (sequential pages); the index ``(series, first_at)``
  finds a series' chunks over a time range.
- ``process_value_minutes``: per series and minute the number of values, how many were numbers and how many not
  of good quality, and min, max and sum, keyed (series, minute) ``WITHOUT ROWID``.
- ``process_values_recent``: the landed chunks of the writer's flushes (:func:`consolidate` moves them).
- ``process_forward``: the forwarding target's watermarks (:mod:`connectors.historian_pg`); ``process_values``'s
  ``forwarded`` says which chunks are on it (NULL: not yet, e.g. kept before a target was configured).

Files of the first layout (text equipment and name in every row) are migrated when opened (:func:`connect`).
"""
from __future__ import annotations

import json
import sqlite3
import struct
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

CHUNK_MAX = 1000  # values per chunk: bounds the decoding of a read and the rewrite of a split chunk
CHUNK_SPAN_US = 3600 * 1_000_000  # a chunk spans at most an hour: a read finds every chunk of a time range by first_at
BUSY_TIMEOUT_MS = 10_000

# One value: (at in Unix microseconds, number or None, text or None, quality, detail or None)
Row = tuple[int, float | None, str | None, str, str | None]

_SCHEMA = (
    # stored: the values in the series' chunks (kept by append and fold_oldest; max_points needs no scan)
    "CREATE TABLE IF NOT EXISTS process_series (series INTEGER PRIMARY KEY, equipment TEXT NOT NULL, "
    "name TEXT NOT NULL, stored INTEGER NOT NULL DEFAULT 0, UNIQUE (equipment, name))",
    # forwarded: 1 when the chunk's values are on the forwarding target (historian_pg); NULL when not known to be
    # (kept with no target, or consolidated during an outage): re-landed and forwarded once a target is there
    "CREATE TABLE IF NOT EXISTS process_values (series INTEGER NOT NULL, first_at INTEGER NOT NULL, "
    "last_at INTEGER NOT NULL, count INTEGER NOT NULL, chunk BLOB NOT NULL, forwarded INTEGER)",
    "CREATE INDEX IF NOT EXISTS process_values_by_series ON process_values (series, first_at)",
    # the chunks not on the target, in rowid order (a partial index: only those rows, appended at its end)
    "CREATE INDEX IF NOT EXISTS process_values_unforwarded ON process_values (forwarded) WHERE forwarded IS NULL",
    # the writer's flushes land here, in time order and without an index (a flush touches no page per series);
    # consolidate() moves them into process_values every few minutes and before any retention
    # id: the order of landing, never reused (AUTOINCREMENT): the forwarding watermark (historian_pg) counts on it
    "CREATE TABLE IF NOT EXISTS process_values_recent (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "series INTEGER NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, count INTEGER NOT NULL, "
    "chunk BLOB NOT NULL)",
    # through: the last landed id a forwarding target (historian_pg) has taken; landed chunks past the lowest
    # stay landed (not consolidated) until it has them, except those past attempted (the last id the forwarder
    # ever put in a transaction to the target, written before it sends): never sent, they may be consolidated
    # during an outage (unforwarded) and are re-landed when the target is back
    "CREATE TABLE IF NOT EXISTS process_forward (target TEXT PRIMARY KEY, through INTEGER NOT NULL, "
    "attempted INTEGER)",
    # minute: the minute's start (Unix seconds); numbers: values that were numbers (min/max/sum are over them)
    "CREATE TABLE IF NOT EXISTS process_value_minutes (series INTEGER NOT NULL, minute INTEGER NOT NULL, "
    "samples INTEGER NOT NULL, numbers INTEGER NOT NULL, bad INTEGER NOT NULL, min REAL, max REAL, "
    "sum REAL NOT NULL, PRIMARY KEY (series, minute)) WITHOUT ROWID",
)

_MERGE_MINUTE = (
    "INSERT INTO process_value_minutes (series, minute, samples, numbers, bad, min, max, sum) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (series, minute) DO UPDATE SET samples = samples + excluded.samples, "
    "numbers = numbers + excluded.numbers, bad = bad + excluded.bad, "
    "min = min(coalesce(min, excluded.min), coalesce(excluded.min, min)), "
    "max = max(coalesce(max, excluded.max), coalesce(excluded.max, max)), sum = sum + excluded.sum"
)

_COUNT = struct.Struct("<I")


def encode(rows: Sequence[Row]) -> bytes:
    """A chunk of ``rows`` (one series, in time order)."""
    n = len(rows)
    at, numbers, texts, qualities, details = zip(*rows, strict=True)  # columns, without a Python step per value
    times = np.array(at, dtype=np.int64)
    doubles = np.array(numbers, dtype=np.float64)  # None: NaN (and an extra below)
    bits = doubles.view(np.uint64)
    deltas = np.empty_like(times)
    deltas[0], deltas[1:] = times[0], np.diff(times)
    xored = np.empty_like(bits)
    xored[0], xored[1:] = bits[0], bits[1:] ^ bits[:-1]
    plain = numbers.count(None) == 0 and texts.count(None) == n and qualities.count("good") == n \
        and details.count(None) == n  # the common case: good numbers only
    extras = [] if plain else [[i, r[2], r[3], r[4], r[1] is not None] for i, r in enumerate(rows)
                               if r[1] is None or r[2] is not None or r[3] != "good" or r[4] is not None]
    payload = deltas.astype("<i8").tobytes() + xored.astype("<u8").tobytes() + (
        json.dumps(extras).encode() if extras else b"")
    return _COUNT.pack(len(rows)) + zlib.compress(payload, 6)


def decode(chunk: bytes) -> list[Row]:
    """The rows of a chunk, in time order."""
    (n,) = _COUNT.unpack_from(chunk)
    payload = zlib.decompress(chunk[_COUNT.size:])
    times = np.cumsum(np.frombuffer(payload, dtype="<i8", count=n)).tolist()
    doubles = np.bitwise_xor.accumulate(np.frombuffer(payload, dtype="<u8", count=n, offset=8 * n)) \
        .astype(np.uint64).view(np.float64).tolist()
    rows: list[Row] = list(zip(times, doubles, repeat(None), repeat("good"), repeat(None), strict=False))
    if len(payload) > 16 * n:
        for i, text, quality, detail, is_number in json.loads(payload[16 * n:]):
            rows[i] = (times[i], doubles[i] if is_number else None, text, quality, detail)
    return rows


def connect(path: str | Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection to a process-values file of this layout (made, or migrated from the first one, if needed)."""
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # the compaction writes beside the recording
    columns = {r[1] for r in db.execute("PRAGMA table_info(process_values)")}
    if "equipment" in columns:
        migrate_first_layout(db)
    elif columns and "forwarded" not in columns:  # a file from before forwarding its history: none is forwarded
        db.execute("ALTER TABLE process_values ADD COLUMN forwarded INTEGER")
    forward = {r[1] for r in db.execute("PRAGMA table_info(process_forward)")}
    if forward and "attempted" not in forward:  # unknown: nothing is consolidated unforwarded until it is written
        db.execute("ALTER TABLE process_forward ADD COLUMN attempted INTEGER")
    landed = {r[1] for r in db.execute("PRAGMA table_info(process_values_recent)")}
    if landed and "id" not in landed:
        _migrate_landing_table(db)
    for statement in _SCHEMA:
        db.execute(statement)
    return db


def _migrate_landing_table(db: sqlite3.Connection) -> None:
    """Give a landing table of a file from before forwarding its never-reused ids (in landing order)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE process_values_recent RENAME TO process_values_recent_before_ids")
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute("INSERT INTO process_values_recent (series, first_at, last_at, count, chunk) SELECT series, "
                   "first_at, last_at, count, chunk FROM process_values_recent_before_ids ORDER BY rowid")
        db.execute("DROP TABLE process_values_recent_before_ids")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def migrate_first_layout(db: sqlite3.Connection) -> int:
    """Move a file of the first layout (a row per value with its equipment and name as text) into chunks, in one
    transaction; returns the number of values moved."""
    moved = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE process_values RENAME TO process_values_first_layout")
        db.execute("DROP INDEX IF EXISTS process_values_series")
        minutes = {r[1] for r in db.execute("PRAGMA table_info(process_value_minutes)")}
        if "equipment" in minutes:
            db.execute("ALTER TABLE process_value_minutes RENAME TO process_value_minutes_first_layout")
        for statement in _SCHEMA:
            db.execute(statement)
        ids: dict[tuple[str, str], int] = {}
        pending: list[Row] = []
        current: tuple[str, str] | None = None

        def flush() -> None:
            if current is not None and pending:
                append(db, series_id(db, ids, *current), pending)

        for equipment, name, at, value, text, quality, detail in db.execute(
                "SELECT equipment, name, at, value, text, quality, detail FROM process_values_first_layout "
                "ORDER BY equipment, name, at, rowid").fetchall():
            if (equipment, name) != current:
                flush()
                current, pending = (equipment, name), []
            pending.append((round(at * 1e6), value, text, quality, detail))
            moved += 1
        flush()
        db.execute("DROP TABLE process_values_first_layout")
        if "equipment" in minutes:
            for equipment, name, *summary in db.execute(
                    "SELECT equipment, name, minute, samples, numbers, bad, min, max, sum "
                    "FROM process_value_minutes_first_layout").fetchall():
                db.execute(_MERGE_MINUTE, (series_id(db, ids, equipment, name), *summary))
            db.execute("DROP TABLE process_value_minutes_first_layout")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return moved


def series_id(db: sqlite3.Connection, known: dict[tuple[str, str], int], equipment: str, name: str) -> int:
    """The id of a series (made when new); ``known`` caches them."""
    found = known.get((equipment, name))
    if found is None:
        db.execute("INSERT OR IGNORE INTO process_series (equipment, name) VALUES (?, ?)", (equipment, name))
        found = int(db.execute("SELECT series FROM process_series WHERE equipment = ? AND name = ?",
                               (equipment, name)).fetchone()[0])
        known[(equipment, name)] = found
    return found


def append(db: sqlite3.Connection, series: int, rows: Sequence[Row], *, recent: bool = False,
           forwarded: bool = False) -> None:
    """Append ``rows`` of one series (in time order) as chunks (in the caller's transaction); ``recent``: to the
    landing table (the writer's flushes); ``forwarded``: the values are on the forwarding target already."""
    start = 0
    while start < len(rows):
        end, first = start + 1, rows[start][0]
        while end < len(rows) and end - start < CHUNK_MAX and rows[end][0] - first < CHUNK_SPAN_US:
            end += 1
        part = rows[start:end]
        if recent:
            db.execute("INSERT INTO process_values_recent (series, first_at, last_at, count, chunk) "
                       "VALUES (?, ?, ?, ?, ?)", (series, part[0][0], part[-1][0], len(part), encode(part)))
        else:
            db.execute("INSERT INTO process_values (series, first_at, last_at, count, chunk, forwarded) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       (series, part[0][0], part[-1][0], len(part), encode(part), 1 if forwarded else None))
        start = end
    if not recent:
        db.execute("UPDATE process_series SET stored = stored + ? WHERE series = ?", (len(rows), series))


def consolidate(db: sqlite3.Connection, first_series: int, last_series: int, *, min_values: int = 0,
                first_before_us: int | None = None, unforwarded: bool = False) -> int:
    """Move the landed chunks of the series ``first_series`` to ``last_series`` into ``process_values``, all of a
    series' landed values into as few chunks as they fill (in the caller's transaction); returns how many landed
    chunks were moved. Done for a group of series at a time, it bounds the values held in memory. Chunks a
    forwarding target has not taken yet stay landed, unless ``unforwarded`` (the target is unreachable: a long
    outage must not grow the unindexed landing table): then those the forwarder never sent (past ``attempted``)
    move too, as chunks of their own marked not forwarded, re-landed when the target is back
    (:func:`reland_unforwarded`). ``min_values``: only series with at least this many landed values, or whose
    oldest landed value is before ``first_before_us`` (the writer's periodic consolidation: each series' index
    page is then touched once per :data:`CHUNK_MAX` values, not once per period)."""
    through, attempted = forward_marks(db)
    limit = sys.maxsize if through is None else through
    past = sys.maxsize if not unforwarded or attempted is None else max(attempted, limit)
    movable = "(rowid <= ? OR rowid > ?)"
    series_sql = "series BETWEEN ? AND ?"
    args: list[Any] = [first_series, last_series]
    if min_values > 0:
        due = [int(r[0]) for r in db.execute(
            f"SELECT series FROM process_values_recent WHERE series BETWEEN ? AND ? AND {movable} GROUP BY series "
            "HAVING sum(count) >= ? OR min(first_at) < ?",
            (first_series, last_series, limit, past, min_values,
             -sys.maxsize if first_before_us is None else first_before_us))]
        if not due:
            return 0
        series_sql = f"series IN ({','.join('?' * len(due))})"
        args = list(due)
    found = db.execute(f"SELECT rowid, series, chunk FROM process_values_recent WHERE {series_sql} "
                       f"AND {movable} ORDER BY rowid", (*args, limit, past)).fetchall()
    if not found:
        return 0
    # compressed, decoded one series at a time (bounded memory); what the target has apart from what it has not
    by_series: dict[tuple[int, bool], list[bytes]] = {}
    for rowid, series, chunk in found:
        by_series.setdefault((series, through is not None and rowid <= through), []).append(chunk)
    db.executemany("DELETE FROM process_values_recent WHERE rowid = ?", [(r[0],) for r in found])
    for (series, forwarded), chunks in by_series.items():
        rows = [row for chunk in chunks for row in decode(chunk)]
        rows.sort(key=lambda r: r[0])
        append(db, series, rows, forwarded=forwarded)
    return len(found)


def forwarded_through(db: sqlite3.Connection) -> int | None:
    """The last landed id every forwarding target has taken (None: no target)."""
    return forward_marks(db)[0]


def forward_marks(db: sqlite3.Connection) -> tuple[int | None, int | None]:
    """The forwarding target's watermark (None: no target) and the last landed id it was ever sent (None: not
    known)."""
    found = db.execute("SELECT min(through), max(attempted), count(*) FROM process_forward").fetchone()
    if not found[2]:
        return None, None
    return int(found[0]), None if found[1] is None else int(found[1])


def reland_unforwarded(db: sqlite3.Connection, at_most: int) -> int:
    """Move up to ``at_most`` of the oldest consolidated chunks not on the forwarding target back into the landing
    table (in the caller's transaction), past every landed id: the forwarder sends them exactly once like any
    landed chunk, and consolidation moves them back, forwarded. Returns how many chunks moved."""
    found = db.execute("SELECT rowid, series, first_at, last_at, count, chunk FROM process_values "
                       "INDEXED BY process_values_unforwarded WHERE forwarded IS NULL ORDER BY rowid LIMIT ?",
                       (at_most,)).fetchall()
    if not found:
        return 0
    db.executemany("INSERT INTO process_values_recent (series, first_at, last_at, count, chunk) VALUES (?, ?, ?, ?, ?)",
                   [r[1:] for r in found])
    db.executemany("DELETE FROM process_values WHERE rowid = ?", [(r[0],) for r in found])
    stored: dict[int, int] = {}
    for r in found:
        stored[r[1]] = stored.get(r[1], 0) + int(r[4])
    db.executemany("UPDATE process_series SET stored = stored - ? WHERE series = ?",
                   [(n, series) for series, n in stored.items()])
    return len(found)


def unforwarded_values(db: sqlite3.Connection) -> int:
    """Consolidated values not on the forwarding target (re-landed and forwarded when it is reachable)."""
    return int(db.execute("SELECT coalesce(sum(count), 0) FROM process_values INDEXED BY process_values_unforwarded "
                          "WHERE forwarded IS NULL").fetchone()[0])


def recent_rows(db: sqlite3.Connection, series: set[int] | None, since_us: int | None,
                until_us: int | None) -> dict[int, list[Row]]:
    """The landed values of ``series`` (None: all) between two times, per series (one scan of the table)."""
    sql, args = "SELECT series, first_at, last_at, chunk FROM process_values_recent", []
    terms = []
    if since_us is not None:
        terms.append("last_at >= ?")
        args.append(since_us)
    if until_us is not None:
        terms.append("first_at <= ?")
        args.append(until_us)
    if terms:
        sql += " WHERE " + " AND ".join(terms)
    found: dict[int, list[Row]] = {}
    for one, _first, _last, chunk in db.execute(sql + " ORDER BY rowid", args):
        if series is None or one in series:
            found.setdefault(one, []).extend(
                r for r in decode(chunk) if (since_us is None or r[0] >= since_us)
                and (until_us is None or r[0] <= until_us))
    return found


def _chunks_between(series: int, since_us: int | None, until_us: int | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of the chunks of ``series`` that may hold values between two times."""
    sql = " WHERE series = ?"
    args: list[Any] = [series]
    if since_us is not None:
        sql += " AND first_at > ? AND last_at >= ?"
        args += [since_us - CHUNK_SPAN_US, since_us]
    if until_us is not None:
        sql += " AND first_at <= ?"
        args.append(until_us)
    return sql, args


def read(db: sqlite3.Connection, series: int, since_us: int | None, until_us: int | None,
         limit: int, landed: dict[int, list[Row]] | None = None) -> list[Row]:
    """Up to ``limit`` of the newest values of ``series`` between two times, oldest first. ``landed``: the
    landed values of :func:`recent_rows` when the caller read them already (for many series)."""
    if landed is None:
        landed = recent_rows(db, {series}, since_us, until_us)
    newest = landed.get(series, [])
    where, args = _chunks_between(series, since_us, until_us)
    sql = "SELECT first_at, last_at, chunk FROM process_values" + where
    found: list[list[Row]] = []
    total = len(newest)
    in_order = not newest
    previous_first: int | None = None
    # newest chunk first, until ``limit`` values are read
    for first, last, chunk in db.execute(sql + " ORDER BY first_at DESC, rowid DESC", args):
        rows = decode(chunk)
        if (since_us is not None and first < since_us) or (until_us is not None and last > until_us):
            rows = [r for r in rows if (since_us is None or r[0] >= since_us) and (until_us is None or r[0] <= until_us)]
        if previous_first is not None and last > previous_first:
            in_order = False  # chunks overlap in time (a late sample): sort what was read
        previous_first = first
        found.append(rows)
        total += len(rows)
        if total >= limit:
            break
    merged = [r for rows in reversed(found) for r in rows] + newest
    if not in_order:
        merged.sort(key=lambda r: r[0])  # stable: equal times keep the order they were kept in
    return merged[-limit:] if limit else []


@dataclass
class Columns:
    """One series' values as columns (the fast read of a long range: no Python object per value): ``at`` (Unix
    microseconds, int64) and ``number`` (float64, NaN where the value is not a number), in time order; ``other``
    holds, by position, the few values that are not a good number without detail: (number or None, text, quality,
    detail)."""

    at: np.ndarray[Any, np.dtype[np.int64]]
    number: np.ndarray[Any, np.dtype[np.float64]]
    other: dict[int, tuple[float | None, str | None, str, str | None]]

    def __len__(self) -> int:
        return len(self.at)

    def rows(self) -> list[Row]:
        rows: list[Row] = list(zip(self.at.tolist(), self.number.tolist(), repeat(None), repeat("good"),
                                   repeat(None), strict=False))
        for i, (number, text, quality, detail) in self.other.items():
            rows[i] = (rows[i][0], number, text, quality, detail)
        return rows


def decode_columns(chunk: bytes) -> Columns:
    """A chunk as :class:`Columns`."""
    (n,) = _COUNT.unpack_from(chunk)
    payload = zlib.decompress(chunk[_COUNT.size:])
    times = np.cumsum(np.frombuffer(payload, dtype="<i8", count=n), dtype=np.int64)
    doubles = np.bitwise_xor.accumulate(np.frombuffer(payload, dtype="<u8", count=n, offset=8 * n)) \
        .astype(np.uint64).view(np.float64)
    other: dict[int, tuple[float | None, str | None, str, str | None]] = {}
    if len(payload) > 16 * n:
        for i, text, quality, detail, is_number in json.loads(payload[16 * n:]):
            other[i] = (float(doubles[i]) if is_number else None, text, quality, detail)
    return Columns(times, doubles, other)


def join_columns(parts: Sequence[Columns], since_us: int | None, until_us: int | None) -> Columns:
    """``parts`` as one :class:`Columns` between two times, in time order (stable: equal times keep their order)."""
    if not parts:
        return Columns(np.empty(0, np.int64), np.empty(0, np.float64), {})
    at = np.concatenate([p.at for p in parts])
    number = np.concatenate([p.number for p in parts])
    other: dict[int, tuple[float | None, str | None, str, str | None]] = {}
    offset = 0
    for p in parts:
        other.update({offset + i: v for i, v in p.other.items()})
        offset += len(p)
    if len(at) > 1 and not bool(np.all(at[1:] >= at[:-1])):  # chunks overlapping in time (a late value)
        order = np.argsort(at, kind="stable")
        at, number = at[order], number[order]
        if other:
            position = np.empty(len(order), dtype=np.int64)
            position[order] = np.arange(len(order))
            other = {int(position[i]): v for i, v in other.items()}
    low = 0 if since_us is None else int(np.searchsorted(at, since_us, "left"))
    high = len(at) if until_us is None else int(np.searchsorted(at, until_us, "right"))
    return Columns(at[low:high], number[low:high], {i - low: v for i, v in other.items() if low <= i < high})


def read_columns(db: sqlite3.Connection, series: int, since_us: int | None, until_us: int | None) -> Columns:
    """Every value of ``series`` between two times (landed ones included), as :class:`Columns`."""
    where, args = _chunks_between(series, since_us, until_us)
    sql = "SELECT chunk FROM process_values" + where
    parts = [decode_columns(chunk) for (chunk,) in db.execute(sql + " ORDER BY first_at, rowid", args)]
    landed = "SELECT chunk FROM process_values_recent WHERE series = ?"
    landed_args: list[Any] = [series]
    if since_us is not None:
        landed += " AND last_at >= ?"
        landed_args.append(since_us)
    if until_us is not None:
        landed += " AND first_at <= ?"
        landed_args.append(until_us)
    parts += [decode_columns(chunk) for (chunk,) in db.execute(landed + " ORDER BY id", landed_args)]
    return join_columns(parts, since_us, until_us)


def last_rows(db: sqlite3.Connection) -> dict[int, Row]:
    """The newest value of every series."""
    newest: dict[int, Row] = {}
    for series, chunk in db.execute(
            "SELECT s.series, (SELECT p.chunk FROM process_values p WHERE p.series = s.series "
            "ORDER BY p.first_at DESC, p.rowid DESC LIMIT 1) FROM process_series s"):
        if chunk is None:
            continue
        newest[series] = decode(chunk)[-1]
    for series, rows in recent_rows(db, None, None, None).items():
        last = max(rows, key=lambda r: r[0])
        if series not in newest or last[0] >= newest[series][0]:
            newest[series] = last
    return newest


@dataclass
class _Minute:
    samples: int = 0
    numbers: int = 0
    bad: int = 0
    low: float | None = None
    high: float | None = None
    total: float = 0.0


def minute_summaries(rows: Iterable[Row]) -> dict[int, tuple[int, int, int, float | None, float | None, float]]:
    """Per minute (its start, Unix seconds) of ``rows``: samples, numbers, bad, min, max, sum."""
    minutes: dict[int, _Minute] = {}
    for at, number, _text, quality, _detail in rows:
        m = minutes.setdefault(at // 60_000_000 * 60, _Minute())
        m.samples += 1
        m.bad += quality != "good"
        if number is not None:
            m.numbers += 1
            m.total += number
            m.low = number if m.low is None else min(m.low, number)
            m.high = number if m.high is None else max(m.high, number)
    return {minute: (m.samples, m.numbers, m.bad, m.low, m.high, m.total) for minute, m in minutes.items()}


def summarise(db: sqlite3.Connection, series: int, rows: Iterable[Row]) -> None:
    """Fold ``rows`` of ``series`` into its per-minute summaries (in the caller's transaction)."""
    db.executemany(_MERGE_MINUTE, [(series, minute, *summary) for minute, summary in minute_summaries(rows).items()])


def fold_oldest(db: sqlite3.Connection, series: int, *, before_us: int | None = None, at_most: int | None = None) -> int:
    """Fold the oldest values of ``series`` (older than ``before_us``, at most ``at_most`` of them) into minutes
    and delete them, in the caller's transaction; returns how many were folded. With a forwarding target, chunks
    it does not have yet are left alone (as landed ones are): retention waits for them to be forwarded."""
    folded = 0
    sql = "SELECT rowid, chunk, forwarded FROM process_values WHERE series = ?"
    args: list[Any] = [series]
    if forwarded_through(db) is not None:
        sql += " AND forwarded IS NOT NULL"
    if before_us is not None:
        sql += " AND first_at < ?"
        args.append(before_us)
    for rowid, chunk, forwarded in db.execute(sql + " ORDER BY first_at, rowid", args).fetchall():
        if at_most is not None and folded >= at_most:
            break
        rows = decode(chunk)
        rows.sort(key=lambda r: r[0])
        take = len(rows) if before_us is None else sum(1 for r in rows if r[0] < before_us)
        if at_most is not None:
            take = min(take, at_most - folded)
        if take == 0:
            continue
        summarise(db, series, rows[:take])
        db.execute("DELETE FROM process_values WHERE rowid = ?", (rowid,))
        db.execute("UPDATE process_series SET stored = stored - ? WHERE series = ?", (len(rows), series))
        if take < len(rows):
            append(db, series, rows[take:], forwarded=bool(forwarded))
        folded += take
    return folded


def count_values(db: sqlite3.Connection, series: int) -> int:
    found = db.execute("SELECT stored FROM process_series WHERE series = ?", (series,)).fetchone()
    return int(found[0]) if found is not None else 0
