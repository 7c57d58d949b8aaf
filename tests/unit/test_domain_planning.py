"""What the central systems decide, as the pure domain takes it: orders changed or cancelled by the ERP (a
conflict once the floor has started), a supervisor's decision on such a conflict, BOM revisions from PLM, and
purchase orders, customers and sales orders."""
from __future__ import annotations

from datetime import date
from typing import Any

from edge.domain import commands as c
from edge.domain import events as e
from tests.unit.plant_helpers import D, Plant

ERP: dict[str, Any] = {"roles": frozenset({"service"}), "actor": "erp-sync"}
SUPERVISOR = frozenset({"supervisor"})
OPS = (c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),
       c.OperationSpec(operation=20, description="Test", workstation="WS2"))
BOM = (c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(4)),
       c.BomLineSpec(line=2, item="GASKET", item_revision="C", quantity_per=D(1)))


def change(plant: Plant, **fields: Any) -> list[Any]:
    values: dict[str, Any] = {"work_order": "WO1", "item_revision": "A", "bom_revision": "3", "quantity": D(10),
                              "overproduction_tolerance_pct": D(10), "operations": OPS, "bom": BOM, **fields}
    return plant.do(c.ChangeWorkOrder, **ERP, origin="erp", **values)


def test_an_order_not_started_takes_the_erp_change(plant: Plant) -> None:
    [changed] = change(plant, quantity=D(12), due=date(2026, 7, 1),
                       operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),))
    assert isinstance(changed, e.WorkOrderChanged)
    assert (plant.wo("WO1").quantity, plant.wo("WO1").due) == (D(12), date(2026, 7, 1))
    assert [op.operation for op in plant.state.operations_of("WO1")] == [10]


def test_the_same_order_sent_again_records_nothing(plant: Plant) -> None:
    assert change(plant) == []


def test_a_change_to_a_started_order_is_flagged_and_the_floor_keeps_its_order(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(3))
    [flag] = change(plant, quantity=D(20))
    assert isinstance(flag, e.WorkOrderConflictFlagged) and flag.change == "changed"
    assert "in progress" in flag.detail
    assert plant.wo("WO1").quantity == D(10) and plant.op("WO1", 10).good == D(3)
    conflict = plant.state.work_order_conflicts["WO1"]
    assert (conflict.status, conflict.proposed_quantity) == ("open", D(20))

    plant.refuse(c.ResolveWorkOrderConflict, "ROLE_REQUIRED", None, work_order="WO1", resolution="accept")
    events = plant.do(c.ResolveWorkOrderConflict, work_order="WO1", resolution="accept", roles=SUPERVISOR)
    assert [type(x) for x in events] == [e.WorkOrderConflictResolved, e.WorkOrderQuantityChanged]
    assert plant.wo("WO1").quantity == D(20) and plant.wo("WO1").status == "in_progress"
    assert plant.state.work_order_conflicts["WO1"].status == "accepted"
    plant.refuse(c.ResolveWorkOrderConflict, "NO_OPEN_CONFLICT", "work_order", work_order="WO1", resolution="keep",
                 roles=SUPERVISOR)


def test_a_cancellation_of_a_started_order_waits_for_the_supervisor(plant: Plant) -> None:
    plant.do(c.ClockOnLabour, operator="ana", work_order="WO1", operation=10)
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    [flag] = plant.do(c.CancelWorkOrder, **ERP, origin="erp", work_order="WO1", reason="customer cancelled")
    assert isinstance(flag, e.WorkOrderConflictFlagged) and flag.change == "cancelled"
    assert plant.wo("WO1").status == "in_progress"
    events = plant.do(c.ResolveWorkOrderConflict, work_order="WO1", resolution="accept", roles=SUPERVISOR)
    assert [type(x) for x in events] == [e.WorkOrderConflictResolved, e.LabourClockedOff, e.WorkOrderCancelled]
    assert plant.wo("WO1").status == "cancelled" and not plant.state.clock_ons
    plant.refuse(c.ReportProduction, "WORK_ORDER_CANCELLED", "work_order", work_order="WO1", operation=10, good=D(1))


def test_keeping_the_order_leaves_it_running(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.CancelWorkOrder, **ERP, origin="erp", work_order="WO1", reason="duplicate")
    plant.do(c.ResolveWorkOrderConflict, work_order="WO1", resolution="keep", note="it is half built",
             roles=SUPERVISOR)
    assert plant.wo("WO1").status == "in_progress"
    assert plant.state.work_order_conflicts["WO1"].status == "kept"


