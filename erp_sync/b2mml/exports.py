"""Exports beside the journal's: shift OEE as a V0600 ``SyncProductionPerformance`` (one ProductionResponse per
workstation and shift, the OEE figures as production data), maintenance as a V0600 ``SyncOperationsPerformance`` of
OperationsType ``Maintenance`` (V0600 has no maintenance schema of its own: ISA-95 part 4's maintenance operations
are operations performance) and the inspection plans as a V0700
``SyncTestSpecification`` (B2MML's quality test specification: V0600 has only MaterialTestSpecification, which
holds no limits or sample sizes). Both read what the caller gives them (the store's OEE report, the plant state),
so they are pure; the mapping is written down in docs/b2mml.md ("Outgoing").
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from edge.domain import PlantState
from edge.domain.model import Characteristic, InspectionPlan, MaintenanceRequest
from edge.domain.oee import ShiftOee
from erp_sync.b2mml.render import RenderedDocument, _Builder, _num, _when
from erp_sync.b2mml.schemas import NAMESPACE_OF

V0700_NS = NAMESPACE_OF["V0700"]
# V0700 documents are written with a prefix: the default namespace is V0600's (erp_sync.b2mml.render), and
# ElementTree keeps one namespace per prefix for the whole process
ET.register_namespace("b2mml", V0700_NS)


def _ratio(value: float) -> str:
    return f"{value:.4f}"


def _minutes(value: float) -> str:
    return f"{value:.3f}"


def render_shift_oee(report: Mapping[str, Sequence[ShiftOee]], *, node_id: str, start: datetime, end: datetime,
                     timezone: str = "UTC", created: datetime | None = None) -> RenderedDocument | None:
    """The shift OEE of each workstation (``edge.store.oee.oee_report``) in ``[start, end)`` as one
    SyncProductionPerformance, or None when no shift has planned time. A shift is a ProductionResponse
    ``OEE/<workstation>/<day>/<shift>`` with one SegmentResponse holding its figures as ProductionData
    (minutes, quantities, ratios) and one ProductionData ``Loss-<n>`` per loss (state, reason, minutes)."""
    created = created or datetime.now(UTC)
    shifts = [r for results in report.values() for r in results if r.planned_minutes > 0]
    if not shifts:
        return None
    b = _Builder()
    document_id = f"{node_id}:oee:{start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-" \
                  f"{end.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    root, data_area = b.document("SyncProductionPerformance", node_id, document_id, created)
    perf = b.el(data_area, "ProductionPerformance")
    b.el(perf, "ID", document_id)
    b.el(perf, "Description", f"Shift OEE of node {node_id}, {_when(start)} to {_when(end)} (shifts in {timezone})")
    b.el(perf, "PublishedDate", _when(created))
    b.el(perf, "StartTime", _when(min(r.window.start for r in shifts)))
    b.el(perf, "EndTime", _when(max(r.window.end for r in shifts)))
    for r in shifts:
        key = f"OEE/{r.workstation}/{r.window.day.isoformat()}/{r.window.shift}"
        pr = b.el(perf, "ProductionResponse")
        b.el(pr, "ID", key)
        location = b.el(pr, "Location")
        b.el(location, "EquipmentID", r.workstation)
        b.el(location, "EquipmentElementLevel", "WorkCenter")
        b.el(pr, "StartTime", _when(r.window.start))
        b.el(pr, "EndTime", _when(r.window.end))
        sr = b.el(pr, "SegmentResponse")
        b.el(sr, "ID", key)
        b.el(sr, "Description", f"OEE of {r.workstation}, shift {r.window.shift} of {r.window.day.isoformat()}")
        b.el(sr, "ActualStartTime", _when(r.window.start))
        b.el(sr, "ActualEndTime", _when(r.window.end))
        for name, text, data_type, unit in (
                ("PlannedMinutes", _minutes(r.planned_minutes), "decimal", "min"),
                ("RunMinutes", _minutes(r.run_minutes), "decimal", "min"),
                ("IdealMinutes", _minutes(r.ideal_minutes), "decimal", "min"),
                ("GoodQuantity", _num(r.good), "decimal", None),
                ("ScrapQuantity", _num(r.scrap), "decimal", None),
                ("Availability", _ratio(r.availability), "decimal", None),
                ("Performance", _ratio(r.performance), "decimal", None),
                ("Quality", _ratio(r.quality), "decimal", None),
                ("OEE", _ratio(r.oee), "decimal", None)):
            b.data(sr, "ProductionData", name, text, data_type, unit)
        for n, loss in enumerate(r.losses, start=1):
            holder = b.data(sr, "ProductionData", f"Loss-{n}", _minutes(loss.minutes), "decimal", "min")
            b.data(holder, "ProductionData", "State", loss.state, "string")
            if loss.reason:
                b.data(holder, "ProductionData", "Reason", loss.reason, "string")
        b.el(sr, "SegmentState", "Completed" if r.window.end <= created else "Running")
        b.el(pr, "ResponseState", "Completed" if r.window.end <= created else "Running")
    return RenderedDocument("ProductionPerformance", document_id, 0, 0, len(shifts),
                            ET.tostring(root, encoding="utf-8", xml_declaration=True))


def render_maintenance(requests: Sequence[MaintenanceRequest], *, node_id: str, start: datetime, end: datetime,
                       created: datetime | None = None) -> RenderedDocument | None:
    """The maintenance requests raised in ``[start, end)`` (closed or not) as one SyncOperationsPerformance of
    OperationsType Maintenance, or None when there are none. A request is an OperationsResponse (its ID, the stop or
    plan that raised it, ResponseState Completed once closed, else Ready or Running) with one SegmentResponse: the
    reason, trigger, notes and whether the machine was released as SegmentData, the technician and the labour minutes
    as PersonnelActual, the machine as EquipmentActual and each spare part as MaterialActual (consumed, from its
    bin)."""
    created = created or datetime.now(UTC)
    chosen = [r for r in requests if start <= r.raised_at < end]
    if not chosen:
        return None
    b = _Builder()
    document_id = f"{node_id}:maintenance:{start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-" \
                  f"{end.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    root, data_area = b.document("SyncOperationsPerformance", node_id, document_id, created)
    perf = b.el(data_area, "OperationsPerformance")
    b.el(perf, "ID", document_id)
    b.el(perf, "Description", f"Maintenance of node {node_id}, {_when(start)} to {_when(end)}")
    b.el(perf, "OperationsType", "Maintenance")
    b.el(perf, "StartTime", _when(min(r.raised_at for r in chosen)))
    b.el(perf, "EndTime", _when(max(r.closed_at or r.raised_at for r in chosen)))
    b.el(perf, "PublishedDate", _when(created))
    for r in chosen:
        state = "Completed" if r.status == "closed" else "Running" if r.status == "in_work" else "Ready"
        resp = b.el(perf, "OperationsResponse")
        b.el(resp, "ID", r.request)
        b.el(resp, "Description", f"{r.kind} maintenance of {r.equipment}: {r.reason or r.plan or r.trigger}")
        b.el(resp, "OperationsType", "Maintenance")
        b.el(resp, "OperationsRequestID", r.request)
        b.el(resp, "StartTime", _when(r.accepted_at or r.raised_at))
        if r.closed_at is not None:
            b.el(resp, "EndTime", _when(r.closed_at))
        if r.plan is not None:
            b.el(resp, "OperationsDefinitionID", r.plan)
        b.el(resp, "ResponseState", state)
        seg = b.el(resp, "SegmentResponse")
        b.el(seg, "ID", f"{r.request}/1")
        b.el(seg, "OperationsType", "Maintenance")
        b.el(seg, "ProcessSegmentID", "preventive-maintenance" if r.kind == "preventive" else "corrective-maintenance")
        b.el(seg, "ActualStartTime", _when(r.accepted_at or r.raised_at))
        if r.closed_at is not None:
            b.el(seg, "ActualEndTime", _when(r.closed_at))
        b.el(seg, "SegmentState", state)
        for key, text, data_type in (
                ("Trigger", r.trigger, "string"), ("Reason", r.reason, "string"), ("RaisedBy", r.raised_by, "string"),
                ("RaisedAt", _when(r.raised_at), "dateTime"),
                ("StopStart", _when(r.stop_since) if r.stop_since else None, "dateTime"),
                ("StopSeconds", _num(r.stop_s) if r.stop_s is not None else None, "decimal"),
                ("OperatorNote", r.note or None, "string"), ("TechnicianNote", r.closing_note or None, "string"),
                ("ReleasedForProduction", None if r.released is None else str(r.released).lower(), "boolean")):
            if text is not None:
                b.data(seg, "SegmentData", key, text, data_type)
        if r.technician is not None:
            pa = b.el(seg, "PersonnelActual")
            b.el(pa, "PersonnelClassID", "maintenance")
            b.el(pa, "PersonID", r.technician)
            b.el(pa, "PersonnelUse", "Labour")
            b.value(pa, "Quantity", _num(r.labour_minutes), "decimal", "min")
        ea = b.el(seg, "EquipmentActual")
        b.el(ea, "EquipmentID", r.equipment)
        b.el(ea, "EquipmentUse", "Maintained")
        for part in r.parts:
            quantity, item, lot, bin_code = part.split("\t")
            ma = b.el(seg, "MaterialActual")
            b.el(ma, "MaterialDefinitionID", item)
            b.el(ma, "MaterialLotID", lot)
            b.el(ma, "Description", "spare part")
            b.el(ma, "MaterialUse", "Consumed")
            b.el(ma, "StorageLocation", bin_code)
            b.value(ma, "Quantity", _num(Decimal(quantity)), "decimal")
    return RenderedDocument("OperationsPerformance", document_id, 0, 0, len(chosen),
                            ET.tostring(root, encoding="utf-8", xml_declaration=True))


class _V0700(_Builder):
    def __init__(self) -> None:
        self.ns = V0700_NS


def render_test_specifications(state: PlantState, *, node_id: str, plans: Sequence[str] | None = None,
                               created: datetime | None = None) -> RenderedDocument | None:
    """The inspection plans here (or those named) as one V0700 SyncTestSpecification, or None when there are none.

    A plan is a TestSpecification (ID, description, sample size, recurrence by parts or minutes, the item as
    TestableObjectID, its kind, operation, supplier, accept number and hold-on-fail as properties); each
    characteristic a TestSpecificationChild with its nominal, limits and unit as properties and its acceptance as a
    criterion (``LSL <= value <= USL``, or a pass for an attribute)."""
    created = created or datetime.now(UTC)
    chosen = [state.inspection_plans[p] for p in (plans if plans is not None else sorted(state.inspection_plans))
              if p in state.inspection_plans]
    if not chosen:
        return None
    characteristics: dict[str, list[Characteristic]] = {}
    for (plan_id, _), ch in state.characteristics.items():  # in the order the plan defines them
        characteristics.setdefault(plan_id, []).append(ch)
    b = _V0700()
    document_id = f"{node_id}:test-specifications:{created.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    root, data_area = b.document("SyncTestSpecification", node_id, document_id, created)
    root.set("releaseID", "7.0")
    for chosen_plan in chosen:
        _render_plan(b, data_area, chosen_plan, characteristics.get(chosen_plan.plan, []))
    return RenderedDocument("TestSpecification", document_id, 0, 0, len(chosen),
                            ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _render_plan(b: _Builder, parent: ET.Element, plan: InspectionPlan, characteristics: list[Characteristic]
                 ) -> None:
    spec = b.el(parent, "TestSpecification")
    b.el(spec, "ID", plan.plan)
    b.el(spec, "Description", plan.description)
    for name, number in (("TestSampleSize", plan.sample_size), ("RecurrenceQuantity", plan.every_n_parts)):
        if number is not None:
            holder = b.el(spec, name)
            b.el(holder, "ValueString", str(number))
            b.el(holder, "DataType", "integer")
    if plan.every_minutes is not None:
        b.el(spec, "RecurrenceTimeInterval", f"PT{plan.every_minutes}M")
    for ch in characteristics:
        child = b.el(spec, "TestSpecificationChild")
        b.el(child, "ID", f"{plan.plan}/{ch.characteristic}")
        b.el(child, "Description", ch.characteristic)
        _property(b, child, "Kind", ch.kind, "string")
        for name, value in (("Nominal", ch.nominal), ("LSL", ch.lsl), ("USL", ch.usl)):
            if value is not None:
                _property(b, child, name, _num(value), "decimal", ch.unit or None)
        criteria = b.el(child, "TestSpecificationCriteria")
        b.el(criteria, "ID", f"{ch.characteristic}-accepted")
        b.el(criteria, "Expression", _expression(ch))
        b.el(criteria, "Result", "PASS")
        b.el(criteria, "EvaluatedPropertyID", ch.characteristic)
        evaluated = b.el(child, "EvaluatedProperty")
        b.el(evaluated, "ID", ch.characteristic)
        b.el(evaluated, "TestSpecificationCriteriaID", f"{ch.characteristic}-accepted")
    _property(b, spec, "Kind", plan.kind, "string")
    for name, text, data_type in (
            ("Operation", None if plan.operation is None else str(plan.operation), "integer"),
            ("Supplier", plan.supplier, "string"),
            ("SampleByLotSize", "true" if plan.sample_by_lot_size else None, "boolean"),
            ("AcceptNumber", str(plan.accept_number), "integer"),
            ("HoldOnFail", "true" if plan.hold_on_fail else "false", "boolean")):
        if text is not None:
            _property(b, spec, name, text, data_type)
    evaluated = b.el(spec, "EvaluatedProperty")  # the verdict of the whole plan (at least one is required)
    b.el(evaluated, "ID", "Verdict")
    b.el(evaluated, "Description", f"PASS when no more than {plan.accept_number} samples failed")
    if plan.item is not None:
        b.el(spec, "TestableObjectID", plan.item)


def _property(b: _Builder, parent: ET.Element, key: str, text: str, data_type: str, unit: str | None = None) -> None:
    holder = b.el(parent, "TestSpecificationProperty")
    b.el(holder, "ID", key)
    b.value(holder, "Value", text, data_type, unit)


def _expression(ch: Characteristic) -> str:
    if ch.kind != "numeric":
        return "the attribute passes"
    low = f"{_num(ch.lsl)} <= " if ch.lsl is not None else ""
    high = f" <= {_num(ch.usl)}" if ch.usl is not None else ""
    return f"{low}value{high}" + (f" {ch.unit}" if ch.unit else "")
