"""Maintenance in the pure domain: requests from stops (by reason and by length), the technician's flow (accept,
work with the machine in ``maintenance``, spare parts as stock moves, close with or without release), preventive
plans due by each kind of use, a due plan blocking a start, and maintenance as planned downtime in OEE."""
from __future__ import annotations

from datetime import timedelta

from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.downtime import ReasonNode, ReasonTree, maintenance_reasons
from edge.domain.maintenance import DueIndex, due_plans, plan_status, stop_raises_request
from edge.domain.model import MaintenanceSetting
from edge.domain.oee import ShiftWindow, StateChange, oee_by_shift
from tests.unit.plant_helpers import NOW, D, Plant

SERVICE = frozenset({"service"})
TECH = frozenset({"maintenance"})


def _configured(plant: Plant, reasons: tuple[str, ...] = ("hydraulic leak",), after_s: int | None = 600) -> Plant:
    plant.do(c.ConfigureMaintenance, equipment="M1", request_reasons=reasons, request_after_s=after_s, roles=SERVICE)
    return plant


def _state(plant: Plant, state: str, minutes: float, reason: str | None = None) -> list[e.Event]:
    at = NOW + timedelta(minutes=minutes)
    return plant.do(c.SetMachineState, equipment="M1", state=state, reason=reason, since=at, now=at, roles=SERVICE,
                    actor="plc:press")


def test_the_pure_rule_by_reason_by_length_and_by_the_trees_flag() -> None:
    setting = MaintenanceSetting("M1", ("hydraulic leak",), 600)
    assert stop_raises_request(setting, "hydraulic leak", None) == "reason"
    assert stop_raises_request(setting, "jam", D(601)) == "duration"
    assert stop_raises_request(setting, "jam", D(600)) is None
    assert stop_raises_request(setting, "jam", None, reason_flagged=True) == "reason"
    assert stop_raises_request(setting, "hydraulic leak", None, reason_flagged=False) is None
    assert stop_raises_request(None, "hydraulic leak", D(9999)) is None


def test_a_stop_on_a_maintenance_reason_raises_a_request_at_once(plant: Plant) -> None:
    _configured(plant)
    _state(plant, "running", 0)
    events = _state(plant, "down", 10, "hydraulic leak")
    [req] = [ev for ev in events if isinstance(ev, e.MaintenanceRequested)]
    assert (req.equipment, req.trigger, req.reason, req.stop_since) == ("M1", "reason", "hydraulic leak",
                                                                      NOW + timedelta(minutes=10))
    # the stop ending raises no second one
    assert not [ev for ev in _state(plant, "running", 40) if isinstance(ev, e.MaintenanceRequested)]


def test_a_stop_longer_than_the_threshold_raises_a_request_when_it_ends(plant: Plant) -> None:
    _configured(plant)
    _state(plant, "running", 0)
    _state(plant, "down", 1, "jam")
    assert not [ev for ev in _state(plant, "running", 5) if isinstance(ev, e.MaintenanceRequested)]  # 4 min
    _state(plant, "down", 6, "jam")
    [req] = [ev for ev in _state(plant, "running", 20) if isinstance(ev, e.MaintenanceRequested)]
    assert (req.trigger, req.reason, req.stop_s) == ("duration", "jam", D(840))


def test_the_timer_raises_a_request_for_a_stop_still_going_on_past_the_threshold(plant: Plant) -> None:
    _configured(plant)
    _state(plant, "down", 0, "jam")
    assert plant.do(c.RaiseRequestsForLongStops, roles=SERVICE, now=NOW + timedelta(minutes=9)) == []
    [req] = plant.do(c.RaiseRequestsForLongStops, roles=SERVICE, now=NOW + timedelta(minutes=11))
    assert (req.trigger, req.reason, req.stop_s) == ("duration", "jam", D(660))
    assert plant.do(c.RaiseRequestsForLongStops, roles=SERVICE, now=NOW + timedelta(minutes=12)) == []
    assert not [ev for ev in _state(plant, "running", 30) if isinstance(ev, e.MaintenanceRequested)]


