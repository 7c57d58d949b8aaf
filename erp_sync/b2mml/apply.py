"""Applying a production schedule through the node's one write path, whole or not at all: every command is first
decided, in order, against a copy of the current state, and only if all pass are they sent through ``Service``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from edge.domain import DomainError, PlantState, decide, evolve
from edge.domain import commands as c
from erp_sync.b2mml.reader import (
    DEFAULT_ACTOR,
    SERVICE_ROLES,
    PlannedCommand,
    ScheduleCommands,
    ScheduleRefused,
    check_schedule,
    idempotency_key,
)
from erp_sync.b2mml.schemas import Schemas

if TYPE_CHECKING:
    from edge.service import Service

log = logging.getLogger("takt.b2mml")
_CODE = re.compile(r"^request [^:]+: ([A-Z_]+): ")


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the schedules (or master data documents), the work orders released now, those imported
    before (nothing recorded for them), the dispatch lists set, the journal events recorded, and the master data
    records defined."""

    schedules: tuple[str, ...]
    released: tuple[str, ...]
    already_imported: tuple[str, ...]
    dispatch_lists: tuple[str, ...]
    events: int
    defined: tuple[str, ...] = ()  # master data documents: "item X", "lot Y", "equipment Z" defined now
    changed: tuple[str, ...] = ()  # work orders a schedule sent again with other content changed
    cancelled: tuple[str, ...] = ()  # work orders a Cancel (or a Sync with action Delete) cancelled

    def summary(self) -> str:
        parts = [f"{len(self.defined)} master data records defined" if self.defined and not self.released
                 else f"{len(self.released)} work orders released"]
        if self.changed:
            parts.append(f"{len(self.changed)} changed")
        if self.cancelled:
            parts.append(f"{len(self.cancelled)} cancelled")
        if self.already_imported:
            parts.append(f"{len(self.already_imported)} imported before")
        if self.dispatch_lists:
            parts.append(f"{len(self.dispatch_lists)} dispatch lists set")
        what = "schedule " if self.released or not self.defined else ""
        return f"{what}{', '.join(self.schedules)}: " + ", ".join(parts) + f" ({self.events} events)"


def dry_run(planned: Sequence[PlannedCommand], state: PlantState, now: datetime) -> None:
    """Decide every command, in order, against ``state`` (a copy: it is changed); raise ScheduleRefused naming
    every refused command's request and the domain's reason (the first one's request and code as its own)."""
    refusals: list[tuple[str, str | None]] = []
    first_code: str | None = None
    refused_orders: set[str] = set()
    for p in planned:
        if isinstance(p.command, c.SetDispatchList) and any(
                slot.work_order in refused_orders for slot in p.command.sequence):
            continue  # refused because its work order is: that one is named already
        try:
            events = decide(state, p.command, now)
        except DomainError as err:
            field_ = f" (field {err.field})" if err.field else ""
            subject = f"request {p.request}" if p.request else _dispatch_subject(p.command)
            refusals.append((f"{subject}: {err.code}: {err.message}{field_}", p.request))
            first_code = first_code or err.code
            if isinstance(p.command, c.ReleaseWorkOrder):
                refused_orders.add(p.command.work_order)
            continue
        for ev in events:
            evolve(state, ev)
        state.take_dirty()
    if refusals:
        refused = ScheduleRefused.listing(refusals)
        refused.code = first_code
        refused.request = refusals[0][1]
        raise refused


def _dispatch_subject(command: c.Command) -> str:
    return f"dispatch list of {command.workstation}" if isinstance(command, c.SetDispatchList) else "schedule"


def import_schedule(service: Service, source: bytes | str | os.PathLike[str], *, schemas_: Schemas | None = None,
                    actor: str = DEFAULT_ACTOR, dispatch: bool = False, workstations: Collection[str] | None = None,
                    locations: Mapping[str, str] | None = None, timeout: float = 120) -> ImportReport:
    """Apply a production schedule through ``service`` (the node's one write path), whole or not at all.

    Raises ScheduleRefused (nothing recorded) when the document is schema-invalid, cannot be mapped, reuses a
    request's key for other content, or holds a command the domain refuses; ``locations`` is the site's table of
    material locations (``B2mmlSection.locations``)."""
    state: PlantState = service.store.load_state()
    mapped = check_schedule(source, state, schemas_=schemas_, actor=actor, dispatch=dispatch,
                            workstations=workstations, locations=locations)
    return apply_planned(service, mapped, state, timeout=timeout)


