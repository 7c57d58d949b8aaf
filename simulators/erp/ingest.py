"""Storing a pushed batch of edge events: dedup on (node, seq), the acknowledged mark, business rejections, and
the events' effects on the central tables, all in one transaction.

A batch is decided in Python first (which events are new, rejected or held; what they change, added up per
work order operation, lot and bin) and then written with one executemany per table, so a batch of thousands
of events costs a handful of round trips, not one per event.

The batch's reading and checks, and the refusal type, are in :mod:`simulators.erp.batch`.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pydantic_core
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Table, and_, bindparam, delete, insert, select, tuple_, update

from erp_sync.protocol import BatchAck, EventBatch, PalletShippedPayload, Rejection, SyncEvent
from simulators.erp import schema as s
from simulators.erp.batch import SyncRefused, chunks, now_text, parse_batch, utc_day
from simulators.erp.faults import Faults

ZERO = Decimal(0)
CENT = Decimal("0.0001")

# Events about a work order: refused as UNKNOWN_ORDER when the central side never released it.
ORDER_EVENTS = frozenset({"ProductionReported", "OperationStarted", "OperationPaused", "OperationResumed",
                          "OperationCompleted", "WorkOrderCompleted", "LabourClockedOn", "LabourClockedOff"})
OPERATION_EVENTS = ORDER_EVENTS - {"WorkOrderCompleted"}
MAYBE_ORDER_EVENTS = frozenset({"StockMoved", "InspectionRecorded", "NonconformanceRaised"})
# A rework disposition's rework: operations added to a known order, or a new rework order with its routing.
REWORK_EVENTS = frozenset({"ReworkOpened"})
CAPA_EVENTS = frozenset({"CapaOpened", "CapaRootCauseRecorded", "CapaActionPlanned", "CapaActionCompleted",
                         "CapaEffectivenessChecked"})


@dataclass
class _Op:
    """A work order operation as the batch leaves it."""

    row: dict[str, Any]
    dirty: bool = False


@dataclass
class _Effects:
    ops: dict[tuple[str, int], _Op] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dirty_orders: set[str] = field(default_factory=set)
    stock: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (lot, bin) -> [item, delta]
    consumption: dict[tuple[str, str, int], list[Any]] = field(default_factory=dict)  # (wo, lot, line) -> [item, d]
    lots: dict[str, dict[str, Any]] = field(default_factory=dict)
    lot_status: dict[str, str] = field(default_factory=dict)
    supplier_lots: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # supplier lot -> (lot, qty)
    machine_rows: list[dict[str, Any]] = field(default_factory=list)
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)
    ncrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    equipment: dict[str, str] = field(default_factory=dict)
    active: dict[str, tuple[str, int] | None] = field(default_factory=dict)  # workstation -> op, None: cleared
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # lot -> its supplier lot verdict
    shift_oee: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (ws, shift, day) -> OEE
    shipments: list[dict[str, Any]] = field(default_factory=list)  # rows of s.shipments
    maintenance: dict[str, dict[str, Any]] = field(default_factory=dict)  # request -> what changed on it
    maintenance_parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # request -> parts issued
    new_orders: list[dict[str, Any]] = field(default_factory=list)  # rework orders (rows of s.work_orders)
    new_ops: list[dict[str, Any]] = field(default_factory=list)  # rework operations (rows of s.wo_operations)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)  # SRM: supplier returns by id
    capas: dict[str, dict[str, Any]] = field(default_factory=dict)  # QMS: CAPA records by id (the batch's changes)
    capa_actions: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _utc(text: str) -> str:
    """An edge time (ISO 8601, ``Z`` or an offset) as UTC ISO text: stored times compare as text."""
    t = datetime.fromisoformat(text)
    return (t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)).isoformat()


def _minutes_between(since: str, until: str) -> Decimal:
    seconds = (datetime.fromisoformat(until) - datetime.fromisoformat(since)).total_seconds()
    return max(ZERO, (Decimal(str(seconds)) / 60).quantize(CENT, ROUND_HALF_EVEN))


class Ingest:
    """Stores pushed batches. One instance per simulator; safe to call from several threads."""

    def __init__(self, engine: Engine, faults: Faults, *, write_lock: threading.Lock,
                 crash: Callable[[], None] = lambda: os._exit(70)) -> None:
        self.engine = engine
        self.faults = faults
        self.is_postgres = engine.dialect.name == "postgresql"
        # SQLite has one writer; a process lock keeps read-decide-write of a batch serial. PostgreSQL locks rows.
        self.write_lock = write_lock
        self.crash = crash

    # --- the route's entry points --------------------------------------------------------------------

    def cursor(self, node: str) -> int:
        with self.engine.connect() as conn:
            mark = conn.execute(select(s.sync_marks.c.acknowledged).where(s.sync_marks.c.node == node)).scalar()
        return int(mark or 0)

    def store(self, node: str, body: bytes) -> BatchAck:
        batch = parse_batch(body, node)
        if self.is_postgres:
            ack = self._store(batch)
        else:
            with self.write_lock:
                ack = self._store(batch)
        if self.faults.crash_after_store:
            self.crash()  # exits the process, or raises AnswerLost in process
        return ack

    # --- one batch -----------------------------------------------------------------------------------

    def _store(self, batch: EventBatch) -> BatchAck:
        node = batch.node
        with self.engine.begin() as conn:
            mark = self._lock_mark(conn, node)
            if not batch.redelivery and batch.after > mark:
                raise SyncRefused(409, "SEQUENCE_GAP", f"the ERP holds node {node} through seq {mark}; the batch "
                                  f"starts after {batch.after}", field="after", acknowledged=mark)
            if batch.chain is not None and not batch.redelivery:
                self._check_chain(conn, batch)
            if batch.redelivery:
                seqs = [ev.seq for ev in batch.events]
                known: set[int] = set()
                for part in chunks(seqs):
                    known.update(conn.execute(select(s.received_events.c.seq).where(
                        s.received_events.c.node == node, s.received_events.c.seq.in_(part))).scalars())
                fresh = [ev for ev in batch.events if ev.seq not in known]
            else:
                # past the mark, but possibly stored already: a redelivery stores the seqs it names, beyond the mark
                # too, without moving it (a node retrying beside its own resend); one range read of the primary key
                beyond = set(conn.execute(select(s.received_events.c.seq).where(
                    s.received_events.c.node == node, s.received_events.c.seq > mark,
                    s.received_events.c.seq <= batch.through)).scalars())
                fresh = [ev for ev in batch.events if ev.seq > mark and ev.seq not in beyond]
            duplicates = len(batch.events) - len(fresh)
            stored, rejected, held = self._apply(conn, node, fresh)
            new_mark = mark if batch.redelivery else max(mark, batch.through)
            conn.execute(update(s.sync_marks).where(s.sync_marks.c.node == node)
                         .values(acknowledged=new_mark, updated_at=now_text()))
            self._report(conn, batch, len(rejected), len(held))
        return BatchAck(node=node, acknowledged=new_mark, stored=stored, duplicates=duplicates,
                        rejected=rejected, held=held)

    def _report(self, conn: Connection, batch: EventBatch, rejected: int, held: int) -> None:
        """What the node said of itself (its journal head) and the refusals, for the plant view. In the batch's
        transaction, under the node's mark lock: one row per node, no other node waits on it."""
        t = s.node_reports
        dialect_insert: Any
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        stmt = dialect_insert(t).values(node=batch.node, journal_head=batch.journal_head, reported_at=now_text(),
                                        rejected=rejected, held=held)
        head = batch.journal_head if batch.journal_head is not None else t.c.journal_head
        conn.execute(stmt.on_conflict_do_update(index_elements=["node"], set_={
            "journal_head": head, "reported_at": stmt.excluded.reported_at,
            "rejected": t.c.rejected + rejected, "held": t.c.held + held}))

    def _check_chain(self, conn: Connection, batch: EventBatch) -> None:
        """Refuse a batch whose journal chain does not continue from the head this side holds for the node (its
        journal was rewritten), else keep the batch's head. In the batch's transaction, after the mark's lock."""
        chain = batch.chain
        assert chain is not None
        h = s.chain_heads
        held = conn.execute(select(h.c.seq, h.c.hash).where(h.c.node == batch.node)).first()
        if held is not None:
            claimed = {batch.after: chain.after_hash, batch.through: chain.through_hash}.get(int(held.seq))
            if claimed is not None and claimed != held.hash:
                raise SyncRefused(409, "CHAIN_BROKEN", f"node {batch.node}'s journal chain through seq {held.seq} "
                                  f"was {held.hash[:16]}… when it was pushed and is now {claimed[:16]}…: the node's "
                                  f"journal was rewritten; run takt store verify there", field="chain")
            if batch.through <= held.seq:
                return
            conn.execute(update(h).where(h.c.node == batch.node).values(
                seq=batch.through, hash=chain.through_hash, updated_at=now_text()))
        else:
            conn.execute(insert(h).values(node=batch.node, seq=batch.through, hash=chain.through_hash,
                                          updated_at=now_text()))

    def _lock_mark(self, conn: Connection, node: str) -> int:
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(pg_insert(s.sync_marks).values(node=node, acknowledged=0, updated_at=now_text())
                         .on_conflict_do_nothing(index_elements=["node"]))
            return int(conn.execute(select(s.sync_marks.c.acknowledged).where(s.sync_marks.c.node == node)
                                    .with_for_update()).scalar_one())
        mark = conn.execute(select(s.sync_marks.c.acknowledged).where(s.sync_marks.c.node == node)).scalar()
        if mark is None:
            conn.execute(insert(s.sync_marks).values(node=node, acknowledged=0, updated_at=now_text()))
            return 0
        return int(mark)

    def _bulk_insert(self, conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """Insert plain tuples in the table's column order, past SQLAlchemy's per-row parameter processing:
        COPY on PostgreSQL, the driver's executemany on SQLite. Inside the caller's transaction."""
        columns = [c.name for c in table.columns]
        if self.is_postgres:
            raw: Any = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                                 f"VALUES ({', '.join(['?'] * len(columns))})", rows)

    def _select_in(self, conn: Connection, table: Table, column: str, values: Iterable[Any],
                   *where: Any, lock: bool = False, order: Sequence[Any] = ()) -> list[dict[str, Any]]:
        values = sorted(set(values))
        rows: list[dict[str, Any]] = []
        for part in chunks(values):
            query = select(table).where(table.c[column].in_(part), *where)
            if order:
                query = query.order_by(*order)
            if lock and self.is_postgres:
                query = query.with_for_update()
            rows.extend(dict(r._mapping) for r in conn.execute(query))
        return rows

    def _apply(self, conn: Connection, node: str, events: list[SyncEvent]
               ) -> tuple[int, list[Rejection], list[int]]:
        if not events:
            return 0, [], []
        # what the batch needs to know of the central side
        order_refs = {ev.payload.get("work_order") for ev in events
                      if ev.type in ORDER_EVENTS or ev.type in MAYBE_ORDER_EVENTS or ev.type in REWORK_EVENTS}
        order_refs.discard(None)
        wo_names = sorted(str(w) for w in order_refs)
        fx = _Effects()
        for row in self._select_in(conn, s.work_orders, "work_order", wo_names, lock=True,
                                   order=(s.work_orders.c.work_order,)):
            fx.orders[row["work_order"]] = row
        for row in self._select_in(conn, s.wo_operations, "work_order", wo_names, lock=True,
                                   order=(s.wo_operations.c.work_order, s.wo_operations.c.operation)):
            fx.ops[(row["work_order"], row["operation"])] = _Op(row)
        so_refs = sorted({str(ev.payload.get("sales_order")) for ev in events if ev.type == "PalletShipped"})
        known_sales_orders = {r["sales_order"] for r in self._select_in(conn, s.sales_orders, "sales_order", so_refs)}
        closed_text = conn.execute(select(s.settings.c.value).where(s.settings.c.name == "closed_through")).scalar()
        closed_through = date.fromisoformat(closed_text) if closed_text else None
        equipment_ws = {r.equipment: r.workstation for r in conn.execute(select(s.equipment))}
        rates = {r.workstation: (r.labour_rate, r.machine_rate) for r in conn.execute(select(s.workstations))}
        active: dict[str, tuple[str, int]] = {
            r.workstation: (r.work_order, r.operation)
            for r in conn.execute(select(s.active_operations).where(s.active_operations.c.node == node))}

        rows: list[tuple[Any, ...]] = []
        to_json = pydantic_core.to_json
        rejected: list[Rejection] = []
        held: list[int] = []
        stopped: set[str] = set()
        received_at = now_text()
        faults = self.faults
        always_check = bool(faults.reject) or closed_through is not None
        checked_types = ORDER_EVENTS | MAYBE_ORDER_EVENTS | {"PalletShipped"}
        refusal_of, effect_of, append = self._refusal, self._effect, rows.append
        for ev in events:
            if stopped and ev.subject in stopped:
                held.append(ev.seq)
                continue
            if always_check or ev.type in checked_types:
                refusal = refusal_of(ev, fx, closed_through, faults)
                if refusal is None and ev.type == "PalletShipped" and ev.payload.get("sales_order") not in \
                        known_sales_orders:
                    refusal = Rejection(seq=ev.seq, code="UNKNOWN_SALES_ORDER", field="payload.sales_order",
                                        message=f"sales order {ev.payload.get('sales_order')} is not known to CRM")
                if refusal is not None:
                    rejected.append(refusal)
                    stopped.add(ev.subject)
                    continue
            append((node, ev.seq, ev.event_id, ev.message, ev.type, ev.subject, ev.occurred_at.isoformat(),
                    ev.recorded_at.isoformat(), ev.actor, ev.device, to_json(ev.payload).decode(), received_at,
                    ev.recorded_by, ev.on_behalf_of))
            try:
                effect_of(ev, node, fx, equipment_ws, rates, active)
            except ValidationError as exc:  # a payload that does not follow the protocol's model for its type
                rows.pop()
                first = exc.errors()[0]
                where = "payload." + ".".join(str(x) for x in first["loc"])
                rejected.append(Rejection(seq=ev.seq, code="INVALID_EVENT", field=where,
                                          message=f"{ev.type}: {where}: {first['msg']}"))
                stopped.add(ev.subject)
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                # a payload the central side cannot book: refused like a business rejection, nothing of it kept
                rows.pop()
                missing = f"payload.{exc.args[0]}" if isinstance(exc, KeyError) and exc.args else None
                rejected.append(Rejection(seq=ev.seq, code="INVALID_EVENT", field=missing,
                                          message=f"{ev.type}: " + (f"{missing} is missing" if missing else
                                                                    f"a value cannot be booked ({exc})")))
                stopped.add(ev.subject)
        if rows:
            self._bulk_insert(conn, s.received_events, rows)
            self._write(conn, node, fx)
        return len(rows), rejected, held

    @staticmethod
    def _refusal(ev: SyncEvent, fx: _Effects, closed_through: date | None, faults: Faults) -> Rejection | None:
        rule = faults.rejection(ev.type, ev.subject) if faults.reject else None
        if rule is not None:
            return Rejection(seq=ev.seq, code=rule.code, message=rule.message)
        if closed_through is not None and utc_day(ev.occurred_at) <= closed_through:
            return Rejection(seq=ev.seq, code="PERIOD_CLOSED", field="occurred_at",
                             message=f"{ev.type} occurred on {utc_day(ev.occurred_at)}, in a period closed through "
                                     f"{closed_through}")
        wo = ev.payload.get("work_order")
        if wo is not None and (ev.type in ORDER_EVENTS or ev.type in MAYBE_ORDER_EVENTS):
            if wo not in fx.orders:
                return Rejection(seq=ev.seq, code="UNKNOWN_ORDER", field="payload.work_order",
                                 message=f"work order {wo} is not known to the ERP")
            if ev.type in OPERATION_EVENTS and (wo, ev.payload.get("operation")) not in fx.ops:
                return Rejection(seq=ev.seq, code="UNKNOWN_OPERATION", field="payload.operation",
                                 message=f"work order {wo} has no operation {ev.payload.get('operation')}")
        return None

    @staticmethod
    def _effect(ev: SyncEvent, node: str, fx: _Effects, equipment_ws: dict[str, str],
                rates: dict[str, tuple[Decimal, Decimal]], active: dict[str, tuple[str, int]]) -> None:
        p = ev.payload
        t = ev.type
        if t in OPERATION_EVENTS or t == "WorkOrderCompleted":
            wo = p["work_order"]
            order = fx.orders[wo]
            if t == "WorkOrderCompleted":
                order.update(status="completed", good=_d(p["good"]), scrap=_d(p["scrap"]), completed_at=_utc(p["at"]))
                fx.dirty_orders.add(wo)
                return
            op = fx.ops[(wo, p["operation"])]
            row = op.row
            op.dirty = True
            ws = row["workstation"]
            if t == "ProductionReported":
                good, scrap = _d(p["good"]), _d(p["scrap"])
                row["good"] += good
                row["scrap"] += scrap
            elif t == "LabourClockedOff":
                minutes = _d(p["minutes"])
                row["labour_minutes"] += minutes
                rate = rates.get(ws, (ZERO, ZERO))[0]
                row["labour_cost"] += (minutes * rate / 60).quantize(CENT, ROUND_HALF_EVEN)
            elif t in ("OperationStarted", "OperationResumed"):
                at = _utc(p["at"])
                row["status"] = "running"
                if t == "OperationStarted" and (row["actual_start"] is None or at < row["actual_start"]):
                    row["actual_start"] = at
                active[ws] = (wo, p["operation"])
                fx.active[ws] = (wo, p["operation"])
                if order["status"] == "released":
                    order["status"] = "in_progress"
                    fx.dirty_orders.add(wo)
            elif t in ("OperationPaused", "OperationCompleted"):
                ended = _utc(p["at"]) if t == "OperationCompleted" else None
                row["status"] = "paused" if t == "OperationPaused" else "completed"
                if ended is not None:
                    row["actual_end"] = ended
                if active.get(ws) == (wo, p["operation"]):
                    del active[ws]
                    fx.active[ws] = None
            if order.get("node") is None:
                order["node"] = node
                fx.dirty_orders.add(wo)
        elif t == "LotReceived":
            _add_stock(fx, p["lot"], p["bin"], p["item"], _d(p["quantity"]))
            fx.lots[p["lot"]] = {"item": p["item"], "item_revision": p.get("item_revision"),
                                 "supplier_lot": p.get("supplier_lot"), "expiry": p.get("expiry"),
                                 "status": p.get("status") or "available"}
            if p.get("supplier_lot"):
                fx.supplier_lots[p["supplier_lot"]] = (p["lot"], _d(p["quantity"]))
        elif t == "StockMoved":
            quantity, lot, item = _d(p["quantity"]), p["lot"], p["item"]
            used = p.get("work_order") and p.get("kind") in ("issue", "return")
            key = (p["work_order"], lot, int(p.get("bom_line") or 0)) if used else None
            if p.get("from_bin"):
                _add_stock(fx, lot, p["from_bin"], item, -quantity)
            if p.get("to_bin"):
                _add_stock(fx, lot, p["to_bin"], item, quantity)
            if key is not None:
                entry = fx.consumption.setdefault(key, [item, ZERO])
                entry[1] += quantity if p["kind"] == "issue" else -quantity
        elif t == "LotStatusChanged":
            fx.lot_status[p["lot"]] = p["status"]
        elif t == "PalletShipped":
            shipped = PalletShippedPayload.model_validate(p)
            fx.shipments += [{"node": node, "sscc": shipped.sscc, "lot": ln.lot, "line": ln.line,
                              "sales_order": shipped.sales_order, "customer": shipped.customer, "item": ln.item,
                              "quantity": ln.quantity, "shipped_at": shipped.at.astimezone(UTC).isoformat(),
                              "seq": ev.seq} for ln in shipped.lines]
        elif t == "MachineStateChanged":
            fx.machine_rows.append({"node": node, "seq": ev.seq, "equipment": p["equipment"], "state": p["state"],
                                    "reason": p.get("reason"), "since": _utc(p["since"]), "previous": p.get("previous"),
                                    "previous_since": _utc(p["previous_since"]) if p.get("previous_since") else None})
            ws = equipment_ws.get(p["equipment"])
            if p.get("previous") == "running" and p.get("previous_since") and ws is not None and ws in active:
                running = fx.ops.get(active[ws])
                if running is not None:
                    minutes = _minutes_between(p["previous_since"], p["since"])
                    running.row["machine_minutes"] += minutes
                    rate = rates.get(ws, (ZERO, ZERO))[1]
                    running.row["machine_cost"] += (minutes * rate / 60).quantize(CENT, ROUND_HALF_EVEN)
                    running.dirty = True
        elif t == "EquipmentDefined":
            equipment_ws[p["equipment"]] = p["workstation"]
            fx.equipment[p["equipment"]] = p["workstation"]
        elif t == "InspectionRecorded":
            fx.quality[p["inspection"]] = {"plan": p["plan"], "lot": p.get("lot"), "work_order": p.get("work_order"),
                                           "operation": p.get("operation"), "passed": bool(p["passed"]),
                                           "results": p.get("results", []), "at": p["at"]}
        elif t == "NonconformanceRaised":
            raised = {"lot": p.get("lot"), "work_order": p.get("work_order"), "description": p["description"],
                      "raised_by": p["raised_by"], "raised_at": _utc(p["at"])}
            fx.ncrs.setdefault(p["ncr"], {}).update(raised)
        elif t == "SupplierLotVerdict":
            fx.verdicts[p["lot"]] = {
                "supplier": p["supplier"], "supplier_lot": p.get("supplier_lot"),
                "purchase_order": p.get("purchase_order"), "po_line": p.get("po_line"), "item": p["item"],
                "quantity": _d(p["quantity"]), "verdict": p["verdict"], "samples": int(p["samples"]),
                "failed": int(p["failed"]), "ncr": p.get("ncr"), "plan": p["plan"], "at": _utc(p["at"])}
        elif t == "ShiftOeeClosed":
            fx.shift_oee[(p["workstation"], p["shift"], p["day"])] = {
                "start": _utc(p["start"]), "end": _utc(p["end"]),
                **{k: _d(p[k]) for k in ("planned_minutes", "run_minutes", "good", "scrap", "availability",
                                         "performance", "quality", "oee")}}
        elif t == "MaintenanceRequested":
            fx.maintenance.setdefault(p["request"], {}).update(
                equipment=p["equipment"], kind=p["kind"], trigger=p["trigger"], reason=p.get("reason"),
                plan=p.get("plan"), status="open", raised_by=p["raised_by"], raised_at=_utc(p["at"]),
                note=p.get("note") or None)
        elif t == "MaintenanceAccepted":
            fx.maintenance.setdefault(p["request"], {}).update(status="accepted", technician=p["technician"])
        elif t == "MaintenanceWorkStarted":
            fx.maintenance.setdefault(p["request"], {}).update(status="in_work", technician=p["technician"])
        elif t == "MaintenancePartsIssued":
            fx.maintenance_parts.setdefault(p["request"], []).append(
                {"item": p["item"], "lot": p["lot"], "bin": p["bin"], "quantity": p["quantity"]})
        elif t == "MaintenanceCompleted":
            fx.maintenance.setdefault(p["request"], {}).update(
                equipment=p["equipment"], status="completed", technician=p["technician"],
                labour_minutes=_d(p["labour_minutes"]), released=bool(p["released"]), completed_at=_utc(p["at"]))
        elif t == "ReworkOpened":
            _rework_opened(p, node, fx)
        elif t == "SupplierReturnCreated":
            fx.returns[p["supplier_return"]] = {
                "ncr": p["ncr"], "lot": p["lot"], "item": p["item"], "supplier": p.get("supplier"),
                "supplier_lot": p.get("supplier_lot"), "purchase_order": p.get("purchase_order"),
                "quantity": _d(p["quantity"]), "reason": p.get("reason") or "", "at": _utc(p["at"])}
        elif t in CAPA_EVENTS:
            _capa_event(t, p, fx)
        elif t == "NonconformanceDispositioned":
            decided = {"disposition": p["disposition"], "comment": p.get("comment"),
                       "dispositioned_by": p["dispositioned_by"], "dispositioned_at": _utc(p["at"])}
            fx.ncrs.setdefault(p["ncr"], {}).update(decided)

    # --- writing the effects -------------------------------------------------------------------------

    def _upsert(self, conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
        if not rows:
            return
        if self.is_postgres and len(rows) > 50:
            self._upsert_by_copy(conn, table, rows, keys)
            return
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        stmt = dialect_insert(table)
        columns = [c for c in rows[0] if c not in keys]
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: stmt.excluded[c] for c in columns})
        conn.execute(stmt, rows)

    def _upsert_by_copy(self, conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
        """PostgreSQL: COPY the rows into a session-local table, then one INSERT ... SELECT ... ON CONFLICT."""
        columns = list(rows[0])
        convert = [_to_text(table.c[c].type) for c in columns]
        temp = f"incoming_{table.name}"
        raw: Any = conn.connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in keys)
        with raw.cursor() as cur:
            cur.execute(f'CREATE TEMP TABLE IF NOT EXISTS {temp} (LIKE "{table.name}") ON COMMIT DELETE ROWS')
            with cur.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([f(row[c]) for f, c in zip(convert, columns, strict=True)])
            cur.execute(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {temp} '
                        f'ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {updates}')
            cur.execute(f"DELETE FROM {temp}")

    def _write(self, conn: Connection, node: str, fx: _Effects) -> None:
        if fx.new_orders:  # rework orders and operations first: the updates below may change them again
            conn.execute(insert(s.work_orders), fx.new_orders)
        if fx.new_ops:
            conn.execute(insert(s.wo_operations), fx.new_ops)
        if fx.returns:
            self._upsert(conn, s.supplier_returns, [{"node": node, "supplier_return": k, **v}
                                                    for k, v in fx.returns.items()], ("node", "supplier_return"))
        if fx.capas:
            self._write_capas(conn, node, fx)
        dirty_ops = [op.row for op in fx.ops.values() if op.dirty]
        if dirty_ops:
            op_cols = ("status", "good", "scrap", "actual_start", "actual_end", "labour_minutes", "machine_minutes",
                       "labour_cost", "machine_cost")
            t = s.wo_operations
            conn.execute(update(t).where(t.c.work_order == bindparam("k_wo"), t.c.operation == bindparam("k_op"))
                         .values({c: bindparam(c) for c in op_cols}),
                         [{"k_wo": r["work_order"], "k_op": r["operation"], **{c: r[c] for c in op_cols}}
                          for r in dirty_ops])
        if fx.dirty_orders:
            cols = ("status", "good", "scrap", "completed_at", "node")
            t = s.work_orders
            conn.execute(update(t).where(t.c.work_order == bindparam("k_wo")).values({c: bindparam(c) for c in cols}),
                         [{"k_wo": wo, **{c: fx.orders[wo][c] for c in cols}} for wo in sorted(fx.dirty_orders)])
        if fx.stock:
            self._write_stock(conn, node, fx)
        if fx.consumption:
            t = s.consumption
            existing = {(r["work_order"], r["lot"], r["line"]): r["quantity"]
                        for r in self._select_in(conn, t, "work_order", [k[0] for k in fx.consumption],
                                                 t.c.node == node)}
            self._upsert(conn, t, [{"work_order": wo, "node": node, "lot": lot, "line": line, "item": item,
                                    "quantity": existing.get((wo, lot, line), ZERO) + delta}
                                   for (wo, lot, line), (item, delta) in fx.consumption.items()],
                         ("work_order", "node", "lot", "line"))
        if fx.lots or fx.lot_status:
            t = s.lots
            for lot, status in fx.lot_status.items():
                if lot in fx.lots:
                    fx.lots[lot]["status"] = status
            self._upsert(conn, t, [{"node": node, "lot": lot, **row} for lot, row in fx.lots.items()], ("node", "lot"))
            changed = [(lot, st) for lot, st in fx.lot_status.items() if lot not in fx.lots]
            if changed:
                conn.execute(update(t).where(t.c.node == node, t.c.lot == bindparam("k_lot"))
                             .values(status=bindparam("status")),
                             [{"k_lot": lot, "status": st} for lot, st in changed])
        if fx.supplier_lots:
            self._receive_supplier_lots(conn, node, fx)
        if fx.shipments:
            conn.execute(insert(s.shipments), fx.shipments)
        if fx.machine_rows:
            columns = [c.name for c in s.machine_states.columns]
            self._bulk_insert(conn, s.machine_states, [tuple(r[c] for c in columns) for r in fx.machine_rows])
        if fx.equipment:
            self._upsert(conn, s.equipment, [{"equipment": e, "workstation": w} for e, w in fx.equipment.items()],
                         ("equipment",))
        if fx.active:
            t = s.active_operations
            conn.execute(delete(t).where(t.c.node == node, t.c.workstation.in_(sorted(fx.active))))
            now_active = [{"node": node, "workstation": ws, "work_order": v[0], "operation": v[1]}
                          for ws, v in fx.active.items() if v is not None]
            if now_active:
                conn.execute(insert(t), now_active)
        if fx.quality:
            self._upsert(conn, s.quality_results, [{"node": node, "inspection": k, **v} for k, v in fx.quality.items()],
                         ("node", "inspection"))
        if fx.ncrs:
            self._write_ncrs(conn, node, fx)
        if fx.maintenance or fx.maintenance_parts:
            self._write_maintenance(conn, node, fx)
        if fx.verdicts:
            self._upsert(conn, s.supplier_lot_verdicts, [{"node": node, "lot": lot, **v}
                                                         for lot, v in fx.verdicts.items()], ("node", "lot"))
        if fx.shift_oee:
            self._upsert(conn, s.shift_oee, [{"node": node, "workstation": ws, "shift": shift, "day": day, **v}
                                             for (ws, shift, day), v in fx.shift_oee.items()],
                         ("node", "workstation", "shift", "day"))

    def _write_stock(self, conn: Connection, node: str, fx: _Effects) -> None:
        t = s.stock
        existing: dict[tuple[str, str], Decimal] = {}
        for row in self._select_in(conn, t, "lot", [k[0] for k in fx.stock], t.c.node == node):
            existing[(row["lot"], row["bin"])] = row["quantity"]
        upserts, gone = [], []
        for (lot, bin_), (item, delta) in fx.stock.items():
            quantity = existing.get((lot, bin_), ZERO) + delta
            if quantity == 0:
                if (lot, bin_) in existing:
                    gone.append({"k_lot": lot, "k_bin": bin_})
            else:
                upserts.append({"node": node, "lot": lot, "bin": bin_, "item": item, "quantity": quantity})
        self._upsert(conn, t, upserts, ("node", "lot", "bin"))
        if gone:
            conn.execute(delete(t).where(t.c.node == node, t.c.lot == bindparam("k_lot"),
                                         t.c.bin == bindparam("k_bin")), gone)

    def _receive_supplier_lots(self, conn: Connection, node: str, fx: _Effects) -> None:
        t, lines = s.expected_lots, s.po_lines
        expected = self._select_in(conn, t, "supplier_lot", list(fx.supplier_lots), t.c.received_lot.is_(None),
                                   lock=True, order=(t.c.purchase_order, t.c.line, t.c.supplier_lot))
        if not expected:
            return
        received: dict[tuple[str, int], Decimal] = {}
        for row in expected:
            lot, quantity = fx.supplier_lots[row["supplier_lot"]]
            conn.execute(update(t).where(t.c.purchase_order == row["purchase_order"], t.c.line == row["line"],
                                         t.c.supplier_lot == row["supplier_lot"])
                         .values(received_lot=lot, received_node=node))
            key = (row["purchase_order"], row["line"])
            received[key] = received.get(key, ZERO) + quantity
        keys = sorted(received)
        current = {(r["purchase_order"], r["line"]): r["received"] for r in conn.execute(
            select(lines).where(tuple_(lines.c.purchase_order, lines.c.line).in_(keys))).mappings()}
        for key in keys:
            conn.execute(update(lines).where(and_(lines.c.purchase_order == key[0], lines.c.line == key[1]))
                         .values(received=current.get(key, ZERO) + received[key]))

    def _write_capas(self, conn: Connection, node: str, fx: _Effects) -> None:
        """QMS: each CAPA's record, changed field by field as the node worked it (a row per CAPA, per action)."""
        t, a = s.capas, s.capa_actions
        existing = {r["capa"]: r for r in self._select_in(conn, t, "capa", list(fx.capas), t.c.node == node)}
        blank = dict.fromkeys(t.columns.keys())
        rows = [{**blank, **existing.get(k, {}), **v, "node": node, "capa": k} for k, v in fx.capas.items()]
        self._upsert(conn, t, [r for r in rows if r["problem"] is not None], ("node", "capa"))
        if fx.capa_actions:
            found = {(r["capa"], r["action"]): r for r in self._select_in(
                conn, a, "capa", sorted({k[0] for k in fx.capa_actions}), a.c.node == node)}
            blank = dict.fromkeys(a.columns.keys())
            rows = [{**blank, **found.get(k, {}), **v, "node": node, "capa": k[0], "action": k[1]}
                    for k, v in fx.capa_actions.items()]
            self._upsert(conn, a, [r for r in rows if r["description"] is not None], ("node", "capa", "action"))

    def _write_ncrs(self, conn: Connection, node: str, fx: _Effects) -> None:
        t = s.nonconformances
        existing = {r["ncr"]: r for r in self._select_in(conn, t, "ncr", list(fx.ncrs), t.c.node == node)}
        rows = []
        blank = {"lot": None, "work_order": None, "description": "", "raised_by": "", "raised_at": "",
                 "disposition": None, "comment": None, "dispositioned_by": None, "dispositioned_at": None}
        for ncr, change in fx.ncrs.items():
            row = {**blank, **{k: v for k, v in existing.get(ncr, {}).items() if k not in ("node", "ncr")}, **change}
            rows.append({"node": node, "ncr": ncr, **row})
        self._upsert(conn, t, rows, ("node", "ncr"))

    def _write_maintenance(self, conn: Connection, node: str, fx: _Effects) -> None:
        """Maintenance per machine: each request's row as its events leave it (a request's events may come in
        several batches), with the spare parts issued to it."""
        t = s.maintenance
        codes = set(fx.maintenance) | set(fx.maintenance_parts)
        existing = {r["request"]: r for r in self._select_in(conn, t, "request", codes, t.c.node == node)}
        blank: dict[str, Any] = {"equipment": "", "kind": "breakdown", "trigger": "manual", "reason": None, "plan": None,
                 "status": "open", "raised_by": "", "raised_at": "", "technician": None, "labour_minutes": None,
                 "released": None, "completed_at": None, "note": None, "parts": []}
        rows = []
        for code in sorted(codes):
            row = {**blank, **{k: v for k, v in existing.get(code, {}).items() if k not in ("node", "request")},
                   **fx.maintenance.get(code, {})}
            row["parts"] = list(row["parts"] or []) + fx.maintenance_parts.get(code, [])
            rows.append({"node": node, "request": code, **row})
        self._upsert(conn, t, rows, ("node", "request"))


