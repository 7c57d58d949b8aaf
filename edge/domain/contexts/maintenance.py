"""Maintenance: requests from stops (by reason or length) and by hand, their work by a maintenance technician
(accepted, labour clocked, spare parts issued from a bin, closed with the machine released or not; the machine is
``maintenance`` while worked), preventive plans by calendar, cycles, parts or run hours, and the machines' use those
plans count (cycles and parts from the production booked, run seconds from the machine states). Deciders and
evolvers; the rules without state are edge.domain.maintenance.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.inventory import moved
from edge.domain.errors import DomainError, invalid
from edge.domain.maintenance import PLAN_KINDS, blocking_plan, counter_of, stop_raises_request
from edge.domain.model import MachineUsage, MaintenancePlan, MaintenanceRequest, MaintenanceSetting
from edge.domain.state import ZERO, Decider, Evolver, PlantState

TECHNICIAN_ROLES = ("maintenance", "admin")
PLANNER_ROLES = ("maintenance", "supervisor", "admin", "service")
# A photo is a data URL of a JPEG, PNG or WebP image the terminal's camera took, at most this many characters
# (about 450 KB of image): the request body limit is 1 MiB.
PHOTO_MAX_CHARS = 600_000
PHOTO_PREFIXES = ("data:image/jpeg;base64,", "data:image/png;base64,", "data:image/webp;base64,")
NOT_RELEASED = "not released after maintenance"


def request_label(request: str) -> str:
    """The reason a machine in maintenance shows: the request it is worked for."""
    return f"maintenance {request}"


# --- helpers --------------------------------------------------------------------------------------


def _equipment(state: PlantState, code: str) -> str:
    checks.text("equipment", code)
    if code not in state.equipment:
        raise DomainError("UNKNOWN_EQUIPMENT", f"equipment {code} is not known here", field="equipment")
    return code


def _request(state: PlantState, code: str, *, open_only: bool = True) -> MaintenanceRequest:
    checks.text("request", code)
    found = state.maintenance_requests.get(code)
    if found is None:
        raise DomainError("UNKNOWN_REQUEST", f"maintenance request {code} is not known here", field="request")
    if open_only and found.status == "closed":
        raise DomainError("REQUEST_CLOSED", f"maintenance request {code} was closed on "
                          f"{found.closed_at.isoformat(timespec='seconds') if found.closed_at else '?'}",
                          field="request")
    return found


def _photo(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not value.startswith(PHOTO_PREFIXES):
        raise invalid("INVALID_PHOTO", "a photo is a data URL of a JPEG, PNG or WebP image "
                      "(data:image/jpeg;base64,...)", "photo")
    if len(value) > PHOTO_MAX_CHARS:
        raise invalid("PHOTO_TOO_LARGE", f"a photo is at most {PHOTO_MAX_CHARS} characters as a data URL, got "
                      f"{len(value)}: take it at a lower resolution", "photo")
    return value


def _note(value: str) -> str:
    return checks.clip(checks.free_text("note", value)) if value else ""


def next_request_id(state: PlantState, offset: int = 0) -> str:
    return f"MR-{len(state.maintenance_requests) + 1 + offset:06d}"


def _machine_to(state: PlantState, equipment: str, new_state: str, reason: str | None,
                at: datetime) -> list[e.Event]:
    """The machine's state change the maintenance brings (none if it already is so)."""
    current = state.machine_states.get(equipment)
    if current is not None and current.state == new_state and current.reason == reason:
        return []
    since = at if current is None or at >= current.since else current.since
    return [e.MachineStateChanged(
        equipment=equipment, state=new_state, reason=reason, since=since,
        previous=current.state if current else None, previous_since=current.since if current else None)]


def _clock_off(req: MaintenanceRequest, at: datetime) -> list[e.Event]:
    if req.working_since is None or req.technician is None:
        return []
    start = min(req.working_since, at)
    minutes = (Decimal(str((at - start).total_seconds())) / 60).quantize(Decimal("0.01"))
    return [e.MaintenanceWorkStopped(request=req.request, equipment=req.equipment, technician=req.technician,
                                     since=start, at=at, minutes=minutes)]


