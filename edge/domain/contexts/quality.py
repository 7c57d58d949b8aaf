"""Quality and SPC: inspection plans, inspection results with their sampling tasks (incoming, in-process, final)
and verdicts, SPC signals, nonconformances and their dispositions: their deciders and evolvers.
"""
from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from edge.domain import checks, sampling, spc
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts import capa
from edge.domain.contexts.inventory import moved, release_status
from edge.domain.errors import DomainError, invalid
from edge.domain.model import (
    DISPOSITIONS,
    Characteristic,
    InspectionInterval,
    InspectionPlan,
    InspectionTask,
    Lot,
    Nonconformance,
    Operation,
    WorkOrder,
)
from edge.domain.state import (
    ZERO,
    Decider,
    Evolver,
    PlantState,
    final_plans,
    final_task_id,
    incoming_task_id,
    open_rework_task,
)

INSPECTION_KINDS: tuple[str, ...] = ("general", "incoming", "in_process", "final")
# Who records any inspection; the warehouse role records the samples of incoming inspections only.
INSPECTOR_ROLES = frozenset({"quality", "operator", "supervisor", "admin", "service"})


# --- deciders -------------------------------------------------------------------------------------


def _define_inspection_plan(state: PlantState, cmd: c.DefineInspectionPlan, now: datetime) -> list[e.Event]:
    checks.text("plan", cmd.plan)
    if not cmd.characteristics:
        raise invalid("MISSING_VALUE", "an inspection plan needs at least one characteristic", "characteristics")
    names: set[str] = set()
    for i, ch in enumerate(cmd.characteristics):
        where = f"characteristics[{i}]"
        checks.text(f"{where}.characteristic", ch.characteristic)
        if ch.characteristic in names:
            raise invalid("DUPLICATE_CHARACTERISTIC", f"{ch.characteristic} appears twice", f"{where}.characteristic")
        names.add(ch.characteristic)
        if ch.kind == "numeric":
            if ch.lsl is None and ch.usl is None:
                raise invalid("MISSING_LIMITS", f"{ch.characteristic} needs a lower or upper limit", f"{where}.lsl")
            if ch.lsl is not None and ch.usl is not None and ch.lsl > ch.usl:
                raise invalid("INVALID_LIMITS", f"{ch.characteristic}: LSL {ch.lsl} is above USL {ch.usl}", f"{where}.lsl")
        elif ch.kind != "attribute":
            raise invalid("INVALID_KIND", f"kind must be numeric or attribute, got {ch.kind}", f"{where}.kind")
    if cmd.item is not None:
        checks.item(state, cmd.item)
    _plan_sampling(cmd)
    return [e.InspectionPlanDefined(
        plan=cmd.plan, description=checks.free_text("description", cmd.description),
        characteristics=tuple(
            e.PlannedCharacteristic(characteristic=ch.characteristic, kind=ch.kind, nominal=ch.nominal,
                                    lsl=ch.lsl, usl=ch.usl, unit=ch.unit)
            for ch in cmd.characteristics
        ),
        item=cmd.item, operation=cmd.operation, hold_on_fail=cmd.hold_on_fail,
        spc_nonconformance=cmd.spc_nonconformance, kind=cmd.kind, supplier=cmd.supplier, sample_size=cmd.sample_size,
        sample_by_lot_size=cmd.sample_by_lot_size, accept_number=cmd.accept_number, every_n_parts=cmd.every_n_parts,
        every_minutes=cmd.every_minutes, flag_overdue=cmd.flag_overdue, overdue_grace_parts=cmd.overdue_grace_parts,
        plausible_bands=cmd.plausible_bands, signed=cmd.signed,
    )]


