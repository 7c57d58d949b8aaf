"""Applying a production schedule through the node's one write path, whole or not at all: every command is first
decided, in order, against a copy of the current state, and only if all pass are they sent through ``Service``.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from edge.domain import DomainError, PlantState, decide, evolve
from edge.domain import commands as c
from erp_sync.b2mml.reader import (
    DEFAULT_ACTOR,
    PlannedCommand,
    ScheduleCommands,
    ScheduleRefused,
    check_schedule,
)
from erp_sync.b2mml.schemas import Schemas

if TYPE_CHECKING:
    from edge.service import Service

log = logging.getLogger("takt.b2mml")


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

    def summary(self) -> str:
        parts = [f"{len(self.defined)} master data records defined" if self.defined and not self.released
                 else f"{len(self.released)} work orders released"]
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
    changed): those recorded before are left out, the rest dry-run and, if all pass, submitted in order."""
    from edge.service import IdempotencyKeyReused
    from edge.store.codec import fingerprint

    store = service.store
    with store.engine.connect() as conn:
        known = store.lookup_commands(conn, [p.command.idempotency_key for p in mapped.commands])
    fresh: list[PlannedCommand] = []
    already: list[str] = []
    for p in mapped.commands:
        row = known.get(p.command.idempotency_key)
        if row is None:
            fresh.append(p)
        elif row.fingerprint != fingerprint(p.command):
            subject = f"request {p.request}" if p.request else _dispatch_subject(p.command)
            raise ScheduleRefused(f"{subject} of schedule {', '.join(mapped.schedules)} was imported before with "
                                  f"other content; a changed work order is not re-released by a schedule import",
                                  request=p.request, code="IDEMPOTENCY_KEY_REUSED")
        elif p.request is not None:
            already.append(p.request)
    dry_run(fresh, state, service.clock())
    futures = [(p, service.submit(p.command)) for p in fresh]  # in order: the writer keeps the queue's order
    released: list[str] = []
    dispatched: list[str] = []
    defined: list[str] = []
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
        elif p.request is not None:  # master data: an item, lot or machine defined
            defined.append(p.request)
    if failures:
        # Only possible when another input changed the state between the dry run and the commit; what was
        # recorded stays, and importing the same document again completes it (its keys make that harmless).
        raise ScheduleRefused("partly applied, another change came in between; import the document again to "
                              "complete it: " + "; ".join(failures))
    report = ImportReport(mapped.schedules, tuple(released), tuple(already), tuple(dispatched), events,
                          tuple(defined))
    log.info("imported %s", report.summary(), extra={"schedules": list(mapped.schedules), "released": released})
    return report

