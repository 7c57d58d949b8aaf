"""Rework and CAPA: the rework a nonconformance's "rework" disposition creates (rework operations on the same work
order, or a rework order with its own routing) with its subjects held until its re-inspection passes; the supplier
return of a "return to supplier" disposition; CAPA records (problem, containment, root cause by 5-why or fishbone,
corrective and preventive actions with owners and due dates, the effectiveness check); and partial acceptance, a lot
under inspection split into accepted and rejected sub-lots. Their deciders and evolvers.

The dispositions themselves are decided in edge.domain.contexts.quality, which asks this module for the events a
rework or a supplier return adds (``rework_opened``, ``supplier_return``) and for a re-inspection's verdict
(``rework_verdict``).
"""
from __future__ import annotations

from datetime import datetime

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.inventory import moved, release_status
from edge.domain.errors import DomainError, invalid
from edge.domain.model import (
    CAPA_ACTION_KINDS,
    FISHBONE,
    REWORK_MODES,
    Capa,
    CapaAction,
    InspectionPlan,
    InspectionTask,
    Lot,
    Nonconformance,
    Operation,
    Rework,
    WorkOrder,
)
from edge.domain.state import (
    ZERO,
    Decider,
    Evolver,
    PlantState,
    incoming_task_id,
    rework_task_id,
    unit_named,
)

CAPA_ROLES = ("quality",)
SUBJECT_KINDS = ("lot", "unit")  # what a rework holds: lots here, serialised units where the node has them
MAX_WHYS = 5
SPLIT_VERDICTS = ("accepted", "rejected")


# --- rework -------------------------------------------------------------------------------------------------


def rework_id(ncr: str) -> str:
    return f"RW-{ncr}"


def _subjects(state: PlantState, spec: c.ReworkSpec, ncr: Nonconformance) -> tuple[str, ...]:
    """The lots and units the rework holds: those named, else the NCR's lot; the unit a step's NCR holds always."""
    held = state.unit_of_ncr.get(ncr.ncr)
    own = (f"unit:{held[1]}",) if held is not None and held in state.units else ()
    if not spec.subjects:
        return (f"lot:{ncr.lot}",) + own if ncr.lot else own
    seen: list[str] = []
    for i, subject in enumerate(spec.subjects):
        kind, _, name = subject.partition(":")
        if kind not in SUBJECT_KINDS or not name.strip():
            raise invalid("INVALID_SUBJECT", f"a rework holds lots and units, named lot:<lot> or unit:<serial>; got "
                          f"{subject!r}", f"rework.subjects[{i}]")
        if kind == "lot":
            checks.lot(state, name, f"rework.subjects[{i}]")
        elif unit_named(state, name, ncr.work_order) is None:
            raise DomainError("UNKNOWN_UNIT", f"no unit has serial {name} here", field=f"rework.subjects[{i}]")
        if subject not in seen:
            seen.append(subject)
    return tuple(seen + [s for s in own if s not in seen])


def _rework_operations(spec: c.ReworkSpec, first: int) -> tuple[e.ReleasedOperation, ...]:
    if not spec.operations:
        raise invalid("MISSING_VALUE", "a rework needs at least one rework operation", "rework.operations")
    if len(spec.operations) > 50:
        raise invalid("INVALID_VALUE", "a rework has at most 50 operations", "rework.operations")
    out = []
    for i, op in enumerate(spec.operations):
        where = f"rework.operations[{i}]"
        checks.text(f"{where}.description", op.description)
        checks.text(f"{where}.workstation", op.workstation)
        checks.quantity(f"{where}.standard_minutes", op.standard_minutes, allow_zero=True)
        out.append(e.ReleasedOperation(operation=first + 10 * i, description=op.description,
                                       workstation=op.workstation, standard_minutes=op.standard_minutes))
    return tuple(out)