def test_an_order_nothing_was_done_on_is_cancelled_and_leaves_the_dispatch_list(plant: Plant) -> None:
    plant.do(c.SetDispatchList, workstation="WS1", sequence=(c.DispatchSlot(work_order="WO1", operation=10),))
    [cancelled] = plant.do(c.CancelWorkOrder, **ERP, origin="erp", work_order="WO1", reason="no demand")
    assert isinstance(cancelled, e.WorkOrderCancelled)
    assert plant.wo("WO1").status == "cancelled" and plant.state.dispatch_list("WS1") == []
    plant.refuse(c.StartOperation, "WORK_ORDER_CANCELLED", "work_order", work_order="WO1", operation=10)


def test_a_supervisor_may_cancel_here_with_a_reason_an_operator_may_not(plant: Plant) -> None:
    plant.refuse(c.CancelWorkOrder, "ROLE_REQUIRED", None, work_order="WO1", reason="wrong order")
    plant.refuse(c.CancelWorkOrder, "MISSING_REASON", "reason", work_order="WO1", reason=" ", roles=SUPERVISOR)
    plant.do(c.CancelWorkOrder, work_order="WO1", reason="wrong order", roles=SUPERVISOR)
    assert plant.wo("WO1").status == "cancelled"


def test_a_bom_revision_for_the_next_order_leaves_open_orders_alone(plant: Plant) -> None:
    plant.do(c.DefineItem, item="SCREW", description="Screw", unit="pcs", revision="C", roles=frozenset({"admin"}))
    events = plant.do(c.PublishBomRevision, **ERP, origin="erp", item="PUMP", bom_revision="4",
                      lines=(c.BomLineSpec(line=1, item="SCREW", item_revision="C", quantity_per=D(4)),))
    assert [type(x) for x in events] == [e.BomRevisionPublished]
    assert plant.wo("WO1").bom_revision == "3"
    # an order released without lines takes the published revision's
    plant.do(c.ReleaseWorkOrder, work_order="WO2", item="PUMP", item_revision="A", bom_revision="4", quantity=D(5),
             operations=OPS, roles=frozenset({"service"}))
    assert [(b.item, b.item_revision) for b in plant.state.bom_of("WO2")] == [("SCREW", "C")]


def test_a_bom_revision_effective_immediately_replaces_unconsumed_lines_and_refuses_the_old_revision(
        plant: Plant) -> None:
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(8))  # line 1 consumed
    events = plant.do(c.PublishBomRevision, **ERP, origin="erp", item="PUMP", bom_revision="4", effective="immediately",
                      lines=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(6)),
                             c.BomLineSpec(line=3, item="GASKET", item_revision="D", quantity_per=D(2))))
    revised = events[1]
    assert isinstance(revised, e.WorkOrderBomRevised) and revised.removed == (2,)
    lines = {b.line: (b.item, b.item_revision, b.quantity_per, b.consumed) for b in plant.state.bom_of("WO1")}
    assert lines == {1: ("SCREW", "B", D(4), D(8)), 3: ("GASKET", "D", D(2), D(0))}  # consumed line 1 kept as built
    assert plant.wo("WO1").bom_revision == "4"
    plant.do(c.ReceiveLot, lot="G1", item="GASKET", item_revision="C", quantity=D(10), bin="LINE1")
    err = plant.refuse(c.IssueToWorkOrder, "WRONG_REVISION", "lot", work_order="WO1", lot="G1", bin="LINE1",
                       quantity=D(1))
    assert "D" in err.message


def test_a_bom_revision_names_the_field_it_refuses(plant: Plant) -> None:
    plant.refuse(c.PublishBomRevision, "UNKNOWN_ITEM", "lines[0].item", item="PUMP", bom_revision="5",
                 lines=(c.BomLineSpec(line=1, item="NUT", item_revision="A", quantity_per=D(1)),))
    plant.refuse(c.PublishBomRevision, "INVALID_QUANTITY", "lines[0].quantity_per", item="PUMP", bom_revision="5",
                 lines=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(-1)),))
    plant.refuse(c.PublishBomRevision, "MISSING_VALUE", "lines", item="PUMP", bom_revision="5", lines=())


