"""Process values as time series: machines' temperatures, pressures, torques ... kept for quality, with deadband and
retention, by the node's historian into a SQLite file of the node's data folder.

A connector sink: samples of tags that a machine's ``process_values`` rules name are kept when they leave the
rule's deadband around the last kept value of their series (absolute, or percent of that value), or when their
quality changes (a broken sensor's bad values are kept too: quality needs to know the gap).

Ingest never waits on the disk. The receive paths (OPC UA, Modbus, MQTT ... through ``Connectivity``) call
:meth:`ProcessValueLog.offer`, which applies the deadband and hands the kept values to a bounded queue; the
historian's own writer thread, on its own connection, drains it and writes one compressed chunk per series every
``flush_s`` into a landing table, and every ``consolidate_s`` (and before retention) consolidates the landed chunks
into the series' indexed chunks (:mod:`connectors.historian_store`: the layout and why). Reads include the values
still on their way (read your writes). When the writer falls behind, the queue's depth
and the age of its oldest value show on ``/health`` and ``/metrics``, and the site's ``overflow`` policy decides:
``block`` makes the source wait for room (an OPC UA server then overwrites its queue-1 items, a Modbus poll comes
late), ``drop`` first drops values that moved less than ``overflow_deadband_percent`` once the queue is three
quarters full, then, when it is full, every new value; each dropped value is counted, never silent.
Durability: ``synchronous`` FULL makes every writer commit survive a power cut; NORMAL (the default) may lose the
last commits on a power cut (never on a crash of the node alone). Values still in the queue or in the writer's
open chunks (at most ``flush_s`` old) are lost on a kill -9 or a power cut; a normal stop writes them all.
:meth:`ProcessValueLog.keep` is the same path without the queue (a caller's own thread, tests, benchmarks).

Retention, in two steps. Raw values leave the ``process_values`` chunks when they are older than the rule's
``retention_s`` or beyond its ``max_points`` (checked every 30 s by the writer), or older than the site's
``retention.samples_raw_age_days`` (:func:`compact_samples`, run by the node's retention timer and by
``takt store compact``); whatever leaves is first folded into ``process_value_minutes``: per series and minute
the number of values, how many were numbers and how many not of good quality, and min, max and sum (the
average is sum / numbers). Minute rows older than ``retention.samples_aggregate_age_days`` are dropped. The
compaction works in batches of its own short transactions on its own connection, so the writer waits at most
one batch (busy timeout, never "database is locked").

This is telemetry, not a record of what happened on the floor: it does not go through the journal (a 10 Hz
temperature would flood it); quality reads it through ``GET /api/v1/equipment/{equipment}/process-values``.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import math
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

from connectors import historian_store as hs
from connectors.base import Sample
from connectors.config import MachineSignals, ProcessValueRule

log = logging.getLogger("takt.historian")

_PRUNE_EVERY_S = 30.0  # keep(): retention checked this often
_MIN_GAP_S = 0.002  # the writer: landed chunks consolidated (and retention checked) this often
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Series = tuple[str, str]  # (equipment, process value name)


@dataclass(frozen=True)
class HistorianSettings:
    """How the historian writes (the site file's ``historian:`` section, ``takt.config.HistorianSection``)."""

    synchronous: Literal["FULL", "NORMAL"] = "NORMAL"
    queue_values: int = 400_000
    overflow: Literal["block", "drop"] = "block"
    overflow_deadband_percent: float = 1.0
    flush_s: float = 10.0
    folder: Path | None = None  # of process-values.sqlite (None: the node's data folder)
    postgresql_url_env: str | None = None
    postgresql_url_file: Path | None = None
    postgresql_schema: str = "takt_historian"
    forward_batch_chunks: int = 2000
    consolidate_s: float = 120.0  # landed chunks consolidated (and retention checked) this often
    node: str = field(default="takt-edge")  # this node's id: its series and watermark on the PostgreSQL target

    def postgresql_url(self) -> str | None:
        """The PostgreSQL target's URL from its environment variable or file (None: no target); never logged."""
        if self.postgresql_url_env:
            url = os.environ.get(self.postgresql_url_env)
            if not url:
                raise ValueError(f"historian.postgresql_url_env: the environment variable {self.postgresql_url_env} "
                                 "is not set")
            return url
        if self.postgresql_url_file is not None:
            try:
                return self.postgresql_url_file.read_text().strip()
            except OSError as exc:
                raise ValueError(f"historian.postgresql_url_file: {exc.strerror}") from None
        return None


@dataclass(frozen=True)
class SampleCompaction:
    folded: int  # raw values folded into minutes
    minutes_dropped: int  # minute rows past their age
    batches: int
    seconds: float


def _transaction(db: sqlite3.Connection) -> Any:
    @contextlib.contextmanager
    def run() -> Any:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT (a full disk) may have rolled back already
                db.execute("ROLLBACK")
            raise
    return run()


def disk_full(exc: BaseException) -> bool:
    """Whether a write failed for want of room (a full disk or volume, a quota, a file size limit)."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@contextlib.contextmanager
def _snapshot(db: sqlite3.Connection) -> Any:
    """One read transaction: the landed and the consolidated chunks as of one moment (WAL snapshot)."""
    db.execute("BEGIN")
    try:
        yield db
    finally:
        db.execute("COMMIT")


def _us(when: datetime | float) -> int:
    return round((when.timestamp() if isinstance(when, datetime) else when) * 1_000_000)


def _iso(at_us: int) -> str:
    return (_EPOCH + timedelta(microseconds=at_us)).isoformat().replace("+00:00", "Z")


def compact_samples(db: sqlite3.Connection, raw_older_than_s: float, minutes_older_than_s: float, *,
                    batch: int = 1000, pause_s: float = 0.0, now: float | None = None,
                    lock: Any = None) -> SampleCompaction:
    """Fold raw values older than ``raw_older_than_s`` into minutes and drop minutes older than
    ``minutes_older_than_s``, ``batch`` values (or minute rows) per transaction, ``pause_s`` between them.
    ``lock``: held around each batch when ``db`` is the recording connection itself (an in-memory log)."""
    started = time.perf_counter()
    _consolidate(db, lock)
    now = time.time() if now is None else now
    raw_cut, minute_cut = _us(now - raw_older_than_s), now - minutes_older_than_s
    guard = lock if lock is not None else contextlib.nullcontext()
    folded = dropped = batches = 0
    with guard:
        series = [r[0] for r in db.execute("SELECT series FROM process_series ORDER BY series")]
    for one in series:
        while True:
            with guard, _transaction(db):
                n = hs.fold_oldest(db, one, before_us=raw_cut, at_most=batch)
            folded += n
            batches += 1
            if n < batch:
                break
            # a gap between the batches even without a pause: a writer waiting in SQLite's busy handler (which
            # naps 1-100 ms between tries) otherwise rarely finds the file free between two transactions
            time.sleep(pause_s or _MIN_GAP_S)
    while True:
        with guard:
            n = db.execute("DELETE FROM process_value_minutes WHERE (series, minute) IN (SELECT series, minute "
                           "FROM process_value_minutes WHERE minute < ? LIMIT ?)", (minute_cut, batch)).rowcount
        dropped += n
        batches += 1
        if n < batch:
            break
        if pause_s:
            time.sleep(pause_s)
    return SampleCompaction(folded, dropped, batches, time.perf_counter() - started)


def _consolidate(db: sqlite3.Connection, lock: Any = None, *, full_chunks: bool = False,
                 unforwarded: bool = False) -> None:
    """Move every landed chunk into the series' chunks, one transaction per group of series. ``full_chunks``:
    only series with a chunk's worth landed (:data:`historian_store.CHUNK_MAX` values) or landed values older
    than a chunk's span (the writer's periodic consolidation); ``unforwarded``: also those never sent to an
    unreachable forwarding target (:func:`historian_store.consolidate`)."""
    guard = lock if lock is not None else contextlib.nullcontext()
    with guard:
        found = db.execute("SELECT min(series), max(series) FROM process_values_recent").fetchone()
    if found[0] is None:
        return
    # One transaction: a landed page holds chunks of many series, and each transaction that deletes some of them
    # writes the page again (WAL); one series' values are decoded at a time, so memory stays bounded.
    with guard, _transaction(db):
        if full_chunks:
            hs.consolidate(db, found[0], found[1], min_values=hs.CHUNK_MAX,
                           first_before_us=_us(time.time()) - hs.CHUNK_SPAN_US, unforwarded=unforwarded)
        else:
            hs.consolidate(db, found[0], found[1], unforwarded=unforwarded)


def compact_sample_file(path: str | Path, raw_older_than_s: float, minutes_older_than_s: float, *,
                        batch: int = 1000, pause_s: float = 0.0, now: float | None = None) -> SampleCompaction:
    """:func:`compact_samples` on a process-values file, on a connection of its own (``takt store compact``
    while the node records into it, or the node's retention timer)."""
    db = hs.connect(path)
    try:
        return compact_samples(db, raw_older_than_s, minutes_older_than_s, batch=batch, pause_s=pause_s, now=now)
    finally:
        db.close()


class ProcessValueLog:
    """Keeps the process values of ``machines`` in ``path`` (``:memory:`` for a throwaway log).

    ``offer`` (the node's connectors) queues for the writer thread, which ``start`` starts and ``stop`` stops
    after writing everything queued; ``keep`` writes at once in the caller's thread."""

    def __init__(self, path: str | Path, machines: Sequence[MachineSignals],
                 settings: HistorianSettings | None = None) -> None:
        self.settings = settings or HistorianSettings()
        self.rules: dict[tuple[str, str], tuple[str, ProcessValueRule]] = {}  # (device, tag) → (equipment, rule)
        for m in machines:
            for rule in m.process_values:
                self.rules[(m.device, rule.tag)] = (m.equipment, rule)
        # per device and tag, what the receive path needs for each value, worked out once: its series, the
        # absolute deadband, the percent one (or None), the rule
        self._tags: dict[str, dict[str, tuple[Series, float, float | None, ProcessValueRule]]] = {}
        for (device, tag), (equipment, rule) in self.rules.items():
            self._tags.setdefault(device, {})[tag] = (
                (equipment, rule.series), float(rule.deadband or 0.0), rule.deadband_percent, rule)
        self._lock = threading.Lock()  # around self._db: written by keep(), read from the API's worker threads
        self.path = str(path)
        self._db = hs.connect(path, self.settings.synchronous)
        self.forwarder: Any = None  # connectors.historian_pg.PostgresForwarder, with a PostgreSQL target
        url = self.settings.postgresql_url()
        if url is not None and self.path != ":memory:":
            from connectors.historian_pg import PostgresForwarder, configure

            s = self.settings
            self.forwarder = PostgresForwarder(self.path, url, s.node, schema=s.postgresql_schema,
                                               batch_chunks=s.forward_batch_chunks, synchronous=s.synchronous)
            configure(self._db)  # before the writer's first consolidation
        elif self._db.execute("SELECT 1 FROM process_forward").fetchone() is not None:
            self._db.execute("DELETE FROM process_forward")  # no target any more: consolidation need not wait
        self._ids: dict[Series, int] = {(e, n): s for s, e, n in
                                        self._db.execute("SELECT series, equipment, name FROM process_series")}
        names = {s: key for key, s in self._ids.items()}
        self._last: dict[Series, tuple[Any, str]] = {}  # series → (last kept value, quality)
        for series, row in hs.last_rows(self._db).items():
            self._last[names[series]] = (row[1] if row[2] is None else row[2], row[3])
        self.latest: dict[Series, tuple[Any, str, datetime]] = {}  # series → newest value, quality, time
        self.kept = 0  # values written to the file
        self.suppressed = 0  # inside the deadband
        self.pruned = 0
        self.dropped = 0  # refused by the overflow policy: the queue was full
        self.dropped_in_overflow_deadband = 0  # within overflow_deadband_percent while the queue was ¾ full
        self.blocked_s = 0.0  # time sources waited for room (overflow: block)
        self.flushes = 0
        self.last_write: tuple[float, int] | None = None  # when the writer last wrote (Unix s), and kept then
        self.consolidations = 0  # by the writer thread
        self.write_errors = 0
        self.lost = 0  # values the writer could not write before it had to stop (a disk full at the stop)
        self.refused = 0  # offered while the disk was full: refused at once (sources never wait on a full disk)
        self.state = "ok"  # ok, disk_full (new values refused), write_error (retried)
        self.last_error: str | None = None
        self._pruned_at = self._consolidated_at = time.monotonic()
        self._queue: deque[tuple[float, list[tuple[Series, hs.Row]]]] = deque()
        self._queued = 0  # values accepted by offer() and not yet written
        # the values the writer took from the queue and has not written yet (reads see them, and those still
        # queued: read your writes); no bookkeeping per value on the receive path
        self._in_flight: list[tuple[Series, hs.Row]] = []
        self._oldest_pending: float | None = None  # when the oldest value the writer holds was queued
        self._wake = threading.Condition()
        self._writer: threading.Thread | None = None
        self._stopping = False
        self._flush_now = False

    def __bool__(self) -> bool:
        return bool(self.rules)

    async def __call__(self, batch: Sequence[Sample]) -> None:
        """As a connector's sink: :meth:`offer` (the writer thread, once started, writes them)."""
        await self.offer(batch)

    # --- choosing what to keep ------------------------------------------------------------------------

    def _select(self, batch: Sequence[Sample], squeeze: bool = False) -> list[tuple[Series, hs.Row]]:
        """The samples of ``batch`` that leave their deadband, as rows (``squeeze``: also leave the overflow
        deadband, a percent of the last kept value). On the receive path, for every value: kept lean (a double
        inside an absolute or percent band is decided without a call)."""
        rows: list[tuple[Series, hs.Row]] = []
        keep = rows.append
        tags, last_of, latest = self._tags, self._last, self.latest
        squeeze_percent = self.settings.overflow_deadband_percent if squeeze else None
        suppressed = squeezed = 0
        device_tags: dict[str, tuple[Series, float, float | None, ProcessValueRule]] = {}
        last_device = None
        for device, tag, value, quality, when, detail in batch:
            if device is not last_device:  # a batch is mostly one device's
                device_tags, last_device = tags.get(device, {}), device
            found = device_tags.get(tag)
            if found is None:
                continue
            series, band, percent, rule = found
            if quality == "bad":
                value = None
            latest[series] = (value, quality, when)
            last = last_of.get(series)
            if last is not None and last[1] == quality:
                was = last[0]
                if type(value) is float and type(was) is float:  # noqa: E721 (exact types: not bool, not numpy)
                    # NaN: never inside (a comparison with NaN is False), as _leaves_deadband says
                    inside = abs(value - was) <= (band if percent is None else abs(was) * percent / 100)
                else:
                    inside = not _leaves_deadband(was, value, rule)
                if inside:
                    suppressed += 1
                    continue
                if squeeze_percent is not None and not _leaves_deadband(was, value, rule, squeeze_percent):
                    squeezed += 1
                    continue
            last_of[series] = (value, quality)
            if type(value) is float:  # noqa: E721
                number, text = value, None
            elif isinstance(value, int | float) and not isinstance(value, bool):
                number, text = float(value), None
            else:
                number, text = None, None if value is None else str(value)
            keep((series, (round(when.timestamp() * 1_000_000), number, text, quality, detail)))
        if suppressed:
            self.suppressed += suppressed
        if squeezed:
            self.dropped_in_overflow_deadband += squeezed
        return rows

    def _write(self, db: sqlite3.Connection, rows: Sequence[tuple[Series, hs.Row]], recent: bool = False) -> None:
        """One transaction: the rows, one chunk per series (or more past CHUNK_MAX values); ``recent``: landed
        (the writer's flushes, consolidated later)."""
        by_series: dict[Series, list[hs.Row]] = {}
        for series, row in rows:
            by_series.setdefault(series, []).append(row)
        with _transaction(db):
            for (equipment, name), values in by_series.items():
                values.sort(key=itemgetter(0))
                hs.append(db, hs.series_id(db, self._ids, equipment, name), values, recent=recent)

    def keep(self, batch: Sequence[Sample]) -> int:
        """Keep the samples of ``batch`` that leave their deadband, written before this returns; returns how
        many were kept."""
        rows = self._select(batch)
        if rows:
            with self._lock:
                self._write(self._db, rows, recent=self.forwarder is not None)  # landed: forwarded from there
            self.kept += len(rows)
            if self.forwarder is not None:
                self.forwarder.poke()
        if time.monotonic() - self._pruned_at >= _PRUNE_EVERY_S:
            self.prune()
        return len(rows)

    async def offer(self, batch: Sequence[Sample]) -> int:
        """Queue the samples of ``batch`` that leave their deadband for the writer (see the module for what a
        full queue does); returns how many were queued."""
        capacity = self.settings.queue_values
        drop = self.settings.overflow == "drop"
        rows = self._select(batch, squeeze=drop and self._queued >= capacity * 3 // 4)
        if not rows:
            return 0
        if self.state == "disk_full":  # refused at once, counted: the source goes on, the writer keeps trying
            self.refused += len(rows)
            for series, _row in rows:
                self._last.pop(series, None)  # the first value after the disk has room again is kept
            return 0
        if self._queued + len(rows) > capacity:
            if drop:
                room = max(0, capacity - self._queued)
                self.dropped += len(rows) - room
                if not self._queue_full_logged:
                    log.warning("historian queue full (%d values): dropping new process values", capacity)
                    self._queue_full_logged = True
                rows = rows[:room]
            else:
                began = time.monotonic()
                while self._queued + len(rows) > capacity and self._queued > 0 and self._writer is not None:
                    await asyncio.sleep(0.005)
                self.blocked_s += time.monotonic() - began
        else:
            self._queue_full_logged = False
        if rows:
            with self._wake:
                self._queue.append((time.monotonic(), rows))
                self._queued += len(rows)
                if self._queued >= capacity // 2:  # the writer writes early; else it wakes at its flush time
                    self._wake.notify()
        return len(rows)

    _queue_full_logged = False

    # --- the writer thread ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (the node's connectivity does, at start)."""
        if self._writer is None:
            self._stopping = False
            self._writer = threading.Thread(target=self._write_forever, name="historian-writer", daemon=True)
            self._writer.start()
        if self.forwarder is not None:
            self.forwarder.start()

    def stop(self, timeout_s: float = 60.0) -> None:
        """Write everything queued and stop the writer thread."""
        writer = self._writer
        if writer is not None:
            with self._wake:
                self._stopping = True
                self._wake.notify()
            writer.join(timeout_s)
            self._writer = None
        if self.forwarder is not None:  # after the writer: its last pass takes what the writer wrote at the stop
            self.forwarder.stop()

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Ask the writer to write what it holds now; True once everything queued before is written."""
        deadline = time.monotonic() + timeout_s
        with self._wake:
            self._flush_now = True
            self._wake.notify()
        while self._queued and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._queued == 0

    def backlog(self) -> tuple[int, float | None]:
        """Values queued and not yet written, and the age in seconds of the oldest of them (None: none)."""
        oldest = self._oldest_pending
        with contextlib.suppress(IndexError):
            oldest = self._queue[0][0] if oldest is None else oldest
        return self._queued, (None if oldest is None or not self._queued else time.monotonic() - oldest)

    def _write_forever(self) -> None:
        memory = self.path == ":memory:"
        db = self._db if memory else hs.connect(self.path, self.settings.synchronous)
        guard = self._lock if memory else contextlib.nullcontext()
        pending: list[tuple[Series, hs.Row]] = []
        flush_at = time.monotonic() + self.settings.flush_s
        try:
            while True:
                with self._wake:
                    if not self._queue and not self._stopping and not self._flush_now:
                        self._wake.wait(max(0.0, flush_at - time.monotonic()))
                    while self._queue:
                        queued_at, rows = self._queue.popleft()
                        if self._oldest_pending is None:
                            self._oldest_pending = queued_at
                        pending += rows
                    self._in_flight = pending  # taken from the queue: readers find them here
                    stopping, now_asked = self._stopping, self._flush_now
                    self._flush_now = False
                due = time.monotonic() >= flush_at or len(pending) >= self.settings.queue_values // 2
                if pending and (due or stopping or now_asked):
                    try:
                        with self._lock:  # readers see a value either unwritten or written, never both
                            self._write(db, pending, recent=True)
                            self._written()
                    except Exception as exc:  # a full disk: keep the values, say so, try again
                        self.write_errors += 1
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        state = "disk_full" if disk_full(exc) else "write_error"
                        if state != self.state:
                            log.error("historian: writing %d process values failed (%s); %s", len(pending),
                                      self.last_error, "new values are refused until the disk has room, the "
                                      "writer tries again every second" if state == "disk_full" else "trying again")
                        self.state = state
                        if stopping:
                            self.lost += len(pending)
                            with self._lock:
                                self._written()
                            with self._wake:
                                self._queued -= len(pending)
                            log.error("historian: %d process values lost at the stop", len(pending))
                            break
                        time.sleep(1.0)
                        continue
                    self.kept += len(pending)
                    self.flushes += 1
                    self.last_write = (time.time(), self.kept)  # one object: read together
                    self.last_error = None
                    if self.state != "ok":
                        log.warning("historian: writing again (%d values refused meanwhile)", self.refused)
                    self.state = "ok"
                    if self.forwarder is not None:
                        self.forwarder.poke()
                    with self._wake:
                        self._queued -= len(pending)
                        self._oldest_pending = None
                    pending = []
                if time.monotonic() >= flush_at:
                    flush_at = time.monotonic() + self.settings.flush_s
                if stopping and not pending:
                    break
                if time.monotonic() - self._consolidated_at >= self.settings.consolidate_s or stopping:
                    self._consolidated_at = time.monotonic()
                    try:
                        self._prune_on(db, lock=guard, full_chunks=not stopping)
                        self.consolidations += 1
                    except Exception as exc:  # the values stay landed: tried again next time
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        log.error("historian: consolidating landed values failed (%s)", self.last_error)
        finally:
            if not memory:
                db.close()

    def _written(self) -> None:
        """The values in flight are written (or lost): readers no longer find them there (call with ``_lock``)."""
        with self._wake:
            self._in_flight = []

    def _unwritten(self, key: Series | None = None) -> list[tuple[Series, hs.Row]]:
        """The values not yet written (of series ``key``, or all), oldest first: in flight, then queued (a scan of
        them: reads are rare, the receive path is not; call with ``_wake``)."""
        found = [r for r in self._in_flight if key is None or r[0] == key]
        for _queued_at, rows in self._queue:
            found += rows if key is None else [r for r in rows if r[0] == key]
        return found

    def _read(self, series: int, key: Series, since_us: int | None, until_us: int | None,
              limit: int, landed: dict[int, list[hs.Row]] | None = None) -> list[hs.Row]:
        """A series' stored values and those still on their way to the writer (call with ``self._lock``)."""
        rows = hs.read(self._db, series, since_us, until_us, limit, landed)
        with self._wake:
            waiting = [r for _, r in self._unwritten(key) if (since_us is None or r[0] >= since_us)
                       and (until_us is None or r[0] <= until_us)]
        if waiting:
            rows += waiting
            rows.sort(key=lambda r: r[0])
        return rows[-limit:]

    # --- retention --------------------------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Fold values past each series' retention and beyond its most recent ``max_points`` into minutes."""
        return self._prune_on(self._db, now, lock=self._lock)

    def _prune_on(self, db: sqlite3.Connection, now: float | None = None, *, lock: Any = None,
                  full_chunks: bool = False) -> int:
        guard = lock if lock is not None else contextlib.nullcontext()
        # the forwarding target unreachable: what was never sent to it is consolidated too (re-landed when it is
        # back), so a long outage does not grow the landing table, which has no index
        _consolidate(db, lock, full_chunks=full_chunks,
                     unforwarded=self.forwarder is not None and self.forwarder.state != "connected")
        now = time.time() if now is None else now
        dropped = 0
        for equipment, rule in self.rules.values():
            series = self._ids.get((equipment, rule.series))
            if series is None:
                continue
            with guard, _transaction(db):
                dropped += hs.fold_oldest(db, series, before_us=_us(now - rule.retention_s))
                over = hs.count_values(db, series) - rule.max_points
                if over > 0:
                    dropped += hs.fold_oldest(db, series, at_most=over)
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

    # --- reading ----------------------------------------------------------------------------------------

    def _series_of(self, equipment: str, name: str | None) -> list[tuple[int, str]]:
        sql, args = "SELECT series, name FROM process_series WHERE equipment = ?", [equipment]
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        found = [(int(s), str(n)) for s, n in self._db.execute(sql + " ORDER BY series", args)]
        with self._wake:  # a series whose first values are still on their way to the writer
            known = {n for _, n in found}
            found += [(-1, n) for e, n in sorted({s for s, _ in self._unwritten()}) if e == equipment
                      and n not in known
                      and (name is None or n == name)]
        return found

    def minutes(self, equipment: str, name: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int = 1000, *, include_raw: bool = False) -> list[dict[str, Any]]:
        """The per-minute summaries of ``equipment``'s folded values, oldest first, at most ``limit`` (the newest);
        ``include_raw``: with the minutes of the values not yet folded (min/max/avg per minute over a week)."""
        found: dict[tuple[int, str], list[Any]] = {}
        with self._lock, _snapshot(self._db):
            for series, n in self._series_of(equipment, name):
                sql = "SELECT minute, samples, numbers, bad, min, max, sum FROM process_value_minutes WHERE series = ?"
                args: list[Any] = [series]
                if since is not None:
                    sql += " AND minute >= ?"
                    args.append(since.timestamp())
                if until is not None:
                    sql += " AND minute <= ?"
                    args.append(until.timestamp())
                for minute, *summary in self._db.execute(sql + " ORDER BY minute DESC LIMIT ?", (*args, limit)):
                    found[(minute, n)] = summary
                if not include_raw:
                    continue
                start = _us(since) if since is not None else None
                end = _us(until) + 59_999_999 if until is not None else None
                rows = self._read(series, (equipment, n), start, end, 10**9)
                for minute, raw in hs.minute_summaries(rows).items():
                    if until is not None and minute > until.timestamp():
                        continue
                    have = found.get((minute, n))
                    found[(minute, n)] = list(raw) if have is None else [
                        have[0] + raw[0], have[1] + raw[1], have[2] + raw[2],
                        _least(have[3], raw[3], min), _least(have[4], raw[4], max), have[5] + raw[5]]
        newest = sorted(found.items())[-limit:]
        return [{"name": n, "minute": _iso(minute * 1_000_000), "samples": samples, "numbers": numbers, "bad": bad,
                 "min": low, "max": high, "avg": total / numbers if numbers else None}
                for (minute, n), (samples, numbers, bad, low, high, total) in newest]

    def at_moment(self, equipment: str, when: datetime, name: str | None = None) -> list[dict[str, Any]]:
        """Each series' (or one's) last value at or before ``when``: many tags at one moment."""
        found = []
        with self._lock, _snapshot(self._db):
            for series, n in self._series_of(equipment, name):
                for at, number, text, quality, detail in self._read(series, (equipment, n), None, _us(when), 1):
                    found.append({"name": n, "at": _iso(at), "value": number if text is None else text,
                                  "quality": quality, "detail": detail})
        return found

    def series(self, equipment: str) -> list[str]:
        """The process values kept for ``equipment`` (configured ones)."""
        return sorted({rule.series for eq, rule in self.rules.values() if eq == equipment})

    def query(self, equipment: str, name: str | None = None, since: datetime | None = None,
              until: datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Values of ``equipment`` (one series, or all), oldest first, at most ``limit`` (the newest ones)."""
        since_us = _us(since) if since is not None else None
        until_us = _us(until) if until is not None else None
        found: list[tuple[int, int, str, hs.Row]] = []
        with self._lock, _snapshot(self._db):
            which = self._series_of(equipment, name)
            landed = hs.recent_rows(self._db, {s for s, _ in which}, since_us, until_us)
            for order, (series, n) in enumerate(which):
                found += [(row[0], order, n, row) for row in self._read(series, (equipment, n), since_us, until_us,
                                                                        limit, landed)]
        found.sort(key=lambda f: f[0])
        return [{"name": n, "at": _iso(at), "value": number if text is None else text, "quality": quality,
                 "detail": detail} for _, _, n, (at, number, text, quality, detail) in found[-limit:]]

    def rows(self, equipment: str, name: str, since: datetime | None = None, until: datetime | None = None,
             limit: int = 1_000_000) -> list[hs.Row]:
        """One series' values as rows (microseconds, number, text, quality, detail), oldest first: the fast read
        for pages and exports (no dict per value)."""
        with self._lock, _snapshot(self._db):
            found = self._series_of(equipment, name)
            if not found:
                return []
            return self._read(found[0][0], (equipment, name), _us(since) if since is not None else None,
                              _us(until) if until is not None else None, limit)

    def columns(self, equipment: str, name: str, since: datetime | None = None,
                until: datetime | None = None) -> hs.Columns:
        """One series' values between two times as columns (``historian_store.Columns``: int64 microseconds and
        float64 numbers, the rare others by position), oldest first, those still on their way to the writer
        included: the read of a long range (a shift at 10 Hz) for charts, SPC and exports."""
        since_us = _us(since) if since is not None else None
        until_us = _us(until) if until is not None else None
        with self._lock, _snapshot(self._db):
            found = self._series_of(equipment, name)
            stored = hs.read_columns(self._db, found[0][0], since_us, until_us) if found else hs.join_columns(
                [], None, None)
            with self._wake:
                waiting = [r for _, r in self._unwritten((equipment, name))]
        if not waiting:
            return stored
        extra = hs.decode_columns(hs.encode(waiting))
        return hs.join_columns([stored, extra], since_us, until_us)

    def health(self) -> dict[str, Any]:
        """What ``/health`` shows of the historian."""
        queued, oldest = self.backlog()
        s = self.settings
        last_write = self.last_write
        found: dict[str, Any] = {"kept": self.kept, "suppressed": self.suppressed, "pruned": self.pruned,
                "writer": "running" if self._writer is not None and self._writer.is_alive() else "stopped",
                "queued": queued, "queue_capacity": s.queue_values,
                "oldest_queued_age_s": None if oldest is None else round(oldest, 3),
                "overflow": s.overflow, "dropped": self.dropped,
                "dropped_in_overflow_deadband": self.dropped_in_overflow_deadband,
                "blocked_s": round(self.blocked_s, 3), "flushes": self.flushes, "flush_s": s.flush_s,
                "last_write": None if last_write is None else {"at": round(last_write[0], 6), "kept": last_write[1]},
                "consolidations": self.consolidations,
                "write_errors": self.write_errors, "lost": self.lost, "last_error": self.last_error,
                "state": self.state, "refused": self.refused, "file": self.path,
                "synchronous": s.synchronous,
                "durability": ("every write survives a power cut" if s.synchronous == "FULL" else
                               "a power cut may lose the last writes")}
        if self.forwarder is not None:
            with self._lock:
                found["forward"] = self.forwarder.health(self._db)
        return found

    def close(self) -> None:
        self.stop()
        with self._lock:
            self._db.close()


def _least(a: float | None, b: float | None, pick: Any) -> float | None:
    return b if a is None else a if b is None else pick(a, b)


def _leaves_deadband(last: Any, value: Any, rule: ProcessValueRule, percent: float | None = None) -> bool:
    """Whether ``value`` leaves ``rule``'s deadband around ``last`` (``percent``: this percent band instead)."""
    if last is None or value is None:
        return last is not value
    if isinstance(value, bool) or isinstance(last, bool) or not isinstance(value, int | float) \
            or not isinstance(last, int | float):
        return bool(value != last)
    change = abs(float(value) - float(last))
    if math.isnan(change):
        return True
    if percent is not None:
        return change > abs(float(last)) * percent / 100
    if rule.deadband_percent is not None:
        return change > abs(float(last)) * rule.deadband_percent / 100
    return change > rule.deadband
