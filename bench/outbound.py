"""Outbound benchmark: wave planning and line-side replenishment. ``python -m bench.outbound [--json FILE]``.

A plant in memory (built through ``decide`` + ``evolve``, the rules that build it exercised too): 400 items, 600
bins in four storage zones with a walk sequence, 4,000 lots (three bins each for a tenth of them) with expiries, and
1,000 sales orders of 10 lines each for 200 customers (half of them needing 60 % of an item's shelf life left).

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``wave_plan_10k_lines_ms``: ``edge.domain.picking.plan_waves`` over the 10,000 open order lines, grouped by zone,
  lots chosen FEFO within each customer's shelf life, every wave's walk ordered; median of 7 runs. Goal ≤ 500 ms.
- ``kitting_pick_lists_10k_lines_ms`` (baseline, same run): the kitting pick lists (``pick_list``) of 50 work orders
  of 200 BOM lines each over the same stock: the same FEFO walk for as many lines. ``wave_plan_vs_kitting`` is the
  ratio, the figure that means the same on any host.
- ``replenishment_trigger_ms``: an issue to a work order from a line-side bin that takes it below its minimum,
  through the one write path (``Service.handle``: decide, the replenishment task raised in the same command,
  journal and projections committed to SQLite); median of 200. Goal ≤ 5 ms in process.
- ``consumption_without_replenishment_ms`` (baseline, same run): the same issue from a bin with no line-side rule.
  ``replenishment_vs_plain`` is the ratio.
- ``replenishment_decide_ms`` / ``consumption_decide_ms``: the same two, decided only (``decide`` on the plant in
  memory of the first figures, the rules without the store's commit), median of 2,000.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from edge.domain import PlantState, decide, evolve
from edge.domain import commands as c
from edge.domain.picking import pick_list, plan_waves

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
TODAY = NOW.date()
WHO: dict[str, Any] = {"actor": "bench", "actor_roles": frozenset({"admin"})}
ITEMS, BINS, LOTS, ORDERS, LINES_PER_ORDER, CUSTOMERS = 400, 600, 4000, 1000, 10, 200


class _Keys:
    n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"k{self.n}"


def _do(state: PlantState, cmd: c.Command, now: datetime = NOW) -> None:
    for ev in decide(state, cmd, now):
        evolve(state, ev)


def plant(seed: int = 23) -> PlantState:
    rng = random.Random(seed)
    key = _Keys()
    state = PlantState()
    for i in range(ITEMS):
        _do(state, c.DefineItem(idempotency_key=key(), item=f"IT-{i:04d}", description="", unit="pcs", revision="A",
                                **WHO))
    for b in range(BINS):
        _do(state, c.DefineBin(idempotency_key=key(), bin=f"B-{b:04d}", zone=f"Z{b % 4}",
                               walk_sequence=rng.randrange(100_000), **WHO))
    _do(state, c.DefineBin(idempotency_key=key(), bin="PACK", zone="ship", **WHO))
    _do(state, c.DefineBin(idempotency_key=key(), bin="KIT", zone="line", **WHO))
    earlier = NOW - timedelta(days=10)
    for n in range(LOTS):
        lot = f"L-{n:05d}"
        _do(state, c.ReceiveLot(idempotency_key=key(), lot=lot, item=f"IT-{n % ITEMS:04d}", item_revision=None,
                                quantity=Decimal(rng.randrange(20, 400)), bin=f"B-{rng.randrange(BINS):04d}",
                                expiry=TODAY + timedelta(days=rng.randrange(5, 400)), **WHO), earlier)
        if n % 10 == 0:
            for _ in range(2):
                _do(state, c.MoveStock(idempotency_key=key(), lot=lot, from_bin=min(state.bins_of_lot[lot]),
                                       to_bin=f"B-{rng.randrange(BINS):04d}", quantity=Decimal(5), **WHO), earlier)
    for n in range(CUSTOMERS):
        _do(state, c.DefineCustomer(idempotency_key=key(), customer=f"C-{n:03d}", name=f"Customer {n}", **WHO))
    for n in range(ORDERS):
        _do(state, c.DefineSalesOrder(idempotency_key=key(), sales_order=f"SO-{n:05d}",
                                      customer=f"C-{n % CUSTOMERS:03d}", **WHO, lines=tuple(
            c.SalesOrderLineSpec(line=i + 1, item=f"IT-{rng.randrange(ITEMS):04d}",
                                 quantity=Decimal(rng.randrange(1, 30)), due=TODAY + timedelta(days=rng.randrange(3)))
            for i in range(LINES_PER_ORDER))))
    for n in range(50):
        _do(state, c.ReleaseWorkOrder(
            idempotency_key=key(), work_order=f"WO-{n:03d}", item="IT-0000", item_revision="A", bom_revision="1",
            quantity=Decimal(1), operations=(c.OperationSpec(operation=10, description="", workstation="WS"),),
            bom=tuple(c.BomLineSpec(line=i + 1, item=f"IT-{(n * 7 + i) % ITEMS:04d}", item_revision="A",
                                    quantity_per=Decimal(rng.randrange(1, 30))) for i in range(200)), **WHO))
    return state


def _median_ms(run: Any, times: int) -> float:
    found = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        found.append((time.perf_counter() - started) * 1000)
    return statistics.median(found)


def wave_figures() -> list[tuple[str, float, str]]:
    state = plant()
    lines = list(state.sales_order_lines)
    assert len(lines) == ORDERS * LINES_PER_ORDER
    pct = {f"C-{n:03d}": Decimal(60) for n in range(0, CUSTOMERS, 2)}
    days = {f"IT-{i:04d}": 365 for i in range(ITEMS)}
    plans = plan_waves(state, lines, TODAY, group_by="zone", min_shelf_life_pct=pct, shelf_life_days=days)
    assert len(plans) >= 4 and sum(len(p.picks) for p in plans) > ORDERS * LINES_PER_ORDER // 2
    wave_ms = _median_ms(lambda: plan_waves(state, lines, TODAY, group_by="zone", min_shelf_life_pct=pct,
                                            shelf_life_days=days), 7)
    orders = [f"WO-{n:03d}" for n in range(50)]
    kit_ms = _median_ms(lambda: [pick_list(state, wo, "KIT", TODAY) for wo in orders], 7)
    return [("wave_plan_10k_lines_ms", wave_ms, "ms"), ("kitting_pick_lists_10k_lines_ms", kit_ms, "ms"),
            ("wave_plan_vs_kitting", wave_ms / kit_ms, "ratio"), *decide_figures(state)]


def decide_figures(state: PlantState) -> list[tuple[str, float, str]]:
    """An issue that takes a line-side bin below its minimum, and one from a bin without a rule, decided only."""
    key = _Keys()
    for code in ("LINE-A", "LINE-B"):
        _do(state, c.DefineBin(idempotency_key=key(), bin=code, zone="line", **WHO))
        source = max(sorted(b for b in state.bins_of_lot["L-00000"] if b.startswith("B-")),
                     key=lambda b: state.stock_of("L-00000", b))
        _do(state, c.MoveStock(idempotency_key=key(), lot="L-00000", from_bin=source, to_bin=code,
                               quantity=Decimal(5), **WHO))
    _do(state, c.DefineLineSideBin(idempotency_key=key(), bin="LINE-A", item="IT-0000", minimum=Decimal(4),
                                   maximum=Decimal(10), source_zone="Z0", **WHO))
    _do(state, c.ReleaseWorkOrder(
        idempotency_key=key(), work_order="WO-LINE", item="IT-0001", item_revision="A", bom_revision="1",
        quantity=Decimal(100), operations=(c.OperationSpec(operation=10, description="", workstation="WS"),),
        bom=(c.BomLineSpec(line=1, item="IT-0000", item_revision="A", quantity_per=Decimal(1)),), **WHO))
    found = []
    for bin_code in ("LINE-A", "LINE-B"):
        issue = c.IssueToWorkOrder(idempotency_key=key(), work_order="WO-LINE", lot="L-00000", bin=bin_code,
                                   quantity=Decimal(2), **WHO)
        events = decide(state, issue, NOW)
        assert (type(events[-1]).__name__ == "ReplenishmentRaised") == (bin_code == "LINE-A"), events
        found.append(_median_ms(lambda asked=issue: decide(state, asked, NOW), 2000))
    return [("replenishment_decide_ms", found[0], "ms"), ("consumption_decide_ms", found[1], "ms")]


def replenishment_figures(folder: Path, runs: int = 200) -> list[tuple[str, float, str]]:
    from edge.service import Service
    from edge.store import Store, sqlite_url

    store = Store(sqlite_url(folder))
    store.migrate()
    store.node_id("bench-outbound")
    service = Service(store, "bench-outbound").start()
    key = _Keys()
    try:
        for item in ("PUMP", "LID"):
            service.handle(c.DefineItem(idempotency_key=key(), item=item, description="", unit="pcs", revision="A",
                                        **WHO))
        for code, zone in (("A-01", "storage"), ("LINE-1", "line"), ("LINE-2", "line")):
            service.handle(c.DefineBin(idempotency_key=key(), bin=code, zone=zone, **WHO))
        service.handle(c.ReceiveLot(idempotency_key=key(), lot="L-STORE", item="LID", item_revision=None,
                                    quantity=Decimal(10_000_000), bin="A-01", **WHO))
        for target in ("LINE-1", "LINE-2"):
            service.handle(c.MoveStock(idempotency_key=key(), lot="L-STORE", from_bin="A-01", to_bin=target,
                                       quantity=Decimal(100), **WHO))
        service.handle(c.DefineLineSideBin(idempotency_key=key(), bin="LINE-1", item="LID", minimum=Decimal(50),
                                           maximum=Decimal(100), source_zone="storage", **WHO))
        service.handle(c.ReleaseWorkOrder(
            idempotency_key=key(), work_order="WO-1", item="PUMP", item_revision="A", bom_revision="1",
            quantity=Decimal(1_000_000), operations=(c.OperationSpec(operation=10, description="", workstation="WS"),),
            bom=(c.BomLineSpec(line=1, item="LID", item_revision="A", quantity_per=Decimal(1)),), **WHO))
        trigger, plain = [], []
        for _ in range(runs):
            issue = c.IssueToWorkOrder(idempotency_key=key(), work_order="WO-1", lot="L-STORE", bin="LINE-1",
                                       quantity=Decimal(60), **WHO)
            started = time.perf_counter()
            recorded = service.handle(issue)
            trigger.append((time.perf_counter() - started) * 1000)
            assert recorded.events[-1]["type"] == "ReplenishmentRaised", recorded.events
            task = recorded.events[-1]["subject"].removeprefix("replenishment:")
            service.handle(c.CompleteReplenishment(idempotency_key=key(), task=task, lot="L-STORE", from_bin="A-01",
                                                   quantity=Decimal(60), **WHO))
            issue = c.IssueToWorkOrder(idempotency_key=key(), work_order="WO-1", lot="L-STORE", bin="LINE-2",
                                       quantity=Decimal(60), **WHO)
            started = time.perf_counter()
            recorded = service.handle(issue)
            plain.append((time.perf_counter() - started) * 1000)
            service.handle(c.MoveStock(idempotency_key=key(), lot="L-STORE", from_bin="A-01", to_bin="LINE-2",
                                       quantity=Decimal(60), **WHO))
    finally:
        service.stop()
        store.close()
    with_task, without = statistics.median(trigger), statistics.median(plain)
    return [("replenishment_trigger_ms", with_task, "ms"), ("consumption_without_replenishment_ms", without, "ms"),
            ("replenishment_vs_plain", with_task / without, "ratio")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = wave_figures()
    with tempfile.TemporaryDirectory() as folder:
        figures += replenishment_figures(Path(folder))
    if args.json:
        args.json.write_text(json.dumps({name: value for name, value, _ in figures}, indent=2))
    for name, value, unit in figures:
        print(f"FIGURE {name} {value:.3f} {unit}", flush=True)


if __name__ == "__main__":
    main()