def rework_opened(state: PlantState, cmd: c.DispositionNonconformance, ncr: Nonconformance,
                  at: datetime) -> list[e.Event]:
    """The events a rework disposition with a rework spec adds: the rework (its operations on the NCR's work order,
    or a rework order with its routing), the re-inspection task, and the hold of its subjects."""
    spec = cmd.rework
    assert spec is not None
    if rework_id(ncr.ncr) in state.reworks:
        raise DomainError("DUPLICATE_REWORK", f"{ncr.ncr} already has its rework", field="ncr")
    mode = spec.mode or cmd.rework_mode or "operations"
    if mode not in REWORK_MODES:
        raise invalid("INVALID_VALUE", f"rework.mode must be one of {', '.join(REWORK_MODES)}, got {mode}",
                      "rework.mode")
    plan = state.inspection_plans.get(spec.plan)
    if plan is None:
        raise DomainError("UNKNOWN_INSPECTION_PLAN", f"inspection plan {spec.plan} (the re-inspection) is not known "
                          "here", field="rework.plan")
    subjects = _subjects(state, spec, ncr)
    lots = [state.lots[s[4:]] for s in subjects if s.startswith("lot:")]
    source = state.work_orders.get(ncr.work_order) if ncr.work_order else None
    if source is None and lots and lots[0].work_order is not None:
        source = state.work_orders.get(lots[0].work_order)
    if mode == "operations" and source is None:
        if spec.mode == "operations":
            raise DomainError("NO_WORK_ORDER", f"{ncr.ncr} names no work order to add rework operations to: choose a "
                              "rework order (mode order)", field="rework.mode")
        mode = "order"  # the site's default, where there is no order to add to
    if mode == "operations":
        assert source is not None
        if source.status in ("completed", "cancelled"):
            raise DomainError("WORK_ORDER_CLOSED", f"work order {source.work_order} is {source.status}: rework it "
                              "on a rework order (mode order)", field="rework.mode")
        last = max((n for (wo, n) in state.operations if wo == source.work_order), default=0)
        operations = _rework_operations(spec, (last // 10 + 1) * 10)
        if operations[-1].operation > 99_999:
            raise invalid("INVALID_VALUE", f"work order {source.work_order} has no operation numbers left for the "
                          "rework", "rework.operations")
        work_order, item, revision, quantity = source.work_order, source.item, source.item_revision, ZERO
    else:
        work_order = spec.rework_order or rework_id(ncr.ncr)
        checks.text("rework.rework_order", work_order)
        if work_order in state.work_orders:
            raise DomainError("DUPLICATE_WORK_ORDER", f"work order {work_order} already exists",
                              field="rework.rework_order")
        if lots:
            item, revision = lots[0].item, lots[0].item_revision
            quantity = sum((lot.quantity for lot in lots), ZERO)
        elif source is not None:
            item, revision, quantity = source.item, source.item_revision, source.quantity
        else:
            raise DomainError("NOTHING_TO_REWORK", f"{ncr.ncr} names no lot or work order whose item a rework order "
                              "would make", field="rework.subjects")
        operations = _rework_operations(spec, 10)
    task = rework_task_id(ncr.ncr)
    out: list[e.Event] = [
        e.ReworkOpened(rework=rework_id(ncr.ncr), ncr=ncr.ncr, mode=mode, work_order=work_order, item=item,
                       item_revision=revision, quantity=quantity, operations=operations, subjects=subjects,
                       task=task, plan=plan.plan, opened_by=cmd.actor, at=at),
        e.InspectionTaskOpened(task=task, kind="rework", plan=plan.plan, sample_size=plan.sample_size or 1,
                               lot=lots[0].lot if lots else None, work_order=work_order, supplier=None,
                               supplier_lot=None, purchase_order=None, at=at),
    ]
    for lot in lots:
        if lot.status not in ("hold", "consumed"):
            out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                          reason=f"rework {rework_id(ncr.ncr)}", ncr=ncr.ncr))
    return out


def rework_of_task(state: PlantState, task: InspectionTask) -> Rework:
    """The rework whose re-inspection ``task`` is (RWK-<ncr> is RW-<ncr>'s)."""
    found = state.reworks.get(rework_id(task.task.removeprefix("RWK-")))
    if found is not None and found.task == task.task:
        return found
    return next(r for r in state.reworks.values() if r.task == task.task)


def rework_ready(state: PlantState, task: InspectionTask) -> None:
    """A re-inspection waits for the rework operations: refused while any is not completed."""
    rework = rework_of_task(state, task)
    pending = [n for n in rework.operations
               if (op := state.operations.get((rework.work_order, n))) is None or op.status != "completed"]
    if pending:
        raise DomainError("REWORK_NOT_DONE", f"rework {rework.rework} is not done: operation"
                          f"{'s' if len(pending) > 1 else ''} {', '.join(map(str, pending))} of work order "
                          f"{rework.work_order} not completed yet", field="plan")