def test_purchase_orders_with_expected_supplier_lots(plant: Plant) -> None:
    line = c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=D(500), due=date(2026, 6, 20), expected_lots=(
        c.ExpectedLotSpec(supplier_lot="S-77", quantity=D(500), expiry=date(2028, 1, 1)),))
    plant.do(c.DefinePurchaseOrder, **ERP, origin="erp", purchase_order="PO-1", supplier="ACME", lines=(line,))
    assert plant.state.purchase_orders["PO-1"].supplier == "ACME"
    assert plant.state.expected_lots[("PO-1", 1, "S-77")].quantity == D(500)
    # sent again with another line: the order's lines are what the ERP says now
    plant.do(c.DefinePurchaseOrder, **ERP, origin="erp", purchase_order="PO-1", supplier="ACME", lines=(
        c.PurchaseOrderLineSpec(line=2, item="GASKET", quantity=D(50)),))
    assert list(plant.state.purchase_order_lines) == [("PO-1", 2)] and not plant.state.expected_lots
    plant.refuse(c.DefinePurchaseOrder, "UNKNOWN_ITEM", "lines[0].item", purchase_order="PO-2", supplier="ACME",
                 lines=(c.PurchaseOrderLineSpec(line=1, item="NUT", quantity=D(1)),))
    plant.refuse(c.DefinePurchaseOrder, "INVALID_QUANTITY", "lines[0].quantity", purchase_order="PO-2",
                 supplier="ACME", lines=(c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=D(0)),))


def test_sales_orders_need_a_known_customer(plant: Plant) -> None:
    line = c.SalesOrderLineSpec(line=1, item="PUMP", quantity=D(3), due=date(2026, 7, 1))
    plant.refuse(c.DefineSalesOrder, "UNKNOWN_CUSTOMER", "customer", sales_order="SO-1", customer="C-9",
                 lines=(line,))
    plant.do(c.DefineCustomer, **ERP, origin="erp", customer="C-9", name="Waterworks BV")
    plant.do(c.DefineSalesOrder, **ERP, origin="erp", sales_order="SO-1", customer="C-9", lines=(line,))
    assert plant.state.sales_orders["SO-1"].customer == "C-9"
    assert plant.state.sales_order_lines[("SO-1", 1)].quantity == D(3)


def _po(plant: Plant) -> None:
    plant.do(c.DefineItem, item="SCREW", description="Screw", unit="pcs", revision="B", gtin="4012345000016",
             roles=frozenset({"admin"}))
    plant.do(c.DefinePurchaseOrder, **ERP, origin="erp", purchase_order="PO-1", supplier="ACME", lines=(
        c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=D(100), expected_lots=(
            c.ExpectedLotSpec(supplier_lot="S-77", quantity=D(100)),)),
        c.PurchaseOrderLineSpec(line=2, item="GASKET", quantity=D(20))))


def test_a_lot_received_on_a_purchase_order_counts_against_its_line(plant: Plant) -> None:
    _po(plant)
    [received] = plant.do(c.ReceiveAgainstPurchaseOrder, purchase_order="PO-1", line=None, lot="S-77",
                          gtin="4012345000016", quantity=D(60), bin="RECV", supplier_lot="S-77")
    assert isinstance(received, e.LotReceived)
    assert (received.item, received.purchase_order, received.po_line) == ("SCREW", "PO-1", 1)
    assert plant.state.purchase_order_lines[("PO-1", 1)].received == D(60)
    assert plant.stock("S-77") == {"RECV": D(60)}
    err = plant.refuse(c.ReceiveAgainstPurchaseOrder, "OVER_RECEIPT", "quantity", purchase_order="PO-1", line=1,
                       lot="S-78", quantity=D(41), bin="RECV")
    assert "expects 40 more SCREW" in err.message
    # the ERP sends the order again (a new due date): what was received stays received
    _po_again = c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=D(100), due=date(2026, 7, 1))
    plant.do(c.DefinePurchaseOrder, **ERP, origin="erp", purchase_order="PO-1", supplier="ACME", lines=(_po_again,))
    assert plant.state.purchase_order_lines[("PO-1", 1)].received == D(60)


def test_a_receipt_names_what_is_wrong_with_the_order(plant: Plant) -> None:
    _po(plant)
    plant.refuse(c.ReceiveAgainstPurchaseOrder, "UNKNOWN_PURCHASE_ORDER", "purchase_order", purchase_order="PO-9",
                 line=None, lot="X1", item="SCREW", quantity=D(1), bin="RECV")
    err = plant.refuse(c.ReceiveAgainstPurchaseOrder, "NOT_ON_PURCHASE_ORDER", "item", purchase_order="PO-1",
                       line=None, lot="X1", item="PUMP", quantity=D(1), bin="RECV")
    assert "it orders GASKET, SCREW" in err.message
    plant.refuse(c.ReceiveAgainstPurchaseOrder, "WRONG_ITEM", "gtin", purchase_order="PO-1", line=2, lot="X1",
                 gtin="4012345000016", quantity=D(1), bin="RECV")
    plant.refuse(c.ReceiveAgainstPurchaseOrder, "UNKNOWN_PO_LINE", "line", purchase_order="PO-1", line=7, lot="X1",
                 quantity=D(1), bin="RECV")
    plant.refuse(c.ReceiveAgainstPurchaseOrder, "INVALID_QUANTITY", "quantity", purchase_order="PO-1", line=1,
                 lot="X1", quantity=D(-3), bin="RECV")
    plant.do(c.DefinePurchaseOrder, **ERP, origin="erp", purchase_order="PO-1", supplier="ACME", status="cancelled",
             lines=(c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=D(100)),))
    plant.refuse(c.ReceiveAgainstPurchaseOrder, "PURCHASE_ORDER_CLOSED", "purchase_order", purchase_order="PO-1",
                 line=1, lot="X1", quantity=D(1), bin="RECV")