def _open_breakdown(state: PlantState, equipment: str) -> MaintenanceRequest | None:
    for req in state.maintenance_requests.values():
        if req.equipment == equipment and req.status != "closed" and req.kind == "breakdown":
            return req
    return None


# --- requests from stops --------------------------------------------------------------------------


def stop_requests(state: PlantState, cmd: c.Command, events: Iterable[e.Event], now: datetime) -> list[e.Event]:
    """The maintenance requests the machine state changes among ``events`` raise (edge.domain.plant calls this
    after every decider): a stop beginning on a reason marked for maintenance, or a stop that lasted longer than
    the machine's threshold when it ends. One open breakdown request per machine: a machine with one raises none."""
    raised: list[e.Event] = []
    machines: set[str] = set()
    for ev in events:
        if isinstance(ev, e.StopReasonGiven) and ev.kind == "given" and ev.equipment not in machines:
            # An operator booked the stop at the terminal to a reason marked for maintenance (the leaf's flag on the
            # machine's reason tree, or the machine's request_reasons): the request is raised as the reason is given.
            setting = state.maintenance_settings.get(ev.equipment)
            flagged = True if isinstance(cmd, c.GiveStopReason) and ev.reason in cmd.maintenance_leaves else None
            if (_open_breakdown(state, ev.equipment) is None
                    and stop_raises_request(setting, ev.reason, None, reason_flagged=flagged) == "reason"):
                machines.add(ev.equipment)
                raised.append(e.MaintenanceRequested(
                    request=next_request_id(state, len(raised)), equipment=ev.equipment, kind="breakdown",
                    trigger="reason", reason=ev.reason, stop_since=ev.stop_start, stop_s=None, plan=None, note="",
                    raised_by=cmd.actor, at=ev.at))
            continue
        if not isinstance(ev, e.MachineStateChanged) or ev.equipment in machines:
            continue
        setting = state.maintenance_settings.get(ev.equipment)
        if setting is None or _open_breakdown(state, ev.equipment) is not None:
            continue
        trigger: str | None = None
        reason, stop_since, stop_s = ev.reason, ev.since, None
        if ev.state == "down":
            trigger = stop_raises_request(setting, ev.reason, None)
        if trigger is None and ev.previous == "down" and ev.previous_since is not None and ev.state != "maintenance":
            current = state.machine_states.get(ev.equipment)
            reason, stop_since = (current.reason if current else None), ev.previous_since
            stop_s = Decimal(str(round((ev.since - ev.previous_since).total_seconds(), 3)))
            trigger = stop_raises_request(setting, reason, stop_s)
        if trigger is None:
            continue
        machines.add(ev.equipment)
        raised.append(e.MaintenanceRequested(
            request=next_request_id(state, len(raised)), equipment=ev.equipment, kind="breakdown", trigger=trigger,
            reason=reason, stop_since=stop_since, stop_s=stop_s, plan=None, note="", raised_by=cmd.actor,
            at=ev.since))
    return raised


# --- deciders -------------------------------------------------------------------------------------


def _configure(state: PlantState, cmd: c.ConfigureMaintenance, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "service", "admin", action="configuring maintenance requests")
    _equipment(state, cmd.equipment)
    reasons = tuple(checks.text("request_reasons", r) for r in cmd.request_reasons)
    if cmd.request_after_s is not None and cmd.request_after_s <= 0:
        raise invalid("INVALID_VALUE", f"request_after_s is a number of seconds above 0, got {cmd.request_after_s}",
                      "request_after_s")
    current = state.maintenance_settings.get(cmd.equipment)
    if current is not None and (current.request_reasons, current.request_after_s) == (reasons, cmd.request_after_s):
        return []
    return [e.MaintenanceConfigured(equipment=cmd.equipment, request_reasons=reasons,
                                    request_after_s=cmd.request_after_s)]