def rework_verdict(state: PlantState, plan: InspectionPlan, task: InspectionTask, cmd: c.RecordInspection,
                   passed: bool, at: datetime) -> list[e.Event]:
    """The re-inspection's verdict once its samples are in: passed releases the rework's lots (those no other open
    NCR holds), failed keeps them held under a new NCR."""
    samples, failed = task.samples + 1, task.failed + (0 if passed else 1)
    if samples < task.sample_size:
        return []
    rework = rework_of_task(state, task)
    accepted = failed <= plan.accept_number
    new_ncr = None if accepted else f"NCR-{cmd.inspection}"
    if new_ncr is not None and new_ncr in state.nonconformances:
        new_ncr = None
    out: list[e.Event] = [e.ReworkVerdict(
        rework=rework.rework, ncr=rework.ncr, task=task.task, plan=plan.plan,
        verdict="passed" if accepted else "failed", samples=samples, failed=failed, subjects=rework.subjects,
        new_ncr=new_ncr, at=at)]
    lots = [state.lots[s[4:]] for s in rework.subjects if s.startswith("lot:") and s[4:] in state.lots]
    if accepted:
        for lot in lots:
            others = [n for n in state.nonconformances.values()
                      if n.lot == lot.lot and n.status == "open" and n.ncr != rework.ncr]
            if lot.status == "hold" and not others:
                out.append(e.LotStatusChanged(lot=lot.lot, status=release_status(state, lot), previous=lot.status,
                                              reason=f"rework {rework.rework} passed its re-inspection",
                                              ncr=rework.ncr))
    elif new_ncr is not None:
        out.append(e.NonconformanceRaised(
            ncr=new_ncr, lot=lots[0].lot if lots else None, work_order=rework.work_order, raised_by=cmd.actor, at=at,
            description=checks.clip(f"the re-inspection of rework {rework.rework} failed: {failed} of {samples} "
                                    f"samples failed, {plan.accept_number} allowed")))
    return out


def supplier_return(state: PlantState, ncr: Nonconformance, lot: Lot, at: datetime) -> list[e.Event]:
    """A return to supplier: the return the SRM books (its supplier from the lot's receipt); the stock leaves in the
    moves that follow (kind return_to_supplier)."""
    task = state.inspection_tasks.get(incoming_task_id(lot.lot))
    supplier, purchase_order = (task.supplier, task.purchase_order) if task is not None else (None, None)
    if purchase_order is None and lot.supplier_lot is not None:  # the purchase order that announced the supplier lot
        purchase_order = next((po for (po, _, sl) in sorted(state.expected_lots)
                               if sl == lot.supplier_lot), None)
    if supplier is None and purchase_order in state.purchase_orders:
        supplier = state.purchase_orders[purchase_order].supplier
    quantity = sum((state.stock_of(lot.lot, b) for b in state.bins_of_lot.get(lot.lot, ())), ZERO)
    return [e.SupplierReturnCreated(
        supplier_return=f"RTS-{ncr.ncr}", ncr=ncr.ncr, lot=lot.lot, item=lot.item, supplier=supplier,
        supplier_lot=lot.supplier_lot, purchase_order=purchase_order, quantity=quantity,
        reason=checks.clip(ncr.description), at=at)]


def _rework_opened(state: PlantState, ev: e.ReworkOpened) -> None:
    state.reworks[ev.rework] = Rework(
        rework=ev.rework, ncr=ev.ncr, mode=ev.mode, work_order=ev.work_order,
        operations=tuple(o.operation for o in ev.operations), subjects=ev.subjects, task=ev.task, plan=ev.plan,
        status="open", opened_by=ev.opened_by, opened_at=ev.at)
    state.mark("reworks", ev.rework)
    state.index_rework(state.reworks[ev.rework])
    if ev.mode == "order":
        state.work_orders[ev.work_order] = WorkOrder(
            work_order=ev.work_order, item=ev.item, item_revision=ev.item_revision, bom_revision="",
            quantity=ev.quantity, status="released", good=ZERO, scrap=ZERO)
        state.mark("work_orders", ev.work_order)
    for o in ev.operations:
        state.operations[(ev.work_order, o.operation)] = Operation(
            work_order=ev.work_order, operation=o.operation, description=o.description, workstation=o.workstation,
            status="released", good=ZERO, scrap=ZERO, standard_minutes=o.standard_minutes)
        state.mark("operations", (ev.work_order, o.operation))


def _rework_verdict(state: PlantState, ev: e.ReworkVerdict) -> None:
    task = state.inspection_tasks[ev.task]
    task.status, task.closed_at = ev.verdict, ev.at
    state.mark("inspection_tasks", ev.task)
    rework = state.reworks[ev.rework]
    rework.status, rework.closed_at = ev.verdict, ev.at
    state.mark("reworks", ev.rework)
    state.unindex_rework(rework)