def test_an_operation_may_carry_plms_work_instruction_as_a_link(plant: Plant) -> None:
    ops = (c.OperationSpec(operation=10, description="Assemble", workstation="WS1",
                           instruction_url="https://plm.example/wi/PUMP/10"),)
    plant.do(c.ReleaseWorkOrder, work_order="WO2", item="PUMP", item_revision="A", bom_revision="3", quantity=D(5),
             operations=ops, roles=frozenset({"service"}))
    assert plant.op("WO2", 10).instruction_url == "https://plm.example/wi/PUMP/10"
    bad = (c.OperationSpec(operation=10, description="Assemble", workstation="WS1", instruction_url="file:///etc"),)
    plant.refuse(c.ReleaseWorkOrder, "INVALID_VALUE", "operations[0].instruction_url", work_order="WO3", item="PUMP",
                 item_revision="A", bom_revision="3", quantity=D(5), operations=bad, roles=frozenset({"service"}))
    # the link is not part of what a retry of the same key must match: orders released before links keep their keys
    from edge.store.codec import fingerprint

    plain = c.OperationSpec(operation=10, description="Assemble", workstation="WS1")
    one = plant.command(c.ReleaseWorkOrder, work_order="WO4", item="PUMP", item_revision="A", bom_revision="3",
                        quantity=D(5), operations=(plain,))
    other = plant.command(c.ReleaseWorkOrder, work_order="WO4", item="PUMP", item_revision="A", bom_revision="3",
                          quantity=D(5), operations=ops)
    assert fingerprint(one) == fingerprint(other)


# --- SPC on the write path ---------------------------------------------------------------------------------------

SHAFT = c.CharacteristicSpec(characteristic="shaft", kind="numeric", nominal=D(20), lsl=D("19.5"), usl=D("20.5"))


def _shaft(plant: Plant, n: int, value: D, *, start: int = 0) -> list[list[Any]]:
    return [plant.do(c.RecordInspection, inspection=f"S{start + i}", plan="IP-SHAFT", work_order="WO1", operation=10,
                     roles=frozenset({"quality"}), measurements=(c.Measurement(characteristic="shaft", value=value),))
            for i in range(n)]


def _baseline(plant: Plant, spc_ncr: bool = False) -> None:
    plant.do(c.DefineInspectionPlan, plan="IP-SHAFT", description="Shaft diameter", characteristics=(SHAFT,),
             hold_on_fail=False, spc_nonconformance=spc_ncr)
    for i in range(25):  # the baseline: 19.99, 20.01, ... 19.99 (centre 19.9996, MR-bar 0.02: limits +- 0.0532)
        _shaft(plant, 1, D("20.01") if i % 2 else D("19.99"), start=i)


def test_no_rule_is_judged_before_the_baseline_is_complete(plant: Plant) -> None:
    plant.do(c.DefineInspectionPlan, plan="IP-SHAFT", description="Shaft diameter", characteristics=(SHAFT,),
             hold_on_fail=False)
    [[recorded]] = _shaft(plant, 1, D("20.4"))  # far out, but there are no control limits yet
    assert isinstance(recorded, e.InspectionRecorded) and recorded.passed


def test_a_result_beyond_the_control_limits_is_an_spc_alert_though_within_specification(plant: Plant) -> None:
    _baseline(plant)
    [[recorded, alert]] = _shaft(plant, 1, D("20.08"), start=100)
    assert recorded.passed  # within 19.5..20.5: the part is good ...
    assert isinstance(alert, e.SpcRuleViolated) and alert.rule == 1  # ... but the process moved
    assert alert.ucl == D("20.052791") and alert.center == D("19.999600")
    assert "SPC rule 1, a point above the 3-sigma limit" in alert.message
    assert not plant.state.nonconformances  # not configured to raise one


