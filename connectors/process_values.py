"""Process values as time series: machines' temperatures, pressures, torques ... kept for quality, with deadband and
retention, in a SQLite file of the node's data folder.

A connector sink: samples of tags that a machine's ``process_values`` rules name are kept when they leave the
rule's deadband around the last kept value of their series (absolute, or percent of that value), or when their
quality changes (a broken sensor's bad values are kept too: quality needs to know the gap). Values older than the
rule's ``retention_s``, and the oldest beyond its ``max_points``, are dropped from time to time.

This is telemetry, not a record of what happened on the floor: it does not go through the journal (a 10 Hz
temperature would flood it); quality reads it through ``GET /api/v1/equipment/{equipment}/process-values``.
"""
from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Sample
from connectors.config import MachineSignals, ProcessValueRule

_PRUNE_EVERY_S = 30.0


class ProcessValueLog:
    """Keeps the process values of ``machines`` in ``path`` (``:memory:`` for a throwaway log)."""

    def __init__(self, path: str | Path, machines: Sequence[MachineSignals]) -> None:
        self.rules: dict[tuple[str, str], tuple[str, ProcessValueRule]] = {}  # (device, tag) → (equipment, rule)
        for m in machines:
            for rule in m.process_values:
                self.rules[(m.device, rule.tag)] = (m.equipment, rule)
        self._lock = threading.Lock()  # written from the node's loop, read from the API's worker threads
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS process_values (equipment TEXT NOT NULL, name TEXT NOT NULL, "
                         "at REAL NOT NULL, value REAL, text TEXT, quality TEXT NOT NULL, detail TEXT)")
        self._db.execute("CREATE INDEX IF NOT EXISTS process_values_series ON process_values (equipment, name, at)")
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
            with self._lock:
                self._db.executemany("INSERT INTO process_values VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self.kept += len(rows)
        if time.monotonic() - self._pruned_at >= _PRUNE_EVERY_S:
            self.prune()
        return len(rows)

    def prune(self, now: float | None = None) -> int:
        """Drop values past each series' retention and beyond its most recent ``max_points``."""
        now = time.time() if now is None else now
        dropped = 0
        with self._lock:
            for equipment, rule in self.rules.values():
                cur = self._db.execute("DELETE FROM process_values WHERE equipment = ? AND name = ? AND at < ?",
                                       (equipment, rule.series, now - rule.retention_s))
                dropped += cur.rowcount
                cur = self._db.execute(
                    "DELETE FROM process_values WHERE rowid IN (SELECT rowid FROM process_values WHERE equipment = ? "
                    "AND name = ? ORDER BY at DESC LIMIT -1 OFFSET ?)", (equipment, rule.series, rule.max_points))
                dropped += cur.rowcount
        self.pruned += dropped
        self._pruned_at = time.monotonic()
        return dropped

    def series(self, equipment: str) -> list[str]:
        """The process values kept for ``equipment`` (configured ones)."""
        return sorted({rule.series for eq, rule in self.rules.values() if eq == equipment})

    def query(self, equipment: str, name: str | None = None, since: datetime | None = None,
              until: datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Values of ``equipment`` (one series, or all), oldest first, at most ``limit`` (the newest ones)."""
        where = ["equipment = ?"]
        args: list[Any] = [equipment]
        if name is not None:
            where.append("name = ?")
            args.append(name)
        if since is not None:
            where.append("at >= ?")
            args.append(since.timestamp())
        if until is not None:
            where.append("at <= ?")
            args.append(until.timestamp())
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
