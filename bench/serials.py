"""Serialised units (issue 21): tracing one unit in a store of a million, and a captured step answered to the page.

    python -m bench.serials                  # 1,000,000 units
    python -m bench.serials --units 200000   # smaller

The store is a real node store (schema by the migrations). Its million units are written straight into the tables in
the shape the write path gives them (``units``, ``unit_components``, ``unit_steps``, output lots, pallets shipped),
because this measures reading: 1,000 work orders of 1,000 units; each unit has a motor by serial and screws from a
lot (one lot per 1,000 units), a recorded step and an output lot (one per 100 units); a tenth of the output lots
went out on pallets against sales orders.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``serial_trace_1m_units_ms``: a unit traced backward (``GET /api/v1/units/{serial}``'s read: its order, steps,
  components and their lots, its pallet) and forward from its motor's serial (the units it went into, their lots,
  pallets and shipments), both, median of 100 units (goal <= 50 ms); ``serial_trace_1m_units_p95_ms`` their p95.
- ``serial_trace_baseline_read_ms``: the same rows read plainly with ``sqlite3`` (a few indexed SELECTs, no
  result built), median of the same 100 units, and ``lot_trace_ms``: the existing lot trace (edge.store.trace) of
  the units' screw lot forward, median of 20, both measured in this run because these machines differ ~3x in speed
  and are shared; ``serial_trace_vs_read`` = trace / read.
- ``step_feedback_p95_ms``: a captured step answered over HTTP as the page's feedback line waits for it:
  ``POST .../steps`` (a measurement of a serialised unit through the one write path; the answer carries the step's
  verdict), p95 of 300 (goal <= 100 ms); ``step_with_refresh_p95_ms`` with the ``GET .../instruction`` the page
  then redraws the steps from; and the baseline, ``simple_post_p95_ms``: ``POST .../production`` (+1 good), an
  existing simple command, p95 of 300 in this run.
"""
from __future__ import annotations

import argparse
import random
import secrets
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

AT = datetime(2026, 11, 1, tzinfo=UTC)
PER_ORDER = 1000
PER_LOT = 100
FIGURES: list[tuple[str, float, str]] = []


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 2), unit))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def serial(i: int) -> str:
    return f"SN{i:08d}"  # as build() writes them