def _define_plan(state: PlantState, cmd: c.DefineMaintenancePlan, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *PLANNER_ROLES, action="defining a maintenance plan")
    checks.text("plan", cmd.plan)
    _equipment(state, cmd.equipment)
    if cmd.kind not in PLAN_KINDS:
        raise invalid("INVALID_KIND", f"a plan's kind is one of {', '.join(PLAN_KINDS)}, got {cmd.kind}", "kind")
    interval = checks.quantity("interval", cmd.interval)
    pct = checks.quantity("overdue_after_pct", cmd.overdue_after_pct, allow_zero=True)
    at = checks.at(cmd, now)
    current = state.maintenance_plans.get(cmd.plan)
    if current is not None and current.equipment != cmd.equipment:
        raise DomainError("PLAN_OF_ANOTHER_MACHINE", f"plan {cmd.plan} is a plan of {current.equipment}, not of "
                          f"{cmd.equipment}", field="equipment")
    keep = current is not None and not cmd.restart and current.kind == cmd.kind
    last_done_at = current.last_done_at if current is not None and keep else at
    usage_at_done = current.usage_at_done if current is not None and keep else counter_of(
        cmd.kind, state.machine_usage.get(cmd.equipment), at)
    description = checks.clip(cmd.description) if cmd.description else ""
    if current is not None and keep and (current.description, current.interval, current.blocks_start,
                                         current.overdue_after_pct, current.active) == (
            description, interval, cmd.blocks_start, pct, cmd.active):
        return []
    return [e.MaintenancePlanDefined(
        plan=cmd.plan, equipment=cmd.equipment, description=description, kind=cmd.kind, interval=interval,
        blocks_start=cmd.blocks_start, overdue_after_pct=pct, active=cmd.active, last_done_at=last_done_at,
        usage_at_done=usage_at_done)]


def _raise_request(state: PlantState, cmd: c.RaiseMaintenanceRequest, now: datetime) -> list[e.Event]:
    equipment = _equipment(state, cmd.equipment)
    reason = checks.clip(checks.free_text("reason", cmd.reason)) if cmd.reason else None
    note = _note(cmd.note)
    photo = _photo(cmd.photo)
    at = checks.at(cmd, now)
    request = next_request_id(state)
    current = state.machine_states.get(equipment)
    stopped = current is not None and current.state == "down"
    events: list[e.Event] = [e.MaintenanceRequested(
        request=request, equipment=equipment, kind="breakdown", trigger="manual",
        reason=reason or (current.reason if stopped and current else None),
        stop_since=current.since if stopped and current else None, stop_s=None, plan=None, note=note,
        raised_by=cmd.actor, at=at)]
    if photo is not None:
        events.append(e.MaintenancePhotoAttached(request=request, photo=photo, by=cmd.actor, at=at))
    return events


def _add_note(state: PlantState, cmd: c.AddMaintenanceNote, now: datetime) -> list[e.Event]:
    req = _request(state, cmd.request)
    note = _note(cmd.note)
    photo = _photo(cmd.photo)
    if not note and photo is None:
        raise invalid("NOTHING_TO_ADD", "give a note or a photo", "note")
    at = checks.at(cmd, now)
    events: list[e.Event] = []
    if note:
        events.append(e.MaintenanceNoteAdded(request=req.request, note=note, by=cmd.actor, at=at))
    if photo is not None:
        events.append(e.MaintenancePhotoAttached(request=req.request, photo=photo, by=cmd.actor, at=at))
    return events


def _accept(state: PlantState, cmd: c.AcceptMaintenanceRequest, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *TECHNICIAN_ROLES, action="accepting a maintenance request")
    req = _request(state, cmd.request)
    if req.status != "open":
        raise DomainError("REQUEST_ALREADY_ACCEPTED", f"maintenance request {req.request} was already accepted by "
                          f"{req.technician}", field="request")
    return [e.MaintenanceAccepted(request=req.request, equipment=req.equipment, technician=cmd.actor,
                                  at=checks.at(cmd, now))]


def _start_work(state: PlantState, cmd: c.StartMaintenanceWork, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *TECHNICIAN_ROLES, action="working on a maintenance request")
    req = _request(state, cmd.request)
    if req.status == "open":
        raise DomainError("REQUEST_NOT_ACCEPTED", f"maintenance request {req.request} is not accepted yet: accept "
                          "it first", field="request")
    if req.working_since is not None:
        raise DomainError("WORK_ALREADY_STARTED", f"{req.technician} has been working on {req.request} since "
                          f"{req.working_since.isoformat(timespec='seconds')}", field="request")
    at = checks.at(cmd, now)
    return [e.MaintenanceWorkStarted(request=req.request, equipment=req.equipment, technician=cmd.actor, at=at),
            *_machine_to(state, req.equipment, "maintenance", request_label(req.request), at)]