def _plan_sampling(cmd: c.DefineInspectionPlan) -> None:
    """The sampling fields of a plan agree with its kind (edge.domain.sampling)."""
    if cmd.kind not in INSPECTION_KINDS:
        raise invalid("INVALID_KIND", f"kind must be one of {', '.join(INSPECTION_KINDS)}, got {cmd.kind}", "kind")
    for name in ("sample_size", "every_n_parts", "every_minutes"):
        value = getattr(cmd, name)
        if value is not None and (not isinstance(value, int) or not 1 <= value <= 1_000_000):
            raise invalid("INVALID_VALUE", f"{name} must be a whole number from 1 to 1000000, got {value}", name)
    if not 0 <= cmd.accept_number <= 1_000_000:
        raise invalid("INVALID_VALUE", f"accept_number must be 0 or more, got {cmd.accept_number}", "accept_number")
    if cmd.sample_size is not None and cmd.accept_number >= cmd.sample_size:
        raise invalid("INVALID_VALUE", f"accept_number {cmd.accept_number} must be below the sample size "
                      f"{cmd.sample_size}", "accept_number")
    checks.quantity("overdue_grace_parts", cmd.overdue_grace_parts, allow_zero=True)
    if not (isinstance(cmd.plausible_bands, Decimal) and cmd.plausible_bands.is_finite()
            and 1 <= cmd.plausible_bands <= 1000):
        raise invalid("INVALID_VALUE", f"plausible_bands must be from 1 to 1000, got {cmd.plausible_bands}",
                      "plausible_bands")
    if cmd.sample_by_lot_size and cmd.sample_size is not None:
        raise invalid("INVALID_VALUE", "give a fixed sample_size or sample_by_lot_size, not both", "sample_size")
    if cmd.supplier is not None and cmd.kind != "incoming":
        raise invalid("INVALID_VALUE", "only an incoming plan names a supplier", "supplier")
    if cmd.kind == "incoming" and cmd.item is None and cmd.supplier is None:
        raise invalid("MISSING_VALUE", "an incoming plan names the item or the supplier (or both) it inspects", "item")
    if cmd.kind == "final" and cmd.item is None:
        raise invalid("MISSING_VALUE", "a final inspection plan names the item whose work orders it inspects", "item")
    interval = cmd.every_n_parts is not None or cmd.every_minutes is not None
    if cmd.kind == "in_process":
        if cmd.operation is None:
            raise invalid("MISSING_VALUE", "an in-process plan names the operation it inspects", "operation")
        if not interval:
            raise invalid("MISSING_VALUE", "an in-process plan needs every_n_parts or every_minutes (or both)",
                          "every_n_parts")
        if cmd.sample_by_lot_size:
            raise invalid("INVALID_VALUE", "an in-process plan takes a fixed sample_size", "sample_by_lot_size")
    elif interval or cmd.flag_overdue:
        raise invalid("INVALID_VALUE", "every_n_parts, every_minutes and flag_overdue are for in_process plans",
                      "every_n_parts" if interval else "flag_overdue")


def final_inspection_passed(state: PlantState, wo: WorkOrder) -> None:
    """Refuse to complete a work order whose item has a final inspection plan that did not pass for it."""
    for plan in final_plans(state, wo.item):
        task = state.inspection_tasks.get(final_task_id(wo.work_order, plan.plan))
        if task is None or task.status == "open":
            done = f"{task.samples} of {task.sample_size}" if task is not None else "no"
            raise DomainError("FINAL_INSPECTION_MISSING", f"work order {wo.work_order} needs its final inspection "
                              f"(plan {plan.plan}) before it completes: {done} samples recorded", field="work_order")
        if task.status == "failed":
            raise DomainError("FINAL_INSPECTION_FAILED", f"the final inspection of work order {wo.work_order} (plan "
                              f"{plan.plan}) failed ({task.failed} of {task.samples} samples): rework and inspect "
                              "again before it completes", field="work_order")


def _overdue_after(iv: InspectionInterval, plan: InspectionPlan, quantity: Decimal, at: datetime) -> Decimal:
    """The parts reported while an in-process inspection was due, once ``quantity`` more is reported at ``at``."""
    due = sampling.interval_due(iv.parts_since, iv.since, at, plan.every_n_parts, plan.every_minutes)
    if due is not None:
        return iv.overdue_parts + quantity
    if plan.every_n_parts is not None:
        return iv.overdue_parts + max(ZERO, iv.parts_since + quantity - plan.every_n_parts)
    return iv.overdue_parts


def overdue_flags(state: PlantState, op: Operation, quantity: Decimal, at: datetime) -> list[e.Event]:
    """Production beyond a plan's grace while its in-process inspection is due on the operation: flagged once."""
    out: list[e.Event] = []
    for key, iv in sorted(state.inspection_intervals.items()):
        if key[1:] != (op.work_order, op.operation) or iv.flagged:
            continue
        plan = state.inspection_plans.get(iv.plan)
        if plan is None or plan.kind != "in_process" or not plan.flag_overdue:
            continue
        overdue = _overdue_after(iv, plan, quantity, at)
        if overdue > plan.overdue_grace_parts:
            due = sampling.interval_due(iv.parts_since + quantity, iv.since, at, plan.every_n_parts,
                                        plan.every_minutes)
            out.append(e.InspectionOverdueFlagged(
                plan=plan.plan, work_order=op.work_order, operation=op.operation, workstation=op.workstation,
                reason=due.reason if due is not None else "count", parts_since=iv.parts_since + quantity,
                overdue_parts=overdue, at=at))
    return out


