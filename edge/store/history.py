"""History projections: the append-only rows some events add (moves, production, labour, ...)."""
from __future__ import annotations

from typing import Any

from edge.domain import events as e


def history_row(seq: int, actor: str, event: e.Event) -> tuple[str, dict[str, Any]] | None:
    """The (table, row) an event adds to a history table, or None for events with no history row."""
    match event:
        case e.StockMoved():
            return "moves", {
                "seq": seq, "lot": event.lot, "item": event.item, "kind": event.kind, "from_bin": event.from_bin,
                "to_bin": event.to_bin, "quantity": event.quantity, "work_order": event.work_order,
                "bom_line": event.bom_line, "reason": event.reason, "actor": actor, "at": event.at,
                "suggested_bin": event.suggested_bin, "override_reason": event.override_reason,
                "sales_order": event.sales_order, "sscc": event.sscc,
            }
        case e.LotReceived():  # a receipt, or a work order's output put into stock ("produce")
            return "moves", {
                "seq": seq, "lot": event.lot, "item": event.item,
                "kind": "receive" if event.work_order is None else "produce", "from_bin": None,
                "to_bin": event.bin, "quantity": event.quantity, "work_order": event.work_order, "bom_line": None,
                "reason": None, "actor": actor, "at": event.at, "suggested_bin": None, "override_reason": None,
                "sales_order": None, "sscc": None,
            }
        case e.ProductionReported():
            return "production_reports", {
                "seq": seq, "work_order": event.work_order, "operation": event.operation,
                "workstation": event.workstation, "good": event.good, "scrap": event.scrap,
                "scrap_reason": event.scrap_reason, "actor": actor, "at": event.at,
            }
        case e.LabourClockedOff():
            return "labour_records", {
                "seq": seq, "operator": event.operator, "work_order": event.work_order, "operation": event.operation,
                "since": event.since, "until": event.at, "minutes": event.minutes,
            }
        case e.InspectionRecorded():
            return "inspection_results", {
                "seq": seq, "inspection": event.inspection, "plan": event.plan, "lot": event.lot,
                "work_order": event.work_order, "operation": event.operation, "passed": event.passed,
                "results": [
                    {"characteristic": r.characteristic, "value": None if r.value is None else str(r.value),
                     "passed": r.passed}
                    for r in event.results
                ],
                "actor": actor, "at": event.at,
            }
        case e.ShortPickRecorded():
            return "short_picks", {
                "seq": seq, "work_order": event.work_order, "bom_line": event.bom_line, "item": event.item,
                "lot": event.lot, "bin": event.bin, "asked": event.asked, "picked": event.picked,
                "reason": event.reason, "actor": actor, "at": event.at,
            }
        case e.PickCorrected():
            return "pick_corrections", {
                "seq": seq, "wave": event.wave, "pick": event.pick, "sales_order": event.sales_order,
                "item": event.item, "zone": event.zone, "bin": event.bin, "wrong_lot": event.wrong_lot,
                "right_lot": event.right_lot, "picked_by": event.picked_by, "device": event.device,
                "picked_at": event.picked_at, "found_at": event.found_at, "note": event.note, "actor": actor,
                "at": event.at,
            }
        case e.RecordsSigned():
            return "record_signatures", {
                "seq": seq, "signature": event.signature, "signer": event.signer, "signer_name": event.signer_name,
                "meaning": event.meaning, "supersedes": event.supersedes, "comment": event.comment, "at": event.at,
                "records": [{"seq": r.seq, "hash": r.hash, "type": r.type, "subject": r.subject}
                            for r in event.records],
            }
        case e.MaintenancePhotoAttached():
            return "maintenance_photos", {"seq": seq, "request": event.request, "photo": event.photo, "actor": actor,
                                          "at": event.at}
        case e.StepRecorded():
            return "unit_steps", {
                "seq": seq, "work_order": event.work_order, "operation": event.operation, "item": event.item,
                "serial": event.serial, "instruction_revision": event.instruction_revision, "step": event.step,
                "kind": event.kind, "passed": event.passed, "result": event.result, "value": event.value,
                "scanned": event.scanned, "photo": event.photo, "note": event.note, "ncr": event.ncr,
                "actor": event.by, "started_at": event.started_at, "at": event.at,
            }
        case e.UnitComponentFitted():
            return "unit_components", {
                "seq": seq, "item": event.item, "serial": event.serial, "work_order": event.work_order,
                "operation": event.operation, "component": event.component, "component_lot": event.component_lot,
                "component_serial": event.component_serial, "actor": actor, "at": event.at,
            }
        case e.SubLotSplit():
            return "lot_splits", {
                "seq": seq, "parent": event.parent, "lot": event.lot, "item": event.item, "quantity": event.quantity,
                "verdict": event.verdict, "samples": event.samples, "failed": event.failed, "task": event.task,
                "actor": actor, "at": event.at,
            }
        case e.MachineStateChanged():
            return "machine_state_history", {
                "seq": seq, "equipment": event.equipment, "state": event.state, "reason": event.reason,
                "since": event.since, "previous": event.previous, "previous_since": event.previous_since,
            }
        case e.StopReasonGiven():
            return "stop_reasons", {
                "seq": seq, "equipment": event.equipment, "stop_start": event.stop_start, "reason": event.reason,
                "kind": event.kind, "why": event.why, "previous": event.previous, "actor": actor, "at": event.at,
            }
        case e.ReasonTreeDefined():
            return "reason_trees", {
                "seq": seq, "name": event.name, "workstations": list(event.workstations),
                "machine_class": event.machine_class, "definition": event.definition, "at": event.at,
            }
    return None
