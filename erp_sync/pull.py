"""Pull: what the central systems decided, read from their change feed and applied through the one write path.

Each :class:`~erp_sync.protocol.Change` becomes one ERP-origin command (journaled, never pushed back) under the
idempotency key ``erp:<kind>:<key>:<cursor>``, so applying a page twice (the node stopped before it saved the
cursor) records nothing twice. Users are the exception: they are configuration, not plant facts, and are written
to the users table directly (a user new to this node gets no token; an admin issues one, or the user logs on
by badge and PIN).

A change this node refuses (a dispatch list naming an order it never received, a BOM line of an unknown item)
does not stop the feed: it becomes a pull sync exception with the refusal's code and message, which a
supervisor can retry once the cause is fixed (the change is applied again) or set aside.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from edge.domain import DomainError
from edge.domain import commands as c
from edge.service import IdempotencyKeyReused, Recorded, Service
from edge.store.sync import PULL, SyncLedger
from edge.store.users import DirectoryUser, apply_user
from erp_sync import protocol as p
from erp_sync.client import Central

log = logging.getLogger("takt.sync")

SYNC_ACTOR = "erp-sync"
SYNC_ROLES = frozenset({"service"})


@dataclass
class PullReport:
    pages: int = 0
    applied: int = 0
    replayed: int = 0
    refused: int = 0
    cursor: int = 0
    seconds: float = 0.0


def _bom(lines: list[p.BomLineChange]) -> tuple[c.BomLineSpec, ...]:
    return tuple(c.BomLineSpec(line=ln.line, item=ln.item, item_revision=ln.item_revision,
                               quantity_per=ln.quantity_per) for ln in lines)


def _operations(ops: list[p.OperationChange]) -> tuple[c.OperationSpec, ...]:
    return tuple(c.OperationSpec(operation=o.operation, description=o.description, workstation=o.workstation,
                                 standard_minutes=o.standard_minutes, instruction_url=o.instruction_url,
                                 parameters=tuple(f"{k}={v}" for k, v in o.parameters.items())) for o in ops)


def command_for(change: p.Change, known_work_orders: Callable[[str], bool]) -> c.Command | p.UserChange:
    """The command that applies ``change`` (a UserChange stands for itself). Raises ValidationError when the
    payload does not match its kind."""
    payload = p.CHANGE_PAYLOADS[change.kind].model_validate(change.payload)
    meta: dict[str, Any] = {"idempotency_key": f"erp:{change.kind}:{change.key}:{change.cursor}",
                            "actor": SYNC_ACTOR, "actor_roles": SYNC_ROLES, "origin": "erp",
                            "source_device": f"central:{change.source}"}
    match payload:
        case p.ItemChange():
            return c.DefineItem(item=payload.item, description=payload.description, unit=payload.unit,
                                revision=payload.revision, lot_controlled=payload.lot_controlled, gtin=payload.gtin,
                                serialised=payload.serialised, **meta)
        case p.BinChange():
            return c.DefineBin(bin=payload.bin, zone=payload.zone, capacity=payload.capacity,
                               allowed_items=tuple(payload.allowed_items), max_per_item=payload.max_per_item,
                               lot_policy=payload.lot_policy, **meta)
        case p.UserChange():
            return payload
        case p.WorkOrderChange():
            if payload.status == "cancelled":
                return c.CancelWorkOrder(work_order=payload.work_order, reason="cancelled in the ERP", **meta)
            fields: dict[str, Any] = {
                "work_order": payload.work_order, "item_revision": payload.item_revision,
                "bom_revision": payload.bom_revision, "quantity": payload.quantity,
                "operations": _operations(payload.operations), "bom": _bom(payload.bom), "due": payload.due,
                "customer_order": payload.customer_order,
                "overproduction_tolerance_pct": payload.overproduction_tolerance_pct}
            if known_work_orders(payload.work_order):
                return c.ChangeWorkOrder(**fields, **meta)
            return c.ReleaseWorkOrder(item=payload.item, **fields, **meta)
        case p.BomRevisionChange():
            return c.PublishBomRevision(item=payload.item, bom_revision=payload.bom_revision,
                                        lines=_bom(payload.lines), effective=payload.effective, **meta)
        case p.DispatchListChange():
            return c.SetDispatchList(workstation=payload.workstation, sequence=tuple(
                c.DispatchSlot(work_order=s.work_order, operation=s.operation) for s in payload.sequence), **meta)
        case p.PurchaseOrderChange():
            return c.DefinePurchaseOrder(
                purchase_order=payload.purchase_order, supplier=payload.supplier, status=payload.status,
                lines=tuple(c.PurchaseOrderLineSpec(
                    line=ln.line, item=ln.item, quantity=ln.quantity, due=ln.due,
                    expected_lots=tuple(c.ExpectedLotSpec(supplier_lot=x.supplier_lot, quantity=x.quantity,
                                                          expiry=x.expiry) for x in ln.expected_lots))
                    for ln in payload.lines), **meta)
        case p.CustomerChange():
            return c.DefineCustomer(customer=payload.customer, name=payload.name, **meta)
        case p.SalesOrderChange():
            return c.DefineSalesOrder(sales_order=payload.sales_order, customer=payload.customer,
                                      status=payload.status, lines=tuple(
                                          c.SalesOrderLineSpec(line=ln.line, item=ln.item, quantity=ln.quantity,
                                                               due=ln.due) for ln in payload.lines),
                                      allow_substitution=payload.allow_substitution, priority=payload.priority,
                                      carrier=payload.carrier, cutoff=payload.cutoff, **meta)
        case p.LotChange():
            return c.DefineLot(lot=payload.lot, item=payload.item, expiry=payload.expiry,
                               supplier_lot=payload.supplier_lot, **meta)
        case p.WorkInstructionChange():
            return c.DefineWorkInstruction(
                item=payload.item, operation=payload.operation, revision=payload.revision,
                item_revision=payload.item_revision, title=payload.title, steps=tuple(
                    c.InstructionStepSpec(step=s.step, kind=s.kind, texts=tuple(s.texts), media=tuple(s.media),
                                          nominal=s.nominal, lsl=s.lsl, usl=s.usl, unit=s.unit, expect=s.expect,
                                          component=s.component, on_fail=s.on_fail, plan=s.plan,
                                          characteristic=s.characteristic) for s in payload.steps), **meta)
        case p.ReasonTreeChange():
            return c.DefineReasonTree(name=payload.name, workstations=tuple(payload.workstations),
                                      machine_class=payload.machine_class,
                                      definition=json.dumps([r.model_dump() for r in payload.reasons]), **meta)
        case p.InspectionPlanChange():
            return c.DefineInspectionPlan(
                plan=payload.plan, description=payload.description, item=payload.item, operation=payload.operation,
                hold_on_fail=payload.hold_on_fail, spc_nonconformance=payload.spc_nonconformance, kind=payload.kind,
                supplier=payload.supplier, sample_size=payload.sample_size,
                sample_by_lot_size=payload.sample_by_lot_size, accept_number=payload.accept_number,
                every_n_parts=payload.every_n_parts, every_minutes=payload.every_minutes,
                flag_overdue=payload.flag_overdue, overdue_grace_parts=payload.overdue_grace_parts,
                plausible_bands=payload.plausible_bands,
                characteristics=tuple(
                    c.CharacteristicSpec(characteristic=ch.characteristic, kind=ch.kind, nominal=ch.nominal,
                                         lsl=ch.lsl, usl=ch.usl, unit=ch.unit) for ch in payload.characteristics),
                **meta)
    raise TypeError(f"no command for a {change.kind} change")  # pragma: no cover - CHANGE_PAYLOADS covers all


def _subject(change: p.Change) -> str:
    return f"{change.kind}:{change.key}"


class Puller:
    def __init__(self, service: Service, client: Central, *, page: int = 1000,
                 replenish_ahead: bool = False) -> None:
        self.service = service
        self.replenish_ahead = replenish_ahead  # the site's warehouse.replenish_ahead_on_release
        self.store = service.store
        self.client = client
        self.ledger = SyncLedger(service.store)
        self.page = page

    def apply(self, changes: list[p.Change]) -> tuple[int, int, list[tuple[p.Change, str, str, str | None]]]:
        """Apply ``changes`` in order (in a worker thread). Returns applied, replayed and the refusals."""
        applied = replayed = 0
        refused: list[tuple[p.Change, str, str, str | None]] = []
        pending: list[tuple[p.Change, Future[Recorded]]] = []
        work_orders = self.service.state.work_orders
        submitted: set[str] = set()  # orders released in this page, not yet recorded

        def known(work_order: str) -> bool:
            return work_order in work_orders or work_order in submitted

        def settle() -> None:
            nonlocal applied, replayed
            for change, fut in pending:
                try:
                    recorded = fut.result(timeout=120)
                except DomainError as err:
                    refused.append((change, err.code, err.message, err.field))
                except IdempotencyKeyReused as err:
                    if err.first_command == "ReleaseWorkOrder" and change.kind == "work_order":
                        replayed += 1  # the release read again (a central side that re-reads an overlap)
                    else:
                        refused.append((change, "IDEMPOTENCY_KEY_REUSED", str(err), None))
                else:
                    if recorded.replayed:
                        replayed += 1
                    else:
                        applied += 1
            pending.clear()

        for change in changes:
            try:
                command = command_for(change, known)
            except ValidationError as exc:
                first = exc.errors()[0]
                refused.append((change, "INVALID_CHANGE", first["msg"], ".".join(str(x) for x in first["loc"])))
                continue
            if isinstance(command, p.UserChange):
                settle()
                try:
                    apply_user(self.store, command.user, command.name, command.roles, language=command.language,
                               active=command.active)
                    applied += 1
                except DirectoryUser as exc:
                    refused.append((change, "DIRECTORY_USER", str(exc), "user"))
                except ValueError as exc:
                    refused.append((change, "INVALID_USER", str(exc), "roles"))
                continue
            if isinstance(command, c.ReleaseWorkOrder):
                submitted.add(command.work_order)
                if self.replenish_ahead:
                    command = dataclasses.replace(command, replenish_ahead=True)
            # the writer records commands in the order they are submitted, so a dispatch list that names an
            # order released earlier in the page finds it
            pending.append((change, self.service.submit(command)))
        settle()
        return applied, replayed, refused

    def _record_refusals(self, refused: list[tuple[p.Change, str, str, str | None]]) -> None:
        for change, code, message, field in refused:
            self.ledger.pull_refused(change.cursor, _subject(change), code, message, field,
                                     change.model_dump_json())
            log.warning("central change %s (%s %s) refused: %s %s", change.cursor, change.kind, change.key, code,
                        message, extra={"cursor": change.cursor, "code": code})

    async def retry_refused(self, report: PullReport) -> None:
        for exc in await asyncio.to_thread(self.ledger.pull_retries):
            if exc.detail is None:
                continue
            change = p.Change.model_validate_json(exc.detail)
            applied, replayed, refused = await asyncio.to_thread(self.apply, [change])
            if refused:
                _, code, message, _ = refused[0]
                await asyncio.to_thread(self.ledger.pull_done, exc.id, False, code, message)
            else:
                await asyncio.to_thread(self.ledger.pull_done, exc.id, True)
                report.applied += applied
                report.replayed += replayed

    async def pull(self, *, max_pages: int | None = None, progress: Callable[[PullReport], None] | None = None
                   ) -> PullReport:
        """Read and apply the change feed until it has no more (or ``max_pages`` were read)."""
        report = PullReport()
        started = time.perf_counter()
        await self.retry_refused(report)
        cursor = await asyncio.to_thread(self.ledger.cursor, PULL)
        while True:
            feed = await self.client.changes(cursor, self.page)
            report.pages += 1
            if feed.changes:
                applied, replayed, refused = await asyncio.to_thread(self.apply, feed.changes)
                await asyncio.to_thread(self._record_refusals, refused)
                report.applied += applied
                report.replayed += replayed
                report.refused += len(refused)
            if feed.cursor != cursor:
                cursor = feed.cursor
                await asyncio.to_thread(self.ledger.set_cursor, PULL, cursor)
            report.cursor = cursor
            if progress is not None:
                progress(report)
            if not feed.more or (max_pages is not None and report.pages >= max_pages):
                break
        report.seconds = time.perf_counter() - started
        return report
