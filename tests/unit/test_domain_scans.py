"""What a scan means at a station: context changes, an issue to the selected work order, or a refusal with a code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge.domain import DomainError, decide
from edge.domain import commands as c
from edge.domain.scans import Label, LabelPatterns, ScanContext, interpret

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
