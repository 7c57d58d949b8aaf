"""Process values as time series: machines' temperatures, pressures, torques ... kept for quality, with deadband and
retention, in a SQLite file of the node's data folder.

A connector sink: samples of tags that a machine's ``process_values`` rules name are kept when they leave the
rule's deadband around the last kept value of their series (absolute, or percent of that value), or when their
quality changes (a broken sensor's bad values are kept too: quality needs to know the gap).

Retention, in two steps. Raw values leave the ``process_values`` table when they are older than the rule's
``retention_s`` or beyond its ``max_points`` (checked every 30 s while recording), or older than the site's
``retention.samples_raw_age_days`` (:func:`compact_samples`, run by the node's retention timer and by
``takt store compact``); whatever leaves is first folded into ``process_value_minutes``: per series and minute
the number of values, how many were numbers and how many not of good quality, and min, max and sum (the
average is sum / numbers). Minute rows older than ``retention.samples_aggregate_age_days`` are dropped. The
compaction works in batches of its own short transactions on its own connection, so the recording connection
waits at most one batch (busy timeout, never "database is locked").

This is telemetry, not a record of what happened on the floor: it does not go through the journal (a 10 Hz
temperature would flood it); quality reads it through ``GET /api/v1/equipment/{equipment}/process-values``.
"""
from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Sample
from connectors.config import MachineSignals, ProcessValueRule

_PRUNE_EVERY_S = 30.0
_BUSY_TIMEOUT_MS = 10_000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS process_values (equipment TEXT NOT NULL, name TEXT NOT NULL, at REAL NOT NULL, "
    "value REAL, text TEXT, quality TEXT NOT NULL, detail TEXT)",
    "CREATE INDEX IF NOT EXISTS process_values_series ON process_values (equipment, name, at)",
    # minute: the minute's start (Unix seconds); numbers: values that were numbers (min/max/sum are over them)
    "CREATE TABLE IF NOT EXISTS process_value_minutes (equipment TEXT NOT NULL, name TEXT NOT NULL, "
    "minute INTEGER NOT NULL, samples INTEGER NOT NULL, numbers INTEGER NOT NULL, bad INTEGER NOT NULL, "
    "min REAL, max REAL, sum REAL NOT NULL, PRIMARY KEY (equipment, name, minute)) WITHOUT ROWID",
)

# Fold the raw values a WHERE clause picks into their minutes (merging with minutes folded before), then delete them.
_FOLD = (
    "INSERT INTO process_value_minutes (equipment, name, minute, samples, numbers, bad, min, max, sum) "
    "SELECT equipment, name, CAST(at / 60 AS INTEGER) * 60, count(*), count(value), "
    "sum(quality != 'good'), min(value), max(value), total(value) FROM process_values WHERE {where} "
    "GROUP BY equipment, name, CAST(at / 60 AS INTEGER) "
    "ON CONFLICT (equipment, name, minute) DO UPDATE SET samples = samples + excluded.samples, "
    "numbers = numbers + excluded.numbers, bad = bad + excluded.bad, "
    "min = min(coalesce(min, excluded.min), coalesce(excluded.min, min)), "
    "max = max(coalesce(max, excluded.max), coalesce(excluded.max, max)), sum = sum + excluded.sum"
)