def _stop_work(state: PlantState, cmd: c.StopMaintenanceWork, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *TECHNICIAN_ROLES, action="working on a maintenance request")
    req = _request(state, cmd.request)
    if req.working_since is None:
        raise DomainError("WORK_NOT_STARTED", f"nobody is working on {req.request} now", field="request")
    return _clock_off(req, checks.at(cmd, now))


def _issue_parts(state: PlantState, cmd: c.IssueMaintenanceParts, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *TECHNICIAN_ROLES, action="issuing spare parts to a maintenance request")
    req = _request(state, cmd.request)
    if req.status == "open":
        raise DomainError("REQUEST_NOT_ACCEPTED", f"maintenance request {req.request} is not accepted yet: accept "
                          "it first", field="request")
    lot = checks.lot(state, cmd.lot)
    checks.bin(state, cmd.bin)
    quantity = checks.quantity("quantity", cmd.quantity)
    at = checks.at(cmd, now)
    checks.usable_lot(state, lot, at.date())
    checks.enough_stock(state, lot, cmd.bin, quantity)
    checks.not_reserved(state, lot, cmd.bin, quantity)
    return [moved(lot, "issue", cmd.bin, None, quantity, -quantity, at, reason=request_label(req.request)),
            e.MaintenancePartsIssued(request=req.request, equipment=req.equipment, lot=lot.lot, item=lot.item,
                                     bin=cmd.bin, quantity=quantity, at=at)]


def _part_of(text: str) -> e.IssuedSparePart:
    quantity, item, lot, bin_code = text.split("\t")
    return e.IssuedSparePart(item=item, lot=lot, bin=bin_code, quantity=Decimal(quantity))


def _close(state: PlantState, cmd: c.CloseMaintenanceRequest, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *TECHNICIAN_ROLES, action="closing a maintenance request")
    req = _request(state, cmd.request)
    if req.status == "open":
        raise DomainError("REQUEST_NOT_ACCEPTED", f"maintenance request {req.request} is not accepted yet: accept "
                          "it first", field="request")
    at = checks.at(cmd, now)
    note = _note(cmd.note)
    stopped = _clock_off(req, at)
    labour = req.labour_minutes + sum((ev.minutes for ev in stopped if isinstance(ev, e.MaintenanceWorkStopped)),
                                      ZERO)
    usage_at_done = None
    if req.plan is not None and req.plan in state.maintenance_plans:
        plan = state.maintenance_plans[req.plan]
        usage_at_done = counter_of(plan.kind, state.machine_usage.get(req.equipment), at)
    completed = e.MaintenanceCompleted(
        request=req.request, equipment=req.equipment, kind=req.kind, trigger=req.trigger, reason=req.reason,
        plan=req.plan, technician=req.technician or cmd.actor, raised_at=req.raised_at, labour_minutes=labour,
        parts=tuple(_part_of(p) for p in req.parts), released=cmd.released, note=note, at=at,
        usage_at_done=usage_at_done)
    machine = state.machine_states.get(req.equipment)
    follows: list[e.Event] = []
    if cmd.released:
        if machine is None or machine.state in ("maintenance", "down"):
            follows = _machine_to(state, req.equipment, "idle", None, at)
    else:
        follows = _machine_to(state, req.equipment, "down", NOT_RELEASED, at)
    return [*stopped, completed, *follows]


def _long_stops(state: PlantState, cmd: c.RaiseRequestsForLongStops, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "service", "admin", action="raising requests for long stops")
    at = checks.at(cmd, now)
    raised: list[e.Event] = []
    for code in sorted(state.maintenance_settings):
        ms = state.machine_states.get(code)
        if ms is None or ms.state != "down" or _open_breakdown(state, code) is not None:
            continue
        stop_s = Decimal(str(round((at - ms.since).total_seconds(), 3)))
        if stop_raises_request(state.maintenance_settings[code], None, stop_s, reason_flagged=False) != "duration":
            continue
        raised.append(e.MaintenanceRequested(
            request=next_request_id(state, len(raised)), equipment=code, kind="breakdown", trigger="duration",
            reason=ms.reason, stop_since=ms.since, stop_s=stop_s, plan=None, note="", raised_by=cmd.actor, at=at))
    return raised


