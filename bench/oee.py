"""OEE benchmark: OEE by shift for a week of one line. ``python -m bench.oee [--json FILE]``.

A store (SQLite, WAL) gets a week of a three-workstation line through the one write path (``Service``): per
workstation one machine changing state about every 8 minutes (running, with jams, changeovers, waits for material
and breaks) and a production report per piece made while it runs (1.5 to 3.5 standard minutes), on a three-shift calendar in Europe/Amsterdam time.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``oee_week_ms``: ``takt.api.oee.oee_report`` for the three workstations over the week (21 shifts each: the
  queries of the state history, the production reports with their standard minutes, and the computation),
  median of 15 runs. Target ≤ 200 ms.
- ``oee_week_baseline_read_ms``: the same rows read with plain ``sqlite3`` (no ORM, no computation), median of 15
  runs, measured in this run because these machines differ ~3x in speed and are shared; ``oee_week_vs_read`` is
  the ratio (oee / read), the figure that means the same on any host.
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

MachineStateName = Literal["running", "idle", "down", "setup", "offline"]
STATIONS = ("WS-10", "WS-20", "WS-30")
STOPS: tuple[tuple[MachineStateName, str], ...] = (("down", "jam"), ("setup", "changeover"), ("idle", "no material"), ("idle", "break"), ("down", "tooling"))


def build(folder: Path, start: datetime, seed: int = 7) -> tuple[Any, int]:
    from edge.domain import commands as c
    from edge.service import Service
    from edge.store import Store, sqlite_url

    store = Store(sqlite_url(folder))
    store.migrate()
    store.node_id("bench-oee")
    service = Service(store, "bench-oee").start()
    who: dict[str, Any] = {"actor": "bench", "actor_roles": frozenset({"admin"})}
    service.handle(c.DefineItem(idempotency_key="item", item="PUMP", description="Pump", unit="pcs", revision="A",
                                **who))
    for ws in STATIONS:
        service.handle(c.DefineEquipment(idempotency_key=f"eq-{ws}", equipment=f"M-{ws}", workstation=ws, **who))
    service.handle(c.ReleaseWorkOrder(
        idempotency_key="wo", work_order="WO-1", item="PUMP", item_revision="A", bom_revision="1",
        quantity=Decimal(10_000_000), operations=tuple(
            c.OperationSpec(operation=10 * (i + 1), description=ws, workstation=ws,
                            standard_minutes=Decimal("1.5") + i) for i, ws in enumerate(STATIONS)), **who))
    rng = random.Random(seed)
    commands: list[tuple[datetime, Any]] = []
    end = start + timedelta(days=7)
    for i, ws in enumerate(STATIONS):
        op = 10 * (i + 1)
        commands.append((start, c.StartOperation(idempotency_key=f"start-{ws}", work_order="WO-1", operation=op,
                                                 occurred_at=start, **who)))
        cycle = timedelta(minutes=float(Decimal("1.5") + i) * 1.15)  # a bit slower than the standard
        at, n, made = start, 0, 0
        while at < end:
            state: MachineStateName
            reason: str | None
            state, reason = ("running", None) if n % 2 == 0 else rng.choice(STOPS)
            commands.append((at, c.SetMachineState(idempotency_key=f"st-{ws}-{n}", equipment=f"M-{ws}", state=state,
                                                   reason=reason, since=at, **who)))
            until = min(end, at + timedelta(minutes=rng.uniform(10, 20) if state == "running" else rng.uniform(1, 6)))
            while state == "running" and at + cycle <= until:  # one report per piece made while running
                at += cycle
                scrap = Decimal(1) if rng.random() < 0.03 else Decimal(0)
                commands.append((at, c.ReportProduction(
                    idempotency_key=f"pr-{ws}-{made}", work_order="WO-1", operation=op, good=1 - scrap, scrap=scrap,
                    scrap_reason="leak" if scrap else None, occurred_at=at, **who)))
                made += 1
            at = until
            n += 1
    commands.sort(key=lambda pair: pair[0])
    futures = [service.submit(cmd) for _, cmd in commands]
    for f in futures:
        f.result(timeout=300)
    service.stop()
    return store, len(commands)


def read_rows(db_file: Path, start: datetime, end: datetime) -> int:
    db = sqlite3.connect(db_file)
    try:
        rows = 0
        for ws in STATIONS:
            rows += len(db.execute("SELECT state, reason, since FROM machine_state_history WHERE equipment = ? "
                                   "AND since < ? ORDER BY since", (f"M-{ws}", end.isoformat())).fetchall())
            rows += len(db.execute(
                "SELECT p.at, p.good, p.scrap, o.standard_minutes FROM production_reports p LEFT JOIN operations o "
                "ON o.work_order = p.work_order AND o.operation = p.operation WHERE p.workstation = ? AND p.at >= ? "
                "AND p.at < ?", (ws, start.isoformat(), end.isoformat())).fetchall())
        return rows
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from edge.domain.oee import Shift
    from edge.store.oee import oee_report

    zone = ZoneInfo("Europe/Amsterdam")
    shifts = [Shift("early", dt_time(6), dt_time(14)), Shift("late", dt_time(14), dt_time(22)),
              Shift("night", dt_time(22), dt_time(6))]
    start = datetime(2026, 11, 16, 6, tzinfo=zone).astimezone(UTC)  # Monday 06:00
    end = start + timedelta(days=7)
    with tempfile.TemporaryDirectory(prefix="takt-bench-oee-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        store, recorded = build(folder, start)
        print(f"recorded {recorded} commands (a week of {len(STATIONS)} workstations) in "
              f"{time.perf_counter() - began:.1f} s", flush=True)
        oee_ms: list[float] = []
        report: dict[str, Any] = {}
        with store.engine.connect() as conn:
            for _ in range(args.runs):
                t0 = time.perf_counter()
                report = oee_report(conn, STATIONS, shifts, zone, start, end)
                oee_ms.append((time.perf_counter() - t0) * 1000)
        database = store.engine.url.database
        assert database is not None
        db_file = Path(database)
        read_ms: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            rows = read_rows(db_file, start, end)
            read_ms.append((time.perf_counter() - t0) * 1000)
        for ws, results in report.items():
            mean = statistics.fmean(r.oee for r in results)
            print(f"{ws}: {len(results)} shifts, mean OEE {mean:.1%}, "
                  f"A {statistics.fmean(r.availability for r in results):.1%}, "
                  f"P {statistics.fmean(r.performance for r in results):.1%}, "
                  f"Q {statistics.fmean(r.quality for r in results):.1%}", flush=True)
        print(f"baseline read: {rows} rows", flush=True)
        store.engine.dispose()
    figures = [("oee_week_ms", statistics.median(oee_ms), "ms"),
               ("oee_week_baseline_read_ms", statistics.median(read_ms), "ms"),
               ("oee_week_vs_read", statistics.median(oee_ms) / statistics.median(read_ms), "x")]
    if args.json:
        args.json.write_text(json.dumps({name: value for name, value, _ in figures}, indent=2))
    for name, value, unit in figures:
        print(f"FIGURE {name} {value:.3f} {unit}", flush=True)


if __name__ == "__main__":
    main()