def test_the_technicians_flow_follows_the_machine_and_issues_spare_parts(plant: Plant) -> None:
    _configured(plant)
    _state(plant, "down", 0, "hydraulic leak")
    plant.do(c.AddMaintenanceNote, request="MR-000001", note="oil under the press",
             photo="data:image/png;base64,iVBORw0KGgo=")
    plant.refuse(c.AcceptMaintenanceRequest, "ROLE_REQUIRED", None, request="MR-000001")
    plant.refuse(c.StartMaintenanceWork, "REQUEST_NOT_ACCEPTED", "request", request="MR-000001", roles=TECH)
    plant.do(c.AcceptMaintenanceRequest, request="MR-000001", roles=TECH, actor="tom")
    plant.do(c.StartMaintenanceWork, request="MR-000001", roles=TECH, actor="tom", now=NOW + timedelta(minutes=5))
    assert plant.state.machine_states["M1"].state == "maintenance"
    events = plant.do(c.IssueMaintenanceParts, request="MR-000001", lot="L1", bin="LINE1", quantity=D(4), roles=TECH,
                      actor="tom", now=NOW + timedelta(minutes=10))
    assert isinstance(events[0], e.StockMoved) and events[0].kind == "issue" and events[0].work_order is None
    assert plant.stock("L1") == {"LINE1": D(96)}
    plant.refuse(c.StartOperation, "MACHINE_IN_MAINTENANCE", "operation", work_order="WO1", operation=10)
    events = plant.do(c.CloseMaintenanceRequest, request="MR-000001", released=True, note="seal replaced",
                      roles=TECH, actor="tom", now=NOW + timedelta(minutes=35))
    [done] = [ev for ev in events if isinstance(ev, e.MaintenanceCompleted)]
    assert (done.labour_minutes, done.released, done.technician) == (D("30.00"), True, "tom")
    assert done.parts == (e.IssuedSparePart(item="SCREW", lot="L1", bin="LINE1", quantity=D(4)),)
    assert plant.state.machine_states["M1"].state == "idle"
    req = plant.state.maintenance_requests["MR-000001"]
    assert (req.status, req.has_photo, req.note) == ("closed", True, "oil under the press")
    plant.do(c.StartOperation, work_order="WO1", operation=10, now=NOW + timedelta(minutes=36))


def test_a_machine_not_released_stays_down_and_refuses_a_start(plant: Plant) -> None:
    plant.do(c.RaiseMaintenanceRequest, equipment="M1", reason="strange noise", note="bearing?")
    plant.do(c.AcceptMaintenanceRequest, request="MR-000001", roles=TECH)
    plant.do(c.CloseMaintenanceRequest, request="MR-000001", released=False, roles=TECH)
    assert plant.state.machine_states["M1"].state == "down"
    plant.refuse(c.StartOperation, "MACHINE_NOT_RELEASED", "operation", work_order="WO1", operation=10)


def _plan(plant: Plant, kind: str, interval: D, blocks: bool = True) -> None:
    plant.do(c.DefineMaintenancePlan, plan=f"PM-{kind}", equipment="M1", kind=kind, interval=interval,
             description=f"every {interval} {kind}", blocks_start=blocks, roles=TECH)


def test_plans_fall_due_by_calendar(plant: Plant) -> None:
    _plan(plant, "calendar", D(7))
    plan = plant.state.maintenance_plans["PM-calendar"]
    assert plan_status(plan, None, NOW + timedelta(days=6)).status == "ok"
    assert plan_status(plan, None, NOW + timedelta(days=7)).status == "due"
    assert plan_status(plan, None, NOW + timedelta(days=8)).status == "overdue"  # 10 % past: 7.7 days


def test_plans_fall_due_by_counted_cycles_and_good_parts(plant: Plant) -> None:
    _plan(plant, "cycles", D(10))
    _plan(plant, "parts", D(10))
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(8), scrap=D(2), scrap_reason="burr")
    statuses = {s.plan: s.status for s in due_plans(plant.state.maintenance_plans.values(),
                                                     plant.state.machine_usage, NOW)}
    assert statuses == {"PM-cycles": "due"}  # 10 cycles, 8 good parts
    plant.do(c.RecordUnassignedProduction, equipment="M1", good=D(2))
    statuses = {s.plan: s.status for s in due_plans(plant.state.maintenance_plans.values(),
                                                     plant.state.machine_usage, NOW)}
    assert statuses == {"PM-cycles": "overdue", "PM-parts": "due"}


