"""Rework and CAPA reads: the line view's overdue CAPA actions, a trace through lot splits, and a re-inspection's
look-up of its rework, each beside a baseline of the same kind of work measured in the same run.

    python -m bench.capa                  # 100,000 CAPA actions, 100,000 split sub-lots, 20,000 reworks
    python -m bench.capa --scale 0.2      # smaller

Issue 21 names no figure for this half; these keep its new reads fast. The store is a real node store (schema by the
migrations); CAPA actions and splits are written straight into their tables in the shape the write path gives them,
because this measures reading.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``capa_overdue_read_ms``: the line view's read of overdue CAPA actions (edge.store.capa.overdue_actions) with
  100,000 actions of which 1% are overdue, median of 50; ``capa_overdue_baseline_ms``: the same rows read plainly by
  their primary keys with ``sqlite3`` (no filter, no join, no order), median of 50; ``capa_overdue_vs_read`` the ratio.
- ``split_trace_ms``: a forward trace (edge.store.trace) from a lot split into sub-lots, split again, over 100,000
  split rows, median of 50; ``split_trace_baseline_ms``: a forward trace from a lot with no split in the same store;
  ``split_trace_vs_plain`` the ratio.
- ``reinspection_decide_us``: deciding a re-inspection sample (RecordInspection finding its open rework) in a state with
  20,000 reworks, median of 200; ``inspection_decide_us``: the same sample of a plan without rework (baseline);
  ``reinspection_vs_inspection`` the ratio.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from edge.domain import PlantState, decide
from edge.domain import commands as c
from edge.domain.model import Characteristic, InspectionPlan, InspectionTask, Lot, Rework
from edge.store import Store, schema, sqlite_url
from edge.store.capa import overdue_actions
from edge.store.trace import trace

T = schema.ENTITY_TABLES
AT = datetime(2026, 11, 1, tzinfo=UTC)
TODAY = date(2026, 12, 1)


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build(store: Store, actions: int, splits: int) -> None:
    capas = actions // 5
    capa_rows: list[dict[str, object]] = [
        {"capa": f"CAPA-{i}", "problem": "burrs", "ncrs": [], "status": "open", "containment": "", "opened_by": "bench",
         "opened_at": AT, "root_cause": "", "whys": [], "fishbone": None, "effective": None, "effectiveness": "",
         "closed_at": None} for i in range(capas)]
    action_rows = []
    for i in range(actions):
        overdue = i % 100 == 0
        done = not overdue and i % 3 == 0
        action_rows.append({"capa": f"CAPA-{i // 5}", "action": i % 5 + 1, "kind": "corrective", "description": "fix",
                            "owner": "kees", "due": TODAY - timedelta(days=3) if overdue or done else
                            TODAY + timedelta(days=30), "status": "done" if done else "open", "done_by": None,
                            "done_at": None, "result": ""})
    lots, split_rows = [], []
    parents = [f"P-{i}" for i in range(splits // 4)]
    for p in parents:
        lots.append(p)
        for k in range(2):
            child = f"{p}-{k}"
            lots.append(child)
            split_rows.append({"parent": p, "lot": child})
            for g in range(1):
                grandchild = f"{child}-{g}"
                lots.append(grandchild)
                split_rows.append({"parent": child, "lot": grandchild})
    lots.append("PLAIN-1")
    lot_rows = [{"lot": name, "item": "HOUSING", "item_revision": "A", "quantity": Decimal(10), "status": "available",
                 "expiry": None, "supplier_lot": None, "status_before_hold": None, "work_order": None} for name in lots]
    with store.engine.begin() as conn:
        for table, rows in ((T["capas"].table, capa_rows), (T["capa_actions"].table, action_rows),
                            (T["lots"].table, lot_rows)):
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(table), rows[start:start + 20_000])
        history = [{"seq": i + 1, "parent": r["parent"], "lot": r["lot"], "item": "HOUSING", "quantity": Decimal(5),
                    "verdict": "accepted", "samples": 1, "failed": 0, "task": None, "actor": "bench", "at": AT}
                   for i, r in enumerate(split_rows)]
        for start in range(0, len(history), 20_000):
            conn.execute(insert(schema.lot_splits), history[start:start + 20_000])


def decide_state(reworks: int) -> PlantState:
    """A state with ``reworks`` reworks (one open on lot L-OPEN) and a plan RE without rework on lot L-PLAIN."""
    state = PlantState()
    for name in ("RE", "PLAIN"):
        state.inspection_plans[name] = InspectionPlan(
            plan=name, description=name, item=None, operation=None, hold_on_fail=False, sample_size=2)
        state.characteristics[(name, "ok")] = Characteristic(plan=name, characteristic="ok", kind="attribute",
                                                             nominal=None, lsl=None, usl=None, unit="")
    for name in ("L-OPEN", "L-PLAIN"):
        state.lots[name] = Lot(lot=name, item="HOUSING", item_revision="A", quantity=Decimal(10), status="hold")
    for i in range(reworks):
        open_ = i == reworks - 1
        subject = "lot:L-OPEN" if open_ else f"lot:X-{i}"
        state.reworks[f"RW-N{i}"] = Rework(rework=f"RW-N{i}", ncr=f"N{i}", mode="operations", work_order=f"WO-{i}",
                                           operations=(), subjects=(subject,), task=f"RWK-N{i}", plan="RE",
                                           status="open" if open_ else "passed", opened_by="bench", opened_at=AT)
        state.inspection_tasks[f"RWK-N{i}"] = InspectionTask(
            task=f"RWK-N{i}", kind="rework", plan="RE", status="open" if open_ else "passed", sample_size=2,
            samples=0, failed=0, opened_at=AT)
    state.reindex()
    return state


def _decide_us(state: PlantState, plan: str, lot: str, runs: int) -> float:
    cmd = c.RecordInspection(idempotency_key="k", actor="bench", actor_roles=frozenset({"quality"}), inspection="I-1",
                             plan=plan, lot=lot, measurements=(c.Measurement(characteristic="ok", passed=True),))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        decide(state, cmd, AT)
        times.append((time.perf_counter() - start) * 1_000_000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    actions, splits, reworks = int(100_000 * args.scale), int(100_000 * args.scale), int(20_000 * args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(sqlite_url(Path(tmp)))
        store.migrate()
        began = time.perf_counter()
        build(store, actions, splits)
        print(f"built {actions} CAPA actions and {splits} split rows in {time.perf_counter() - began:.1f} s")
        with store.engine.connect() as conn:
            found = overdue_actions(conn, TODAY)
            overdue_ms = _median_ms(lambda: overdue_actions(conn, TODAY), 50)
            forward = trace(conn, "P-7", "forward")
            split_ms = _median_ms(lambda: trace(conn, "P-7", "forward"), 50)
            plain_ms = _median_ms(lambda: trace(conn, "PLAIN-1", "forward"), 50)
        keys = [(a["capa"], a["action"]) for a in found]
        raw = sqlite3.connect(str(Path(tmp) / "takt.sqlite"))
        marks = ", ".join("(?, ?)" for _ in keys)
        flat = [x for k in keys for x in k]

        def plain_read() -> object:
            return raw.execute(f"SELECT * FROM capa_actions WHERE (capa, action) IN (VALUES {marks})", flat).fetchall()

        baseline_ms = _median_ms(plain_read, 50)
        raw.close()
        store.close()
    assert len(forward["splits"]) == 4, forward["splits"]
    state = decide_state(reworks)
    reinspection_us = _decide_us(state, "RE", "L-OPEN", 200)
    inspection_us = _decide_us(state, "PLAIN", "L-PLAIN", 200)
    print(f"{len(found)} overdue actions; trace of P-7 reached {len(forward['lots'])} lots")
    print(f"FIGURE capa_overdue_read_ms {overdue_ms:.2f} ms")
    print(f"FIGURE capa_overdue_baseline_ms {baseline_ms:.2f} ms")
    print(f"FIGURE capa_overdue_vs_read {overdue_ms / baseline_ms:.2f} x")
    print(f"FIGURE split_trace_ms {split_ms:.2f} ms")
    print(f"FIGURE split_trace_baseline_ms {plain_ms:.2f} ms")
    print(f"FIGURE split_trace_vs_plain {split_ms / plain_ms:.2f} x")
    print(f"FIGURE reinspection_decide_us {reinspection_us:.1f} us")
    print(f"FIGURE inspection_decide_us {inspection_us:.1f} us")
    print(f"FIGURE reinspection_vs_inspection {reinspection_us / inspection_us:.2f} x")


if __name__ == "__main__":
    main()