def _record_inspection(state: PlantState, cmd: c.RecordInspection, now: datetime) -> list[e.Event]:
    checks.text("inspection", cmd.inspection)
    if cmd.inspection in state.inspections:
        raise DomainError("DUPLICATE_INSPECTION", f"inspection {cmd.inspection} is already recorded", field="inspection")
    plan = state.inspection_plans.get(cmd.plan)
    if plan is None:
        raise DomainError("UNKNOWN_INSPECTION_PLAN", f"inspection plan {cmd.plan} is not known here", field="plan")
    lot = checks.lot(state, cmd.lot) if cmd.lot is not None else None
    if cmd.work_order is not None:
        checks.work_order(state, cmd.work_order, open_only=False)
        if cmd.operation is not None:
            checks.operation(state, cmd.work_order, cmd.operation)
    elif cmd.operation is not None:
        raise invalid("MISSING_VALUE", "an operation is named together with its work order", "work_order")
    planned = {k[1]: ch for k, ch in state.characteristics.items() if k[0] == plan.plan}
    results: list[e.MeasuredCharacteristic] = []
    seen: set[str] = set()
    for i, m in enumerate(cmd.measurements):
        where = f"measurements[{i}]"
        ch = planned.get(m.characteristic)
        if ch is None:
            raise invalid("UNKNOWN_CHARACTERISTIC", f"plan {plan.plan} has no characteristic {m.characteristic}",
                          f"{where}.characteristic")
        if m.characteristic in seen:
            raise invalid("DUPLICATE_CHARACTERISTIC", f"{m.characteristic} is measured twice", f"{where}.characteristic")
        seen.add(m.characteristic)
        if ch.kind == "numeric":
            if m.value is None or not m.value.is_finite():
                raise invalid("MISSING_VALUE", f"{m.characteristic} is numeric: give a value", f"{where}.value")
            _plausible(ch, plan, m.value, f"{where}.value")
            results.append(e.MeasuredCharacteristic(characteristic=m.characteristic, value=m.value,
                                                    passed=ch.passes(m.value)))
        else:
            if m.passed is None:
                raise invalid("MISSING_VALUE", f"{m.characteristic} is pass/fail: say which", f"{where}.passed")
            results.append(e.MeasuredCharacteristic(characteristic=m.characteristic, value=None, passed=m.passed))
    missing = sorted(set(planned) - seen)
    if missing:
        raise invalid("INCOMPLETE_INSPECTION", f"not measured: {', '.join(missing)}", "measurements")
    passed = all(r.passed for r in results)
    at = checks.at(cmd, now)
    opened, task = _sampled_task(state, plan, cmd, lot, at)
    if cmd.duties is not None and task is not None and task.kind == "incoming":
        checks.require_role(cmd, *sorted(cmd.duties.incoming_sample_roles),
                            action=f"recording a sample of an incoming inspection (plan {plan.plan})")
    if not cmd.actor_roles & INSPECTOR_ROLES and (task is None or task.kind != "incoming"):
        # Receiving staff (the warehouse role) record the samples of incoming inspections only.
        checks.require_role(cmd, *sorted(INSPECTOR_ROLES - {"admin", "service"}),
                            action=f"recording a {plan.kind} inspection (plan {plan.plan})")
    out: list[e.Event] = [*opened, e.InspectionRecorded(
        inspection=cmd.inspection, plan=plan.plan, lot=cmd.lot, work_order=cmd.work_order, operation=cmd.operation,
        results=tuple(results), passed=passed, at=at, task=task.task if task is not None else None,
    )]
    spc = _spc_violations(state, plan, cmd, results, at)
    out += spc
    if task is not None:  # a sample of an incoming or final inspection: the verdict comes after n samples
        return out + _verdict(state, plan, task, cmd, lot, passed, at)
    if spc and plan.spc_nonconformance and (passed or not plan.hold_on_fail):
        ncr = f"NCR-{cmd.inspection}"
        if ncr not in state.nonconformances:
            out.append(e.NonconformanceRaised(
                ncr=ncr, lot=cmd.lot, work_order=cmd.work_order, raised_by=cmd.actor, at=at,
                description=checks.clip("; ".join(v.message for v in spc if isinstance(v, e.SpcRuleViolated)))))
    if not passed and plan.hold_on_fail:
        failed = ", ".join(r.characteristic for r in results if not r.passed)
        ncr = f"NCR-{cmd.inspection}"
        if ncr not in state.nonconformances:
            out.append(e.NonconformanceRaised(
                ncr=ncr, lot=cmd.lot, work_order=cmd.work_order,
                description=checks.clip(f"inspection {cmd.inspection} failed on {failed}"), raised_by=cmd.actor, at=at,
            ))
            if lot is not None and lot.status not in ("hold", "consumed"):
                out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                              reason=f"inspection {cmd.inspection} failed", ncr=ncr))
    return out


