"""Setpoint downloads and variances in the pure domain: what is refused before a value is written (role, running
machine, writable tag, limits, workstation), what is refused after (a PLC refusal, no read-back, a mismatch), and
what is recorded (every value as written and as read back; a flagged variance)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from edge.domain import DomainError
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.machines import check_setpoints
from tests.unit.plant_helpers import D, Plant

SERVICE = frozenset({"service"})


def speed(**changes: Any) -> c.SetpointWrite:
    base = c.SetpointWrite(parameter="Speed", device="PLC", tag="speed", value=D("72.3"), writable=True, low=D(10),
                           high=D(120), tolerance=D(0), unit="ppm", read_back=D("72.30000305175781"))
    return replace(base, **changes)


def download(plant: Plant, *values: c.SetpointWrite, roles: frozenset[str] = frozenset({"operator"}),
             code: str | None = None, field: str | None = None, **fields: Any) -> list[Any]:
    args: dict[str, Any] = {"work_order": "WO1", "operation": 10, "equipment": "M1", "values": values or (speed(),),
                            "allowed_roles": frozenset({"operator", "supervisor"}), "roles": roles, **fields}
    if code is not None:
        plant.refuse(c.DownloadSetpoints, code, field, **args)
        return []
    return plant.do(c.DownloadSetpoints, **args)


def test_every_value_is_recorded_as_written_and_as_read_back(plant: Plant) -> None:
    (ev,) = download(plant, speed(), speed(parameter="Temp", tag="temp", value=D(180), read_back=D(180), unit=None,
                                           low=None, high=None))
    assert isinstance(ev, e.SetpointsDownloaded) and ev.subject == "work_order:WO1"
    assert [(v.parameter, v.written, v.read_back) for v in ev.values] == [
        ("Speed", D("72.3"), D("72.30000305175781")), ("Temp", D(180), D(180))]


@pytest.mark.parametrize(("value", "code"), [
    (speed(writable=False), "SETPOINT_NOT_WRITABLE"),
    (speed(value=D(121)), "SETPOINT_OUT_OF_LIMITS"),
    (speed(value=D("9.99")), "SETPOINT_OUT_OF_LIMITS"),
    (speed(written=False, error="BadNotWritable"), "SETPOINT_WRITE_REFUSED"),
    (speed(read_back=None), "SETPOINT_NOT_READ_BACK"),
    (speed(read_back=D("72.4")), "SETPOINT_MISMATCH"),
])
def test_a_refusal_names_the_parameter_and_records_nothing(plant: Plant, value: c.SetpointWrite, code: str) -> None:
    download(plant, value, code=code, field="setpoints.Speed")


def test_a_mismatch_within_the_tolerance_is_equal(plant: Plant) -> None:
    assert download(plant, speed(read_back=D("72.35"), tolerance=D("0.05")))


def test_limits_and_writable_are_checked_before_anything_is_written(plant: Plant) -> None:
    cmd = c.DownloadSetpoints(idempotency_key="k", actor="ana", actor_roles=frozenset({"operator"}), work_order="WO1",
                              operation=10, equipment="M1", allowed_roles=frozenset({"operator"}),
                              values=(speed(value=D(500), written=False, read_back=None),))
    with pytest.raises(DomainError) as caught:
        check_setpoints(plant.state, cmd, after_write=False)
    assert caught.value.code == "SETPOINT_OUT_OF_LIMITS" and "above its upper limit 120 ppm" in caught.value.message
    check_setpoints(plant.state, replace(cmd, values=(speed(written=False, read_back=None),)), after_write=False)


def test_only_the_roles_the_site_allows(plant: Plant) -> None:
    download(plant, roles=frozenset({"quality"}), code="ROLE_REQUIRED", field="role")
    assert download(plant, roles=frozenset({"admin"}))


def test_never_while_the_machine_reports_running_where_the_site_says_so(plant: Plant) -> None:
    plant.do(c.SetMachineState, equipment="M1", state="running", roles=SERVICE)
    download(plant, code="MACHINE_RUNNING", field="equipment")
    assert download(plant, refuse_while_running=False)


def test_the_machine_must_stand_at_the_operations_workstation(plant: Plant) -> None:
    plant.do(c.DefineEquipment, equipment="M2", workstation="WS2", roles=frozenset({"admin"}))
    download(plant, equipment="M2", code="WRONG_WORKSTATION", field="equipment")


def test_a_variance_is_flagged(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    (ev,) = plant.do(c.RecordSetpointVariance, roles=SERVICE, work_order="WO1", operation=10, equipment="M1",
                     parameter="Speed", tag="speed", downloaded=D("72.3"), observed=D(95), seen_at=plant.now)
    assert isinstance(ev, e.SetpointVarianceRecorded) and ev.flagged
    plant.refuse(c.RecordSetpointVariance, "ROLE_REQUIRED", None, work_order="WO1", operation=10, equipment="M1",
                 parameter="Speed", tag="speed", downloaded=D("72.3"), observed=D(95), seen_at=plant.now)
