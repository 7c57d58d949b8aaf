"""The central simulator's MRP (explosion, netting) and APS (sequencing by due date and family) as pure functions."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest

from simulators.erp.planning import (
    Demand,
    OperationToSequence,
    PlannedItem,
    PlanningError,
    low_level_codes,
    plan_requirements,
    sequence_operations,
    sequence_workstation,
)

ITEMS = {
    "BIKE": PlannedItem("BIKE", "make", lead_time_days=2, bom_revision="B"),
    "WHEEL": PlannedItem("WHEEL", "make", lead_time_days=1, bom_revision="A"),
    "FRAME": PlannedItem("FRAME", "buy", supplier="ACME"),
    "SPOKE": PlannedItem("SPOKE", "buy", supplier="SPOKES-R-US"),
}
BOM = {"BIKE": [("FRAME", D(1)), ("WHEEL", D(2)), ("SPOKE", D(4))], "WHEEL": [("SPOKE", D(32))]}


def test_low_level_codes_put_every_component_below_all_its_parents() -> None:
    codes = low_level_codes(list(ITEMS), BOM)
    assert codes == {"BIKE": 0, "WHEEL": 1, "FRAME": 1, "SPOKE": 2}


def test_a_bom_cycle_is_refused_naming_the_path() -> None:
    with pytest.raises(PlanningError, match="BOM cycle: A -> B -> A"):
        low_level_codes(["A", "B"], {"A": [("B", D(1))], "B": [("A", D(1))]})


def test_explosion_nets_every_level_against_stock_and_receipts() -> None:
    demands = [Demand("BIKE", D(10), date(2026, 12, 20), "SO-1/1"), Demand("BIKE", D(5), date(2026, 12, 10), "SO-2/1")]
    result = plan_requirements(demands, ITEMS, BOM, on_hand={"BIKE": D(3), "SPOKE": D(100), "WHEEL": D(4)},
                               scheduled_receipts={"FRAME": D(2)})
    planned = {p.item: p for p in result.planned}
    # 15 bikes wanted, 3 in stock -> make 12, due at the earliest sales order's date
    assert planned["BIKE"].quantity == 12 and planned["BIKE"].due == date(2026, 12, 10)
    assert planned["BIKE"].source == "make" and planned["BIKE"].bom_revision == "B"
    assert planned["BIKE"].pegged_to == ("SO-1/1", "SO-2/1")
    # components needed the bike's lead time (2 days) before it is due
    assert planned["WHEEL"].quantity == 24 - 4 and planned["WHEEL"].due == date(2026, 12, 8)
    assert planned["FRAME"].quantity == 12 - 2 and planned["FRAME"].supplier == "ACME"
    # spokes: 4 per bike (48) and 32 per wheel made (640), minus 100 in stock; due a day before the wheels
    assert planned["SPOKE"].quantity == 48 + 640 - 100 and planned["SPOKE"].due == date(2026, 12, 7)
    assert result.netting["SPOKE"] == {"gross": "688", "on_hand": "100", "scheduled": "0", "net": "588"}


def test_nothing_is_planned_when_stock_and_open_orders_cover_the_demand() -> None:
    result = plan_requirements([Demand("BIKE", D(10), None, "SO-1/1")], ITEMS, BOM, on_hand={"BIKE": D(4)},
                               scheduled_receipts={"BIKE": D(6)})
    assert result.planned == []
    assert result.netting["BIKE"]["net"] == "0"


def test_a_made_item_without_a_bom_revision_cannot_be_planned() -> None:
    items = {**ITEMS, "BIKE": PlannedItem("BIKE", "make")}
    with pytest.raises(PlanningError, match="BIKE is made but has no released BOM revision"):
        plan_requirements([Demand("BIKE", D(1), None, "SO-1/1")], items, BOM, {}, {})


START = datetime(2026, 12, 1, 6, 0)


def op(wo: str, family: str, due_day: int | None, minutes: int = 60, ws: str = "WS-1") -> OperationToSequence:
    return OperationToSequence(wo, 10, ws, family, date(2026, 12, due_day) if due_day else None, D(minutes))


def test_aps_groups_a_family_when_the_earliest_due_order_stays_on_time() -> None:
    ops = [op("WO-1", "red", 1), op("WO-2", "blue", 3), op("WO-3", "red", 5), op("WO-4", "blue", 4)]
    seq = sequence_workstation(ops, START, timedelta(minutes=30))
    # red first (earliest due); the other red goes next because blue's due dates still hold after it
    assert [s.work_order for s in seq] == ["WO-1", "WO-3", "WO-2", "WO-4"]
    assert not any(s.late for s in seq)
    # a changeover is counted only when the family changes
    assert seq[1].start == seq[0].end and seq[2].start == seq[1].end + timedelta(minutes=30)


def test_aps_keeps_due_date_order_when_grouping_would_make_an_order_late() -> None:
    # WO-2 (blue) is due on day 1: 20 h of red first would make it late
    ops = [op("WO-1", "red", 1, 60), op("WO-2", "blue", 1, 60), op("WO-3", "red", 9, 1200)]
    seq = sequence_workstation(ops, START, timedelta(minutes=30))
    assert [s.work_order for s in seq] == ["WO-1", "WO-2", "WO-3"]
    assert not seq[1].late


def test_aps_sequences_each_workstation_on_its_own() -> None:
    ops = [op("WO-1", "red", 2, ws="WS-B"), op("WO-2", "red", 1, ws="WS-A"), op("WO-3", "red", 1, ws="WS-B")]
    plan = sequence_operations(ops, START, timedelta(0))
    assert list(plan) == ["WS-A", "WS-B"]
    assert [s.work_order for s in plan["WS-B"]] == ["WO-3", "WO-1"]
    assert plan["WS-B"][0].start == START