def _same(value: Any) -> Any:
    return value


def _to_text(column_type: Any) -> Callable[[Any], Any]:
    """How a value of a column goes into COPY: decimals and JSON as their text, the rest as they are."""
    if isinstance(column_type, s.DecimalText):
        return lambda v: None if v is None else str(v)
    if isinstance(column_type, s.JsonText):
        return lambda v: None if v is None else json.dumps(v, separators=(",", ":"))
    return _same


def _add_stock(fx: _Effects, lot: str, bin_: str, item: str, delta: Decimal) -> None:
    entry = fx.stock.get((lot, bin_))
    if entry is None:
        fx.stock[(lot, bin_)] = [item, delta]
    else:
        entry[1] += delta



def _rework_opened(p: dict[str, Any], node: str, fx: _Effects) -> None:
    """A rework: its operations join the order (ERP routing), or a rework order with them is released here."""
    wo = p["work_order"]
    if p["mode"] == "order" and wo not in fx.orders:
        order = {"work_order": wo, "item": p["item"], "item_revision": p["item_revision"], "bom_revision": "",
                 "quantity": _d(p["quantity"]), "due": None, "customer_order": None,
                 "overproduction_tolerance_pct": ZERO, "status": "released", "source": "MRP", "node": node,
                 "good": ZERO, "scrap": ZERO, "released_at": _utc(p["at"]), "completed_at": None}
        fx.orders[wo] = order
        fx.new_orders.append(order)
    for o in p["operations"]:
        key = (wo, int(o["operation"]))
        if key in fx.ops:
            continue
        row = {"work_order": wo, "operation": key[1], "description": o["description"], "workstation": o["workstation"],
               "standard_minutes": _d(o["standard_minutes"]), "instruction_url": None, "status": "planned",
               "good": ZERO, "scrap": ZERO, "actual_start": None, "actual_end": None, "labour_minutes": ZERO,
               "machine_minutes": ZERO, "labour_cost": ZERO, "machine_cost": ZERO}
        fx.ops[key] = _Op(row)
        fx.new_ops.append(row)