def _supplier_return_created(state: PlantState, ev: e.SupplierReturnCreated) -> None:
    pass  # a message for the SRM: the stock leaves in the StockMoved events that follow


# --- CAPA ---------------------------------------------------------------------------------------------------


def _capa(state: PlantState, code: str, *, open_only: bool = True) -> Capa:
    found = state.capas.get(code)
    if found is None:
        raise DomainError("UNKNOWN_CAPA", f"CAPA {code} is not known here", field="capa")
    if open_only and found.status != "open":
        raise DomainError("CAPA_CLOSED", f"CAPA {code} is closed", field="capa")
    return found


def _open_capa(state: PlantState, cmd: c.OpenCapa, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *CAPA_ROLES, action="opening a CAPA")
    checks.text("capa", cmd.capa)
    if cmd.capa in state.capas:
        raise DomainError("DUPLICATE_CAPA", f"CAPA {cmd.capa} already exists", field="capa")
    problem = checks.text("problem", cmd.problem)
    for i, ncr in enumerate(cmd.ncrs):
        if ncr not in state.nonconformances:
            raise DomainError("UNKNOWN_NCR", f"nonconformance {ncr} is not known here", field=f"ncrs[{i}]")
    if len(set(cmd.ncrs)) != len(cmd.ncrs):
        raise invalid("DUPLICATE_NCR", "an NCR is named twice", "ncrs")
    return [e.CapaOpened(capa=cmd.capa, problem=problem, ncrs=tuple(cmd.ncrs),
                         containment=checks.free_text("containment", cmd.containment), opened_by=cmd.actor,
                         at=checks.at(cmd, now))]


def _record_root_cause(state: PlantState, cmd: c.RecordRootCause, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *CAPA_ROLES, action="recording a root cause")
    capa = _capa(state, cmd.capa)
    root_cause = checks.text("root_cause", cmd.root_cause)
    if len(cmd.whys) > MAX_WHYS:
        raise invalid("INVALID_VALUE", f"a 5-why chain has at most {MAX_WHYS} whys", "whys")
    for i, why in enumerate(cmd.whys):
        checks.text(f"whys[{i}]", why)
    if cmd.fishbone is not None and cmd.fishbone not in FISHBONE:
        raise invalid("INVALID_VALUE", f"fishbone is one of the 6M: {', '.join(FISHBONE)}", "fishbone")
    if not cmd.whys and cmd.fishbone is None:
        raise invalid("MISSING_VALUE", "a root cause is found by 5-why (whys) or named by its fishbone category",
                      "whys")
    containment = capa.containment if cmd.containment is None else checks.free_text("containment", cmd.containment)
    return [e.CapaRootCauseRecorded(capa=capa.capa, root_cause=root_cause, whys=tuple(cmd.whys),
                                    fishbone=cmd.fishbone, containment=containment, at=checks.at(cmd, now))]


def _plan_capa_action(state: PlantState, cmd: c.PlanCapaAction, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *CAPA_ROLES, action="planning a CAPA action")
    capa = _capa(state, cmd.capa)
    if cmd.kind not in CAPA_ACTION_KINDS:
        raise invalid("INVALID_VALUE", f"kind is one of {', '.join(CAPA_ACTION_KINDS)}", "kind")
    number = 1 + max((n for (code, n) in state.capa_actions if code == capa.capa), default=0)
    return [e.CapaActionPlanned(capa=capa.capa, action=number, kind=cmd.kind,
                                description=checks.text("description", cmd.description),
                                owner=checks.text("owner", cmd.owner), due=cmd.due, at=checks.at(cmd, now))]


def _complete_capa_action(state: PlantState, cmd: c.CompleteCapaAction, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *CAPA_ROLES, "supervisor", "operator", action="completing a CAPA action")
    capa = _capa(state, cmd.capa)
    action = state.capa_actions.get((capa.capa, cmd.action))
    if action is None:
        raise DomainError("UNKNOWN_ACTION", f"CAPA {capa.capa} has no action {cmd.action}", field="action")
    if action.status == "done":
        raise DomainError("ACTION_DONE", f"action {cmd.action} of CAPA {capa.capa} is already done", field="action")
    return [e.CapaActionCompleted(capa=capa.capa, action=cmd.action, result=checks.free_text("result", cmd.result),
                                  done_by=cmd.actor, at=checks.at(cmd, now))]