def _plausible(ch: Characteristic, plan: InspectionPlan, value: Decimal, field: str) -> None:
    """Refuse a measured value no part can have: beyond the plan's plausible range around the limits."""
    bounds = ch.plausible_range(plan.plausible_bands)
    if bounds is None:
        return
    low, high = bounds
    if (low is None or value >= low) and (high is None or value <= high):
        return
    shown = f"{'' if low is None else f'{low.normalize():f}'}..{'' if high is None else f'{high.normalize():f}'}"
    limits = f"{'' if ch.lsl is None else ch.lsl}..{'' if ch.usl is None else ch.usl}"
    unit = f" {ch.unit}" if ch.unit else ""
    raise invalid("IMPLAUSIBLE_VALUE", f"{ch.characteristic} {value}{unit} is not a plausible reading (limits "
                  f"{limits}, plausible {shown}: {plan.plausible_bands} tolerance bands beyond the limits); check "
                  "the decimal point and the unit", field)


def _sampled_task(state: PlantState, plan: InspectionPlan, cmd: c.RecordInspection, lot: Lot | None,
                  at: datetime) -> tuple[list[e.Event], InspectionTask | None]:
    """The incoming or final inspection task this result is a sample of (and its opening, for a final inspection's
    first sample or one after a failed verdict), or None for the other kinds of plan."""
    waiting = state.inspection_tasks.get(incoming_task_id(lot.lot)) if lot is not None else None
    if waiting is not None and waiting.status == "open" and waiting.plan == plan.plan:
        return [], waiting  # the lot's open task, even if its plan was redefined as another kind since
    rework = open_rework_task(state, cmd.lot, cmd.work_order, plan.plan) if state.open_reworks else None
    if rework is not None:  # the re-inspection of a rework (edge.domain.contexts.capa), once its operations are done
        capa.rework_ready(state, rework)
        return [], rework
    if plan.kind == "incoming":
        if lot is None:
            raise invalid("MISSING_VALUE", f"plan {plan.plan} is an incoming inspection: name the lot", "lot")
        task = state.inspection_tasks.get(incoming_task_id(lot.lot))
        if task is None:
            raise DomainError("NO_INSPECTION_TASK", f"lot {lot.lot} awaits no incoming inspection (no incoming plan "
                              f"applied when it was received)", field="lot")
        if task.plan != plan.plan:
            raise DomainError("WRONG_PLAN", f"lot {lot.lot} awaits inspection by plan {task.plan}, not {plan.plan}",
                              field="plan")
        if task.status != "open":
            raise DomainError("INSPECTION_CLOSED", f"the incoming inspection of lot {lot.lot} already has its "
                              f"verdict ({task.status})", field="lot")
        return [], task
    if plan.kind == "final":
        if cmd.work_order is None:
            raise invalid("MISSING_VALUE", f"plan {plan.plan} is a final inspection: name the work order", "work_order")
        wo = state.work_orders[cmd.work_order]
        if plan.item != wo.item:
            raise DomainError("WRONG_ITEM", f"plan {plan.plan} inspects {plan.item}; work order {wo.work_order} makes "
                              f"{wo.item}", field="plan")
        if wo.status in ("completed", "cancelled"):
            raise DomainError("WORK_ORDER_CLOSED", f"work order {wo.work_order} is already {wo.status}",
                              field="work_order")
        key = final_task_id(wo.work_order, plan.plan)
        task = state.inspection_tasks.get(key)
        if task is not None and task.status == "passed":
            raise DomainError("INSPECTION_CLOSED", f"the final inspection of work order {wo.work_order} already "
                              "passed", field="work_order")
        if task is not None and task.status == "open":
            return [], task
        size = sampling.sample_size(wo.quantity, plan.sample_size, plan.sample_by_lot_size)
        opened = e.InspectionTaskOpened(task=key, kind="final", plan=plan.plan, sample_size=size, lot=None,
                                        work_order=wo.work_order, supplier=None, supplier_lot=None,
                                        purchase_order=None, at=at)
        return [opened], InspectionTask(task=key, kind="final", plan=plan.plan, status="open", sample_size=size,
                                        samples=0, failed=0, opened_at=at, work_order=wo.work_order)
    if plan.kind == "in_process" and (cmd.work_order is None or cmd.operation is None):
        raise invalid("MISSING_VALUE", f"plan {plan.plan} is an in-process inspection: name the work order and "
                      "operation", "work_order" if cmd.work_order is None else "operation")
    return [], None