def test_eight_in_a_row_above_the_centre_and_a_configured_nonconformance(plant: Plant) -> None:
    _baseline(plant, spc_ncr=True)
    quiet = _shaft(plant, 7, D("20.005"), start=200)
    assert all(len(events) == 1 for events in quiet)  # seven in a row: nothing yet
    [[_, alert, ncr]] = _shaft(plant, 1, D("20.005"), start=300)
    assert isinstance(alert, e.SpcRuleViolated) and alert.rule == 4
    assert isinstance(ncr, e.NonconformanceRaised) and "8 points in a row above" in ncr.description
    assert plant.state.nonconformances["NCR-S300"].work_order == "WO1"


def test_the_spc_series_is_rebuilt_from_the_recorded_results(plant: Plant) -> None:
    """A node that restarts judges the next result the same: the series comes back from the inspection history."""
    from edge.domain.plant import PlantState

    _baseline(plant)
    rebuilt = PlantState()
    for (plan, ch), series in plant.state.spc.items():
        for value in [*series.baseline, *list(series.recent)[len(series.baseline):]]:
            rebuilt.measured(plan, [{"characteristic": ch, "value": str(value)}])
    assert rebuilt.spc[("IP-SHAFT", "shaft")].limits == plant.state.spc[("IP-SHAFT", "shaft")].limits


# --- counts that wait for a supervisor -----------------------------------------------------------------------------


def test_a_count_within_the_threshold_is_booked_at_once(plant: Plant) -> None:
    [moved] = plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(96), reason="cycle count",
                       approval_pct=D(5))
    assert isinstance(moved, e.StockMoved) and plant.stock("L1") == {"LINE1": D(96)}


def test_a_large_variance_waits_for_a_supervisor_who_books_it_against_the_bin_as_it_is_then(plant: Plant) -> None:
    [held] = plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(80), reason="cycle count", approval_pct=D(5))
    assert isinstance(held, e.CountAwaitsApproval) and (held.expected, held.counted) == (D(100), D(80))
    assert plant.stock("L1") == {"LINE1": D(100)}  # nothing booked yet
    assert plant.state.pending_counts[("L1", "LINE1")].counted_by == "ana"
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(4))  # the line goes on
    plant.refuse(c.DecideCount, "ROLE_REQUIRED", None, lot="L1", bin="LINE1", approve=True)
    events = plant.do(c.DecideCount, lot="L1", bin="LINE1", approve=True, roles=frozenset({"supervisor"}),
                      actor="joost")
    assert [type(x) for x in events] == [e.CountDecided, e.StockMoved]
    assert plant.stock("L1") == {"LINE1": D(80)} and not plant.state.pending_counts
    assert "count by ana approved by joost" in events[1].reason
    plant.refuse(c.DecideCount, "NO_PENDING_COUNT", "lot", lot="L1", bin="LINE1", approve=True,
                 roles=frozenset({"supervisor"}))


def test_a_discarded_count_books_nothing_and_a_supervisors_own_count_never_waits(plant: Plant) -> None:
    plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(10), reason="cycle count", approval_pct=D(5))
    [decided] = plant.do(c.DecideCount, lot="L1", bin="LINE1", approve=False, note="recount: wrong bin",
                         roles=frozenset({"supervisor"}))
    assert isinstance(decided, e.CountDecided) and plant.stock("L1") == {"LINE1": D(100)}
    [moved] = plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(10), reason="recount", approval_pct=D(5),
                       roles=frozenset({"supervisor"}))
    assert isinstance(moved, e.StockMoved) and plant.stock("L1") == {"LINE1": D(10)}


def test_texts_longer_than_the_store_keeps_are_refused_by_name(plant: Plant) -> None:
    """The store keeps 200 characters of a description: a longer one is a refusal naming the field, not a failed
    commit (PostgreSQL would refuse the row; SQLite would keep it whole)."""
    long = "x" * 201
    plant.refuse(c.DefineItem, "VALUE_TOO_LONG", "description", item="NUT", description=long, unit="pcs",
                 revision="A", roles=frozenset({"admin"}))
    plant.refuse(c.DefineEquipment, "VALUE_TOO_LONG", "description", equipment="M9", workstation="WS9",
                 description=long)
    plant.refuse(c.ReleaseWorkOrder, "VALUE_TOO_LONG", "operations[0].description", work_order="WO9", item="PUMP",
                 item_revision="A", bom_revision="3", quantity=D(1), roles=frozenset({"service"}),
                 operations=(c.OperationSpec(operation=10, description=long, workstation="WS1"),))