def _check_capa_effectiveness(state: PlantState, cmd: c.CheckCapaEffectiveness, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *CAPA_ROLES, action="checking a CAPA's effectiveness")
    capa = _capa(state, cmd.capa)
    comment = checks.text("comment", cmd.comment)
    if cmd.effective:
        if not capa.root_cause:
            raise DomainError("ROOT_CAUSE_MISSING", f"CAPA {capa.capa} has no root cause yet", field="capa")
        actions = [a for (code, _), a in state.capa_actions.items() if code == capa.capa]
        if not actions:
            raise DomainError("NO_ACTIONS", f"CAPA {capa.capa} has no corrective or preventive action", field="capa")
        still = sorted(a.action for a in actions if a.status != "done")
        if still:
            raise DomainError("ACTIONS_OPEN", f"CAPA {capa.capa} still has open actions: "
                              f"{', '.join(map(str, still))}", field="capa")
    return [e.CapaEffectivenessChecked(capa=capa.capa, effective=cmd.effective, comment=comment,
                                       checked_by=cmd.actor, at=checks.at(cmd, now))]


def _capa_opened(state: PlantState, ev: e.CapaOpened) -> None:
    state.capas[ev.capa] = Capa(capa=ev.capa, problem=ev.problem, ncrs=ev.ncrs, status="open",
                                containment=ev.containment, opened_by=ev.opened_by, opened_at=ev.at)
    state.mark("capas", ev.capa)


def _capa_root_cause(state: PlantState, ev: e.CapaRootCauseRecorded) -> None:
    capa = state.capas[ev.capa]
    capa.root_cause, capa.whys, capa.fishbone, capa.containment = ev.root_cause, ev.whys, ev.fishbone, ev.containment
    state.mark("capas", ev.capa)


def _capa_action_planned(state: PlantState, ev: e.CapaActionPlanned) -> None:
    state.capa_actions[(ev.capa, ev.action)] = CapaAction(
        capa=ev.capa, action=ev.action, kind=ev.kind, description=ev.description, owner=ev.owner, due=ev.due,
        status="open")
    state.mark("capa_actions", (ev.capa, ev.action))


def _capa_action_completed(state: PlantState, ev: e.CapaActionCompleted) -> None:
    action = state.capa_actions[(ev.capa, ev.action)]
    action.status, action.done_by, action.done_at, action.result = "done", ev.done_by, ev.at, ev.result
    state.mark("capa_actions", (ev.capa, ev.action))


def _capa_effectiveness(state: PlantState, ev: e.CapaEffectivenessChecked) -> None:
    capa = state.capas[ev.capa]
    capa.effective, capa.effectiveness = ev.effective, ev.comment
    if ev.effective:
        capa.status, capa.closed_at = "closed", ev.at
    state.mark("capas", ev.capa)


# --- partial acceptance: a lot under inspection split into sub-lots -------------------------------------------


def _under_inspection(state: PlantState, lot: Lot) -> InspectionTask | None:
    """The open inspection task the lot waits for (incoming, or a rework's re-inspection), or None; refused when the
    lot is neither waiting for one nor held."""
    task = state.inspection_tasks.get(incoming_task_id(lot.lot))
    if task is not None and task.status == "open":
        return task
    found = state.open_reworks.get(f"lot:{lot.lot}")
    if found is not None:
        return state.inspection_tasks.get(state.reworks[found].task)
    if lot.status in ("hold", "quarantine"):
        return None
    raise DomainError("LOT_NOT_UNDER_INSPECTION", f"lot {lot.lot} is {lot.status} and waits for no inspection: only "
                      "a lot under inspection (quarantine, hold or an open inspection task) is split", field="lot")