def _start_preventive(state: PlantState, cmd: c.StartPreventiveMaintenance, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *PLANNER_ROLES, action="taking up preventive maintenance")
    checks.text("plan", cmd.plan)
    plan = state.maintenance_plans.get(cmd.plan)
    if plan is None or not plan.active:
        raise DomainError("UNKNOWN_PLAN", f"maintenance plan {cmd.plan} is not an active plan here", field="plan")
    for req in state.maintenance_requests.values():
        if req.plan == plan.plan and req.status != "closed":
            raise DomainError("PLAN_REQUEST_OPEN", f"plan {plan.plan} is already taken up in request {req.request}",
                              field="plan")
    return [e.MaintenanceRequested(
        request=next_request_id(state), equipment=plan.equipment, kind="preventive", trigger="plan",
        reason=plan.description or plan.plan, stop_since=None, stop_s=None, plan=plan.plan, note=_note(cmd.note),
        raised_by=cmd.actor, at=checks.at(cmd, now))]


def check_start(state: PlantState, workstation: str, at: datetime) -> None:
    """Refuse starting work on ``workstation`` while one of its machines is worked on, not released after
    maintenance, or has a due plan that blocks starts (edge.domain.contexts.production calls it)."""
    machines = sorted(code for code, eq in state.equipment.items() if eq.workstation == workstation)
    for code in machines:
        ms = state.machine_states.get(code)
        if ms is not None and ms.state == "maintenance":
            raise DomainError("MACHINE_IN_MAINTENANCE", f"{code} is in maintenance ({ms.reason}): work starts when "
                              "the technician releases it", field="operation")
        if ms is not None and ms.state == "down" and ms.reason == NOT_RELEASED:
            raise DomainError("MACHINE_NOT_RELEASED", f"{code} was not released for production after maintenance",
                              field="operation")
    if not state.maintenance_plans:
        return
    due = blocking_plan(state.maintenance_plans.values(), state.machine_usage, machines, at)
    if due is not None:
        plan = state.maintenance_plans[due.plan]
        past = "overdue" if due.status == "overdue" else "due"
        raise DomainError(
            "MAINTENANCE_DUE", f"maintenance plan {due.plan} ({plan.description or plan.kind}) of {due.equipment} is "
            f"{past}: {due.used} of {due.interval} {due.unit} used; it blocks starting work until it is done",
            field="operation")


# --- evolvers -------------------------------------------------------------------------------------


def _usage(state: PlantState, equipment: str) -> MachineUsage:
    found = state.machine_usage.get(equipment)
    if found is None:
        found = state.machine_usage[equipment] = MachineUsage(equipment=equipment, cycles=ZERO, parts=ZERO, run_s=ZERO)
    state.mark("machine_usage", equipment)
    return found


def _machine_state_changed(state: PlantState, ev: e.MachineStateChanged) -> None:
    usage = _usage(state, ev.equipment)
    if ev.previous == "running" and ev.previous_since is not None and ev.since > ev.previous_since:
        usage.run_s += Decimal(str((ev.since - ev.previous_since).total_seconds()))
    usage.running_since = ev.since if ev.state == "running" else None


def _counted(state: PlantState, equipment: str, good: Decimal, scrap: Decimal) -> None:
    usage = _usage(state, equipment)
    usage.cycles += good + scrap
    usage.parts += good


def _production_reported(state: PlantState, ev: e.ProductionReported) -> None:
    for code, eq in state.equipment.items():
        if eq.workstation == ev.workstation:
            _counted(state, code, ev.good, ev.scrap)


def _unassigned_recorded(state: PlantState, ev: e.UnassignedProductionRecorded) -> None:
    _counted(state, ev.equipment, ev.good, ev.scrap)


def _configured(state: PlantState, ev: e.MaintenanceConfigured) -> None:
    state.maintenance_settings[ev.equipment] = MaintenanceSetting(
        equipment=ev.equipment, request_reasons=ev.request_reasons, request_after_s=ev.request_after_s)
    state.mark("maintenance_settings", ev.equipment)