def apply_planned(service: Service, mapped: ScheduleCommands, state: PlantState, *, timeout: float = 120
                  ) -> ImportReport:
    """Record the commands a document was mapped to (against ``state``, the store's current state, which is
    changed): those recorded before are left out, a request of a work order a B2MML schedule released before is
    a change of it, the rest dry-run and, if all pass, submitted in order."""
    from edge.service import IdempotencyKeyReused
    from edge.store.codec import fingerprint

    store = service.store
    commands = list(mapped.commands) + _whole_schedule_cancels(service, mapped)
    with store.engine.connect() as conn:
        known = store.lookup_commands(conn, [p.command.idempotency_key for p in commands])
    fresh: list[PlannedCommand] = []
    already: list[str] = []
    problems: list[tuple[str, str | None]] = []
    revisions = _Revisions(service, commands, known, state)
    for p in commands:
        row = known.get(p.command.idempotency_key)
        if isinstance(p.command, c.ReleaseWorkOrder) and p.command.work_order in state.work_orders:
            release = p.command
            if row is not None and row.fingerprint == fingerprint(release) and not revisions.changed_since(release):
                already.append(release.work_order)  # the same request again
                continue
            if not revisions.released_by_b2mml(release.work_order):
                if row is not None:  # our key, other content, and the order is not a schedule's (cannot be)
                    problems.append((f"request {p.request} of schedule {', '.join(mapped.schedules)} was imported "
                                     f"before with other content", p.request))
                else:
                    fresh.append(p)  # the domain refuses it (DUPLICATE_WORK_ORDER), naming the order
                continue
            change = _change_of(release, state)
            outcome = _can_change(state, change, service.clock())
            if outcome is None:
                already.append(release.work_order)  # the content is the order's as it is here
            elif outcome:
                problems.append((f"request {p.request}: {outcome}", p.request))
            else:
                fresh.append(PlannedCommand(p.request, change))
            continue
        if row is None:
            if isinstance(p.command, c.CancelWorkOrder):
                cancel = p.command
                reason = _cannot_cancel(state, cancel.work_order, revisions)
                if reason == "":
                    already.append(cancel.work_order)  # cancelled here before
                elif reason is not None:
                    problems.append((f"request {p.request}: {reason}", p.request))
                else:
                    fresh.append(p)
                continue
            fresh.append(p)
        elif isinstance(p.command, c.CancelWorkOrder):
            already.append(p.command.work_order)  # cancelled by this key before (another verb, the same cancel)
        elif row.fingerprint != fingerprint(p.command) and isinstance(p.command, c.SetDispatchList):
            # the schedule's dispatch list with another sequence (its orders changed): the latest one is set
            rekeyed = dataclasses.replace(
                p.command, idempotency_key=f"{p.command.idempotency_key[:200]}:{fingerprint(p.command)[:20]}")
            with store.engine.connect() as conn:
                if not store.lookup_commands(conn, [rekeyed.idempotency_key]):
                    fresh.append(PlannedCommand(p.request, rekeyed))
        elif row.fingerprint != fingerprint(p.command):
            subject = f"request {p.request}" if p.request else _dispatch_subject(p.command)
            raise ScheduleRefused(f"{subject} of schedule {', '.join(mapped.schedules)} was imported before with "
                                  f"other content; a changed work order is not re-released by a schedule import",
                                  request=p.request, code="IDEMPOTENCY_KEY_REUSED")
        elif p.request is not None:
            already.append(p.request)
    if problems:
        refused = ScheduleRefused.listing(problems)
        code = _CODE.match(problems[0][0])  # "request R: WORK_ORDER_STARTED: ..." names the domain's code
        refused.code = code.group(1) if code else "SCHEDULE_REFUSED"
        raise refused
    dry_run(fresh, state, service.clock())
    futures = [(p, service.submit(p.command)) for p in fresh]  # in order: the writer keeps the queue's order
    released: list[str] = []
    dispatched: list[str] = []
    defined: list[str] = []
    changed: list[str] = []
    cancelled: list[str] = []
    events = 0
    failures: list[str] = []
    for p, fut in futures:
        try:
            recorded = fut.result(timeout)
        except (DomainError, IdempotencyKeyReused) as err:  # the state moved between the dry run and now
            failures.append(f"{p.request or _dispatch_subject(p.command)}: {err}")
            continue
        events += len(recorded.events)
        if recorded.replayed:
            if p.request is not None:
                already.append(p.request)
        elif isinstance(p.command, c.ReleaseWorkOrder):
            released.append(p.command.work_order)
        elif isinstance(p.command, c.SetDispatchList):
            dispatched.append(p.command.workstation)
        elif isinstance(p.command, c.ChangeWorkOrder):
            changed.append(p.command.work_order)
        elif isinstance(p.command, c.CancelWorkOrder):
            cancelled.append(p.command.work_order)
        elif p.request is not None:  # master data: an item, lot or machine defined
            defined.append(p.request)
    if failures:
        # Only possible when another input changed the state between the dry run and the commit; what was
        # recorded stays, and importing the same document again completes it (its keys make that harmless).
        raise ScheduleRefused("partly applied, another change came in between; import the document again to "
                              "complete it: " + "; ".join(failures))
    report = ImportReport(mapped.schedules, tuple(released), tuple(already), tuple(dispatched), events,
                          tuple(defined), tuple(changed), tuple(cancelled))
    log.info("imported %s", report.summary(), extra={"schedules": list(mapped.schedules), "released": released})
    return report



