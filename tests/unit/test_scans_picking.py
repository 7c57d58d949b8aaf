"""Kitting by scanning (task pick): work order, the bin of a pick, the lot label, then the staging bin books the pick
to the order; scans out of order are refused with what to scan."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from edge.domain import DomainError, decide
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.scans import LabelPatterns, ScanContext, interpret, with_task

from .plant_helpers import NOW, build_plant

PATTERNS = LabelPatterns({"work_order": r"WO\d+", "bin": r"[A-Z]+\d*(-\d+)*", "lot": r"LOT:(?P<value>.+)"})
FORKLIFT = ScanContext(device="FL-1", task="pick")


def scan(context: ScanContext, text: str) -> tuple[ScanContext, c.Command | None, str]:
    label = PATTERNS.classify(text)
    assert label is not None, text
    outcome = interpret(context, label, idempotency_key=f"scan-{text}", actor="wim", at=NOW)
    return outcome.context, outcome.command, outcome.message


def test_work_order_bin_lot_then_staging_bin_books_a_pick() -> None:
    plant = build_plant()
    plant.do(c.ReceiveLot, lot="L2", item="SCREW", item_revision=None, quantity=Decimal(60), bin="A-02-3")
    context = replace(FORKLIFT, default_quantity=Decimal(20))
    context, _, _ = scan(context, "WO1")
    context, _, message = scan(context, "A-02-3")
    assert message == "location set to bin A-02-3: scan a lot label to pick"
    context, command, message = scan(context, "LOT:L2")
    assert command is None and message == "20 of lot L2 from bin A-02-3 for WO1: scan the staging bin"
    context, command, message = scan(context, "LINE1")
    assert isinstance(command, c.PickForKitting)
    assert (command.work_order, command.lot, command.from_bin, command.to_bin, command.quantity, command.asked) == (
        "WO1", "L2", "A-02-3", "LINE1", Decimal(20), Decimal(20))
    assert message == "20 of lot L2 picked from bin A-02-3 to bin LINE1 for WO1"
    assert context.carrying is None and context.bin == "A-02-3"  # the next lot from the same bin
    [moved] = decide(plant.state, command, NOW)
    assert isinstance(moved, e.StockMoved) and (moved.kind, moved.work_order) == ("pick", "WO1")


@pytest.mark.parametrize(("context", "code"), [
    (FORKLIFT, "WORK_ORDER_REQUIRED"),
    (replace(FORKLIFT, work_order="WO1"), "BIN_REQUIRED"),
    (replace(FORKLIFT, work_order="WO1", bin="A-02-3"), "QUANTITY_REQUIRED"),
])
def test_a_lot_label_out_of_turn_says_what_to_scan(context: ScanContext, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        scan(context, "LOT:L2")
    assert caught.value.code == code


def test_changing_task_drops_the_lot_being_picked() -> None:
    context = replace(FORKLIFT, work_order="WO1", bin="A-02-3", default_quantity=Decimal(1))
    context, _, _ = scan(context, "LOT:L2")
    assert context.carrying == "L2"
    assert with_task(context, "move").carrying is None
