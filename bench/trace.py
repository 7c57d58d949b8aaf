"""Traceability figure: forward and backward traces over a store with 1,000,000 moves.

    python -m bench.trace                 # 1,000,000 moves
    python -m bench.trace --moves 200000  # smaller

The store is a real node store (schema by the migrations); its history is written straight into the tables in the
shape the write path gives them (receipts, moves between bins, issues to work orders, produced lots), because
this measures reading, and recording a million moves through the write path would take minutes. The genealogy is a
plant's: 20,000 work orders over five levels (components -> sub-assemblies -> ... -> finished goods), each taking
a few lots and producing one; the rest of the million are receipts and bin-to-bin moves.

- ``trace_1m_moves_ms``: median (and p95) of a forward trace from a component lot and a backward trace from a
  finished lot (goal <= 50 ms);
- baseline in the same run: reading one lot's moves (``GET /api/v1/lots/{lot}/moves``'s query).
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

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
            base = timed(lambda lot: conn.execute(select(schema.moves).where(schema.moves.c.lot == lot)).all(),
                         sample_c)
            depth = max(x["depth"] for x in trace(conn, sample_f[0], "backward")["lots"])
        store.close()
    both = sorted(forward + backward)
    print(f"forward median {statistics.median(forward):.1f} ms, backward median {statistics.median(backward):.1f} ms "
          f"(backward depth {depth}); one lot's moves {statistics.median(base):.2f} ms")
    print(f"FIGURE trace_1m_moves_ms {statistics.median(both):.1f}  (p95 {both[int(len(both) * 0.95)]:.1f}; "
          f"goal <= 50; baseline one lot's moves {statistics.median(base):.2f})")


if __name__ == "__main__":
    main()