def _verdict(state: PlantState, plan: InspectionPlan, task: InspectionTask, cmd: c.RecordInspection,
             lot: Lot | None, passed: bool, at: datetime) -> list[e.Event]:
    """The verdict once this sample completes the task's n samples: no more failed than the acceptance number."""
    if task.kind == "rework":
        return capa.rework_verdict(state, plan, task, cmd, passed, at)
    samples, failed = task.samples + 1, task.failed + (0 if passed else 1)
    if samples < task.sample_size:
        return []
    accepted = failed <= plan.accept_number
    ncr = None if accepted else f"NCR-{cmd.inspection}"
    if ncr is not None and ncr in state.nonconformances:
        ncr = None
    out: list[e.Event] = []
    description = checks.clip(f"{task.kind} inspection {task.task} (plan {plan.plan}) rejected: {failed} of {samples} "
                              f"samples failed, {plan.accept_number} allowed")
    if task.kind == "incoming":
        assert lot is not None
        po_line = next((ln.line for (po, _), ln in sorted(state.purchase_order_lines.items())
                        if po == task.purchase_order and ln.item == lot.item), None)
        out.append(e.SupplierLotVerdict(
            task=task.task, plan=plan.plan, lot=lot.lot, item=lot.item, supplier=task.supplier or "",
            supplier_lot=task.supplier_lot, purchase_order=task.purchase_order, po_line=po_line,
            quantity=lot.quantity, verdict="accepted" if accepted else "rejected", samples=samples, failed=failed,
            ncr=ncr, at=at))
        if accepted:
            if lot.status == "quarantine":
                out.append(e.LotStatusChanged(lot=lot.lot, status="available", previous=lot.status,
                                              reason=f"incoming inspection {task.task} passed", ncr=None))
        else:
            if ncr is not None:
                out.append(e.NonconformanceRaised(ncr=ncr, lot=lot.lot, work_order=None, description=description,
                                                  raised_by=cmd.actor, at=at))
            if lot.status not in ("hold", "consumed"):
                out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                              reason=f"incoming inspection {task.task} rejected", ncr=ncr))
        return out
    assert task.work_order is not None
    out.append(e.FinalInspectionVerdict(task=task.task, plan=plan.plan, work_order=task.work_order,
                                        verdict="passed" if accepted else "failed", samples=samples, failed=failed,
                                        ncr=ncr if plan.hold_on_fail else None, at=at))
    if ncr is not None and plan.hold_on_fail:
        out.append(e.NonconformanceRaised(ncr=ncr, lot=cmd.lot, work_order=task.work_order, description=description,
                                          raised_by=cmd.actor, at=at))
        if lot is not None and lot.status not in ("hold", "consumed"):
            out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                          reason=f"final inspection {task.task} failed", ncr=ncr))
    return out


def _spc_violations(state: PlantState, plan: InspectionPlan, cmd: c.RecordInspection,
                    results: list[e.MeasuredCharacteristic], at: datetime) -> list[e.Event]:
    """The Western Electric rules each new numeric result breaks, on its characteristic's individuals chart (once
    the characteristic has its baseline)."""
    out: list[e.Event] = []
    for r in results:
        series = state.spc.get((plan.plan, r.characteristic))
        if r.value is None or series is None or series.limits is None:
            continue
        limits = series.limits
        if not all(math.isfinite(x) for x in (limits.center, limits.ucl, limits.lcl)):
            continue  # a baseline from before numbers were bounded: no alert can be worded from it
        for v in spc.western_electric([*series.recent, float(r.value)], limits, only_last=True):
            out.append(e.SpcRuleViolated(
                plan=plan.plan, characteristic=r.characteristic, inspection=cmd.inspection, rule=v.rule,
                value=r.value, center=_dec(limits.center), ucl=_dec(limits.ucl), lcl=_dec(limits.lcl),
                message=f"{r.characteristic} {r.value}: SPC rule {v.rule}, {v.message} "
                        f"(centre {_dec(limits.center)}, limits {_dec(limits.lcl)}..{_dec(limits.ucl)})",
                work_order=cmd.work_order, operation=cmd.operation, lot=cmd.lot, at=at))
    return out


