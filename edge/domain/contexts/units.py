"""Work instructions that capture data, and serialised units (issue 21).

A **work instruction** belongs to one operation of an item and has its own revision; it is written for one revision
of the item, and a step recorded with an instruction revision written for another item revision than the work order
builds is refused (``INSTRUCTION_REVISION_MISMATCH``: PLM's "drawing is V3, build is V2" problem, for documents).
Steps are done in order; each is recorded with its time and the instruction revision. A failing step blocks the next
one (``on_fail`` block: the step is done again) or raises a nonconformance that holds the unit (``ncr``) until the
nonconformance is dispositioned.

A **serialised** item's units get a serial each at the work order's first operation (scanned from a pre-printed
label, or the next of the site's pattern, GS1 AI 21 beside the GTIN), then move through the operations one by one:
a unit completes an operation when the last step of its instruction passes (or by ``CompleteUnitOperation`` where
the operation has no instruction). A scan step naming a ``component`` fits a serial (or a lot) of that item issued
to the order into the unit: its genealogy, which edge.store.trace follows backward and forward.
"""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts import quality  # the one rule for a result and its SPC
from edge.domain.errors import DomainError, invalid
from edge.domain.model import (
    ON_FAIL,
    STEP_KINDS,
    InstructionRun,
    InstructionStep,
    Unit,
    WorkInstruction,
    WorkOrder,
)
from edge.domain.state import Decider, Evolver, PlantState, unit_named

MAX_STEPS = 200
_PATTERN_FIELDS = re.compile(r"{(\w+)(?::[^{}]*)?}")
PATTERN_NAMES = frozenset({"work_order", "item", "n", "seq", "yyyy", "yy", "mm", "dd"})
# GS1 AI 21: up to 20 characters of set 82
_GS1_SERIAL = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")


def pattern_problem(pattern: str) -> str | None:
    """Why a site's serial pattern cannot make serials, or None."""
    names = set(_PATTERN_FIELDS.findall(pattern))
    if not names & {"n", "seq"}:
        return "a serial pattern holds {n} (units of the order) or {seq} (units of the item)"
    unknown = names - PATTERN_NAMES
    if unknown:
        return f"a serial pattern knows {', '.join(sorted(PATTERN_NAMES))}, not {', '.join(sorted(unknown))}"
    try:
        pattern.format(work_order="W", item="I", n=1, seq=1, yyyy="2026", yy="26", mm="01", dd="01")
    except (ValueError, IndexError, KeyError) as err:
        return f"the serial pattern does not format: {err}"
    return None


def instruction_for(state: PlantState, wo: WorkOrder, operation: int) -> WorkInstruction | None:
    """The instruction a terminal shows for an operation of ``wo``: the latest revision written for the revision of
    the item the order builds (by definition time), or None."""
    found = [wi for (item, op, _), wi in state.work_instructions.items()
             if item == wo.item and op == operation and wi.item_revision == wo.item_revision]
    return max(found, key=lambda wi: (wi.defined_at, wi.revision)) if found else None


def steps_of(state: PlantState, item: str, operation: int, revision: str) -> list[InstructionStep]:
    return [state.instruction_steps[k] for k in state.steps_of_instruction.get((item, operation, revision), ())]


# --- work instructions -----------------------------------------------------------------------------------------


