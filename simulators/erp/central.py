"""The central systems' decisions (ERP, MRP, APS, PLM, SRM, CRM, QMS): they update the central tables and append
to the change feed the edges pull, in one transaction each. Also the read side: what the edges reported.

A change goes to every node unless the central side knows which node runs it (a work order and a dispatch list
go to the node of their workstation when the workstation names one).
"""
from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from erp_sync.protocol import (
    CHANGE_PAYLOADS,
    BinChange,
    BomLineChange,
    BomRevisionChange,
    Change,
    ChangeFeed,
    CustomerChange,
    DispatchListChange,
    DispatchSlotChange,
    InspectionPlanChange,
    ItemChange,
    LotChange,
    OperationChange,
    PurchaseOrderChange,
    PurchaseOrderLineChange,
    ReasonTreeChange,
    SalesOrderChange,
    UserChange,
    WorkOrderChange,
)
from simulators.erp import planning
from simulators.erp import schema as s
from simulators.erp.batch import SyncRefused, now_text
from simulators.erp.inputs import (
    ApsRunIn,
    BomIn,
    ItemIn,
    PeriodCloseIn,
    RoutingIn,
    WorkOrderIn,
    WorkOrderPatch,
    WorkstationIn,
)

ZERO = Decimal(0)
Source = Literal["ERP", "MRP", "APS", "PLM", "SRM", "CRM", "QMS"]


def _refuse(status: int, code: str, message: str, field: str | None = None) -> SyncRefused:
    return SyncRefused(status, code, message, field)