def _dec(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.000001"))


def _raise_nonconformance(state: PlantState, cmd: c.RaiseNonconformance, now: datetime) -> list[e.Event]:
    checks.text("ncr", cmd.ncr)
    if cmd.ncr in state.nonconformances:
        raise DomainError("DUPLICATE_NCR", f"nonconformance {cmd.ncr} already exists", field="ncr")
    description = checks.text("description", cmd.description)
    lot = checks.lot(state, cmd.lot) if cmd.lot is not None else None
    if cmd.work_order is not None:
        checks.work_order(state, cmd.work_order, open_only=False)
    if lot is None and cmd.work_order is None:
        raise invalid("MISSING_VALUE", "a nonconformance names a lot or a work order", "lot")
    at = checks.at(cmd, now)
    out: list[e.Event] = [e.NonconformanceRaised(
        ncr=cmd.ncr, lot=cmd.lot, work_order=cmd.work_order, description=description, raised_by=cmd.actor, at=at,
    )]
    if lot is not None and cmd.hold_lot and lot.status not in ("hold", "consumed"):
        out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                      reason=f"nonconformance {cmd.ncr}", ncr=cmd.ncr))
    return out


def _disposition(state: PlantState, cmd: c.DispositionNonconformance, now: datetime) -> list[e.Event]:
    signers = ("quality",) if cmd.duties is None else sorted(cmd.duties.disposition_signers)
    checks.require_role(cmd, *signers, action="a nonconformance disposition")
    ncr = state.nonconformances.get(cmd.ncr)
    if ncr is None:
        raise DomainError("UNKNOWN_NCR", f"nonconformance {cmd.ncr} is not known here", field="ncr")
    if ncr.status != "open":
        raise DomainError("NONCONFORMANCE_CLOSED", f"{cmd.ncr} is already dispositioned ({ncr.disposition})", field="ncr")
    if cmd.disposition not in DISPOSITIONS:
        raise invalid("INVALID_DISPOSITION", f"disposition must be one of {', '.join(DISPOSITIONS)}", "disposition")
    if cmd.disposition == "use_as_is":
        if not cmd.comment.strip():
            raise invalid("MISSING_VALUE", "use as is needs its justification: say why the parts are fit for use",
                          "comment")
        if cmd.signature is None:
            raise invalid("SIGNATURE_REQUIRED", "use as is is electronically signed: enter your PIN again (X-Takt-Pin) "
                          "to sign the justification", "X-Takt-Pin")
    if cmd.rework is not None and cmd.disposition != "rework":
        raise invalid("INVALID_VALUE", "a rework is given with the disposition rework only", "rework")
    at = checks.at(cmd, now)
    signed_by, countersigned_by = cmd.actor, None
    if cmd.duties is not None and cmd.disposition in cmd.duties.second_signature:
        if ncr.proposed_disposition != cmd.disposition or ncr.proposed_by is None:
            # the first signature (or another disposition than the one proposed): a proposal, the NCR stays open
            return [e.DispositionProposed(ncr=cmd.ncr, disposition=cmd.disposition, comment=cmd.comment,
                                          proposed_by=cmd.actor, at=at)]
        if ncr.proposed_by == cmd.actor:
            raise DomainError("SECOND_SIGNATURE_REQUIRED", f"{cmd.disposition} of {cmd.ncr} needs a second "
                              f"person's signature: {cmd.actor} proposed it, another "
                              f"{' or '.join(sorted(cmd.duties.disposition_signers))} user signs it",
                              field="disposition")
        signed_by, countersigned_by = ncr.proposed_by, cmd.actor
    out: list[e.Event] = [e.NonconformanceDispositioned(
        ncr=cmd.ncr, disposition=cmd.disposition, comment=cmd.comment, dispositioned_by=signed_by, at=at,
        countersigned_by=countersigned_by,
    )]
    if cmd.disposition == "rework" and cmd.rework is not None:
        return out + capa.rework_opened(state, cmd, ncr, at)
    lot = state.lots.get(ncr.lot) if ncr.lot else None
    if lot is None:
        return out
    if cmd.disposition == "return_to_supplier":
        out += capa.supplier_return(state, ncr, lot, at)
    if cmd.disposition in ("scrap", "return_to_supplier"):
        for bin_code in sorted(state.bins_of_lot.get(lot.lot, ())):
            qty = state.stock_of(lot.lot, bin_code)
            out.append(moved(lot, cmd.disposition, bin_code, None, qty, -qty, at, reason=f"disposition of {cmd.ncr}"))
    elif cmd.disposition == "use_as_is" and lot.status == "hold":
        others = [n for n in state.nonconformances.values() if n.lot == lot.lot and n.status == "open" and n.ncr != cmd.ncr]
        if not others:
            out.append(e.LotStatusChanged(lot=lot.lot, status=release_status(state, lot), previous=lot.status,
                                          reason=f"use as is ({cmd.ncr})", ncr=cmd.ncr))
    return out