def _define_instruction(state: PlantState, cmd: c.DefineWorkInstruction, now: datetime) -> list[e.Event]:
    checks.text("item", cmd.item)
    checks.text("revision", cmd.revision)
    checks.text("item_revision", cmd.item_revision)
    if not 1 <= cmd.operation <= 99999:
        raise invalid("INVALID_OPERATION", "operation is 1 to 99999", "operation")
    if not cmd.steps:
        raise invalid("MISSING_VALUE", "a work instruction has at least one step", "steps")
    if len(cmd.steps) > MAX_STEPS:
        raise invalid("TOO_MANY_STEPS", f"a work instruction has at most {MAX_STEPS} steps", "steps")
    out: list[e.InstructionStepDefined] = []
    for i, s in enumerate(cmd.steps):
        where = f"steps[{i}]"
        if s.step != i + 1:
            raise invalid("STEPS_OUT_OF_ORDER", f"steps are numbered 1, 2, 3, ...: step {i + 1} is numbered {s.step}",
                          f"{where}.step")
        if s.kind not in STEP_KINDS:
            raise invalid("INVALID_STEP_KIND", f"a step is one of {', '.join(STEP_KINDS)}, not {s.kind!r}",
                          f"{where}.kind")
        if s.on_fail not in ON_FAIL:
            raise invalid("INVALID_VALUE", f"on_fail is one of {', '.join(ON_FAIL)}", f"{where}.on_fail")
        for t in s.texts:
            if not re.match(r"^[a-z]{2}=", t):
                raise invalid("INVALID_VALUE", "a step's text is 'language=text' (en=..., nl=...)", f"{where}.texts")
        for m in s.media:
            if not re.match(r"^(image|pdf):[\w.\-]{1,120}(#\d{1,4})?$", m):
                raise invalid("INVALID_VALUE", "a medium is 'image:file.png' or 'pdf:file.pdf#page' (a file in the "
                              "site's instruction folder)", f"{where}.media")
        if s.kind == "measure":
            if s.lsl is None and s.usl is None:
                raise invalid("MISSING_VALUE", "a measurement step has a lower or an upper limit", f"{where}.lsl")
            if s.lsl is not None and s.usl is not None and s.lsl > s.usl:
                raise invalid("INVALID_LIMITS", "lsl is above usl", f"{where}.lsl")
            if (s.plan is None) != (s.characteristic is None):
                raise invalid("MISSING_VALUE", "a measurement feeds SPC with both plan and characteristic",
                              f"{where}.plan")
            if s.plan is not None and (s.plan, s.characteristic) not in state.characteristics:
                raise DomainError("UNKNOWN_CHARACTERISTIC", f"inspection plan {s.plan} has no characteristic "
                                  f"{s.characteristic}", field=f"{where}.characteristic")
        if s.kind == "scan" and not (s.expect or s.component):
            raise invalid("MISSING_VALUE", "a scan step says what must be scanned: expect or component",
                          f"{where}.expect")
        out.append(e.InstructionStepDefined(
            step=s.step, kind=s.kind, texts=tuple(s.texts), media=tuple(s.media), nominal=s.nominal, lsl=s.lsl,
            usl=s.usl, unit=s.unit, expect=s.expect, component=s.component, on_fail=s.on_fail, plan=s.plan,
            characteristic=s.characteristic))
    return [e.WorkInstructionDefined(item=cmd.item, operation=cmd.operation, revision=cmd.revision,
                                     item_revision=cmd.item_revision, title=checks.free_text("title", cmd.title),
                                     steps=tuple(out), at=checks.at(cmd, now))]


# --- serialised units ------------------------------------------------------------------------------------------


def _unit(state: PlantState, wo: WorkOrder, serial: str) -> Unit:
    unit = state.units.get((wo.item, serial))
    if unit is None or unit.work_order != wo.work_order:
        raise DomainError("UNKNOWN_UNIT", f"unit {serial} of {wo.item} is not on work order {wo.work_order}",
                          field="serial")
    return unit


def _unit_at(state: PlantState, unit: Unit, operation: int) -> None:
    if unit.status == "hold":
        rework = state.reworks.get(f"RW-{unit.ncr}")
        why = (f"rework {rework.rework} of nonconformance {unit.ncr} until its re-inspection passes"
               if rework is not None and rework.status == "open" else f"nonconformance {unit.ncr}")
        raise DomainError("UNIT_ON_HOLD", f"unit {unit.serial} is held by {why}", field="serial")
    if unit.status in ("completed", "scrapped"):
        raise DomainError("UNIT_DONE", f"unit {unit.serial} is {unit.status}", field="serial")
    if unit.operation != operation:
        raise DomainError("UNIT_ELSEWHERE", f"unit {unit.serial} is at operation {unit.operation}, not {operation}",
                          field="operation")