def test_plans_fall_due_by_run_hours_from_the_machine_states(plant: Plant) -> None:
    _plan(plant, "run_hours", D(2))
    _state(plant, "running", 0)
    _state(plant, "down", 60, "jam")
    _state(plant, "running", 120)
    plan = plant.state.maintenance_plans["PM-run_hours"]
    usage = plant.state.machine_usage["M1"]
    assert plan_status(plan, usage, NOW + timedelta(minutes=170)).status == "ok"  # 1 h 50 run
    assert plan_status(plan, usage, NOW + timedelta(minutes=180)).status == "due"  # 2 h run, 1 h down between


def test_a_due_plan_blocks_a_start_naming_the_plan_and_doing_it_frees_it(plant: Plant) -> None:
    _plan(plant, "calendar", D(1))
    later = NOW + timedelta(days=1, minutes=1)
    err = plant.refuse(c.StartOperation, "MAINTENANCE_DUE", "operation", work_order="WO1", operation=10, now=later)
    assert "PM-calendar" in err.message and "M1" in err.message
    plant.do(c.StartPreventiveMaintenance, plan="PM-calendar", roles=TECH, now=later)
    plant.refuse(c.StartPreventiveMaintenance, "PLAN_REQUEST_OPEN", "plan", plan="PM-calendar", roles=TECH, now=later)
    plant.do(c.AcceptMaintenanceRequest, request="MR-000001", roles=TECH, now=later)
    plant.do(c.CloseMaintenanceRequest, request="MR-000001", released=True, roles=TECH, now=later)
    assert plant.state.maintenance_plans["PM-calendar"].last_done_at == later
    plant.do(c.StartOperation, work_order="WO1", operation=10, now=later)


def test_a_plan_that_does_not_block_lets_work_start(plant: Plant) -> None:
    _plan(plant, "calendar", D(1), blocks=False)
    plant.do(c.StartOperation, work_order="WO1", operation=10, now=NOW + timedelta(days=3))


def test_bad_plans_and_photos_are_refused_naming_the_field(plant: Plant) -> None:
    plant.refuse(c.DefineMaintenancePlan, "INVALID_KIND", "kind", plan="P", equipment="M1", kind="moon",
                 interval=D(1), roles=TECH)
    plant.refuse(c.DefineMaintenancePlan, "ROLE_REQUIRED", None, plan="P", equipment="M1", kind="parts",
                 interval=D(1))
    plant.refuse(c.DefineMaintenancePlan, "UNKNOWN_EQUIPMENT", "equipment", plan="P", equipment="M9",
                 kind="parts", interval=D(1), roles=TECH)
    plant.refuse(c.RaiseMaintenanceRequest, "INVALID_PHOTO", "photo", equipment="M1", photo="http://x/y.png")


def test_the_due_index_finds_the_same_plans(plant: Plant) -> None:
    _plan(plant, "cycles", D(10))
    _plan(plant, "calendar", D(7))
    index = DueIndex(plant.state.maintenance_plans.values())
    assert index.due({"M1": (9.0, 0.0, 0.0)}, NOW.timestamp()) == []
    assert index.due({"M1": (10.0, 0.0, 0.0)}, (NOW + timedelta(days=7)).timestamp()) == ["PM-cycles",
                                                                                          "PM-calendar"]


def test_maintenance_is_planned_downtime_in_oee() -> None:
    window = ShiftWindow("early", NOW.date(), NOW, NOW + timedelta(hours=8))
    changes = [StateChange("M1", "running", None, NOW),
               StateChange("M1", "maintenance", "maintenance MR-000001", NOW + timedelta(hours=6)),
               StateChange("M1", "running", None, NOW + timedelta(hours=7))]
    [shift] = oee_by_shift("WS1", [window], changes, [])
    assert (shift.planned_minutes, shift.run_minutes, shift.planned_downtime_minutes) == (420.0, 420.0, 60.0)
    assert shift.availability == 1.0 and not shift.losses