def _open(path: str | Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")  # the compaction writes beside the recording
    for statement in _SCHEMA:
        db.execute(statement)
    return db


def _fold(db: sqlite3.Connection, where: str, args: Sequence[Any]) -> int:
    """Fold the raw values ``where`` picks into minutes and delete them (in the caller's transaction)."""
    db.execute(_FOLD.format(where=where), args)
    return db.execute(f"DELETE FROM process_values WHERE {where}", args).rowcount


@dataclass(frozen=True)
class SampleCompaction:
    folded: int  # raw values folded into minutes
    minutes_dropped: int  # minute rows past their age
    batches: int
    seconds: float


def compact_samples(db: sqlite3.Connection, raw_older_than_s: float, minutes_older_than_s: float, *,
                    batch: int = 1000, pause_s: float = 0.0, now: float | None = None,
                    lock: Any = None) -> SampleCompaction:
    """Fold raw values older than ``raw_older_than_s`` into minutes and drop minutes older than
    ``minutes_older_than_s``, ``batch`` values (or minute rows) per transaction, ``pause_s`` between them.
    ``lock``: held around each batch when ``db`` is the recording connection itself (an in-memory log)."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    raw_cut, minute_cut = now - raw_older_than_s, now - minutes_older_than_s
    guard = lock if lock is not None else contextlib.nullcontext()
    folded = dropped = batches = 0
    with guard:
        series = db.execute("SELECT DISTINCT equipment, name FROM process_values").fetchall()
    for equipment, name in series:
        while True:
            with guard:
                # the at of the batch-th oldest value past the cut: this batch folds up to it (ties included)
                row = db.execute("SELECT at FROM process_values WHERE equipment = ? AND name = ? AND at < ? "
                                 "ORDER BY at LIMIT 1 OFFSET ?", (equipment, name, raw_cut, batch - 1)).fetchone()
                bound = raw_cut if row is None else min(raw_cut, math.nextafter(row[0], math.inf))
                db.execute("BEGIN IMMEDIATE")
                try:
                    n = _fold(db, "equipment = ? AND name = ? AND at < ?", (equipment, name, bound))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            folded += n
            batches += 1
            if row is None or n == 0:
                break
            if pause_s:
                time.sleep(pause_s)
    while True:
        with guard:
            n = db.execute("DELETE FROM process_value_minutes WHERE (equipment, name, minute) IN (SELECT equipment, "
                           "name, minute FROM process_value_minutes WHERE minute < ? LIMIT ?)",
                           (minute_cut, batch)).rowcount
        dropped += n
        batches += 1
        if n < batch:
            break
        if pause_s:
            time.sleep(pause_s)
    return SampleCompaction(folded, dropped, batches, time.perf_counter() - started)


def compact_sample_file(path: str | Path, raw_older_than_s: float, minutes_older_than_s: float, *,
                        batch: int = 1000, pause_s: float = 0.0, now: float | None = None) -> SampleCompaction:
    """:func:`compact_samples` on a process-values file, on a connection of its own (``takt store compact``
    while the node records into it, or the node's retention timer)."""
    db = _open(path)
    try:
        return compact_samples(db, raw_older_than_s, minutes_older_than_s, batch=batch, pause_s=pause_s, now=now)
    finally:
        db.close()


def _filter(equipment: str, name: str | None, since: datetime | None, until: datetime | None,
            time_column: str) -> tuple[list[str], list[Any]]:
    """The WHERE terms and arguments of a read of one machine's values (one series or all, between two times)."""
    where = ["equipment = ?"]
    args: list[Any] = [equipment]
    if name is not None:
        where.append("name = ?")
        args.append(name)
    if since is not None:
        where.append(f"{time_column} >= ?")
        args.append(since.timestamp())
    if until is not None:
        where.append(f"{time_column} <= ?")
        args.append(until.timestamp())
    return where, args


class ProcessValueLog:
    """Keeps the process values of ``machines`` in ``path`` (``:memory:`` for a throwaway log)."""

    def __init__(self, path: str | Path, machines: Sequence[MachineSignals]) -> None:
        self.rules: dict[tuple[str, str], tuple[str, ProcessValueRule]] = {}  # (device, tag) → (equipment, rule)
        for m in machines:
            for rule in m.process_values:
                self.rules[(m.device, rule.tag)] = (m.equipment, rule)
        self._lock = threading.Lock()  # written from the node's loop, read from the API's worker threads
        self.path = str(path)
        self._db = _open(path)
        self._last: dict[tuple[str, str], tuple[Any, str]] = {}  # series → (last kept value, quality)
        for equipment, name, value, text, quality in self._db.execute(
                "SELECT equipment, name, value, text, quality FROM process_values p WHERE at = "
                "(SELECT max(at) FROM process_values q WHERE q.equipment = p.equipment AND q.name = p.name)"):
            self._last[(equipment, name)] = (value if text is None else text, quality)
        self.latest: dict[tuple[str, str], tuple[Any, str, datetime]] = {}  # series → newest value, quality, time
        self.kept = 0
        self.suppressed = 0  # inside the deadband
        self.pruned = 0
        self._pruned_at = time.monotonic()

    def __bool__(self) -> bool:
        return bool(self.rules)

    async def __call__(self, batch: Sequence[Sample]) -> None:
        self.keep(batch)

    def keep(self, batch: Sequence[Sample]) -> int:
        """Keep the samples of ``batch`` that leave their deadband; returns how many were kept."""
        rows: list[tuple[Any, ...]] = []
        for s in batch:
            found = self.rules.get((s.device, s.tag))
            if found is None:
                continue
            equipment, rule = found
            series = (equipment, rule.series)
            value = s.value if s.quality != "bad" else None
            self.latest[series] = (value, s.quality, s.source_time)
            last = self._last.get(series)
            if last is not None and last[1] == s.quality and not _leaves_deadband(last[0], value, rule):
                self.suppressed += 1
                continue
            self._last[series] = (value, s.quality)
            number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            text = None if number is not None or value is None else str(value)
            rows.append((equipment, rule.series, s.source_time.timestamp(), number, text, s.quality, s.detail))
        if rows:
            with self._lock:  # one transaction per batch (not one per value: 50 µs each)
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("INSERT INTO process_values VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            self.kept += len(rows)
        if time.monotonic() - self._pruned_at >= _PRUNE_EVERY_S:
            self.prune()
        return len(rows)

    def prune(self, now: float | None = None) -> int:
        """Fold values past each series' retention and beyond its most recent ``max_points`` into minutes."""
        now = time.time() if now is None else now
        dropped = 0
        with self._lock:
            for equipment, rule in self.rules.values():
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    dropped += _fold(self._db, "equipment = ? AND name = ? AND at < ?",
                                     (equipment, rule.series, now - rule.retention_s))
                    dropped += _fold(self._db, "rowid IN (SELECT rowid FROM process_values WHERE equipment = ? "
                                     "AND name = ? ORDER BY at DESC LIMIT -1 OFFSET ?)",
                                     (equipment, rule.series, rule.max_points))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        self.pruned += dropped
        self._pruned_at = time.monotonic()
        return dropped

    def compact(self, raw_older_than_s: float, minutes_older_than_s: float, *, batch: int = 1000,
                pause_s: float = 0.0, now: float | None = None) -> SampleCompaction:
        """:func:`compact_samples` on this log: on a connection of its own (a file), so recording goes on."""
        if self.path == ":memory:":
            return compact_samples(self._db, raw_older_than_s, minutes_older_than_s, batch=batch, pause_s=pause_s,
                                   now=now, lock=self._lock)
        return compact_sample_file(self.path, raw_older_than_s, minutes_older_than_s, batch=batch,
                                   pause_s=pause_s, now=now)

    def minutes(self, equipment: str, name: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The per-minute summaries of ``equipment``'s folded values, oldest first, at most ``limit`` (the newest)."""
        where, args = _filter(equipment, name, since, until, "minute")
        sql = (f"SELECT name, minute, samples, numbers, bad, min, max, sum FROM process_value_minutes "
               f"WHERE {' AND '.join(where)} ORDER BY minute DESC, name DESC LIMIT ?")
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [{"name": n, "minute": datetime.fromtimestamp(minute, UTC).isoformat().replace("+00:00", "Z"),
                 "samples": samples, "numbers": numbers, "bad": bad, "min": low, "max": high,
                 "avg": total / numbers if numbers else None}
                for n, minute, samples, numbers, bad, low, high, total in reversed(rows)]

    def series(self, equipment: str) -> list[str]:
        """The process values kept for ``equipment`` (configured ones)."""
        return sorted({rule.series for eq, rule in self.rules.values() if eq == equipment})

    def query(self, equipment: str, name: str | None = None, since: datetime | None = None,
              until: datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Values of ``equipment`` (one series, or all), oldest first, at most ``limit`` (the newest ones)."""
        where, args = _filter(equipment, name, since, until, "at")
        sql = (f"SELECT name, at, value, text, quality, detail FROM process_values WHERE {' AND '.join(where)} "
               "ORDER BY at DESC, rowid DESC LIMIT ?")
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [{"name": n, "at": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
                 "value": value if text is None else text, "quality": quality, "detail": detail}
                for n, at, value, text, quality, detail in reversed(rows)]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _leaves_deadband(last: Any, value: Any, rule: ProcessValueRule) -> bool:
    if last is None or value is None:
        return last is not value
    if isinstance(value, bool) or isinstance(last, bool) or not isinstance(value, int | float) \
            or not isinstance(last, int | float):
        return bool(value != last)
    change = abs(float(value) - float(last))
    if math.isnan(change):
        return True
    if rule.deadband_percent is not None:
        return change > abs(float(last)) * rule.deadband_percent / 100
    return change > rule.deadband