def _serialise(state: PlantState, cmd: c.SerialiseUnit, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    item = checks.item(state, wo.item)
    if not item.serialised:
        raise DomainError("NOT_SERIALISED", f"item {wo.item} is not serialised: its output is booked as lots",
                          field="work_order")
    ops = state.operations_of(wo.work_order)
    checks.operation(state, wo.work_order, cmd.operation)
    if ops[0].operation != cmd.operation:
        raise DomainError("NOT_FIRST_OPERATION", f"a unit gets its serial at the first operation of "
                          f"{wo.work_order} ({ops[0].operation}), not at {cmd.operation}", field="operation")
    made = state.units_of_order.get(wo.work_order, set())
    if len(made) >= wo.quantity * (1 + wo.overproduction_tolerance_pct / 100):
        raise DomainError("TOO_MANY_UNITS", f"work order {wo.work_order} is for {wo.quantity} units and has "
                          f"{len(made)} serials already", field="work_order")
    at = checks.at(cmd, now)
    gtin = None
    if cmd.serial is not None:
        serial = checks.text("serial", cmd.serial)
        source = "scanned"
        if cmd.gtin is not None:
            if item.gtin is None or checks.valid_gtin("gtin", cmd.gtin).zfill(14) != item.gtin.zfill(14):
                raise DomainError("WRONG_ITEM", f"the label's GTIN {cmd.gtin} is not item {wo.item}'s "
                                  f"({item.gtin or 'none'})", field="serial")
            gtin = item.gtin
    else:
        problem = pattern_problem(cmd.pattern)
        if problem is not None:
            raise invalid("INVALID_SERIAL_PATTERN", problem, "pattern")
        serial = cmd.pattern.format(
            work_order=wo.work_order, item=wo.item, n=len(made) + 1, seq=state.serials_of_item.get(wo.item, 0) + 1,
            yyyy=f"{at.year:04d}", yy=f"{at.year % 100:02d}", mm=f"{at.month:02d}", dd=f"{at.day:02d}")
        source = "pattern"
        if cmd.gs1:
            if item.gtin is None:
                raise DomainError("NO_GTIN", f"item {wo.item} has no GTIN for its GS1 serials", field="work_order")
            gtin, source = item.gtin, "gs1"
    if len(serial) > 200 or (gtin is not None and not _GS1_SERIAL.match(serial)):
        raise invalid("INVALID_SERIAL", f"serial {serial!r} is not a GS1 AI 21 serial (1-20 characters of set 82)"
                      if gtin else "a serial is at most 200 characters", "serial")
    if (wo.item, serial) in state.units:
        other = state.units[(wo.item, serial)]
        raise DomainError("DUPLICATE_SERIAL", f"serial {serial} of {wo.item} is already a unit of work order "
                          f"{other.work_order}", field="serial")
    return [e.UnitSerialised(item=wo.item, serial=serial, work_order=wo.work_order, item_revision=wo.item_revision,
                             operation=cmd.operation, source=source, gtin=gtin, at=at, by=cmd.actor)]


def _next_operation(state: PlantState, work_order: str, operation: int) -> int | None:
    rework = {n for r in state.reworks.values() if r.work_order == work_order for n in r.operations}
    later = [op.operation for op in state.operations_of(work_order) if op.operation > operation
             and op.operation not in rework]  # a rework's operations are for the units it holds, not the routing
    return later[0] if later else None


def _unit_done(state: PlantState, wo: WorkOrder, serial: str, operation: int, at: datetime) -> list[e.Event]:
    """A unit through an operation: it moves on to the next one, and the operation counts one good part (the last
    operation's good parts are the order's, which its output lots are booked against)."""
    op = state.operations[(wo.work_order, operation)]
    return [e.UnitOperationCompleted(work_order=wo.work_order, item=wo.item, serial=serial, operation=operation,
                                     next_operation=_next_operation(state, wo.work_order, operation), at=at),
            e.ProductionReported(work_order=wo.work_order, operation=operation, workstation=op.workstation,
                                 good=Decimal(1), scrap=Decimal(0), scrap_reason=None, at=at)]


def _complete_unit_operation(state: PlantState, cmd: c.CompleteUnitOperation, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    checks.operation(state, wo.work_order, cmd.operation)
    unit = _unit(state, wo, checks.text("serial", cmd.serial))
    _unit_at(state, unit, cmd.operation)
    wi = instruction_for(state, wo, cmd.operation)
    if wi is not None:
        steps = steps_of(state, wi.item, wi.operation, wi.revision)
        run = state.instruction_runs.get((wo.work_order, cmd.operation, unit.serial))
        done = run.step if run is not None else 0
        if done < len(steps):
            raise DomainError("STEPS_OPEN", f"unit {unit.serial} has done {done} of the {len(steps)} steps of "
                              f"instruction {wi.revision} at operation {cmd.operation}", field="serial")
    return _unit_done(state, wo, unit.serial, cmd.operation, checks.at(cmd, now))


# --- steps -----------------------------------------------------------------------------------------------------


def _judge(state: PlantState, cmd: c.RecordStep, step: InstructionStep, wo: WorkOrder,
           run: InstructionRun | None) -> tuple[bool, str, tuple[str | None, str | None] | None]:
    """The verdict of a step's capture, a note saying why it failed, and for a component scan the (lot, serial)
    fitted."""
    if step.kind in ("read", "check", "signoff"):
        if step.kind == "signoff":
            if cmd.signature is None:
                raise invalid("SIGNATURE_REQUIRED", "a sign-off is electronically signed by a second person: their "
                              "PIN again in X-Takt-Pin", "X-Takt-Pin")
            if run is not None and run.last_actor == cmd.actor:
                raise DomainError("SAME_PERSON", f"a sign-off is by a second person: {cmd.actor} recorded the steps "
                                  "before it", field="X-Takt-Pin")
        if step.kind == "read":
            return True, "", None
        if cmd.result is None:
            raise invalid("MISSING_VALUE", "this step is done or not OK: give result", "result")
        return cmd.result == "done", "" if cmd.result == "done" else "not OK", None
    if step.kind == "measure":
        if cmd.value is None or not cmd.value.is_finite():
            raise invalid("MISSING_VALUE", "this step measures: give value", "value")
        ok = (step.lsl is None or cmd.value >= step.lsl) and (step.usl is None or cmd.value <= step.usl)
        return ok, "" if ok else f"{cmd.value} {step.unit} is outside {step.lsl}..{step.usl}".replace("None", ""), None
    if step.kind == "photo":
        if not cmd.photo:
            raise invalid("MISSING_VALUE", "this step takes a photo: give photo", "photo")
        return True, "", None
    scanned = checks.text("scanned", cmd.scanned, what=" (this step scans)")
    if step.component is None:
        ok = scanned == step.expect
        return ok, "" if ok else f"scanned {scanned}, expected {step.expect}", None
    used = state.serials.get((step.component, scanned))
    if used is not None:
        if used.work_order != wo.work_order:
            return False, f"serial {scanned} of {step.component} is issued to {used.work_order}", None
        fitted = state.fitted.get((step.component, scanned))
        if fitted is not None and fitted != cmd.serial:
            return False, f"serial {scanned} of {step.component} is already in unit {fitted}", None
        return True, "", (used.lot, scanned)
    lot = state.lots.get(scanned)
    if lot is not None and lot.item == step.component:
        if not any(ln.item == lot.item and ln.consumed > 0 for ln in state.bom_of(wo.work_order)):
            return False, f"nothing of {step.component} is issued to {wo.work_order}", None
        return True, "", (lot.lot, None)
    return False, f"{scanned} is no serial or lot of {step.component} issued to {wo.work_order}", None


def _record_step(state: PlantState, cmd: c.RecordStep, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    checks.operation(state, wo.work_order, cmd.operation)
    revision = checks.text("instruction_revision", cmd.instruction_revision)
    wi = state.work_instructions.get((wo.item, cmd.operation, revision))
    if wi is None:
        raise DomainError("UNKNOWN_INSTRUCTION", f"operation {cmd.operation} of {wo.item} has no instruction "
                          f"revision {revision}", field="instruction_revision")
    if wi.item_revision != wo.item_revision:
        current = instruction_for(state, wo, cmd.operation)
        raise DomainError("INSTRUCTION_REVISION_MISMATCH", f"instruction revision {revision} is written for "
                          f"{wo.item} revision {wi.item_revision}; work order {wo.work_order} builds revision "
                          f"{wo.item_revision}" + (f": use instruction revision {current.revision}" if current
                                                   else ": no instruction is written for it"),
                          field="instruction_revision")
    item = checks.item(state, wo.item)
    if item.serialised:
        unit = _unit(state, wo, checks.text("serial", cmd.serial, what=f" ({wo.item} is serialised)"))
        _unit_at(state, unit, cmd.operation)
        subject = unit.serial
    elif cmd.serial is not None:
        raise invalid("NOT_SERIALISED", f"item {wo.item} is not serialised: leave serial out", "serial")
    else:
        subject = ""
    run = state.instruction_runs.get((wo.work_order, cmd.operation, subject))
    if run is not None and run.revision != revision:
        raise DomainError("INSTRUCTION_REVISION_CHANGED", f"the steps at operation {cmd.operation} follow instruction "
                          f"revision {run.revision}, not {revision}", field="instruction_revision")
    steps = steps_of(state, wi.item, wi.operation, wi.revision)
    if not 1 <= cmd.step <= len(steps):
        raise invalid("UNKNOWN_STEP", f"instruction {revision} has steps 1 to {len(steps)}", "step")
    due = (run.step if run is not None else 0) + 1
    if cmd.step < due:
        raise DomainError("STEP_DONE", f"step {cmd.step} is done already; step {due} is next", field="step")
    if cmd.step > due:
        blocked = run is not None and run.status == "blocked"
        raise DomainError("STEP_BLOCKED" if blocked else "STEP_OUT_OF_ORDER",
                          f"step {due} failed and blocks the next ones: do it again" if blocked
                          else f"step {due} comes first", field="step")
    step = steps[cmd.step - 1]
    if cmd.started_at is not None:
        checks.aware("started_at", cmd.started_at, now)
    at = checks.at(cmd, now)
    passed, note, fitted = _judge(state, cmd, step, wo, run)
    ncr = None
    out: list[e.Event] = []
    if not passed and step.on_fail == "ncr":
        base = f"NCR-{wo.work_order}-{cmd.operation}-{subject or 'LOT'}-{cmd.step}"
        ncr, n = base, 1
        while ncr in state.nonconformances:
            n += 1
            ncr = f"{base}-{n}"
    last = passed and cmd.step == len(steps)
    out.append(e.StepRecorded(
        work_order=wo.work_order, operation=cmd.operation, item=wo.item, serial=subject or None,
        instruction_revision=revision, step=cmd.step, kind=step.kind, passed=passed, result=cmd.result,
        value=cmd.value, scanned=cmd.scanned, photo=cmd.photo, note=checks.clip(note), on_fail=step.on_fail, ncr=ncr,
        last=last, started_at=cmd.started_at, at=at, by=cmd.actor))
    if fitted is not None and subject:
        out.append(e.UnitComponentFitted(work_order=wo.work_order, item=wo.item, serial=subject,
                                         component=step.component or "", component_lot=fitted[0],
                                         component_serial=fitted[1], operation=cmd.operation, at=at))
    if ncr is not None:
        what = f"unit {subject}" if subject else f"work order {wo.work_order}"
        out.append(e.NonconformanceRaised(
            ncr=ncr, lot=None, work_order=wo.work_order, raised_by=cmd.actor, at=at,
            description=checks.clip(f"{what}, operation {cmd.operation}, step {cmd.step} ({step.kind}) failed: "
                                    f"{note}")))
    if step.kind == "measure" and step.plan is not None and step.characteristic is not None:
        out += quality.DECIDERS[c.RecordInspection](state, c.RecordInspection(
            idempotency_key=cmd.idempotency_key, actor=cmd.actor, actor_roles=cmd.actor_roles,
            occurred_at=cmd.occurred_at,
            inspection=f"{wo.work_order}/{cmd.operation}/{subject or 'LOT'}/{cmd.step}/{len(state.inspections)}",
            plan=step.plan, work_order=wo.work_order, operation=cmd.operation,
            measurements=(c.Measurement(characteristic=step.characteristic, value=cmd.value),)), now)
    if last and subject:
        out += _unit_done(state, wo, subject, cmd.operation, at)
    return out


# --- evolve ----------------------------------------------------------------------------------------------------


def _instruction_defined(state: PlantState, ev: e.WorkInstructionDefined) -> None:
    key = (ev.item, ev.operation, ev.revision)
    for old in state.steps_of_instruction.pop(key, ()):
        state.instruction_steps.pop(old, None)
        state.mark("instruction_steps", old)
    state.work_instructions[key] = WorkInstruction(item=ev.item, operation=ev.operation, revision=ev.revision,
                                                   item_revision=ev.item_revision, title=ev.title, defined_at=ev.at)
    state.mark("work_instructions", key)
    keys = []
    for s in ev.steps:
        k = (*key, s.step)
        state.instruction_steps[k] = InstructionStep(
            item=ev.item, operation=ev.operation, revision=ev.revision, step=s.step, kind=s.kind, texts=s.texts,
            media=s.media, nominal=s.nominal, lsl=s.lsl, usl=s.usl, unit=s.unit, expect=s.expect,
            component=s.component, on_fail=s.on_fail, plan=s.plan, characteristic=s.characteristic)
        state.mark("instruction_steps", k)
        keys.append(k)
    state.steps_of_instruction[key] = keys


def _unit_serialised(state: PlantState, ev: e.UnitSerialised) -> None:
    key = (ev.item, ev.serial)
    state.units[key] = Unit(item=ev.item, serial=ev.serial, work_order=ev.work_order, item_revision=ev.item_revision,
                            operation=ev.operation, status="in_progress", started_by=ev.by, started_at=ev.at,
                            updated_at=ev.at, gtin=ev.gtin, source=ev.source)
    state.units_of_order.setdefault(ev.work_order, set()).add(key)
    state.serials_of_item[ev.item] = state.serials_of_item.get(ev.item, 0) + 1
    state.mark("units", key)


def _step_recorded(state: PlantState, ev: e.StepRecorded) -> None:
    serial = ev.serial or ""
    rkey = (ev.work_order, ev.operation, serial)
    run = state.instruction_runs.get(rkey)
    if run is None:
        run = state.instruction_runs[rkey] = InstructionRun(
            work_order=ev.work_order, operation=ev.operation, serial=serial, revision=ev.instruction_revision,
            step=0, status="in_progress", last_actor="", updated_at=ev.at)
    if ev.passed or ev.ncr is not None:
        run.step, run.status, run.blocked_step = ev.step, "done" if ev.last else "in_progress", None
    else:
        run.status, run.blocked_step = "blocked", ev.step
    if ev.kind != "signoff":
        run.last_actor = ev.by
    run.updated_at = ev.at
    state.mark("instruction_runs", rkey)
    if ev.serial is None:
        return
    unit = state.units[(ev.item, ev.serial)]
    mark = f"{ev.operation}={ev.instruction_revision}"
    if mark not in unit.instructions:
        unit.instructions = (*unit.instructions, mark)
    if ev.ncr is not None:
        unit.status, unit.ncr = "hold", ev.ncr
        state.unit_of_ncr[ev.ncr] = (ev.item, ev.serial)
    elif not ev.passed:
        unit.status = "blocked"
    elif unit.status == "blocked":
        unit.status = "in_progress"
    unit.updated_at = ev.at
    state.mark("units", (ev.item, ev.serial))


def _unit_operation_completed(state: PlantState, ev: e.UnitOperationCompleted) -> None:
    unit = state.units[(ev.item, ev.serial)]
    unit.operation = ev.next_operation
    if ev.next_operation is None:
        unit.status = "completed"
    unit.updated_at = ev.at
    state.mark("units", (ev.item, ev.serial))


def _component_fitted(state: PlantState, ev: e.UnitComponentFitted) -> None:
    if ev.component_serial is not None:
        state.fitted[(ev.component, ev.component_serial)] = ev.serial


def _held_by(state: PlantState, ncr: str) -> list[tuple[str, str]]:
    """The units ``ncr`` holds: the one its step raised it for, and those a rework's failed re-inspection holds."""
    key = state.unit_of_ncr.pop(ncr, None)
    if key is None:
        return []
    return sorted(k for k, unit in state.units.items() if unit.status == "hold" and unit.ncr == ncr)


def _release(state: PlantState, key: tuple[str, str], scrap: bool) -> None:
    unit = state.units[key]
    unit.status = "scrapped" if scrap else ("completed" if unit.operation is None else "in_progress")
    unit.ncr = None
    state.mark("units", key)


def _dispositioned(state: PlantState, ev: e.NonconformanceDispositioned) -> None:
    """A disposition releases the units its NCR holds (scrap scraps them); a rework with its re-inspection holds them
    again in the ReworkOpened that follows (_rework_opened), until the re-inspection's verdict."""
    for key in _held_by(state, ev.ncr):
        _release(state, key, ev.disposition == "scrap")


def _rework_units(state: PlantState, ncr: str, subjects: tuple[str, ...]) -> list[tuple[str, str]]:
    known = state.nonconformances.get(ncr)
    found = (unit_named(state, s[5:], known.work_order if known is not None else None)
             for s in subjects if s.startswith("unit:"))
    return [key for key in found if key is not None]


def _rework_opened(state: PlantState, ev: e.ReworkOpened) -> None:
    """The units a rework names are held (status hold, its NCR) until its re-inspection."""
    for key in _rework_units(state, ev.ncr, ev.subjects):
        unit = state.units[key]
        if unit.status == "scrapped":
            continue
        unit.status, unit.ncr, unit.updated_at = "hold", ev.ncr, ev.at
        state.unit_of_ncr[ev.ncr] = key
        state.mark("units", key)


def _rework_verdict(state: PlantState, ev: e.ReworkVerdict) -> None:
    """A passed re-inspection releases the rework's units; a failed one keeps them held under its new NCR, whose
    disposition decides (scrap scraps them)."""
    for key in _rework_units(state, ev.ncr, ev.subjects):
        unit = state.units[key]
        if unit.status != "hold" or unit.ncr != ev.ncr:
            continue
        state.unit_of_ncr.pop(ev.ncr, None)
        if ev.verdict == "passed":
            _release(state, key, scrap=False)
        elif ev.new_ncr is not None:
            unit.ncr = ev.new_ncr
            state.unit_of_ncr[ev.new_ncr] = key
        unit.updated_at = ev.at
        state.mark("units", key)


def _packed_by_serial(state: PlantState, ev: e.PalletLotAdded) -> None:
    if ev.serial is not None and (ev.item, ev.serial) in state.units:
        state.units[(ev.item, ev.serial)].sscc = ev.sscc
        state.mark("units", (ev.item, ev.serial))


def _unpacked(state: PlantState, ev: e.PalletLotRemoved) -> None:
    """The lot off the pallet altogether: its units packed by serial are off it too."""
    if (ev.sscc, ev.lot) in state.pallet_lines:
        return
    for key, unit in state.units.items():
        if unit.sscc == ev.sscc and unit.lot == ev.lot:
            unit.sscc = None
            state.mark("units", key)


def _output_received(state: PlantState, ev: e.LotReceived) -> None:
    """A work order's output put into stock as a lot: its completed units without a lot are in it."""
    if ev.work_order is None:
        return
    for key in sorted(state.units_of_order.get(ev.work_order, ())):
        unit = state.units[key]
        if unit.status == "completed" and unit.lot is None:
            unit.lot = ev.lot
            state.mark("units", key)


DECIDERS: dict[type[c.Command], Decider] = {
    c.DefineWorkInstruction: _define_instruction,
    c.SerialiseUnit: _serialise,
    c.RecordStep: _record_step,
    c.CompleteUnitOperation: _complete_unit_operation,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.WorkInstructionDefined: _instruction_defined,
    e.UnitSerialised: _unit_serialised,
    e.StepRecorded: _step_recorded,
    e.UnitOperationCompleted: _unit_operation_completed,
    e.UnitComponentFitted: _component_fitted,
    e.NonconformanceDispositioned: _dispositioned,
    e.ReworkOpened: _rework_opened,
    e.ReworkVerdict: _rework_verdict,
    e.LotReceived: _output_received,
    e.PalletLotAdded: _packed_by_serial,
    e.PalletLotRemoved: _unpacked,
}
