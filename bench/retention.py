"""Retention benchmark: the store's size after a simulated month of a line, with and without retention.

A month (``--days``, default 30) of one line is recorded day by day, fast, with the clock shifted (the service's
clock and the samples' source times are the simulated day's), into two nodes side by side:

- events: stock moves (one every ``--move-every-s``, default 20 s) and machine state changes (4 machines, each
  one every ``--state-every-s``, default 180 s): about 6,200 journal events a day, through the one write path;
  the ERP acknowledges everything but the last hour (the push cursor), as a connected sync would;
- samples: ``--series`` process values (default 6), each kept every ``--sample-every-s`` (default 10 s; what a
  1 Hz tag keeps after its deadband), through ``ProcessValueLog.keep``.

Node A keeps everything (the baseline). Node B runs the retention as its timer would, once after every simulated
day (``takt.upkeep.run_retention`` with the default ``retention:`` and ``journal_age_days: 7``): acknowledged
journal events older than 7 days go to gzip archives, process values older than 7 days are folded into
per-minute summaries. SQLite files do not shrink; the pages freed by a day's compaction are reused by the next
days, so the size is the high-water mark a plant sees on its disk.

Prints ``FIGURE store_size_month_mb`` (node B: takt.sqlite + process-values.sqlite after a WAL checkpoint),
``FIGURE store_size_month_baseline_mb`` (node A, the same files) and ``FIGURE archive_size_month_mb`` (B's
journal archive files, kept beside the store).
"""
from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.base import Sample
from connectors.config import MachineSignals, ProcessValueRule
from connectors.process_values import ProcessValueLog
from edge.domain import commands as c
from edge.service import Recorded, Service
from edge.store import Store, sqlite_url
from edge.store.sync import SyncLedger
from takt.config import RetentionSection
from takt.upkeep import SAMPLE_FILE, run_retention

