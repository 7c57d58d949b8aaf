"""Preventive maintenance benchmark: the due check of every plan of 1,000 machines after a counter update.
``python -m bench.maintenance [--json FILE]``.

A plant state (edge.domain, built through ``decide`` + ``evolve``) holds 1,000 machines on 1,000 workstations, each
with four plans (every 30 days, every 50,000 cycles, every 40,000 good parts, every 500 run hours), a running
state and production counted. One round: a production report on one machine is applied (the maintenance context's ``evolve``
of it: the machine's counters move), that machine's counters are taken into the index's table, and every plan of every machine is
checked for being due (``edge.domain.maintenance.DueIndex.due``).

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``pm_due_eval_ms``: one round as above, median of 200 rounds. Goal ≤ 5 ms.
- ``pm_due_eval_baseline_ms``: the same check done the plain way in the same run (the report applied, then
  ``due_plans``: every plan's use computed with its Decimal arithmetic, as the API's due list does it), median of
  20 rounds; ``pm_due_eval_vs_baseline`` is the ratio, the figure that means the same on any host.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from edge.domain import PlantState
from edge.domain import events as e
from edge.domain.contexts import maintenance
from edge.domain.maintenance import DueIndex, counter_of, due_plans
from edge.domain.model import Equipment, MachineState, MachineUsage, MaintenancePlan

MACHINES = 1000
START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
PLANS = (("calendar", Decimal(30)), ("cycles", Decimal(50_000)), ("parts", Decimal(40_000)),
         ("run_hours", Decimal(500)))


def plant() -> PlantState:
    state = PlantState()
    for i in range(MACHINES):
        code, ws = f"M-{i:04d}", f"WS-{i:04d}"
        state.equipment[code] = Equipment(code, ws)
        state.machine_states[code] = MachineState(code, "running", None, START - timedelta(hours=i % 50))
        state.machine_usage[code] = MachineUsage(code, Decimal(i * 37), Decimal(i * 35), Decimal(i * 1800),
                                                 START - timedelta(hours=i % 50))
        for kind, interval in PLANS:
            plan = f"PM-{code}-{kind}"
            state.maintenance_plans[plan] = MaintenancePlan(
                plan=plan, equipment=code, description=kind, kind=kind, interval=interval, blocks_start=True,
                overdue_after_pct=Decimal(10), last_done_at=START - timedelta(days=i % 40), usage_at_done=Decimal(0))
    return state


def counters(state: PlantState, code: str, now: datetime) -> tuple[float, float, float]:
    usage = state.machine_usage[code]
    return float(usage.cycles), float(usage.parts), float(counter_of("run_hours", usage, now) * 3600)


def report(i: int) -> e.ProductionReported:
    return e.ProductionReported(work_order="WO-1", operation=10, workstation=f"WS-{i % MACHINES:04d}",
                                good=Decimal(3), scrap=Decimal(1), scrap_reason="bench", at=START)


def evolve(state: PlantState, ev: e.ProductionReported) -> None:
    """The counter update as the maintenance context applies it (the production context's own part, the
    operation's quantities, is not what is measured here)."""
    maintenance.EVOLVERS[e.ProductionReported](state, ev)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    state = plant()
    now = START + timedelta(hours=1)
    index = DueIndex(state.maintenance_plans.values())
    table = {code: counters(state, code, now) for code in state.equipment}
    due_fast: list[str] = []
    fast: list[float] = []
    for i in range(200):
        started = time.perf_counter()
        ev = report(i)
        evolve(state, ev)
        code = f"M-{i % MACHINES:04d}"
        table[code] = counters(state, code, now)
        due_fast = index.due(table, now.timestamp())
        fast.append((time.perf_counter() - started) * 1000)
        state.take_dirty()
    slow: list[float] = []
    due_slow: list[str] = []
    for i in range(20):
        started = time.perf_counter()
        evolve(state, report(200 + i))
        due_slow = [s.plan for s in due_plans(state.maintenance_plans.values(), state.machine_usage, now)]
        slow.append((time.perf_counter() - started) * 1000)
        state.take_dirty()
    table = {code: counters(state, code, now) for code in state.equipment}
    assert sorted(index.due(table, now.timestamp())) == sorted(due_slow), "the index and the plain check differ"
    fig: dict[str, Any] = {
        "pm_due_eval_ms": round(statistics.median(fast), 3),
        "pm_due_eval_baseline_ms": round(statistics.median(slow), 3),
    }
    fig["pm_due_eval_vs_baseline"] = round(fig["pm_due_eval_ms"] / fig["pm_due_eval_baseline_ms"], 4)
    print(f"{MACHINES} machines, {len(state.maintenance_plans)} plans, {len(due_fast)} due after the last update")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))
    units = {"pm_due_eval_ms": "ms", "pm_due_eval_baseline_ms": "ms", "pm_due_eval_vs_baseline": "ratio"}
    for name, value in fig.items():
        print(f"FIGURE {name} {value} {units[name]}")


if __name__ == "__main__":
    main()
