"""Rendering the journal as B2MML V0600: edge-origin production events as ``SyncProductionPerformance`` and lot
events as ``SyncMaterialInformation``, named after the node and the journal range they cover (docs/b2mml.md,
"Outgoing").
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from edge.domain import PlantState
from edge.domain import events as e
from edge.store.store import JournalEntry
from erp_sync.b2mml.schemas import V0600_NS

#: Event types that go out as production performance, and as material information.
PERFORMANCE_EVENTS = frozenset({"ProductionReported", "OperationStarted", "OperationCompleted", "LabourClockedOff",
                                "WorkOrderCompleted"})
MATERIAL_EVENTS = frozenset({"LotReceived", "LotStatusChanged", "PalletPacked", "PalletShipped",
                             "InspectionRecorded", "UnitSerialised", "UnitComponentFitted"})
CONSUMPTION_KINDS = frozenset({"issue", "return"})

Kind = Literal["ProductionPerformance", "MaterialInformation", "TestSpecification", "OperationsPerformance"]


@dataclass(frozen=True)
class RenderedDocument:
    """One B2MML document: its kind, the journal range it covers, how many events it holds, and its XML."""

    kind: Kind
    document_id: str
    first_seq: int
    last_seq: int
    events: int
    xml: bytes

    def file_name(self, node_id: str) -> str:
        return f"{_safe(node_id)}_{self.kind}_{self.first_seq:012d}-{self.last_seq:012d}.xml"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (a scanner's GS in a typed reason, say): shown as
    U+FFFD so the document stays well-formed."""
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _when(value: datetime) -> str:
    return value.isoformat()


class _Builder:
    """ElementTree building in the V0600 namespace (elements appended in schema order by the callers)."""

    def __init__(self) -> None:
        self.ns = V0600_NS

    def el(self, parent: ET.Element, name: str, text: str | None = None, **attrib: str) -> ET.Element:
        child = ET.SubElement(parent, f"{{{self.ns}}}{name}", attrib)
        if text is not None:
            child.text = _xml_text(text)
        return child

    def value(self, parent: ET.Element, name: str, text: str, data_type: str, unit: str | None = None) -> None:
        v = self.el(parent, name)
        self.el(v, "ValueString" if name in ("Value", "Result") else "QuantityString", text)
        self.el(v, "DataType", data_type)
        if unit:
            self.el(v, "UnitOfMeasure", unit)

    def data(self, parent: ET.Element, name: str, key: str, text: str, data_type: str,
             unit: str | None = None) -> ET.Element:
        holder = self.el(parent, name)
        self.el(holder, "ID", key)
        self.value(holder, "Value", text, data_type, unit)
        return holder

    def document(self, verb_document: str, node_id: str, document_id: str, created: datetime
                 ) -> tuple[ET.Element, ET.Element]:
        root = ET.Element(f"{{{self.ns}}}{verb_document}", {"releaseID": "6.0"})
        area = self.el(root, "ApplicationArea")
        sender = self.el(area, "Sender")
        self.el(sender, "LogicalID", node_id)
        self.el(sender, "ComponentID", "takt")
        self.el(area, "CreationDateTime", _when(created))
        self.el(area, "BODID", f"{verb_document}:{document_id}")  # unique per business object document
        data_area = self.el(root, "DataArea")
        self.el(data_area, "Sync")
        return root, data_area


ET.register_namespace("", V0600_NS)


@dataclass
class _Segment:
    operation: int | None
    workstation: str | None = None
    started: datetime | None = None
    completed: datetime | None = None
    reports: list[tuple[int, e.ProductionReported]] = field(default_factory=list)
    labour: list[tuple[int, e.LabourClockedOff]] = field(default_factory=list)
    materials: list[tuple[int, e.StockMoved]] = field(default_factory=list)


@dataclass
class _Response:
    work_order: str
    segments: dict[int | None, _Segment] = field(default_factory=dict)
    started: datetime | None = None
    ended: datetime | None = None
    completed: e.WorkOrderCompleted | None = None

    def segment(self, operation: int | None) -> _Segment:
        found = self.segments.get(operation)
        if found is None:
            found = self.segments[operation] = _Segment(operation)
        return found

    def saw(self, at: datetime) -> None:
        if self.started is None or at < self.started:
            self.started = at
        if self.ended is None or at > self.ended:
            self.ended = at