def build(database: str, units: int) -> None:
    """Bulk-load the tables with plain sqlite3 (the store's columns, the values the write path would write)."""
    db = sqlite3.connect(database)
    at = AT.replace(tzinfo=None).isoformat(sep=" ")
    orders = (units + PER_ORDER - 1) // PER_ORDER
    db.execute("PRAGMA synchronous=OFF")
    # the indexes of the unit tables are made once after the load (faster than kept up row by row)
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
                         "('units', 'unit_components', 'unit_steps')").fetchall()
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    with db:
        db.executemany("INSERT INTO work_orders (work_order, item, item_revision, bom_revision, quantity, status, good, "
                       "scrap, overproduction_tolerance_pct, due, customer_order, output_received) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", [
            (f"WO-{o}", "PUMP", "B", "1", str(PER_ORDER), "completed", str(PER_ORDER), "0", "0", None, f"SO-{o}",
             str(PER_ORDER)) for o in range(orders)])
        db.executemany("INSERT INTO lots (lot, item, item_revision, quantity, status, expiry, supplier_lot, "
                       "status_before_hold, work_order) VALUES (?,?,?,?,?,?,?,?,?)",
                       [(f"SCR-{o}", "SCREW", "A", "4000", "consumed", None, f"S-SCR-{o}", None, None)
                        for o in range(orders)]
                       + [(f"FG-{k}", "PUMP", "B", str(PER_LOT), "available", None, None, None, f"WO-{k * PER_LOT // PER_ORDER}")
                          for k in range((units + PER_LOT - 1) // PER_LOT)])
        db.executemany("INSERT INTO pallets (sscc, bin, status, packed_by, packed_at, sales_order, customer, "
                       "shipped_at) VALUES (?,?,?,?,?,?,?,?)",
                       [(f"{k:018d}", "SHIP", "shipped", "bench", at, f"SO-{k * PER_LOT // PER_ORDER}", "C1", at)
                        for k in range(0, (units + PER_LOT - 1) // PER_LOT, 10)])
        db.executemany("INSERT INTO pallet_lines (sscc, lot, item, quantity) VALUES (?,?,?,?)",
                       [(f"{k:018d}", f"FG-{k}", "PUMP", str(PER_LOT))
                        for k in range(0, (units + PER_LOT - 1) // PER_LOT, 10)])
        # the units, their components and steps, generated inside SQLite (a million rows of Python tuples would take
        # minutes on a shared machine): unit i is SN{i:08d} of WO-{i // 1000}, with motor M{i:08d} and a screw lot
        series = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
        db.execute(series + "INSERT INTO units (item, serial, work_order, item_revision, operation, status, started_by, "
                   "started_at, updated_at, gtin, source, lot, ncr, instructions) SELECT 'PUMP', printf('SN%08d', i), "
                   f"'WO-' || (i / {PER_ORDER}), 'B', NULL, 'completed', 'bench', ?, ?, NULL, 'pattern', "
                   f"'FG-' || (i / {PER_LOT}), NULL, '[\"10=3\", \"20=1\"]' FROM n", (units, at, at))
        db.execute(series + "INSERT INTO unit_components (seq, item, serial, work_order, operation, component, "
                   "component_lot, component_serial, actor, at) SELECT 2 * i + 1, 'PUMP', printf('SN%08d', i), "
                   f"'WO-' || (i / {PER_ORDER}), 10, 'MOTOR', 'MOT-LOT-' || (i / 5000), printf('M%08d', i), 'bench', ? "
                   "FROM n", (units, at))
        db.execute(series + "INSERT INTO unit_components (seq, item, serial, work_order, operation, component, "
                   "component_lot, component_serial, actor, at) SELECT 2 * i + 2, 'PUMP', printf('SN%08d', i), "
                   f"'WO-' || (i / {PER_ORDER}), 10, 'SCREW', 'SCR-' || (i / {PER_ORDER}), NULL, 'bench', ? FROM n",
                   (units, at))
        db.execute(series + "INSERT INTO unit_steps (seq, work_order, operation, item, serial, instruction_revision, "
                   "step, kind, passed, result, value, scanned, photo, note, ncr, actor, started_at, at) "
                   f"SELECT i + 1, 'WO-' || (i / {PER_ORDER}), 10, 'PUMP', printf('SN%08d', i), '3', 1, 'scan', 1, "
                   "NULL, NULL, printf('M%08d', i), NULL, '', NULL, 'bench', ?, ? FROM n", (units, at, at))
        # the screw lots' genealogy in the moves history, for the existing lot trace (the baseline of its kind)
        db.executemany("INSERT INTO moves (seq, lot, item, kind, from_bin, to_bin, quantity, work_order, bom_line, "
                       "reason, actor, at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       [(o + 1, f"SCR-{o}", "SCREW", "issue", "LINE", None, "4000", f"WO-{o}", 1, None, "bench", at)
                        for o in range(orders)]
                       + [(orders + k + 1, f"FG-{k}", "PUMP", "produce", None, "FG", str(PER_LOT),
                           f"WO-{k * PER_LOT // PER_ORDER}", None, None, "bench", at)
                          for k in range((units + PER_LOT - 1) // PER_LOT)])
    for _, sql in indexes:
        db.execute(sql)
    db.execute("ANALYZE")
    db.close()


def plain_read(db: sqlite3.Connection, sn: str) -> int:
    """The rows a unit's backward and forward traces are made of, read plainly."""
    rows = db.execute("SELECT * FROM units WHERE serial = ?", (sn,)).fetchall()
    comps = db.execute("SELECT component, component_lot, component_serial FROM unit_components WHERE serial = ?",
                       (sn,)).fetchall()
    rows += comps
    rows += db.execute("SELECT * FROM unit_steps WHERE serial = ?", (sn,)).fetchall()
    lots = [c[1] for c in comps if c[1]]
    rows += db.execute(f"SELECT * FROM lots WHERE lot IN ({','.join('?' * len(lots))})", lots).fetchall()
    motor = next(c[2] for c in comps if c[2])
    found = db.execute("SELECT item, serial FROM unit_components WHERE component_serial = ?", (motor,)).fetchall()
    rows += found
    unit = db.execute("SELECT lot, work_order FROM units WHERE serial = ?", (found[0][1],)).fetchall()
    rows += unit
    rows += db.execute("SELECT * FROM pallet_lines JOIN pallets USING (sscc) WHERE lot = ?", (unit[0][0],)).fetchall()
    return len(rows)


def trace_figures(units: int, rng: random.Random) -> None:
    from edge.store import Store, sqlite_url
    from edge.store.trace import trace, trace_component, trace_unit

    with tempfile.TemporaryDirectory(prefix="takt-bench-serials-") as tmp:
        store = Store(sqlite_url(Path(tmp)))
        store.migrate()
        database = store.engine.url.database
        assert database is not None
        store.close()
        started = time.perf_counter()
        build(database, units)
        print(f"built {units:,} units in {time.perf_counter() - started:.1f} s", flush=True)
        store = Store(sqlite_url(Path(tmp)))
        sample = [rng.randrange(units) for _ in range(100)]
        both: list[float] = []
        with store.engine.connect() as conn:
            for i in sample[:5]:  # warm the caches as a running node has them
                trace_unit(conn, serial(i))
            for i in sample:
                t0 = time.perf_counter()
                back = trace_unit(conn, serial(i))
                forward = trace_component(conn, f"M{i:08d}")
                both.append((time.perf_counter() - t0) * 1000)
                assert back["components"] and forward["units"][0]["serial"] == serial(i)
            shipped = [i for i in sample if (i // PER_LOT) % 10 == 0]
            if shipped:
                assert trace_component(conn, f"M{shipped[0]:08d}")["shipments"]
            lot_times = []
            for i in sample[:20]:
                t0 = time.perf_counter()
                trace(conn, f"SCR-{i // PER_ORDER}", "forward")
                lot_times.append((time.perf_counter() - t0) * 1000)
        store.close()
        db = sqlite3.connect(database)
        try:
            base = []
            for i in sample:
                t0 = time.perf_counter()
                plain_read(db, serial(i))
                base.append((time.perf_counter() - t0) * 1000)
        finally:
            db.close()
    median, read = statistics.median(both), statistics.median(base)
    print(f"unit traced backward and forward: median {median:.2f} ms, p95 {p95(both):.2f} ms; the same rows read "
          f"plainly {read:.2f} ms; a lot's forward trace {statistics.median(lot_times):.2f} ms", flush=True)
    figure("serial_trace_1m_units_ms", median, "ms")
    figure("serial_trace_1m_units_p95_ms", p95(both), "ms")
    figure("serial_trace_baseline_read_ms", read, "ms")
    figure("lot_trace_ms", statistics.median(lot_times), "ms")
    figure("serial_trace_vs_read", median / read, "x")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def feedback_figures(n: int) -> None:
    import uvicorn

    from edge.domain import commands as c
    from edge.service import Service
    from edge.store import Store, sqlite_url
    from edge.store.users import save_user
    from takt.api.app import create_app

    token = "bench-serials-operator-token"
    with tempfile.TemporaryDirectory(prefix="takt-bench-steps-") as tmp:
        store = Store(sqlite_url(Path(tmp)))
        store.migrate()
        node_id = store.node_id("bench-serials")
        save_user(store, "op", "Operator", ["operator", "supervisor", "quality"], token)
        service = Service(store, node_id).start()
        who: dict[str, Any] = {"actor": "bench", "actor_roles": frozenset({"admin"})}
        service.handle(c.DefineItem(idempotency_key="i", item="PUMP", description="Pump", unit="pcs", revision="B",
                                    serialised=True, **who))
        for wo in ("WO-S", "WO-P"):
            service.handle(c.ReleaseWorkOrder(
                idempotency_key=wo, work_order=wo, item="PUMP", item_revision="B", bom_revision="1",
                quantity=Decimal(100_000), operations=(c.OperationSpec(operation=10, description="Test",
                                                                       workstation="WS-1"),), **who))
        service.handle(c.DefineWorkInstruction(
            idempotency_key="wi", item="PUMP", operation=10, revision="1", item_revision="B", title="Test",
            steps=(c.InstructionStepSpec(step=1, kind="measure", lsl=Decimal("9.5"), usl=Decimal("10.5"), unit="bar"),
                   c.InstructionStepSpec(step=2, kind="check")), **who))
        for i in range(n + 10):
            service.handle(c.SerialiseUnit(idempotency_key=f"u{i}", work_order="WO-S", operation=10, **who))
        service.handle(c.StartOperation(idempotency_key="start", work_order="WO-P", operation=10, **who))

        class _Node:
            pass

        node: Any = _Node()
        node.store, node.service, node.node_id = store, service, node_id
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(node), host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                  headers={"Authorization": f"Bearer {token}"})
            rng = random.Random(5)
            steps, posts, simple = [], [], []
            for i in range(n + 10):  # the first ten warm up
                sn = f"WO-S-{i + 1:04d}"
                shown = datetime.now(UTC) - timedelta(seconds=20)
                t0 = time.perf_counter()
                r = client.post("/api/v1/work-orders/WO-S/operations/10/steps", headers={
                    "Idempotency-Key": secrets.token_hex(8)}, json={
                    "instruction_revision": "1", "step": 1, "serial": sn,
                    "value": f"{rng.uniform(9.4, 10.6):.2f}", "started_at": shown.isoformat()})
                t1 = time.perf_counter()
                assert r.status_code == 201 and "passed" in r.json()["step"], r.text
                client.get("/api/v1/work-orders/WO-S/operations/10/instruction",
                           params={"serial": sn}).raise_for_status()
                t2 = time.perf_counter()
                if i >= 10:
                    steps.append((t1 - t0) * 1000)
                    posts.append((t2 - t0) * 1000)
                t0 = time.perf_counter()
                client.post("/api/v1/work-orders/WO-P/operations/10/production", headers={
                    "Idempotency-Key": secrets.token_hex(8)}, json={"good": 1}).raise_for_status()
                if i >= 10:
                    simple.append((time.perf_counter() - t0) * 1000)
            client.close()
        finally:
            server.should_exit = True
            thread.join(10)
            service.stop()
            store.close()
    print(f"a captured step answered with its verdict: p95 {p95(steps):.1f} ms (with the page's refresh of the "
          f"steps after it {p95(posts):.1f} ms); a simple POST p95 {p95(simple):.1f} ms", flush=True)
    figure("step_feedback_p95_ms", p95(steps), "ms")
    figure("step_with_refresh_p95_ms", p95(posts), "ms")
    figure("simple_post_p95_ms", p95(simple), "ms")
    figure("step_feedback_vs_simple_post", p95(steps) / p95(simple), "x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    trace_figures(args.units, random.Random(3))
    feedback_figures(args.steps)
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value:.2f} {unit}")


if __name__ == "__main__":
    main()