# --- evolvers -------------------------------------------------------------------------------------


def _open_intervals(state: PlantState, work_order: str, operation: int, at: datetime) -> None:
    """The in-process plans on this operation of the order's item start counting (if they did not already)."""
    wo = state.work_orders[work_order]
    for plan in state.inspection_plans.values():
        if plan.kind != "in_process" or plan.operation != operation or plan.item not in (None, wo.item):
            continue
        key = (plan.plan, work_order, operation)
        if key not in state.inspection_intervals:
            state.inspection_intervals[key] = InspectionInterval(
                plan=plan.plan, work_order=work_order, operation=operation,
                workstation=state.operations[(work_order, operation)].workstation, parts_since=ZERO, since=at)
            state.mark("inspection_intervals", key)


def _count_for_intervals(state: PlantState, ev: e.ProductionReported) -> None:
    _open_intervals(state, ev.work_order, ev.operation, ev.at)
    quantity = ev.good + ev.scrap
    for key, iv in state.inspection_intervals.items():
        if key[1:] != (ev.work_order, ev.operation):
            continue
        plan = state.inspection_plans.get(iv.plan)
        if plan is not None and plan.kind == "in_process":
            iv.overdue_parts = _overdue_after(iv, plan, quantity, ev.at)
        iv.parts_since += quantity
        state.mark("inspection_intervals", key)


def _operation_started(state: PlantState, ev: e.OperationStarted) -> None:
    _open_intervals(state, ev.work_order, ev.operation, ev.at)


def _operation_completed(state: PlantState, ev: e.OperationCompleted) -> None:
    """A completed operation is inspected in process no more."""
    for iv_key in [k for k in state.inspection_intervals if k[1:] == (ev.work_order, ev.operation)]:
        del state.inspection_intervals[iv_key]
        state.mark("inspection_intervals", iv_key)


def _count_sample(state: PlantState, ev: e.InspectionRecorded) -> None:
    """A recorded result is a sample of its task, or of the in-process round on its operation."""
    if ev.task is not None:
        task = state.inspection_tasks[ev.task]
        task.samples += 1
        task.failed += 0 if ev.passed else 1
        state.mark("inspection_tasks", ev.task)
        return
    if ev.work_order is None or ev.operation is None:
        return
    plan = state.inspection_plans.get(ev.plan)
    if plan is None or plan.kind != "in_process":
        return
    key = (ev.plan, ev.work_order, ev.operation)
    iv = state.inspection_intervals.get(key)
    if iv is None:
        op = state.operations[(ev.work_order, ev.operation)]
        iv = state.inspection_intervals[key] = InspectionInterval(
            plan=ev.plan, work_order=ev.work_order, operation=ev.operation, workstation=op.workstation,
            parts_since=ZERO, since=ev.at)
    iv.samples += 1
    if iv.samples >= (plan.sample_size or 1):  # the round is complete: counting starts again
        iv.samples, iv.parts_since, iv.since, iv.overdue_parts, iv.flagged = 0, ZERO, ev.at, ZERO, False
    state.mark("inspection_intervals", key)