class _Revisions:
    """Who released and changed the work orders a document names, read from the journal once for all of them (and
    only for orders that exist here: a schedule of new orders costs no read)."""

    def __init__(self, service: Service, commands: Sequence[PlannedCommand], known: Mapping[str, object],
                 state: PlantState) -> None:
        from edge.store.reads import event_keys

        existing = {p.command.work_order for p in commands
                    if isinstance(p.command, (c.ReleaseWorkOrder, c.CancelWorkOrder))
                    and p.command.work_order in state.work_orders}
        self.released = event_keys(service.store, "WorkOrderReleased", existing) if existing else {}
        self.changes = event_keys(service.store, "WorkOrderChanged", existing) if existing else {}

    def released_by_b2mml(self, work_order: str) -> bool:
        return self.released.get(work_order, "").startswith("b2mml:")

    def changed_since(self, release: c.ReleaseWorkOrder) -> bool:
        """Whether the order was changed after this release (so the release's content again is a change back)."""
        return release.work_order in self.changes


def _whole_schedule_cancels(service: Service, mapped: ScheduleCommands) -> list[PlannedCommand]:
    """The cancels of the work orders each wholly cancelled schedule released (by its keys, ``b2mml:<ID>:``)."""
    from edge.store.reads import released_with_key_prefix

    found: list[PlannedCommand] = []
    for schedule in mapped.cancel_schedules:
        for work_order in released_with_key_prefix(service.store, f"b2mml:{schedule}:"):
            found.append(PlannedCommand(work_order, c.CancelWorkOrder(
                idempotency_key=idempotency_key(schedule, f"cancel:{work_order}"), actor=mapped.actor,
                actor_roles=SERVICE_ROLES, origin="erp", work_order=work_order,
                reason=f"{mapped.reason} (schedule {schedule})"[:200])))
    return found


def _change_of(release: c.ReleaseWorkOrder, state: PlantState) -> c.ChangeWorkOrder:
    """The change a request sent again with other content asks for; its key is the request's, the content's and
    the order's state's (so a change back to an earlier content is a change again)."""
    from edge.store.codec import fingerprint

    fields = {name: getattr(release, name) for name in (
        "actor", "actor_roles", "origin", "work_order", "item_revision", "bom_revision", "quantity", "operations",
        "bom", "overproduction_tolerance_pct", "due", "customer_order")}
    draft = c.ChangeWorkOrder(idempotency_key="-", **fields)
    wo = state.work_orders[release.work_order]
    now = repr((wo.item_revision, wo.bom_revision, wo.quantity, wo.due, state.operations_of(wo.work_order),
                state.bom_of(wo.work_order)))
    digest = hashlib.sha256(f"{fingerprint(draft)}\x00{now}".encode()).hexdigest()[:20]
    return c.ChangeWorkOrder(idempotency_key=f"{release.idempotency_key[:200]}:change:{digest}", **fields)


def _started_reason(state: PlantState, work_order: str) -> str | None:
    """What was done on the order here that a change or cancel would undo: operations started, material issued."""
    started = [f"operation {op.operation} is {op.status.replace('_', ' ')}" for op in state.operations_of(work_order)
               if op.status != "released"]
    issued = [f"{line.item} was issued to it" for line in state.bom_of(work_order) if line.consumed != 0]
    return ", ".join(started + issued) or None


def _can_change(state: PlantState, change: c.ChangeWorkOrder, now: datetime) -> str | None | Literal[""]:
    """None: the content is the order's as it is (nothing to do); "": it can change; else why it cannot."""
    wo = state.work_orders[change.work_order]
    if wo.status in ("completed", "cancelled"):
        return (f"WORK_ORDER_CLOSED: work order {wo.work_order} is {wo.status} here; it cannot change any more"
                if _content_differs(state, change, now) else None)
    if not _content_differs(state, change, now):
        return None
    started = _started_reason(state, change.work_order)
    if started is not None:
        return f"WORK_ORDER_STARTED: work order {wo.work_order} cannot change any more: {started}"
    return ""


def _content_differs(state: PlantState, change: c.ChangeWorkOrder, now: datetime) -> bool:
    wo = state.work_orders[change.work_order]
    status = wo.status
    try:
        wo.status = "released"  # decided as if open: a closed order's content is compared all the same
        return bool(decide(state, change, now))
    except DomainError:
        return True  # the domain would refuse the content (the dry run says why)
    finally:
        wo.status = status


def _cannot_cancel(state: PlantState, work_order: str, revisions: _Revisions) -> str | None:
    """None: it can be cancelled; "": it was cancelled already; else why it cannot."""
    wo = state.work_orders.get(work_order)
    if wo is None:
        return f"UNKNOWN_WORK_ORDER: work order {work_order} is not known here"
    if wo.status == "cancelled":
        return ""
    if not revisions.released_by_b2mml(work_order):
        return (f"work order {work_order} was not released by a B2MML schedule; a schedule cancels only the work "
                f"orders it released")
    if wo.status == "completed":
        return f"WORK_ORDER_CLOSED: work order {work_order} is completed here; it cannot be cancelled any more"
    started = _started_reason(state, work_order)
    if started is not None:
        return f"WORK_ORDER_STARTED: work order {work_order} cannot be cancelled any more: {started}"
    return None
