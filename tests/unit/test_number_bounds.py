"""Numbers are bounded where they enter (edge.fields): the sync's messages refuse what the API refuses, and a
decimal a store may already hold is written out without raising."""
from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from edge.fields import Measure, OperationNumber, Quantity, decimal_text, number_problem
from erp_sync import protocol as p


@pytest.mark.parametrize(("text", "shown"), [
    ("12.500", "12.5"), ("460", "460"), ("4.6E+2", "460"), ("-0", "0"), ("0E-10", "0"), ("0.000100", "0.0001"),
    ("1E+1000000", "1E+1000000"), ("-1E+999999", "-1E+999999"), ("1E-1000000", "1E-1000000"), ("NaN", "NaN"),
    ("-Infinity", "-Infinity"), ("123456789012.123456", "123456789012.123456"),
    ("1234567890123456789012345678901234567", "1234567890123456789012345678901234567"),
])
def test_any_decimal_a_store_holds_is_written_without_raising(text: str, shown: str) -> None:
    assert decimal_text(Decimal(text)) == shown


def test_the_bounds_of_a_number_are_said_in_words() -> None:
    assert number_problem(Quantity, Decimal("1")) is None
    assert "18 digits" in str(number_problem(Quantity, Decimal("1E+1000000")))
    assert "finite" in str(number_problem(Measure, Decimal("NaN")))
    assert "99999" in str(number_problem(OperationNumber, 2**63))
    assert number_problem(Measure, Decimal("-999999999999.999999")) is None


@pytest.mark.parametrize(("model", "payload", "field"), [
    (p.CharacteristicChange, {"characteristic": "d", "kind": "numeric", "usl": "1E+1000000"}, "usl"),
    (p.WorkOrderChange, {"work_order": "W", "status": "released", "item": "I", "item_revision": "A",
                         "bom_revision": "1", "quantity": "NaN"}, "quantity"),
    (p.DispatchSlotChange, {"work_order": "W", "operation": 9223372036854775808}, "operation"),
    (p.PurchaseOrderLineChange, {"line": 2**40, "item": "I", "quantity": 1}, "line"),
    (p.Change, {"cursor": 2**63, "kind": "item", "key": "I", "source": "ERP", "at": "2026-12-01T00:00:00Z",
                "payload": {}}, "cursor"),
    (p.BatchAck, {"node": "n", "acknowledged": -1, "stored": 0, "duplicates": 0}, "acknowledged"),
])
def test_a_sync_message_beyond_the_bounds_is_refused_naming_the_field(
        model: type[BaseModel], payload: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(payload)
    assert refused.value.errors()[0]["loc"][0] == field
