"""What a scan means at a station: context changes, an issue to the selected work order, or a refusal with a code."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from edge.domain import DomainError, decide
from edge.domain import commands as c
from edge.domain.scans import Label, LabelPatterns, ScanContext, interpret, with_task

from .plant_helpers import NOW, build_plant

PATTERNS = LabelPatterns({"badge": r"B-(?P<value>\d{4})", "work_order": r"WO\d+", "bin": r"[A-Z]+\d*(-\d+)*",
                          "lot": r"LOT:(?P<value>.+)"})
STATION = ScanContext(device="WS1-scanner", workstation="WS1", bin="LINE1", default_quantity=Decimal(4))


def scan(context: ScanContext, text: str) -> tuple[ScanContext, c.Command | None, str]:
    label = PATTERNS.classify(text)
    assert label is not None, text
    outcome = interpret(context, label, idempotency_key=f"scan-{text}", actor="WS1-scanner", at=NOW)
    return outcome.context, outcome.command, outcome.message


def test_in_house_patterns_classify_by_kind_and_value_group() -> None:
    assert PATTERNS.classify("B-0042") == Label(kind="badge", value="0042")
    assert PATTERNS.classify("WO1") == Label(kind="work_order", value="WO1")
    assert PATTERNS.classify("LOT:L1") == Label(kind="lot", value="L1", lot="L1")
    assert PATTERNS.classify("???") is None
    with pytest.raises(ValueError, match=r"label_patterns.pallet"):
        LabelPatterns({"pallet": "x"})
    with pytest.raises(ValueError, match=r"label_patterns.lot: invalid regular expression"):
        LabelPatterns({"lot": "("})


def test_badge_work_order_then_lot_issues_to_the_work_order() -> None:
    context, command, message = scan(STATION, "B-0042")
    assert context.operator == "0042" and command is None and "logged on" in message
    context, command, _ = scan(context, "WO1")
    assert context.work_order == "WO1" and command is None
    context, command, message = scan(context, "LOT:L1")
    assert isinstance(command, c.IssueToWorkOrder)
    assert (command.work_order, command.lot, command.bin, command.quantity) == ("WO1", "L1", "LINE1", Decimal(4))
    assert command.actor == "0042" and command.source_device == "WS1-scanner"
    plant = build_plant()
    assert decide(plant.state, command, NOW)  # the real rules accept it
    context, _, message = scan(context, "B-0042")
    assert context.operator is None and "logged off" in message


def test_a_gs1_quantity_wins_over_the_default() -> None:
    label = Label(kind="lot", value="L1", lot="L1", gtin="09501101530003", quantity=Decimal(8), gs1=True)
    outcome = interpret(ScanContext(device="d", bin="LINE1", work_order="WO1"), label, idempotency_key="k", actor="a")
    assert isinstance(outcome.command, c.IssueToWorkOrder) and outcome.command.quantity == Decimal(8)


@pytest.mark.parametrize(("context", "code", "field"), [
    (ScanContext(device="d", bin="LINE1", default_quantity=Decimal(1)), "WORK_ORDER_REQUIRED", "work_order"),
    (ScanContext(device="d", work_order="WO1", default_quantity=Decimal(1)), "BIN_REQUIRED", "bin"),
    (ScanContext(device="d", work_order="WO1", bin="LINE1"), "QUANTITY_REQUIRED", "quantity"),
    (ScanContext(device="d", task="idle", work_order="WO1", bin="LINE1"), "SCAN_NOT_EXPECTED", "scan"),
])
def test_a_lot_scan_out_of_context_is_refused(context: ScanContext, code: str, field: str) -> None:
    with pytest.raises(DomainError) as caught:
        interpret(context, Label(kind="lot", value="L1", lot="L1"), idempotency_key="k", actor="a")
    assert (caught.value.code, caught.value.field) == (code, field) and caught.value.message


def test_a_product_label_without_lot_is_refused_and_an_sscc_identifies_a_pallet() -> None:
    with pytest.raises(DomainError) as caught:
        interpret(STATION, Label(kind="product", value="09501101530003", gs1=True), idempotency_key="k", actor="a")
    assert caught.value.code == "LOT_REQUIRED"
    outcome = interpret(STATION, Label(kind="sscc", value="106141412345678908"), idempotency_key="k", actor="a")
    assert outcome.command is None and "pallet 106141412345678908" in outcome.message


HANDHELD = ScanContext(device="handheld:wim", operator="wim", task="putaway")


def test_putaway_bin_then_lot_then_bin_books_a_putaway_of_the_whole_lot() -> None:
    plant = build_plant()
    context, command, message = scan(HANDHELD, "LINE1")
    assert context.bin == "LINE1" and command is None and "scan a lot label" in message
    context, command, message = scan(context, "LOT:L1")
    assert command is None and context.carrying == "L1" and "scan the bin to put it away" in message
    context, command, message = scan(context, "A-02-3")
    assert isinstance(command, c.MoveStock) and command.putaway and command.quantity is None
    assert (command.lot, command.from_bin, command.to_bin, command.actor) == ("L1", "LINE1", "A-02-3", "wim")
    assert context.carrying is None and context.bin == "LINE1" and "put away from bin LINE1 to bin A-02-3" in message
    [moved] = decide(plant.state, command, NOW)  # the real rules take all of L1 that is in LINE1
    assert moved.kind == "putaway" and moved.quantity == Decimal(100)  # type: ignore[attr-defined]


def test_a_move_takes_the_label_quantity_and_a_configured_source_bin() -> None:
    context = replace(HANDHELD, task="move", bin="LINE1")
    label = Label(kind="lot", value="L1", lot="L1", quantity=Decimal(30), gs1=True)
    context = interpret(context, label, idempotency_key="k1", actor="wim").context
    outcome = interpret(context, Label(kind="bin", value="A-02-3"), idempotency_key="k2", actor="wim")
    assert isinstance(outcome.command, c.MoveStock) and not outcome.command.putaway
    assert outcome.command.quantity == Decimal(30) and "30 of lot L1 moved" in outcome.message


def test_putaway_refusals_and_task_changes() -> None:
    with pytest.raises(DomainError) as caught:
        scan(replace(HANDHELD, bin=None), "LOT:L1")
    assert (caught.value.code, caught.value.field) == ("BIN_REQUIRED", "bin")
    context, _, _ = scan(replace(HANDHELD, bin="LINE1"), "LOT:L1")
    assert with_task(context, "putaway") is context
    consuming = with_task(context, "consume")
    assert consuming.task == "consume" and consuming.carrying is None
    with pytest.raises(DomainError) as caught:
        with_task(context, "dance")
    assert (caught.value.code, caught.value.field, caught.value.invalid) == ("UNKNOWN_TASK", "task", True)
    # the plant's rules refuse a move into a bin that does not take the item, or beyond its capacity
    plant = build_plant()
    _, command, _ = scan(context, "CAGE")
    with pytest.raises(DomainError) as refused:
        decide(plant.state, command, NOW)  # type: ignore[arg-type]
    assert refused.value.code == "ITEM_NOT_ALLOWED_IN_BIN"
    _, command, _ = scan(context, "A-01")
    with pytest.raises(DomainError) as refused:
        decide(plant.state, command, NOW)  # type: ignore[arg-type]
    assert refused.value.code == "BIN_FULL"
    _, command, _ = scan(replace(context, bin="RECV"), "A-02-3")
    with pytest.raises(DomainError) as refused:
        decide(plant.state, command, NOW)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.field) == ("INSUFFICIENT_STOCK", "from_bin")