def render_production_performance(entries: Iterable[JournalEntry], *, node_id: str, state: PlantState | None = None,
                                  created: datetime | None = None, edge_only: bool = True
                                  ) -> RenderedDocument | None:
    """Edge-origin production events of ``entries`` as one SyncProductionPerformance, or None if there are none.

    ``state`` (optional) adds what the events do not carry: each work order's item (MaterialProducedActual), units
    of measure and operation descriptions."""
    responses: dict[str, _Response] = {}
    first = last = None
    count = 0
    for entry in entries:
        first = entry.seq if first is None else first
        last = entry.seq
        if edge_only and entry.origin != "edge":
            continue
        if entry.type not in PERFORMANCE_EVENTS and entry.type != "StockMoved":
            continue
        ev = entry.event()
        if isinstance(ev, e.StockMoved):
            if ev.kind not in CONSUMPTION_KINDS or ev.work_order is None:
                continue
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.segment(None).materials.append((entry.seq, ev))
            resp.saw(ev.at)
        elif isinstance(ev, e.ProductionReported):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            seg = resp.segment(ev.operation)
            seg.workstation = ev.workstation
            seg.reports.append((entry.seq, ev))
            resp.saw(ev.at)
        elif isinstance(ev, e.OperationStarted):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            seg = resp.segment(ev.operation)
            seg.started = ev.at if seg.started is None else min(seg.started, ev.at)
            resp.saw(ev.at)
        elif isinstance(ev, e.OperationCompleted):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.segment(ev.operation).completed = ev.at
            resp.saw(ev.at)
        elif isinstance(ev, e.LabourClockedOff):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.segment(ev.operation).labour.append((entry.seq, ev))
            resp.saw(ev.since)
            resp.saw(ev.at)
        elif isinstance(ev, e.WorkOrderCompleted):
            resp = responses.setdefault(ev.work_order, _Response(ev.work_order))
            resp.completed = ev
            resp.saw(ev.at)
        else:
            continue
        count += 1
    if not responses or first is None or last is None:
        return None
    document_id = f"{node_id}:{first}-{last}"
    b = _Builder()
    root, data_area = b.document("SyncProductionPerformance", node_id, document_id, created or datetime.now(UTC))
    perf = b.el(data_area, "ProductionPerformance")
    b.el(perf, "ID", document_id)
    b.el(perf, "Description", f"Production performance of node {node_id}, journal {first} to {last}")
    b.el(perf, "PublishedDate", _when(created or datetime.now(UTC)))
    starts = [r.started for r in responses.values() if r.started is not None]
    ends = [r.ended for r in responses.values() if r.ended is not None]
    if starts:
        b.el(perf, "StartTime", _when(min(starts)))
    if ends:
        b.el(perf, "EndTime", _when(max(ends)))
    for resp in responses.values():
        _render_response(b, perf, resp, state)
    return RenderedDocument("ProductionPerformance", document_id, first, last, count,
                            ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _unit(state: PlantState | None, item: str | None) -> str | None:
    if state is None or item is None:
        return None
    found = state.items.get(item)
    return found.unit if found is not None else None


def _render_response(b: _Builder, perf: ET.Element, resp: _Response, state: PlantState | None) -> None:
    order = state.work_orders.get(resp.work_order) if state is not None else None
    pr = b.el(perf, "ProductionResponse")
    b.el(pr, "ID", resp.work_order)
    b.el(pr, "ProductionRequestID", resp.work_order)
    if order is not None:
        b.el(pr, "Version", order.bom_revision)
    if resp.started is not None:
        b.el(pr, "StartTime", _when(resp.started))
    if resp.ended is not None:
        b.el(pr, "EndTime", _when(resp.ended))
    for operation in sorted(resp.segments, key=lambda op: (op is None, op or 0)):
        _render_segment(b, pr, resp.work_order, resp.segments[operation], order, state)
    if resp.completed is not None:
        done = b.el(pr, "SegmentResponse")
        b.el(done, "ID", f"{resp.work_order}/completed")
        b.el(done, "Description", "Work order completed: totals")
        b.el(done, "ActualEndTime", _when(resp.completed.at))
        b.data(done, "ProductionData", "GoodQuantity", _num(resp.completed.good), "decimal")
        b.data(done, "ProductionData", "ScrapQuantity", _num(resp.completed.scrap), "decimal")
        b.el(done, "SegmentState", "Completed")
    b.el(pr, "ResponseState", "Completed" if resp.completed is not None else "Running")


def _render_segment(b: _Builder, pr: ET.Element, work_order: str, seg: _Segment, order: Any,
                    state: PlantState | None) -> None:
    sr = b.el(pr, "SegmentResponse")
    if seg.operation is None:
        b.el(sr, "ID", f"{work_order}/materials")
        b.el(sr, "Description", "Material issued to and returned from the work order")
    else:
        op = state.operations.get((work_order, seg.operation)) if state is not None else None
        # an operation from a sender's nested routing answers with that routing's segment IDs (the way back)
        b.el(sr, "ID", f"{work_order}/{op.segment if op is not None and op.segment else seg.operation}")
        b.el(sr, "ProcessSegmentID", str(seg.operation))
        if op is not None:
            b.el(sr, "Description", op.description)
        workstation = seg.workstation or (op.workstation if op is not None else None)
        if workstation is not None:
            loc = b.el(sr, "Location")
            b.el(loc, "EquipmentID", workstation)
            b.el(loc, "EquipmentElementLevel", "WorkCenter")
    if seg.started is not None:
        b.el(sr, "ActualStartTime", _when(seg.started))
    if seg.completed is not None:
        b.el(sr, "ActualEndTime", _when(seg.completed))
    item = order.item if order is not None else None
    unit = _unit(state, item)
    for seq, rep in seg.reports:
        pd = b.el(sr, "ProductionData")
        b.el(pd, "ID", f"Report-{seq}")
        b.el(pd, "Description", f"reported at {_when(rep.at)}")
        b.data(pd, "ProductionData", "GoodQuantity", _num(rep.good), "decimal", unit)
        b.data(pd, "ProductionData", "ScrapQuantity", _num(rep.scrap), "decimal", unit)
        if rep.scrap_reason:
            b.data(pd, "ProductionData", "ScrapReason", rep.scrap_reason, "string")
    for seq, lab in seg.labour:
        pa = b.el(sr, "PersonnelActual")
        b.el(pa, "PersonID", lab.operator)
        b.el(pa, "Description", f"labour {_when(lab.since)} to {_when(lab.at)} (journal {seq})")
        b.value(pa, "Quantity", _num(lab.minutes), "decimal", "min")
        for key, when in (("ClockedOn", lab.since), ("ClockedOff", lab.at)):
            b.data(pa, "PersonnelActualProperty", key, _when(when), "dateTime")
    if item is not None and seg.reports and seg.operation is not None and state is not None:
        last_op = max((o.operation for o in state.operations_of(work_order)), default=None)
        good = sum((rep.good for _, rep in seg.reports), Decimal(0))
        if seg.operation == last_op and good:
            mp = b.el(sr, "MaterialProducedActual")
            b.el(mp, "MaterialDefinitionID", item)
            b.value(mp, "Quantity", _num(good), "decimal", unit)
    for seq, mv in seg.materials:
        mc = b.el(sr, "MaterialConsumedActual")
        b.el(mc, "MaterialDefinitionID", mv.item)
        b.el(mc, "MaterialLotID", mv.lot)
        if mv.serial:
            b.el(mc, "MaterialSubLotID", mv.serial)
        b.el(mc, "Description", f"{mv.kind} at {_when(mv.at)} (journal {seq})")
        signed = mv.quantity if mv.kind == "issue" else -mv.quantity
        b.value(mc, "Quantity", _num(signed), "decimal", _unit(state, mv.item))
        b.data(mc, "MaterialConsumedActualProperty", "Movement", mv.kind, "string")
        bin_code = mv.from_bin if mv.kind == "issue" else mv.to_bin
        if bin_code:
            b.data(mc, "MaterialConsumedActualProperty", "Bin", bin_code, "string")
        if mv.bom_line is not None:
            b.data(mc, "MaterialConsumedActualProperty", "BOMLine", str(mv.bom_line), "integer")
    if seg.operation is not None:
        state_text = "Completed" if seg.completed is not None else ("Running" if seg.started or seg.reports else None)
        if state_text is not None:
            b.el(sr, "SegmentState", state_text)


_LOT_STATUS = {"available": "Available", "hold": "Hold", "quarantine": "Quarantine", "consumed": "Consumed"}


def render_material_information(entries: Iterable[JournalEntry], *, node_id: str, state: PlantState | None = None,
                                created: datetime | None = None, edge_only: bool = True
                                ) -> RenderedDocument | None:
    """Edge-origin lot events of ``entries`` (receipts, status changes, stock moves other than issues and returns,
    pallets packed and shipped, inspection verdicts) as one SyncMaterialInformation with a MaterialLot per event, or None if there are
    none."""
    b = _Builder()
    lots: list[tuple[int, e.Event]] = []
    first = last = None
    for entry in entries:
        first = entry.seq if first is None else first
        last = entry.seq
        if edge_only and entry.origin != "edge":
            continue
        if entry.type in MATERIAL_EVENTS:
            lots.append((entry.seq, entry.event()))
        elif entry.type == "StockMoved":
            ev = entry.event()
            assert isinstance(ev, e.StockMoved)
            if ev.kind not in CONSUMPTION_KINDS:
                lots.append((entry.seq, ev))
    if not lots or first is None or last is None:
        return None
    document_id = f"{node_id}:{first}-{last}"
    now = created or datetime.now(UTC)
    root, data_area = b.document("SyncMaterialInformation", node_id, document_id, now)
    info = b.el(data_area, "MaterialInformation")
    b.el(info, "ID", document_id)
    b.el(info, "Description", f"Material lots of node {node_id}, journal {first} to {last}")
    b.el(info, "PublishedDate", _when(now))
    for seq, ev in lots:
        _render_lot(b, info, seq, ev, state)
    return RenderedDocument("MaterialInformation", document_id, first, last, len(lots),
                            ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _render_lot(b: _Builder, info: ET.Element, seq: int, ev: e.Event, state: PlantState | None) -> None:
    lot = b.el(info, "MaterialLot")
    if isinstance(ev, e.LotReceived):
        b.el(lot, "ID", ev.lot)
        b.el(lot, "Description", f"received at {_when(ev.at)} (journal {seq})")
        b.el(lot, "MaterialDefinitionID", ev.item)
        b.el(lot, "Status", _LOT_STATUS.get(ev.status, ev.status))
        b.data(lot, "MaterialLotProperty", "Event", "LotReceived", "string")
        b.data(lot, "MaterialLotProperty", "ItemRevision", ev.item_revision, "string")
        if ev.expiry is not None:
            b.data(lot, "MaterialLotProperty", "ExpiryDate", ev.expiry.isoformat(), "date")
        if ev.supplier_lot:
            b.data(lot, "MaterialLotProperty", "SupplierLot", ev.supplier_lot, "string")
        b.el(lot, "StorageLocation", ev.bin)
        b.value(lot, "Quantity", _num(ev.quantity), "decimal", _unit(state, ev.item))
    elif isinstance(ev, e.LotStatusChanged):
        b.el(lot, "ID", ev.lot)
        b.el(lot, "Description", f"status {ev.previous} to {ev.status}: {ev.reason} (journal {seq})")
        known = state.lots.get(ev.lot) if state is not None else None
        if known is not None:
            b.el(lot, "MaterialDefinitionID", known.item)
        b.el(lot, "Status", _LOT_STATUS.get(ev.status, ev.status))
        b.data(lot, "MaterialLotProperty", "Event", "LotStatusChanged", "string")
        b.data(lot, "MaterialLotProperty", "PreviousStatus", _LOT_STATUS.get(ev.previous, ev.previous), "string")
        b.data(lot, "MaterialLotProperty", "Reason", ev.reason, "string")
        if ev.ncr:
            b.data(lot, "MaterialLotProperty", "Nonconformance", ev.ncr, "string")
    elif isinstance(ev, (e.PalletPacked, e.PalletShipped)):
        _render_pallet(b, lot, seq, ev)
    elif isinstance(ev, e.InspectionRecorded):
        _render_inspection(b, lot, seq, ev, state)
    elif isinstance(ev, (e.UnitSerialised, e.UnitComponentFitted)):
        _render_unit(b, lot, seq, ev)
    elif isinstance(ev, e.StockMoved):
        b.el(lot, "ID", ev.lot)
        b.el(lot, "Description", f"{ev.kind} at {_when(ev.at)} (journal {seq})")
        b.el(lot, "MaterialDefinitionID", ev.item)
        b.data(lot, "MaterialLotProperty", "Event", "StockMoved", "string")
        b.data(lot, "MaterialLotProperty", "Movement", ev.kind, "string")
        if ev.from_bin:
            b.data(lot, "MaterialLotProperty", "FromBin", ev.from_bin, "string")
        if ev.to_bin:
            b.data(lot, "MaterialLotProperty", "ToBin", ev.to_bin, "string")
        b.data(lot, "MaterialLotProperty", "LotQuantityChange", _num(ev.lot_quantity_delta), "decimal")
        if ev.reason:
            b.data(lot, "MaterialLotProperty", "Reason", ev.reason, "string")
        if ev.to_bin:
            b.el(lot, "StorageLocation", ev.to_bin)
        b.value(lot, "Quantity", _num(ev.quantity), "decimal", _unit(state, ev.item))


def _render_pallet(b: _Builder, lot: ET.Element, seq: int, ev: e.PalletPacked | e.PalletShipped) -> None:
    """A pallet (GS1 SSCC) as a MaterialLot assembled (physically, for a while) of the lots on it."""
    b.el(lot, "ID", ev.sscc)
    shipped = isinstance(ev, e.PalletShipped)
    what = (f"shipped to {ev.customer} on {ev.sales_order}" if isinstance(ev, e.PalletShipped)
            else f"packed in {ev.bin}")
    b.el(lot, "Description", f"pallet {what} at {_when(ev.at)} (journal {seq})")
    items = {line.item for line in ev.lines}
    if len(items) == 1:
        b.el(lot, "MaterialDefinitionID", next(iter(items)))
    b.data(lot, "MaterialLotProperty", "Event", type(ev).__name__, "string")
    b.data(lot, "MaterialLotProperty", "SSCC", ev.sscc, "string")
    if isinstance(ev, e.PalletShipped):
        b.data(lot, "MaterialLotProperty", "SalesOrder", ev.sales_order, "string")
        b.data(lot, "MaterialLotProperty", "Customer", ev.customer, "string")
    else:
        b.data(lot, "MaterialLotProperty", "PackedBy", ev.packed_by, "string")
    if not shipped:
        b.el(lot, "StorageLocation", ev.bin)
    for line in ev.lines:  # what is on it (in V0600 an assembly lot is a MaterialLot of its own)
        part = b.el(lot, "AssemblyLotID")
        b.el(part, "ID", line.lot)
        b.el(part, "MaterialDefinitionID", line.item)
        b.value(part, "Quantity", _num(line.quantity), "decimal")
    b.el(lot, "AssemblyType", "Physical")
    b.el(lot, "AssemblyRelationship", "Transient")


def _render_unit(b: _Builder, lot: ET.Element, seq: int, ev: e.UnitSerialised | e.UnitComponentFitted) -> None:
    """A serialised unit as a MaterialSubLot (its serial the ID) of its work order's output, under a MaterialLot named
    by the work order; a component fitted into it as the sub-lot's assembly (a serial: AssemblySubLotID; a lot:
    AssemblyLotID), permanently."""
    b.el(lot, "ID", ev.work_order)
    fitted = isinstance(ev, e.UnitComponentFitted)
    b.el(lot, "Description", f"{'component fitted into' if fitted else 'serial of'} unit {ev.serial} at "
                             f"{_when(ev.at)} (journal {seq})")
    b.el(lot, "MaterialDefinitionID", ev.item)
    b.data(lot, "MaterialLotProperty", "Event", type(ev).__name__, "string")
    b.data(lot, "MaterialLotProperty", "WorkOrder", ev.work_order, "string")
    sub = b.el(lot, "MaterialSubLot")
    b.el(sub, "ID", ev.serial)
    if isinstance(ev, e.UnitSerialised):
        b.data(sub, "MaterialSublotProperty", "Operation", str(ev.operation), "integer")
        b.data(sub, "MaterialSublotProperty", "SerialSource", ev.source, "string")
        if ev.gtin:
            b.data(sub, "MaterialSublotProperty", "GTIN", ev.gtin, "string")
        b.value(sub, "Quantity", "1", "decimal")
        b.el(sub, "MaterialLotID", ev.work_order)
        return
    b.data(sub, "MaterialSublotProperty", "Operation", str(ev.operation), "integer")
    b.el(sub, "MaterialLotID", ev.work_order)
    if ev.component_lot is not None and ev.component_serial is None:
        part = b.el(sub, "AssemblyLotID")
        b.el(part, "ID", ev.component_lot)
        b.el(part, "MaterialDefinitionID", ev.component)
    if ev.component_serial is not None:
        part = b.el(sub, "AssemblySubLotID")
        b.el(part, "ID", ev.component_serial)
        if ev.component_lot is not None:
            b.el(part, "MaterialLotID", ev.component_lot)
    b.el(sub, "AssemblyType", "Physical")
    b.el(sub, "AssemblyRelationship", "Permanent")


def _render_inspection(b: _Builder, lot: ET.Element, seq: int, ev: e.InspectionRecorded,
                       state: PlantState | None) -> None:
    """An inspection's verdict on the lot it sampled (or, without a lot, under the inspection's own ID): a property
    ``Inspection`` with the verdict, holding one property per characteristic with its value and a TestResult."""
    b.el(lot, "ID", ev.lot or ev.inspection)
    subject = f"lot {ev.lot}" if ev.lot else f"work order {ev.work_order}" + (
        f" operation {ev.operation}" if ev.operation is not None else "")
    b.el(lot, "Description", f"inspection {ev.inspection} ({ev.plan}) of {subject}: "
                             f"{'passed' if ev.passed else 'failed'} (journal {seq})")
    known = state.lots.get(ev.lot) if state is not None and ev.lot else None
    if known is not None:
        b.el(lot, "MaterialDefinitionID", known.item)
    b.data(lot, "MaterialLotProperty", "Event", "InspectionRecorded", "string")
    if ev.work_order:
        b.data(lot, "MaterialLotProperty", "WorkOrder", ev.work_order, "string")
    if ev.operation is not None:
        b.data(lot, "MaterialLotProperty", "Operation", str(ev.operation), "integer")
    verdict = b.el(lot, "MaterialLotProperty")
    b.el(verdict, "ID", "Inspection")
    b.el(verdict, "Description", f"inspection {ev.inspection} against plan {ev.plan}")
    b.value(verdict, "Value", "PASS" if ev.passed else "FAIL", "string")
    for measured in ev.results:
        characteristic = b.el(verdict, "MaterialLotProperty")
        b.el(characteristic, "ID", measured.characteristic)
        if measured.value is not None:
            b.value(characteristic, "Value", _num(measured.value), "decimal")
        b.el(characteristic, "MaterialTestSpecificationID", ev.plan)
        result = b.el(characteristic, "TestResult")
        b.el(result, "ID", ev.inspection)
        b.el(result, "TestDateTime", _when(ev.at))
        b.value(result, "Result", "PASS" if measured.passed else "FAIL", "string")
    result = b.el(verdict, "TestResult")
    b.el(result, "ID", ev.inspection)
    b.el(result, "TestDateTime", _when(ev.at))
    b.value(result, "Result", "PASS" if ev.passed else "FAIL", "string")


def render(entries: Sequence[JournalEntry], *, node_id: str, state: PlantState | None = None,
           created: datetime | None = None) -> list[RenderedDocument]:
    """Both documents for a slice of the journal: production performance and material information (each only when
    the slice holds events of its kind). Both name the whole slice's sequence range."""
    docs = [render_production_performance(entries, node_id=node_id, state=state, created=created),
            render_material_information(entries, node_id=node_id, state=state, created=created)]
    return [d for d in docs if d is not None]