def _plan_defined(state: PlantState, ev: e.MaintenancePlanDefined) -> None:
    state.maintenance_plans[ev.plan] = MaintenancePlan(
        plan=ev.plan, equipment=ev.equipment, description=ev.description, kind=ev.kind, interval=ev.interval,
        blocks_start=ev.blocks_start, overdue_after_pct=ev.overdue_after_pct, last_done_at=ev.last_done_at,
        usage_at_done=ev.usage_at_done, active=ev.active)
    state.mark("maintenance_plans", ev.plan)


def _requested(state: PlantState, ev: e.MaintenanceRequested) -> None:
    state.maintenance_requests[ev.request] = MaintenanceRequest(
        request=ev.request, equipment=ev.equipment, kind=ev.kind, trigger=ev.trigger, status="open",
        reason=ev.reason, stop_since=ev.stop_since, stop_s=ev.stop_s, plan=ev.plan, note=ev.note, has_photo=False,
        raised_by=ev.raised_by, raised_at=ev.at)
    state.mark("maintenance_requests", ev.request)


def _changed(state: PlantState, request: str) -> MaintenanceRequest:
    state.mark("maintenance_requests", request)
    return state.maintenance_requests[request]


def _note_added(state: PlantState, ev: e.MaintenanceNoteAdded) -> None:
    req = _changed(state, ev.request)
    req.note = checks.clip(f"{req.note} / {ev.note}" if req.note else ev.note)


def _photo_attached(state: PlantState, ev: e.MaintenancePhotoAttached) -> None:
    _changed(state, ev.request).has_photo = True


def _accepted(state: PlantState, ev: e.MaintenanceAccepted) -> None:
    req = _changed(state, ev.request)
    req.status, req.technician, req.accepted_at = "accepted", ev.technician, ev.at


def _work_started(state: PlantState, ev: e.MaintenanceWorkStarted) -> None:
    req = _changed(state, ev.request)
    req.status, req.technician, req.working_since = "in_work", ev.technician, ev.at


def _work_stopped(state: PlantState, ev: e.MaintenanceWorkStopped) -> None:
    req = _changed(state, ev.request)
    req.working_since = None
    req.labour_minutes += ev.minutes


def _parts_issued(state: PlantState, ev: e.MaintenancePartsIssued) -> None:
    req = _changed(state, ev.request)
    req.parts = (*req.parts, f"{ev.quantity}\t{ev.item}\t{ev.lot}\t{ev.bin}")


def _completed(state: PlantState, ev: e.MaintenanceCompleted) -> None:
    req = _changed(state, ev.request)
    req.status, req.closed_at, req.released, req.closing_note = "closed", ev.at, ev.released, ev.note
    req.labour_minutes, req.working_since = ev.labour_minutes, None
    if ev.plan is not None and ev.plan in state.maintenance_plans:
        plan = state.maintenance_plans[ev.plan]
        plan.last_done_at = ev.at
        plan.usage_at_done = ev.usage_at_done if ev.usage_at_done is not None else plan.usage_at_done
        state.mark("maintenance_plans", ev.plan)


DECIDERS: dict[type[c.Command], Decider] = {
    c.ConfigureMaintenance: _configure,
    c.DefineMaintenancePlan: _define_plan,
    c.RaiseMaintenanceRequest: _raise_request,
    c.AddMaintenanceNote: _add_note,
    c.AcceptMaintenanceRequest: _accept,
    c.StartMaintenanceWork: _start_work,
    c.StopMaintenanceWork: _stop_work,
    c.IssueMaintenanceParts: _issue_parts,
    c.CloseMaintenanceRequest: _close,
    c.StartPreventiveMaintenance: _start_preventive,
    c.RaiseRequestsForLongStops: _long_stops,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.MachineStateChanged: _machine_state_changed,
    e.ProductionReported: _production_reported,
    e.UnassignedProductionRecorded: _unassigned_recorded,
    e.MaintenanceConfigured: _configured,
    e.MaintenancePlanDefined: _plan_defined,
    e.MaintenanceRequested: _requested,
    e.MaintenanceNoteAdded: _note_added,
    e.MaintenancePhotoAttached: _photo_attached,
    e.MaintenanceAccepted: _accepted,
    e.MaintenanceWorkStarted: _work_started,
    e.MaintenanceWorkStopped: _work_stopped,
    e.MaintenancePartsIssued: _parts_issued,
    e.MaintenanceCompleted: _completed,
}
