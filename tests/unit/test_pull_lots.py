"""A lot change on the feed (takt-sync/1 kind ``lot``) becomes the ERP-origin DefineLot through the one write path."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from edge.domain import commands as c
from erp_sync import protocol as p
from erp_sync.pull import command_for


def _change(payload: dict[str, object], cursor: int = 7) -> p.Change:
    return p.Change(cursor=cursor, kind="lot", key=str(payload.get("lot", "?")), source="ERP",
                    at=datetime(2026, 11, 26, tzinfo=UTC), payload=payload)


def test_a_lot_change_defines_the_lot_with_its_expiry_under_a_key_of_that_version() -> None:
    command = command_for(_change({"lot": "L-7", "item": "SEAL", "expiry": "2027-01-31", "supplier_lot": "S-1"}),
                          lambda _: False)
    assert command == c.DefineLot(idempotency_key="erp:lot:L-7:7", actor="erp-sync",
                                  actor_roles=frozenset({"service"}), origin="erp", source_device="central:ERP",
                                  lot="L-7", item="SEAL", expiry=date(2027, 1, 31), supplier_lot="S-1")


def test_a_lot_without_expiry_is_defined_without_one() -> None:
    command = command_for(_change({"lot": "L-8", "item": "SEAL"}), lambda _: False)
    assert isinstance(command, c.DefineLot) and command.expiry is None and command.supplier_lot is None


@pytest.mark.parametrize("payload", [{"lot": "L-9"}, {"lot": "L-9", "item": "SEAL", "expiry": "31/01/2027"},
                                     {"lot": "", "item": "SEAL"}, {"lot": "L-9", "item": "SEAL", "expiry": None,
                                                                   "supplier_lot": ["S-1"]}])
def test_a_malformed_lot_change_is_refused_by_its_model(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        command_for(_change(payload), lambda _: False)


def test_a_field_a_newer_central_side_added_is_ignored() -> None:
    """The protocol's "Versions" rule: an optional field this node does not know yet changes nothing here."""
    plain = command_for(_change({"lot": "L-9", "item": "SEAL"}), lambda _: False)
    newer = command_for(_change({"lot": "L-9", "item": "SEAL", "colour": "red"}), lambda _: False)
    assert newer == plain


def test_an_erp_work_order_carries_its_operations_production_parameters() -> None:
    """The ERP's setpoints of an operation (ID → value) reach the operation as B2MML's do ("ID=value"); a malformed
    ID is refused by the model, naming the field."""
    order = {"work_order": "WO-9", "status": "released", "item": "PUMP", "item_revision": "B", "bom_revision": "1",
             "quantity": "10", "operations": [{"operation": 10, "description": "Mould", "workstation": "WS-1",
                                               "parameters": {"Speed": "72.3", "Temp": "180"}}]}
    change = p.Change(cursor=3, kind="work_order", key="WO-9", source="ERP", at=datetime(2026, 11, 26, tzinfo=UTC),
                      payload=order)
    command = command_for(change, lambda _: False)
    assert isinstance(command, c.ReleaseWorkOrder)
    assert command.operations[0].parameters == ("Speed=72.3", "Temp=180")
    bad = {**order, "operations": [{**order["operations"][0], "parameters": {"Speed=": "1"}}]}  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="operations.0.parameters"):
        command_for(p.Change(cursor=4, kind="work_order", key="WO-9", source="ERP",
                             at=datetime(2026, 11, 26, tzinfo=UTC), payload=bad), lambda _: False)