START = datetime(2026, 1, 5, tzinfo=UTC)
DAY = 86400
MACHINES = ("PRESS-1", "PRESS-2", "WELD-1", "PACK-1")
STATES = ("running", "idle", "running", "down", "running", "setup")
WHO: dict[str, Any] = {"actor": "bench", "actor_roles": frozenset({"admin"})}
LOTS = 100


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class SimNode:
    folder: Path
    clock: Clock = field(default_factory=Clock)
    store: Store = field(init=False)
    service: Service = field(init=False)
    samples: ProcessValueLog = field(init=False)

    def start(self, series: int) -> SimNode:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = Store(sqlite_url(self.folder))
        self.store.migrate()
        self.service = Service(self.store, "bench-retention", clock=self.clock).start()
        rules = [ProcessValueRule(tag=f"pv{i}", retention_s=400 * DAY, max_points=100_000_000) for i in range(series)]
        self.samples = ProcessValueLog(self.folder / SAMPLE_FILE, [
            MachineSignals(equipment="PRESS-1", device="PLC-1", process_values=rules)])
        return self

    def stop(self) -> None:
        self.samples.close()
        self.service.stop()
        self.store.close()

    def largest(self, n: int = 6) -> str:
        """The largest tables and indexes of the node's two files (SQLite's dbstat), and their free pages."""
        parts: list[tuple[float, str]] = []
        for name in ("takt.sqlite", SAMPLE_FILE):
            with sqlite3.connect(self.folder / name) as db:
                try:
                    rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
                except sqlite3.OperationalError:  # SQLite built without dbstat
                    return "(no dbstat in this SQLite)"
                free = db.execute("PRAGMA freelist_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
            parts += [(size / 1e6, table) for table, size in rows]
            parts.append((free / 1e6, f"free pages of {name}"))
        parts.sort(reverse=True)
        return ", ".join(f"{table} {mb:.1f}" for mb, table in parts[:n])

    def size_mb(self) -> float:
        total = 0
        for name in ("takt.sqlite", SAMPLE_FILE):
            path = self.folder / name
            with sqlite3.connect(path) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            total += path.stat().st_size + _size(Path(f"{path}-wal"))
        return total / 1e6


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def master_data() -> list[c.Command]:
    commands: list[c.Command] = [
        c.DefineItem(idempotency_key="item", item="PART-1", description="part", unit="pcs", revision="A", **WHO)]
    commands += [c.DefineBin(idempotency_key=f"bin-{b}", bin=b, zone="line", **WHO) for b in ("A", "B")]
    commands += [c.DefineEquipment(idempotency_key=f"eq-{m}", equipment=m, workstation="WS-1", **WHO)
                 for m in MACHINES]
    commands += [c.ReceiveLot(idempotency_key=f"lot-{i}", lot=f"L{i}", item="PART-1", item_revision=None,
                              quantity=Decimal(10**9), bin="A", **WHO) for i in range(LOTS)]
    return commands


def day_of_events(day: int, move_every_s: float, state_every_s: float) -> list[tuple[float, c.Command]]:
    """(seconds into the day, command), in time order."""
    timed: list[tuple[float, c.Command]] = []
    one = Decimal(1)
    t, n = 0.0, 0
    while t < DAY:
        a, b = ("A", "B") if (n // LOTS) % 2 == 0 else ("B", "A")  # each lot: one over, then back
        timed.append((t, c.MoveStock(idempotency_key=f"d{day}-m{n}", lot=f"L{n % LOTS}", from_bin=a, to_bin=b,
                                     quantity=one, **WHO)))
        t, n = t + move_every_s, n + 1
    for k, machine in enumerate(MACHINES):
        t, n = k * 7.0, 0
        while t < DAY:
            timed.append((t, c.SetMachineState(idempotency_key=f"d{day}-{machine}-{n}", equipment=machine,
                                               state=STATES[(day + n) % len(STATES)],  # type: ignore[arg-type]
                                               reason=None, **WHO)))
            t, n = t + state_every_s, n + 1
    timed.sort(key=lambda x: x[0])
    return timed


def record_day(node: SimNode, day_start: datetime, events: list[tuple[float, c.Command]]) -> None:
    """The day's commands in chunks of 1,000 (a group commit each): the clock moves as the day goes, each chunk is
    stamped with the time of its first command (written fast; the journal's times are the day's)."""
    for first in range(0, len(events), 1000):
        chunk = events[first:first + 1000]
        node.clock.now = day_start + timedelta(seconds=chunk[0][0])
        pending: list[Future[Recorded]] = [node.service.submit(command) for _, command in chunk]
        for fut in pending:
            fut.result(120)


def day_of_samples(day_start: datetime, series: int, every_s: float) -> list[Sample]:
    base = day_start.timestamp()
    out: list[Sample] = []
    steps = int(DAY / every_s)
    for step in range(steps):
        at = datetime.fromtimestamp(base + step * every_s, UTC)
        for i in range(series):
            out.append(Sample("PLC-1", f"pv{i}", 20.0 + i + (step % 50) * 0.1, "good", at, None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--move-every-s", type=float, default=20.0)
    parser.add_argument("--state-every-s", type=float, default=180.0)
    parser.add_argument("--series", type=int, default=6)
    parser.add_argument("--sample-every-s", type=float, default=10.0)
    parser.add_argument("--journal-age-days", type=float, default=7.0)
    args = parser.parse_args()
    settings = RetentionSection(journal_age_days=args.journal_age_days, pause_ms=0)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="takt-bench-retention-") as tmp:
        keep_all = SimNode(Path(tmp) / "keep-all").start(args.series)
        retained = SimNode(Path(tmp) / "retention").start(args.series)
        nodes = (keep_all, retained)
        events = samples = 0
        compaction_s = 0.0
        runs = []
        try:
            for node in nodes:
                for command in master_data():
                    node.service.handle(command)
            for day in range(args.days):
                day_start = START + timedelta(days=day)
                timed = day_of_events(day, args.move_every_s, args.state_every_s)
                values = day_of_samples(day_start, args.series, args.sample_every_s)
                for node in nodes:
                    record_day(node, day_start, timed)
                    node.samples.keep(values)
                    # a connected ERP has acknowledged everything recorded until an hour ago
                    cursor = max(0, _seq_before(node.store, day_start + timedelta(hours=23)))
                    SyncLedger(node.store).set_cursor("push", cursor)
                events += len(timed)
                samples += len(values)
                one = time.perf_counter()
                runs.append(run_retention(retained.store, settings, retained.folder, samples=retained.samples,
                                          now=day_start + timedelta(days=1)))
                compaction_s += time.perf_counter() - one
            baseline_mb, retained_mb = keep_all.size_mb(), retained.size_mb()
            largest = {"without": keep_all.largest(), "with": retained.largest()}
        finally:
            for node in nodes:
                node.stop()
        archive = settings.archive_folder(retained.folder)
        archive_mb = sum(_size(p) for p in archive.glob("*.gz")) / 1e6
        archived = sum(r.journal_archived for r in runs)
        folded = sum(r.samples_folded for r in runs)
    print(f"simulated {args.days} days of a line: {events} commands ({events / args.days:.0f} a day) and "
          f"{samples} kept process values ({samples / args.days:.0f} a day) into each of two nodes "
          f"in {time.perf_counter() - began:.0f} s")
    print(f"retention (journal {args.journal_age_days:g} days, raw samples {settings.samples_raw_age_days:g} days, "
          f"summaries {settings.samples_aggregate_age_days:g} days), run after each day: {archived} events archived, "
          f"{folded} values folded into minutes, {compaction_s:.1f} s in all")
    print(f"without retention: {baseline_mb:.1f} MB; with: {retained_mb:.1f} MB "
          f"(+ {archive_mb:.1f} MB of journal archives beside it)")
    for which, text in largest.items():
        print(f"largest {which} retention (MB): {text}")
    print(f"FIGURE store_size_month_mb {retained_mb:.1f} MB")
    print(f"FIGURE store_size_month_baseline_mb {baseline_mb:.1f} MB")
    print(f"FIGURE archive_size_month_mb {archive_mb:.1f} MB")


def _seq_before(store: Store, moment: datetime) -> int:
    from sqlalchemy import func, select

    from edge.store import schema

    j = schema.journal
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(j.c.seq), 0)).where(j.c.recorded_at < moment))
                   .scalar_one())


if __name__ == "__main__":
    main()
