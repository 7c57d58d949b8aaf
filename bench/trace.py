"""Traceability figure: forward and backward traces over a store with 1,000,000 moves.

    python -m bench.trace                 # 1,000,000 moves
    python -m bench.trace --moves 200000  # smaller

The store is a real node store (schema by the migrations); its history is written straight into the tables in the
shape the write path gives them (receipts, moves between bins, issues to work orders, produced lots), because
this measures reading, and recording a million moves through the write path would take minutes. The genealogy is a
plant's: 20,000 work orders over five levels (components -> sub-assemblies -> ... -> finished goods), each taking
a few lots and producing one; the rest of the million are receipts and bin-to-bin moves.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``trace_1m_moves_ms``: median of 50 forward traces from component lots and 50 backward traces from finished
  lots (goal <= 50 ms); ``trace_1m_moves_p95_ms`` their p95.
- ``trace_baseline_read_ms``: the same rows read plainly, measured in this run because these machines differ
  ~3x in speed and are shared: for each traced lot, the rows its trace is made of (the issue, return and produce
  moves of the lots and work orders it reached, and those lots' and orders' rows) read with plain ``sqlite3``, a
  few ``IN (...)`` queries in all, no ORM, no walk level by level, no result built. Median over the same 100 lots.
  ``trace_vs_read`` = trace / read: what the walk costs beyond touching its rows.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from edge.store import Store, schema, sqlite_url
from edge.store.trace import trace

T = schema.ENTITY_TABLES
AT = datetime(2026, 11, 1, tzinfo=UTC)


def build(store: Store, moves: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """Returns (component lots, finished lots)."""
    levels, per_level = 5, 4000
    move_rows: list[dict[str, object]] = []
    lot_rows: list[dict[str, object]] = []
    wo_rows: list[dict[str, object]] = []

    def lot(name: str, item: str, wo: str | None) -> None:
        lot_rows.append({"lot": name, "item": item, "item_revision": "A", "quantity": Decimal(10), "status": "available",
                         "expiry": None, "supplier_lot": None if wo else f"S-{name}", "status_before_hold": None,
                         "work_order": wo})

    def move(name: str, item: str, kind: str, qty: int, wo: str | None = None) -> None:
        move_rows.append({"seq": len(move_rows) + 1, "lot": name, "item": item, "kind": kind, "from_bin": "A",
                          "to_bin": None if kind == "issue" else "B", "quantity": Decimal(qty), "work_order": wo,
                          "bom_line": 1 if kind == "issue" else None, "reason": None, "actor": "bench", "at": AT})

    previous = [f"C-{i}" for i in range(per_level * 3)]  # component lots from suppliers
    for name in previous:
        lot(name, "COMP", None)
        move(name, "COMP", "receive", 10)
    components = list(previous)
    for level in range(levels):
        made = []
        for i in range(per_level):
            wo = f"WO-{level}-{i}"
            wo_rows.append({"work_order": wo, "item": f"L{level}", "item_revision": "A", "bom_revision": "1",
                            "quantity": Decimal(10), "status": "completed", "good": Decimal(10), "scrap": Decimal(0),
                            "overproduction_tolerance_pct": Decimal(0), "due": None,
                            "customer_order": f"SO-{i}" if level == levels - 1 else None,
                            "output_received": Decimal(10)})
            for source in rng.sample(previous, 3):
                move(source, "X", "issue", 2, wo)
            out = f"P-{level}-{i}"
            lot(out, f"L{level}", wo)
            move(out, f"L{level}", "produce", 10, wo)
            made.append(out)
        previous = made
    finished = previous
    names = [r["lot"] for r in lot_rows]
    while len(move_rows) < moves:  # the rest of the history: stock moved about between bins
        move(rng.choice(names), "X", "move", 1)  # type: ignore[arg-type]
    with store.engine.begin() as conn:
        conn.execute(insert(T["lots"].table), lot_rows)
        conn.execute(insert(T["work_orders"].table), wo_rows)
        for i in range(0, len(move_rows), 50_000):
            conn.execute(insert(schema.moves), move_rows[i:i + 50_000])
    return components, finished


LINK_KINDS = ("issue", "return", "produce")


def plain_read(db: sqlite3.Connection, lots: list[str], orders: list[str]) -> int:
    """The rows a trace over ``lots`` and ``orders`` is made of, read with plain sqlite3; returns how many."""
    rows = 0
    kinds = ",".join("?" * len(LINK_KINDS))
    for column, table, keys in (("lot", "moves", lots), ("work_order", "moves", orders), ("lot", "lots", lots),
                                ("work_order", "work_orders", orders)):
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            marks = ",".join("?" * len(part))
            if table == "moves":
                sql = (f"SELECT lot, work_order, kind, quantity FROM moves WHERE {column} IN ({marks}) "
                       f"AND kind IN ({kinds})")
                rows += len(db.execute(sql, (*part, *LINK_KINDS)).fetchall())
            else:
                rows += len(db.execute(f"SELECT * FROM {table} WHERE {column} IN ({marks})", part).fetchall())
    return rows


def timed(fn: object, runs: list[str], *args: object) -> list[float]:
    times = []
    for name in runs:
        t0 = time.perf_counter()
        fn(name, *args)  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(3)
    with tempfile.TemporaryDirectory(prefix="takt-bench-trace-") as tmp:
        store = Store(sqlite_url(Path(tmp)))
        store.migrate()
        started = time.perf_counter()
        components, finished = build(store, args.moves, rng)
        print(f"built {args.moves:,} moves in {time.perf_counter() - started:.1f} s", flush=True)
        sample_c, sample_f = rng.sample(components, 50), rng.sample(finished, 50)
        with store.engine.connect() as conn:
            forward = timed(lambda lot: trace(conn, lot, "forward"), sample_c)
            backward = timed(lambda lot: trace(conn, lot, "backward"), sample_f)
            reached: dict[str, tuple[list[str], list[str]]] = {}
            for lot, direction in [(lot, "forward") for lot in sample_c] + [(lot, "backward") for lot in sample_f]:
                found = trace(conn, lot, direction)  # type: ignore[arg-type]
                reached[lot] = ([x["lot"] for x in found["lots"]], [o["work_order"] for o in found["work_orders"]])
            depth = max(x["depth"] for x in trace(conn, sample_f[0], "backward")["lots"])
        database = store.engine.url.database
        store.close()
        assert database is not None
        db = sqlite3.connect(database)
        try:
            base = timed(lambda lot: plain_read(db, *reached[lot]), sample_c + sample_f)
            rows = sorted(plain_read(db, *reached[lot]) for lot in sample_c + sample_f)
        finally:
            db.close()
    both = sorted(forward + backward)
    median, read = statistics.median(both), statistics.median(base)
    print(f"forward median {statistics.median(forward):.1f} ms, backward median {statistics.median(backward):.1f} ms "
          f"(backward depth {depth}); the same rows read plainly: median {read:.2f} ms "
          f"({rows[len(rows) // 2]} rows, up to {rows[-1]})", flush=True)
    figures = [("trace_1m_moves_ms", median, "ms"), ("trace_1m_moves_p95_ms", both[int(len(both) * 0.95)], "ms"),
               ("trace_baseline_read_ms", read, "ms"), ("trace_vs_read", median / read, "x")]
    for name, value, unit in figures:
        print(f"FIGURE {name} {value:.2f} {unit}")


if __name__ == "__main__":
    main()