def _capa_event(t: str, p: dict[str, Any], fx: _Effects) -> None:
    capa = fx.capas.setdefault(p["capa"], {})
    if t == "CapaOpened":
        capa.update(problem=p["problem"], ncrs=json.dumps(p.get("ncrs", [])), containment=p.get("containment") or "",
                    status="open", opened_by=p["opened_by"], opened_at=_utc(p["at"]))
    elif t == "CapaRootCauseRecorded":
        capa.update(root_cause=p["root_cause"], whys=json.dumps(p.get("whys", [])), fishbone=p.get("fishbone"),
                    containment=p.get("containment") or "")
    elif t == "CapaEffectivenessChecked":
        capa.update(effective=bool(p["effective"]), effectiveness=p["comment"])
        if p["effective"]:
            capa.update(status="closed", closed_at=_utc(p["at"]))
    elif t == "CapaActionPlanned":
        fx.capa_actions[(p["capa"], int(p["action"]))] = {
            "kind": p["kind"], "description": p["description"], "owner": p["owner"], "due": p["due"],
            "status": "open", "done_by": None, "done_at": None}
    elif t == "CapaActionCompleted":
        fx.capa_actions.setdefault((p["capa"], int(p["action"])), {}).update(
            status="done", done_by=p["done_by"], done_at=_utc(p["at"]))