def _split_lot(state: PlantState, cmd: c.SplitLot, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, *CAPA_ROLES, action="splitting a lot under inspection")
    lot = checks.lot(state, cmd.lot)
    task = _under_inspection(state, lot)
    if len(cmd.parts) < 2:
        raise invalid("INVALID_VALUE", "a split makes at least two sub-lots", "parts")
    if len(cmd.parts) > 100:
        raise invalid("INVALID_VALUE", "a split makes at most 100 sub-lots", "parts")
    bins = sorted(state.bins_of_lot.get(lot.lot, ()))
    if len(bins) != 1:
        raise DomainError("LOT_IN_SEVERAL_BINS" if bins else "NO_STOCK",
                          f"lot {lot.lot} is in {len(bins)} bins: bring it together in one bin to split it",
                          field="lot")
    where = bins[0]
    if any(key[1] == lot.lot for key in state.staged) or state.on_open_pallets(lot.lot, where):
        raise DomainError("LOT_IN_USE", f"lot {lot.lot} is kitted or packed: unpack it before splitting", field="lot")
    names: set[str] = set()
    total = ZERO
    for i, part in enumerate(cmd.parts):
        at_ = f"parts[{i}]"
        checks.text(f"{at_}.lot", part.lot)
        if part.lot in state.lots or part.lot in names or part.lot == lot.lot:
            raise DomainError("DUPLICATE_LOT", f"lot {part.lot} already exists", field=f"{at_}.lot")
        names.add(part.lot)
        total += checks.quantity(f"{at_}.quantity", part.quantity)
        if part.verdict not in SPLIT_VERDICTS:
            raise invalid("INVALID_VALUE", f"verdict is accepted or rejected, got {part.verdict}", f"{at_}.verdict")
        for name in ("samples", "failed"):
            value = getattr(part, name)
            if not isinstance(value, int) or not 0 <= value <= 1_000_000:
                raise invalid("INVALID_VALUE", f"{name} is a whole number from 0 to 1000000", f"{at_}.{name}")
        if part.failed > part.samples:
            raise invalid("INVALID_VALUE", f"{part.failed} failed of {part.samples} samples", f"{at_}.failed")
    stock = state.stock_of(lot.lot, where)
    if total != lot.quantity or total != stock:
        raise invalid("QUANTITY_MISMATCH", f"the sub-lots hold {total}; lot {lot.lot} holds {lot.quantity} "
                      f"({stock} in bin {where}): a split divides the whole lot", "parts")
    at = checks.at(cmd, now)
    out: list[e.Event] = []
    for part in cmd.parts:
        rejected = part.verdict == "rejected"
        out.append(e.SubLotSplit(
            lot=part.lot, parent=lot.lot, item=lot.item, item_revision=lot.item_revision, quantity=part.quantity,
            verdict=part.verdict, status="hold" if rejected else "available", samples=part.samples,
            failed=part.failed, bin=where, task=task.task if task is not None else None, expiry=lot.expiry,
            supplier_lot=lot.supplier_lot, work_order=lot.work_order, at=at))
        child = Lot(lot=part.lot, item=lot.item, item_revision=lot.item_revision, quantity=ZERO, status="available")
        reason = f"split from {lot.lot} ({part.verdict})"
        out.append(moved(lot, "split", where, None, part.quantity, -part.quantity, at, reason=reason))
        out.append(moved(child, "split", None, where, part.quantity, part.quantity, at, reason=reason))
        if rejected and f"NCR-{part.lot}" not in state.nonconformances:
            out.append(e.NonconformanceRaised(
                ncr=f"NCR-{part.lot}", lot=part.lot, work_order=lot.work_order, raised_by=cmd.actor, at=at,
                description=checks.clip(f"sub-lot {part.lot} of lot {lot.lot} rejected: {part.failed} of "
                                        f"{part.samples} samples failed")))
    return out


def _sub_lot_split(state: PlantState, ev: e.SubLotSplit) -> None:
    state.lots[ev.lot] = Lot(lot=ev.lot, item=ev.item, item_revision=ev.item_revision, quantity=ZERO,
                             status=ev.status, expiry=ev.expiry, supplier_lot=ev.supplier_lot,
                             status_before_hold="available" if ev.status == "hold" else None,
                             work_order=ev.work_order)
    state.mark("lots", ev.lot)
    task = state.inspection_tasks.get(ev.task) if ev.task is not None else None
    if task is not None and task.status == "open":
        task.status, task.closed_at = "split", ev.at
        state.mark("inspection_tasks", task.task)


DECIDERS: dict[type[c.Command], Decider] = {
    c.OpenCapa: _open_capa,
    c.RecordRootCause: _record_root_cause,
    c.PlanCapaAction: _plan_capa_action,
    c.CompleteCapaAction: _complete_capa_action,
    c.CheckCapaEffectiveness: _check_capa_effectiveness,
    c.SplitLot: _split_lot,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.ReworkOpened: _rework_opened,
    e.ReworkVerdict: _rework_verdict,
    e.SupplierReturnCreated: _supplier_return_created,
    e.CapaOpened: _capa_opened,
    e.CapaRootCauseRecorded: _capa_root_cause,
    e.CapaActionPlanned: _capa_action_planned,
    e.CapaActionCompleted: _capa_action_completed,
    e.CapaEffectivenessChecked: _capa_effectiveness,
    e.SubLotSplit: _sub_lot_split,
}
