"""SPC figure: judging a new result against its characteristic's control chart, as the write path does.

    python -m bench.spc

- ``spc_eval_ms``: the Western Electric rules for one new result over the latest 50 (the window the write path
  judges), median and p99 over many results (goal: <= 1 ms);
- ``spc_decide_ms``: a whole inspection through the pure domain's ``decide`` with SPC, and the same inspection on a
  characteristic without a baseline yet (no SPC: the baseline) measured in the same run;
- ``spc_chart_ms``: limits, rules and Cp/Cpk of a 50-point chart from scratch (what the API computes per request).
"""
from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from edge.domain import commands as c
from edge.domain import decide, evolve
from edge.domain.plant import PlantState
from edge.domain.spc import WINDOW, capability, individuals_limits, western_electric

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
ROLES = frozenset({"admin", "quality"})


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def plant(with_baseline: bool) -> PlantState:
    state = PlantState()
    for ev in decide(state, c.DefineInspectionPlan(
            idempotency_key="p", actor="a", actor_roles=ROLES, plan="P", description="shaft", characteristics=(
                c.CharacteristicSpec(characteristic="d", kind="numeric", nominal=Decimal(20), lsl=Decimal("19.9"),
                                     usl=Decimal("20.1")),)), NOW):
        evolve(state, ev)
    rng = random.Random(1)
    for i in range(100 if with_baseline else 0):
        cmd = c.RecordInspection(idempotency_key=f"k{i}", actor="a", actor_roles=ROLES, inspection=f"I{i}", plan="P",
                                 measurements=(c.Measurement(characteristic="d",
                                                             value=Decimal(str(round(rng.gauss(20, 0.01), 4)))),))
        for ev in decide(state, cmd, NOW):
            evolve(state, ev)
    return state


def main() -> None:
    rng = random.Random(7)
    baseline = [rng.gauss(20, 0.01) for _ in range(25)]
    limits = individuals_limits(baseline)
    window = [rng.gauss(20, 0.01) for _ in range(WINDOW - 1)]
    evals = timed(lambda: western_electric([*window, rng.gauss(20, 0.01)], limits, only_last=True), 20_000)
    chart = timed(lambda: (western_electric(window, individuals_limits(baseline)),
                           capability(limits, 19.9, 20.1)), 2_000)
    probe = c.RecordInspection(idempotency_key="probe", actor="a", actor_roles=ROLES, inspection="probe", plan="P",
                               measurements=(c.Measurement(characteristic="d", value=Decimal("20.003")),))
    with_spc, without = plant(True), plant(False)
    judged = timed(lambda: decide(with_spc, probe, NOW), 5_000)
    plain = timed(lambda: decide(without, probe, NOW), 5_000)
    print(f"FIGURE spc_eval_ms {evals[0]:.4f}  (p99 {evals[1]:.4f}; goal <= 1)")
    print(f"FIGURE spc_decide_ms {judged[0]:.4f}  (p99 {judged[1]:.4f}; baseline without SPC {plain[0]:.4f})")
    print(f"FIGURE spc_chart_ms {chart[0]:.4f}  (p99 {chart[1]:.4f})")


if __name__ == "__main__":
    main()