def test_a_reason_given_on_the_tree_that_is_flagged_for_maintenance_raises_a_request(plant: Plant) -> None:
    """The reason tree's ``maintenance`` flag (edge.domain.downtime) reaches the maintenance context with the reason
    the operator gives; a machine without maintenance settings of its own raises the request all the same."""
    _state(plant, "running", 0)
    _state(plant, "down", 5)
    leaves = frozenset({"belt_jam", "oil_leak"})
    given = plant.do(c.GiveStopReason, equipment="M1", stop_start=NOW + timedelta(minutes=5), reason="belt_jam",
                     leaves=leaves, maintenance_leaves=frozenset({"oil_leak"}), roles=frozenset({"operator"}))
    assert not [ev for ev in given if isinstance(ev, e.MaintenanceRequested)]
    given = plant.do(c.GiveStopReason, equipment="M1", stop_start=NOW + timedelta(minutes=5), reason="oil_leak",
                     leaves=leaves, maintenance_leaves=frozenset({"oil_leak"}), roles=frozenset({"operator"}))
    [req] = [ev for ev in given if isinstance(ev, e.MaintenanceRequested)]
    assert (req.equipment, req.trigger, req.reason, req.stop_since) == ("M1", "reason", "oil_leak",
                                                                      NOW + timedelta(minutes=5))
    again = plant.do(c.GiveStopReason, equipment="M1", stop_start=NOW + timedelta(minutes=5), reason="oil_leak",
                     leaves=leaves, maintenance_leaves=frozenset({"oil_leak"}), roles=frozenset({"operator"}))
    assert not [ev for ev in again if isinstance(ev, e.MaintenanceRequested)]  # one open breakdown request


def test_the_trees_flagged_reasons_as_a_plc_records_them() -> None:
    tree = ReasonTree("presses", (
        ReasonNode("hydraulics", {"en": "Hydraulics"}, children=(
            ReasonNode("oil_leak", {"en": "Oil leak"}, maintenance=True, plc_codes=(31, 32)),
            ReasonNode("low_pressure", {"en": "Low pressure"}, plc_codes=(33,)))),
        ReasonNode("die_change", {"en": "Die change"}, planned=True)))
    assert maintenance_reasons(tree, {31: "hydraulic leak", 33: "pressure low"}) == (
        "oil_leak", "alarm 31", "hydraulic leak", "alarm 32")
    assert maintenance_reasons(None) == ()
    setting = MaintenanceSetting("M1", maintenance_reasons(tree, {31: "hydraulic leak"}), None)
    assert stop_raises_request(setting, "hydraulic leak", None) == "reason"
    assert stop_raises_request(setting, "alarm 33", None) is None


def test_a_plc_state_change_during_the_technicians_work_keeps_the_machine_in_maintenance(plant: Plant) -> None:
    _configured(plant)
    _state(plant, "running", 0)
    _state(plant, "down", 1, "hydraulic leak")
    plant.do(c.AcceptMaintenanceRequest, request="MR-000001", roles=TECH, actor="tom")
    plant.do(c.StartMaintenanceWork, request="MR-000001", roles=TECH, actor="tom", now=NOW + timedelta(minutes=5))
    # the technician's test run: the PLC reports running, then stopped; the machine stays in maintenance
    assert _state(plant, "running", 10) == []
    assert _state(plant, "idle", 12) == []
    ms = plant.state.machine_states["M1"]
    assert (ms.state, ms.reason, ms.since) == ("maintenance", "maintenance MR-000001", NOW + timedelta(minutes=5))
    # a break: work stopped, the PLC's changes are taken again
    plant.do(c.StopMaintenanceWork, request="MR-000001", roles=TECH, actor="tom", now=NOW + timedelta(minutes=15))
    [changed] = _state(plant, "running", 16)
    assert isinstance(changed, e.MachineStateChanged) and changed.previous == "maintenance"
    # work again, then closed and released: the PLC's states count from then on
    plant.do(c.StartMaintenanceWork, request="MR-000001", roles=TECH, actor="tom", now=NOW + timedelta(minutes=20))
    assert plant.state.machine_states["M1"].state == "maintenance"
    assert _state(plant, "running", 22) == []
    plant.do(c.CloseMaintenanceRequest, request="MR-000001", released=True, roles=TECH, actor="tom",
             now=NOW + timedelta(minutes=30))
    assert plant.state.machine_states["M1"].state == "idle"
    assert _state(plant, "running", 31)[0].state == "running"  # type: ignore[attr-defined]