class Central:
    """The central tables behind the planner routes."""

    def __init__(self, engine: Engine, write_lock: threading.Lock) -> None:
        self.engine = engine
        # One writer of the change feed at a time: cursors become visible in the order they were given.
        self.lock = write_lock

    # --- the change feed -----------------------------------------------------------------------------

    def _publish(self, conn: Connection, kind: str, key: str, source: Source, payload: BaseModel,
                 node: str | None = None) -> int:
        model = CHANGE_PAYLOADS[kind]
        checked = model.model_validate(payload.model_dump())  # the feed carries exactly the protocol's model
        result = conn.execute(insert(s.changes).values(kind=kind, key=key, source=source, at=now_text(), node=node,
                                                       payload=checked.model_dump_json()))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def _publish_many(self, conn: Connection, kind: str, source: Source,
                      entries: list[tuple[str, BaseModel]]) -> dict[str, int]:
        """Append many changes in one statement; the cursors they got are first..last (the lock keeps them
        contiguous)."""
        model = CHANGE_PAYLOADS[kind]
        at = now_text()
        last_before = conn.execute(select(func.max(s.changes.c.cursor))).scalar() or 0
        conn.execute(insert(s.changes), [
            {"kind": kind, "key": key, "source": source, "at": at, "node": None,
             "payload": model.model_validate(payload.model_dump()).model_dump_json()} for key, payload in entries])
        last = conn.execute(select(func.max(s.changes.c.cursor))).scalar() or 0
        return {"first": int(last_before) + 1, "last": int(last), "count": len(entries)}

    def changes(self, node: str, after: int, limit: int) -> ChangeFeed:
        t = s.changes
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.cursor > after, (t.c.node.is_(None)) | (t.c.node == node))
                                .order_by(t.c.cursor).limit(limit + 1)).all()
        more = len(rows) > limit
        out = [Change(cursor=r.cursor, kind=r.kind, key=r.key, source=r.source, at=datetime.fromisoformat(r.at),
                      payload=CHANGE_PAYLOADS[r.kind].model_validate_json(r.payload).model_dump(mode="json"))
               for r in rows[:limit]]
        return ChangeFeed(node=node, changes=out, cursor=out[-1].cursor if out else after, more=more)

    def _next_number(self, conn: Connection, counter: str, prefix: str) -> str:
        t = s.settings
        current = conn.execute(select(t.c.value).where(t.c.name == counter)).scalar()
        value = int(current or 0) + 1
        if current is None:
            conn.execute(insert(t).values(name=counter, value=str(value)))
        else:
            conn.execute(update(t).where(t.c.name == counter).values(value=str(value)))
        return f"{prefix}{value:06d}"

    # --- ERP master data -----------------------------------------------------------------------------

    def put_item(self, body: ItemIn) -> int:
        row = body.model_dump()
        with self.lock, self.engine.begin() as conn:
            old = conn.execute(select(s.items.c.bom_revision).where(s.items.c.item == body.item)).first()
            if old is None:
                conn.execute(insert(s.items).values(**row, bom_revision=None))
            else:
                conn.execute(update(s.items).where(s.items.c.item == body.item).values(**row))
            return self._publish(conn, "item", body.item, "ERP", ItemChange(
                item=body.item, description=body.description, unit=body.unit, revision=body.revision,
                lot_controlled=body.lot_controlled, gtin=body.gtin))

    def put_items(self, bodies: list[ItemIn]) -> dict[str, int]:
        """Many items in one transaction (a master data load)."""
        names = [b.item for b in bodies]
        if len(set(names)) != len(names):
            raise _refuse(422, "DUPLICATE_ITEM", "the load names an item twice", "items")
        with self.lock, self.engine.begin() as conn:
            revisions: dict[str, str | None] = {}
            for part in _chunks(names):
                revisions.update(conn.execute(select(s.items.c.item, s.items.c.bom_revision)
                                              .where(s.items.c.item.in_(part))).all())
                conn.execute(delete(s.items).where(s.items.c.item.in_(part)))
            conn.execute(insert(s.items), [{**b.model_dump(), "bom_revision": revisions.get(b.item)} for b in bodies])
            return self._publish_many(conn, "item", "ERP", [(b.item, ItemChange(
                item=b.item, description=b.description, unit=b.unit, revision=b.revision,
                lot_controlled=b.lot_controlled, gtin=b.gtin)) for b in bodies])

    def put_bins(self, bodies: list[BinChange]) -> dict[str, int]:
        """Many bins in one transaction (a master data load)."""
        names = [b.bin for b in bodies]
        if len(set(names)) != len(names):
            raise _refuse(422, "DUPLICATE_BIN", "the load names a bin twice", "bins")
        with self.lock, self.engine.begin() as conn:
            for part in _chunks(names):
                conn.execute(delete(s.bins).where(s.bins.c.bin.in_(part)))
            conn.execute(insert(s.bins), [{"bin": b.bin, "zone": b.zone, "capacity": b.capacity,
                                           "allowed_items": list(b.allowed_items)} for b in bodies])
            return self._publish_many(conn, "bin", "ERP", [(b.bin, b) for b in bodies])

    def put_bin(self, body: BinChange) -> int:
        with self.lock, self.engine.begin() as conn:
            conn.execute(delete(s.bins).where(s.bins.c.bin == body.bin))
            conn.execute(insert(s.bins).values(bin=body.bin, zone=body.zone, capacity=body.capacity,
                                               allowed_items=list(body.allowed_items)))
            return self._publish(conn, "bin", body.bin, "ERP", body)

    def put_user(self, body: UserChange) -> int:
        with self.lock, self.engine.begin() as conn:
            conn.execute(delete(s.users).where(s.users.c.user == body.user))
            conn.execute(insert(s.users).values(user=body.user, name=body.name, roles=list(body.roles),
                                                language=body.language, active=body.active))
            return self._publish(conn, "user", body.user, "ERP", body)

    def put_customer(self, body: CustomerChange) -> int:
        with self.lock, self.engine.begin() as conn:
            conn.execute(delete(s.customers).where(s.customers.c.customer == body.customer))
            conn.execute(insert(s.customers).values(customer=body.customer, name=body.name))
            return self._publish(conn, "customer", body.customer, "CRM", body)

    def put_reason_tree(self, body: ReasonTreeChange) -> int:
        """A downtime reason tree (the CMMS's, kept by the ERP here): published to every node as it is."""
        with self.lock, self.engine.begin() as conn:
            return self._publish(conn, "reason_tree", body.name, "ERP", body)

    def put_workstation(self, body: WorkstationIn) -> None:
        with self.lock, self.engine.begin() as conn:
            conn.execute(delete(s.workstations).where(s.workstations.c.workstation == body.workstation))
            conn.execute(insert(s.workstations).values(workstation=body.workstation, node=body.node,
                                                       labour_rate=body.labour_rate, machine_rate=body.machine_rate))
            for eq in body.equipment:
                conn.execute(delete(s.equipment).where(s.equipment.c.equipment == eq))
                conn.execute(insert(s.equipment).values(equipment=eq, workstation=body.workstation))

    def put_routing(self, body: RoutingIn) -> None:
        with self.lock, self.engine.begin() as conn:
            self._item(conn, body.item, "item")
            conn.execute(delete(s.routings).where(s.routings.c.item == body.item))
            conn.execute(insert(s.routings), [{"item": body.item, **op.model_dump()} for op in body.operations])

    def _item(self, conn: Connection, item: str, field: str) -> Any:
        row = conn.execute(select(s.items).where(s.items.c.item == item)).first()
        if row is None:
            raise _refuse(422, "UNKNOWN_ITEM", f"item {item} is not in the item master", field)
        return row

    # --- PLM -----------------------------------------------------------------------------------------

    def publish_bom(self, body: BomIn) -> int:
        with self.lock, self.engine.begin() as conn:
            self._item(conn, body.item, "item")
            exists = conn.execute(select(s.bom_revisions).where(s.bom_revisions.c.item == body.item,
                                                                s.bom_revisions.c.bom_revision == body.bom_revision)
                                  ).first()
            if exists is not None:
                raise _refuse(409, "REVISION_EXISTS", f"BOM revision {body.bom_revision} of {body.item} is already "
                              "published; publish a new revision", "bom_revision")
            lines: list[BomLineChange] = []
            for i, line in enumerate(body.lines):
                component = self._item(conn, line.item, f"lines.{i}.item")
                if line.item == body.item:
                    raise _refuse(422, "BOM_CYCLE", f"{body.item} cannot be its own component", f"lines.{i}.item")
                lines.append(BomLineChange(line=line.line, item=line.item,
                                           item_revision=line.item_revision or component.revision,
                                           quantity_per=line.quantity_per))
            conn.execute(insert(s.bom_revisions).values(item=body.item, bom_revision=body.bom_revision,
                                                        effective=body.effective, published_at=now_text()))
            conn.execute(insert(s.bom_lines), [
                {"item": body.item, "bom_revision": body.bom_revision, "line": ln.line, "component": ln.item,
                 "component_revision": ln.item_revision, "quantity_per": ln.quantity_per} for ln in lines])
            conn.execute(update(s.items).where(s.items.c.item == body.item).values(bom_revision=body.bom_revision))
            if body.effective == "immediately":
                self._move_open_orders_to(conn, body.item, body.bom_revision, lines)
            return self._publish(conn, "bom_revision", body.item, "PLM", BomRevisionChange(
                item=body.item, bom_revision=body.bom_revision, lines=lines, effective=body.effective))

    def _move_open_orders_to(self, conn: Connection, item: str, revision: str, lines: list[BomLineChange]) -> None:
        """Open work orders of ``item`` whose material is not yet consumed build the new revision."""
        wo = s.work_orders
        open_orders = conn.execute(select(wo.c.work_order).where(
            wo.c.item == item, wo.c.status.in_(("released", "in_progress")))).scalars().all()
        consumed = set(conn.execute(select(s.consumption.c.work_order).where(
            s.consumption.c.work_order.in_(open_orders))).scalars()) if open_orders else set()
        for name in open_orders:
            if name in consumed:
                continue
            conn.execute(update(wo).where(wo.c.work_order == name).values(bom_revision=revision))
            conn.execute(delete(s.wo_bom_lines).where(s.wo_bom_lines.c.work_order == name))
            conn.execute(insert(s.wo_bom_lines), [{"work_order": name, **ln.model_dump()} for ln in lines])

    # --- ERP/MRP work orders -------------------------------------------------------------------------

    def release_work_order(self, body: WorkOrderIn, source: Source = "ERP") -> int:
        with self.lock, self.engine.begin() as conn:
            return self._release(conn, body, source)

    def _release(self, conn: Connection, body: WorkOrderIn, source: Source) -> int:
        item = self._item(conn, body.item, "item")
        if conn.execute(select(s.work_orders.c.status).where(s.work_orders.c.work_order == body.work_order)).first():
            raise _refuse(409, "ORDER_EXISTS", f"work order {body.work_order} exists already", "work_order")
        revision = body.bom_revision or item.bom_revision
        if body.bom is not None:
            bom = body.bom
            revision = revision or "0"
        elif revision is None:
            bom, revision = [], "0"  # an item without a BOM (nothing to issue)
        else:
            rows = conn.execute(select(s.bom_lines).where(s.bom_lines.c.item == body.item,
                                                          s.bom_lines.c.bom_revision == revision)
                                .order_by(s.bom_lines.c.line)).all()
            if not rows:
                raise _refuse(422, "UNKNOWN_REVISION", f"item {body.item} has no BOM revision {revision}",
                              "bom_revision")
            bom = [BomLineChange(line=r.line, item=r.component, item_revision=r.component_revision,
                                 quantity_per=r.quantity_per) for r in rows]
        operations = body.operations
        if operations is None:
            operations = [OperationChange(operation=r.operation, description=r.description, workstation=r.workstation,
                                          standard_minutes=r.standard_minutes, instruction_url=r.instruction_url)
                          for r in conn.execute(select(s.routings).where(s.routings.c.item == body.item)
                                                .order_by(s.routings.c.operation))]
            if not operations:
                raise _refuse(422, "NO_ROUTING", f"item {body.item} has no routing; give the operations",
                              "operations")
        node = conn.execute(select(s.workstations.c.node).where(
            s.workstations.c.workstation == operations[0].workstation)).scalar() if operations else None
        conn.execute(insert(s.work_orders).values(
            work_order=body.work_order, item=body.item, item_revision=item.revision, bom_revision=revision,
            quantity=body.quantity, due=body.due.isoformat() if body.due else None, customer_order=body.customer_order,
            overproduction_tolerance_pct=body.overproduction_tolerance_pct, status="released", source=source,
            node=node, good=ZERO, scrap=ZERO, released_at=now_text(), completed_at=None))
        conn.execute(insert(s.wo_operations), [
            {"work_order": body.work_order, **op.model_dump(), "status": "planned", "good": ZERO, "scrap": ZERO,
             "actual_start": None, "actual_end": None, "labour_minutes": ZERO, "machine_minutes": ZERO,
             "labour_cost": ZERO, "machine_cost": ZERO} for op in operations])
        if bom:
            conn.execute(insert(s.wo_bom_lines), [{"work_order": body.work_order, **ln.model_dump()} for ln in bom])
        return self._publish(conn, "work_order", body.work_order, source, WorkOrderChange(
            work_order=body.work_order, status="released", item=body.item, item_revision=item.revision,
            bom_revision=revision, quantity=body.quantity, operations=operations, bom=bom, due=body.due,
            customer_order=body.customer_order, overproduction_tolerance_pct=body.overproduction_tolerance_pct),
            node)

    def _order_change(self, conn: Connection, name: str, status: Literal["released", "changed", "cancelled"]
                      ) -> tuple[WorkOrderChange, str | None]:
        o = conn.execute(select(s.work_orders).where(s.work_orders.c.work_order == name)).first()
        if o is None:
            raise _refuse(404, "UNKNOWN_ORDER", f"work order {name} is not known", "work_order")
        ops = conn.execute(select(s.wo_operations).where(s.wo_operations.c.work_order == name)
                           .order_by(s.wo_operations.c.operation)).all()
        bom = conn.execute(select(s.wo_bom_lines).where(s.wo_bom_lines.c.work_order == name)
                           .order_by(s.wo_bom_lines.c.line)).all()
        return WorkOrderChange(
            work_order=name, status=status, item=o.item, item_revision=o.item_revision, bom_revision=o.bom_revision,
            quantity=o.quantity, due=date.fromisoformat(o.due) if o.due else None, customer_order=o.customer_order,
            overproduction_tolerance_pct=o.overproduction_tolerance_pct,
            operations=[OperationChange(operation=r.operation, description=r.description, workstation=r.workstation,
                                        standard_minutes=r.standard_minutes, instruction_url=r.instruction_url)
                        for r in ops],
            bom=[BomLineChange(line=r.line, item=r.item, item_revision=r.item_revision, quantity_per=r.quantity_per)
                 for r in bom]), o.node

    def change_work_order(self, name: str, body: WorkOrderPatch) -> int:
        with self.lock, self.engine.begin() as conn:
            status = conn.execute(select(s.work_orders.c.status).where(s.work_orders.c.work_order == name)).scalar()
            if status in ("cancelled", "completed"):
                raise _refuse(409, "ORDER_CLOSED", f"work order {name} is {status}", "work_order")
            values: dict[str, Any] = {}
            if body.quantity is not None:
                values["quantity"] = body.quantity
            if "due" in body.model_fields_set:
                values["due"] = body.due.isoformat() if body.due else None
            if values:
                conn.execute(update(s.work_orders).where(s.work_orders.c.work_order == name).values(**values))
            change, node = self._order_change(conn, name, "changed")
            return self._publish(conn, "work_order", name, "ERP", change, node)

    def cancel_work_order(self, name: str) -> int:
        with self.lock, self.engine.begin() as conn:
            change, node = self._order_change(conn, name, "cancelled")
            conn.execute(update(s.work_orders).where(s.work_orders.c.work_order == name).values(status="cancelled"))
            return self._publish(conn, "work_order", name, "ERP", change, node)

    def close_period(self, body: PeriodCloseIn) -> None:
        with self.lock, self.engine.begin() as conn:
            conn.execute(delete(s.settings).where(s.settings.c.name == "closed_through"))
            conn.execute(insert(s.settings).values(name="closed_through", value=body.through.isoformat()))

    # --- SRM, CRM, QMS -------------------------------------------------------------------------------

    def put_purchase_order(self, body: PurchaseOrderChange, source: Source = "SRM") -> int:
        with self.lock, self.engine.begin() as conn:
            return self._put_purchase_order(conn, body, source)

    def _put_purchase_order(self, conn: Connection, body: PurchaseOrderChange, source: Source) -> int:
        for i, line in enumerate(body.lines):
            self._item(conn, line.item, f"lines.{i}.item")
        received = {r.line: r.received for r in conn.execute(
            select(s.po_lines).where(s.po_lines.c.purchase_order == body.purchase_order))}
        arrived = {(r.line, r.supplier_lot): (r.received_lot, r.received_node) for r in conn.execute(
            select(s.expected_lots).where(s.expected_lots.c.purchase_order == body.purchase_order))}
        for table in (s.expected_lots, s.po_lines, s.purchase_orders):
            conn.execute(delete(table).where(table.c.purchase_order == body.purchase_order))
        conn.execute(insert(s.purchase_orders).values(purchase_order=body.purchase_order, supplier=body.supplier,
                                                      status=body.status, source=source))
        conn.execute(insert(s.po_lines), [
            {"purchase_order": body.purchase_order, "line": ln.line, "item": ln.item, "quantity": ln.quantity,
             "due": ln.due.isoformat() if ln.due else None, "received": received.get(ln.line, ZERO)}
            for ln in body.lines])
        lots = [{"purchase_order": body.purchase_order, "line": ln.line, "supplier_lot": lot.supplier_lot,
                 "quantity": lot.quantity, "expiry": lot.expiry.isoformat() if lot.expiry else None,
                 "received_lot": arrived.get((ln.line, lot.supplier_lot), (None, None))[0],
                 "received_node": arrived.get((ln.line, lot.supplier_lot), (None, None))[1]}
                for ln in body.lines for lot in ln.expected_lots]
        if lots:
            conn.execute(insert(s.expected_lots), lots)
        return self._publish(conn, "purchase_order", body.purchase_order, source if source == "SRM" else "MRP", body)

    def put_sales_order(self, body: SalesOrderChange) -> int:
        with self.lock, self.engine.begin() as conn:
            if conn.execute(select(s.customers).where(s.customers.c.customer == body.customer)).first() is None:
                raise _refuse(422, "UNKNOWN_CUSTOMER", f"customer {body.customer} is not known", "customer")
            for i, line in enumerate(body.lines):
                self._item(conn, line.item, f"lines.{i}.item")
            for table in (s.so_lines, s.sales_orders):
                conn.execute(delete(table).where(table.c.sales_order == body.sales_order))
            conn.execute(insert(s.sales_orders).values(sales_order=body.sales_order, customer=body.customer,
                                                       status=body.status))
            conn.execute(insert(s.so_lines), [
                {"sales_order": body.sales_order, "line": ln.line, "item": ln.item, "quantity": ln.quantity,
                 "due": ln.due.isoformat() if ln.due else None} for ln in body.lines])
            return self._publish(conn, "sales_order", body.sales_order, "CRM", body)

    def put_inspection_plan(self, body: InspectionPlanChange) -> int:
        with self.lock, self.engine.begin() as conn:
            conn.execute(delete(s.inspection_plans).where(s.inspection_plans.c.plan == body.plan))
            conn.execute(insert(s.inspection_plans).values(plan=body.plan, definition=body.model_dump(mode="json")))
            return self._publish(conn, "inspection_plan", body.plan, "QMS", body)

    def put_lot(self, body: LotChange) -> int:
        """A lot with its expiry (the ERP's lot master): published on the feed for every node."""
        with self.lock, self.engine.begin() as conn:
            self._item(conn, body.item, "item")
            return self._publish(conn, "lot", body.lot, "ERP", body)

    # --- MRP -----------------------------------------------------------------------------------------

    def mrp_inputs(self, conn: Connection) -> tuple[list[planning.Demand], dict[str, planning.PlannedItem],
                                                    dict[str, list[tuple[str, Decimal]]], dict[str, Decimal],
                                                    dict[str, Decimal]]:
        items = {r.item: planning.PlannedItem(r.item, r.source, r.lead_time_days, r.bom_revision, r.supplier)
                 for r in conn.execute(select(s.items))}
        bom: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        current = {(i.item, i.bom_revision) for i in items.values() if i.bom_revision}
        for r in conn.execute(select(s.bom_lines).order_by(s.bom_lines.c.item, s.bom_lines.c.line)):
            if (r.item, r.bom_revision) in current:
                bom[r.item].append((r.component, r.quantity_per))
        demands = [planning.Demand(r.item, r.quantity, date.fromisoformat(r.due) if r.due else None,
                                   f"{r.sales_order}/{r.line}")
                   for r in conn.execute(select(s.so_lines).join(
                       s.sales_orders, s.sales_orders.c.sales_order == s.so_lines.c.sales_order)
                       .where(s.sales_orders.c.status == "open").order_by(s.so_lines.c.sales_order, s.so_lines.c.line))]
        held = {(r.node, r.lot) for r in conn.execute(select(s.lots).where(s.lots.c.status != "available"))}
        on_hand: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for r in conn.execute(select(s.stock)):
            if (r.node, r.lot) not in held and r.quantity > 0:
                on_hand[r.item] += r.quantity
        receipts: dict[str, Decimal] = defaultdict(lambda: ZERO)
        wo = s.work_orders
        open_orders = conn.execute(select(wo).where(wo.c.status.in_(("released", "in_progress")))).all()
        good_by_order: dict[str, Decimal] = {}
        last_op: dict[str, int] = {}
        for r in conn.execute(select(s.wo_operations)):
            if r.operation >= last_op.get(r.work_order, -1):
                last_op[r.work_order], good_by_order[r.work_order] = r.operation, r.good
        consumed: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        for r in conn.execute(select(s.consumption)):
            consumed[(r.work_order, r.line)] += r.quantity
        lines_by_order: dict[str, list[Any]] = defaultdict(list)
        for r in conn.execute(select(s.wo_bom_lines)):
            lines_by_order[r.work_order].append(r)
        for o in open_orders:
            receipts[o.item] += max(ZERO, o.quantity - good_by_order.get(o.work_order, ZERO))
            for ln in lines_by_order[o.work_order]:
                still = o.quantity * ln.quantity_per - consumed[(o.work_order, ln.line)]
                if still > 0:
                    demands.append(planning.Demand(ln.item, still, date.fromisoformat(o.due) if o.due else None,
                                                   o.work_order))
        for r in conn.execute(select(s.po_lines).join(
                s.purchase_orders, s.purchase_orders.c.purchase_order == s.po_lines.c.purchase_order)
                .where(s.purchase_orders.c.status == "open")):
            receipts[r.item] += max(ZERO, r.quantity - r.received)
        return demands, items, dict(bom), dict(on_hand), dict(receipts)

    def run_mrp(self) -> dict[str, Any]:
        with self.lock, self.engine.begin() as conn:
            try:
                result = planning.plan_requirements(*self.mrp_inputs(conn))
            except planning.PlanningError as exc:
                raise _refuse(422, "MRP_INPUT", str(exc)) from None
            created_orders: list[str] = []
            buys: dict[str, list[planning.PlannedOrder]] = defaultdict(list)
            for planned in result.planned:
                if planned.source == "make":
                    name = self._next_number(conn, "mrp_work_order", "WO-MRP-")
                    sales = next((p.split("/")[0] for p in planned.pegged_to if "/" in p), None)
                    self._release(conn, WorkOrderIn(work_order=name, item=planned.item, quantity=planned.quantity,
                                                    due=planned.due, customer_order=sales,
                                                    bom_revision=planned.bom_revision), "MRP")
                    created_orders.append(name)
                else:
                    buys[planned.supplier or "UNKNOWN-SUPPLIER"].append(planned)
            created_pos: list[str] = []
            for supplier, lines in sorted(buys.items()):
                name = self._next_number(conn, "mrp_purchase_order", "PO-MRP-")
                self._put_purchase_order(conn, PurchaseOrderChange(
                    purchase_order=name, supplier=supplier,
                    lines=[PurchaseOrderLineChange(line=i + 1, item=p.item, quantity=p.quantity, due=p.due)
                           for i, p in enumerate(lines)]), "MRP")
                created_pos.append(name)
        return {"work_orders": created_orders, "purchase_orders": created_pos, "netting": result.netting}

    # --- APS -----------------------------------------------------------------------------------------

    def run_aps(self, body: ApsRunIn) -> dict[str, Any]:
        start = body.start or datetime.now(UTC)
        with self.lock, self.engine.begin() as conn:
            wo, op, it = s.work_orders, s.wo_operations, s.items
            rows = conn.execute(select(op.c.work_order, op.c.operation, op.c.workstation, op.c.standard_minutes,
                                       wo.c.quantity, wo.c.due, wo.c.item, it.c.family)
                                .join(wo, wo.c.work_order == op.c.work_order).join(it, it.c.item == wo.c.item)
                                .where(wo.c.status.in_(("released", "in_progress")), op.c.status != "completed")
                                ).all()
            ops = [planning.OperationToSequence(r.work_order, r.operation, r.workstation, r.family or r.item,
                                                date.fromisoformat(r.due) if r.due else None,
                                                r.standard_minutes * r.quantity) for r in rows]
            plan = planning.sequence_operations(ops, start, timedelta(minutes=float(body.changeover_minutes)))
            nodes = {r.workstation: r.node for r in conn.execute(select(s.workstations))}
            out: dict[str, Any] = {}
            for ws, sequence in plan.items():
                cursor = self._publish(conn, "dispatch_list", ws, "APS", DispatchListChange(
                    workstation=ws, sequence=[DispatchSlotChange(work_order=x.work_order, operation=x.operation)
                                              for x in sequence]), nodes.get(ws))
                out[ws] = {"cursor": cursor, "sequence": [
                    {"work_order": x.work_order, "operation": x.operation, "family": x.family,
                     "start": x.start.isoformat(), "end": x.end.isoformat(),
                     "due": x.due.isoformat() if x.due else None, "late": x.late} for x in sequence]}
        return {"dispatch_lists": out}

    # --- reads ---------------------------------------------------------------------------------------

    def work_order(self, name: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            o = conn.execute(select(s.work_orders).where(s.work_orders.c.work_order == name)).first()
            if o is None:
                raise _refuse(404, "UNKNOWN_ORDER", f"work order {name} is not known", "work_order")
            ops = conn.execute(select(s.wo_operations).where(s.wo_operations.c.work_order == name)
                               .order_by(s.wo_operations.c.operation)).all()
            bom = conn.execute(select(s.wo_bom_lines).where(s.wo_bom_lines.c.work_order == name)
                               .order_by(s.wo_bom_lines.c.line)).all()
            used = conn.execute(select(s.consumption).where(s.consumption.c.work_order == name)
                                .order_by(s.consumption.c.node, s.consumption.c.lot)).all()
        operations = [_jsonable(r._asdict()) for r in ops]
        labour = sum((r.labour_cost for r in ops), ZERO)
        machine = sum((r.machine_cost for r in ops), ZERO)
        return {**_jsonable(o._asdict()), "operations": operations,
                "bom": [_jsonable(r._asdict()) for r in bom],
                "consumption": [_jsonable(r._asdict()) for r in used],
                "cost": {"labour_minutes": str(sum((r.labour_minutes for r in ops), ZERO)),
                         "machine_minutes": str(sum((r.machine_minutes for r in ops), ZERO)),
                         "labour": str(labour), "machine": str(machine), "total": str(labour + machine)}}

    def sales_order_shipments(self, name: str) -> dict[str, Any]:
        """A sales order with what the edge nodes shipped of each line, and the pallets (SSCC) it went on."""
        with self.engine.connect() as conn:
            order = conn.execute(select(s.sales_orders).where(s.sales_orders.c.sales_order == name)).first()
            if order is None:
                raise _refuse(404, "UNKNOWN_SALES_ORDER", f"sales order {name} is not known", "sales_order")
            lines = conn.execute(select(s.so_lines).where(s.so_lines.c.sales_order == name)
                                 .order_by(s.so_lines.c.line)).all()
            shipped = conn.execute(select(s.shipments).where(s.shipments.c.sales_order == name)
                                   .order_by(s.shipments.c.shipped_at, s.shipments.c.sscc, s.shipments.c.lot,
                                             s.shipments.c.line)).all()
        per_line: dict[int, Decimal] = {}
        pallets: dict[tuple[str, str], dict[str, Any]] = {}
        for r in shipped:
            per_line[r.line] = per_line.get(r.line, ZERO) + r.quantity
            pallet = pallets.setdefault((r.node, r.sscc), {"sscc": r.sscc, "node": r.node, "customer": r.customer,
                                                           "shipped_at": r.shipped_at, "lots": []})
            pallet["lots"].append(_jsonable({"lot": r.lot, "item": r.item, "quantity": r.quantity, "line": r.line}))
        return {**_jsonable(order._asdict()),
                "lines": [{**_jsonable(ln._asdict()), "shipped": str(per_line.get(ln.line, ZERO))}
                          for ln in lines],
                "pallets": list(pallets.values())}

    def rows(self, table_name: str, *, order: tuple[str, ...] = (), **where: Any) -> list[dict[str, Any]]:
        table = s.metadata.tables[table_name]
        query = select(table)
        for column, value in where.items():
            if value is not None:
                query = query.where(table.c[column] == value)
        query = query.order_by(*(table.c[c] for c in order or [c.name for c in table.primary_key]))
        with self.engine.connect() as conn:
            return [_jsonable(r._asdict()) for r in conn.execute(query)]

    def supplier_quality(self, supplier: str | None = None) -> list[dict[str, Any]]:
        """SRM supplier quality: per supplier, the incoming inspection verdicts of its lots (newest last) and the
        share of lots accepted."""
        verdicts = self.rows("supplier_lot_verdicts", order=("supplier", "at", "lot"), supplier=supplier)
        out: dict[str, dict[str, Any]] = {}
        for v in verdicts:
            entry = out.setdefault(v["supplier"], {"supplier": v["supplier"], "lots": 0, "accepted": 0,
                                                   "rejected": 0, "acceptance_rate": None, "verdicts": []})
            entry["lots"] += 1
            entry["accepted" if v["verdict"] == "accepted" else "rejected"] += 1
            entry["verdicts"].append(v)
        for entry in out.values():
            entry["acceptance_rate"] = round(entry["accepted"] / entry["lots"], 4)
        return list(out.values())

    def received_events(self, node: str, after: int, limit: int, event_type: str | None) -> list[dict[str, Any]]:
        t = s.received_events
        query = select(t).where(t.c.node == node, t.c.seq > after).order_by(t.c.seq).limit(limit)
        if event_type:
            query = query.where(t.c.type == event_type)
        with self.engine.connect() as conn:
            out = []
            for r in conn.execute(query):
                row = r._asdict()
                row["payload"] = json.loads(row["payload"])
                out.append(row)
        return out


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}