def _inspection_plan_defined(state: PlantState, ev: e.InspectionPlanDefined) -> None:
    state.inspection_plans[ev.plan] = InspectionPlan(
        plan=ev.plan, description=ev.description, item=ev.item, operation=ev.operation,
        hold_on_fail=ev.hold_on_fail, spc_nonconformance=ev.spc_nonconformance, kind=ev.kind,
        supplier=ev.supplier, sample_size=ev.sample_size, sample_by_lot_size=ev.sample_by_lot_size,
        accept_number=ev.accept_number, every_n_parts=ev.every_n_parts, every_minutes=ev.every_minutes,
        flag_overdue=ev.flag_overdue, overdue_grace_parts=ev.overdue_grace_parts, plausible_bands=ev.plausible_bands,
        signed=ev.signed)
    state.mark("inspection_plans", ev.plan)
    for ch_key in [k for k in state.characteristics if k[0] == ev.plan]:
        del state.characteristics[ch_key]
        state.mark("characteristics", ch_key)
    for ch in ev.characteristics:
        state.characteristics[(ev.plan, ch.characteristic)] = Characteristic(
            plan=ev.plan, characteristic=ch.characteristic, kind=ch.kind, nominal=ch.nominal,
            lsl=ch.lsl, usl=ch.usl, unit=ch.unit)
        state.mark("characteristics", (ev.plan, ch.characteristic))


def _inspection_recorded(state: PlantState, ev: e.InspectionRecorded) -> None:
    state.inspections.add(ev.inspection)
    state.measured(ev.plan, ev.results)
    _count_sample(state, ev)


def _inspection_task_opened(state: PlantState, ev: e.InspectionTaskOpened) -> None:
    state.inspection_tasks[ev.task] = InspectionTask(
        task=ev.task, kind=ev.kind, plan=ev.plan, status="open", sample_size=ev.sample_size, samples=0,
        failed=0, opened_at=ev.at, lot=ev.lot, work_order=ev.work_order, supplier=ev.supplier,
        supplier_lot=ev.supplier_lot, purchase_order=ev.purchase_order)
    state.mark("inspection_tasks", ev.task)


def _inspection_verdict(state: PlantState, ev: e.SupplierLotVerdict | e.FinalInspectionVerdict) -> None:
    task = state.inspection_tasks[ev.task]
    task.status = {"accepted": "passed", "rejected": "failed"}.get(ev.verdict, ev.verdict)
    task.closed_at = ev.at
    state.mark("inspection_tasks", ev.task)


def _inspection_overdue_flagged(state: PlantState, ev: e.InspectionOverdueFlagged) -> None:
    iv = state.inspection_intervals.get((ev.plan, ev.work_order, ev.operation))
    if iv is not None:
        iv.flagged = True
        state.mark("inspection_intervals", (ev.plan, ev.work_order, ev.operation))


def _spc_rule_violated(state: PlantState, ev: e.SpcRuleViolated) -> None:
    pass  # an alert: it changes no state (the result itself is recorded by InspectionRecorded)


def _nonconformance_raised(state: PlantState, ev: e.NonconformanceRaised) -> None:
    state.nonconformances[ev.ncr] = Nonconformance(
        ncr=ev.ncr, lot=ev.lot, work_order=ev.work_order, description=ev.description, status="open",
        raised_by=ev.raised_by)
    state.mark("nonconformances", ev.ncr)


def _nonconformance_dispositioned(state: PlantState, ev: e.NonconformanceDispositioned) -> None:
    ncr = state.nonconformances[ev.ncr]
    ncr.status = "closed"
    ncr.disposition = ev.disposition
    ncr.dispositioned_by = ev.dispositioned_by
    ncr.countersigned_by = ev.countersigned_by
    ncr.proposed_disposition = ncr.proposed_by = None
    state.mark("nonconformances", ev.ncr)


def _disposition_proposed(state: PlantState, ev: e.DispositionProposed) -> None:
    ncr = state.nonconformances[ev.ncr]
    ncr.proposed_disposition, ncr.proposed_by = ev.disposition, ev.proposed_by
    state.mark("nonconformances", ev.ncr)


DECIDERS: dict[type[c.Command], Decider] = {
    c.DefineInspectionPlan: _define_inspection_plan,
    c.RecordInspection: _record_inspection,
    c.RaiseNonconformance: _raise_nonconformance,
    c.DispositionNonconformance: _disposition,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.OperationStarted: _operation_started,
    e.ProductionReported: _count_for_intervals,
    e.OperationCompleted: _operation_completed,
    e.InspectionPlanDefined: _inspection_plan_defined,
    e.InspectionRecorded: _inspection_recorded,
    e.InspectionTaskOpened: _inspection_task_opened,
    e.SupplierLotVerdict: _inspection_verdict,
    e.FinalInspectionVerdict: _inspection_verdict,
    e.InspectionOverdueFlagged: _inspection_overdue_flagged,
    e.SpcRuleViolated: _spc_rule_violated,
    e.NonconformanceRaised: _nonconformance_raised,
    e.NonconformanceDispositioned: _nonconformance_dispositioned,
    e.DispositionProposed: _disposition_proposed,
}
