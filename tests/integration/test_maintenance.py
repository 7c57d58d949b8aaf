"""Maintenance over the wire: an OPC UA machine simulator stops on an alarm marked for maintenance and a request is
raised; the technician accepts, works (the machine in ``maintenance``), issues a spare part from a bin and closes it
over the API; a preventive plan by counted cycles falls due and blocks starting work, with the refusal naming it;
the requests, completed maintenance and spare parts reach the central ERP simulator, kept per machine."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import Backoff
from connectors.config import MachineSignals, OpcUaServer, OpcUaTag, StateRule
from connectors.mapping import SignalMapper
from connectors.opcua import OpcUaConnector
from edge.domain import commands as c
from edge.service import Service
from edge.store import Store
from edge.store.schema import ENTITY_TABLES
from erp_sync.b2mml import Schemas
from erp_sync.client import CentralClient
from erp_sync.push import Pusher
from simulators.erp import running_erp_sim
from simulators.machine import ALARMS, Machine
from simulators.opcua_machine import OpcUaMachine
from tests.conftest import StoreFactory
from tests.integration.conftest import RunningNode, start_node, supervised
from tests.integration.wire import free_port, wait_for
from tests.shared_data import MIRROR_HINT, SHARED_DATA

ADMIN = frozenset({"admin", "service"})
V0600 = "{http://www.mesa.org/xml/B2MML-V0600}"
PHOTO = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
def plant(store_factory: StoreFactory) -> Iterator[RunningNode]:
    """Machine M-PRESS on WS-10 whose overtemperature alarm raises a request, WO-1 released there, seal kits in
    bin SP-01, served over HTTP."""
    store = store_factory()
    service = Service(store, "test-node").start()
    n = 0

    def do(kind: Any, **fields: Any) -> None:
        nonlocal n
        n += 1
        service.handle(kind(idempotency_key=f"setup-{n}", actor="admin", actor_roles=ADMIN, **fields))

    do(c.DefineItem, item="PUMP-100", description="Pump", unit="pcs", revision="A", lot_controlled=False)
    do(c.DefineItem, item="SEAL-KIT", description="Seal kit", unit="pcs", revision="A")
    do(c.DefineBin, bin="SP-01", zone="spares")
    do(c.ReceiveLot, lot="SK-1", item="SEAL-KIT", item_revision=None, quantity=Decimal(10), bin="SP-01")
    do(c.DefineEquipment, equipment="M-PRESS", workstation="WS-10")
    do(c.ConfigureMaintenance, equipment="M-PRESS", request_reasons=("overtemperature",), request_after_s=3600)
    do(c.ReleaseWorkOrder, work_order="WO-1", item="PUMP-100", item_revision="A", bom_revision="1",
       quantity=Decimal(1000), operations=(c.OperationSpec(operation=10, description="Press", workstation="WS-10"),
                                           c.OperationSpec(operation=20, description="Press more",
                                                           workstation="WS-10")))
    running = start_node("", site=SimpleNamespace(store=store, service=service, node_id="test-node"))
    try:
        yield running
    finally:
        running.stop()


def requests_of(store: Store) -> list[dict[str, Any]]:
    t = ENTITY_TABLES["maintenance_requests"].table
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.request))]


def machine_state(node: RunningNode) -> str:
    t = ENTITY_TABLES["machine_states"].table
    with node.store.engine.connect() as conn:
        return str(conn.execute(select(t.c.state).where(t.c.equipment == "M-PRESS")).scalar())


@pytest.mark.slow  # an OPC UA session to the simulator: about 15 s on a shared machine
async def test_a_machine_stopping_on_a_maintenance_alarm_raises_a_request_the_technician_works(
        plant: RunningNode) -> None:
    sim = OpcUaMachine(Machine(cycle_time_s=3600, seed=5), port=free_port(), tick_s=0.01)
    await sim.start()
    try:
        tags = [OpcUaTag(name=v, node_id=sim.node_id(v), sampling_interval_ms=10) for v in ("State", "Alarm")]
        connector = OpcUaConnector(OpcUaServer(name="PRESS-UA", url=sim.url, publishing_interval_ms=10,
                                               watchdog_s=0.5, timeout_s=2, tags=tags))
        mapper = SignalMapper(plant.service, plant.store, [MachineSignals(
            equipment="M-PRESS", device="PRESS-UA", state=StateRule(tag="State", reason_tag="Alarm", reasons=ALARMS))])
        async with supervised(connector, mapper, Backoff(initial=0.05, maximum=0.5)):
            sim.machine.start()
            await sim.publish_now()
            await wait_for(lambda: machine_state(plant) == "running", 10, "running")
            sim.machine.raise_alarm(101)  # a jam: no maintenance reason, and a short stop
            await sim.publish_now()
            await wait_for(lambda: machine_state(plant) == "down", 5, "down: jam")
            assert requests_of(plant.store) == []
            sim.machine.raise_alarm(104)  # overtemperature: marked for maintenance
            await sim.publish_now()
            await wait_for(lambda: len(requests_of(plant.store)) == 1, 5, "a maintenance request")
    finally:
        await sim.stop()
    [req] = requests_of(plant.store)
    assert (req["equipment"], req["trigger"], req["reason"], req["status"]) == ("M-PRESS", "reason",
                                                                                "overtemperature", "open")
    code = req["request"]
    # the operator adds a note and a photo from the terminal
    assert plant.post("operator", f"/maintenance-requests/{code}/notes",
                      {"note": "smoke from the motor", "photo": PHOTO}).status_code == 201
    # the technician: an operator may not accept; the technician accepts, works, issues a seal kit, closes
    assert plant.post("operator", f"/maintenance-requests/{code}/accept", {}).status_code == 403
    assert plant.post("maintenance", f"/maintenance-requests/{code}/accept", {}).status_code == 201
    assert plant.post("maintenance", f"/maintenance-requests/{code}/start", {}).status_code == 201
    assert machine_state(plant) == "maintenance"
    refused = plant.post("operator", "/work-orders/WO-1/operations/10/start", {})
    assert refused.status_code == 409 and refused.json()["code"] == "MACHINE_IN_MAINTENANCE"
    too_many = plant.post("maintenance", f"/maintenance-requests/{code}/parts",
                          {"lot": "SK-1", "bin": "SP-01", "quantity": "11"})
    assert too_many.status_code == 409 and too_many.json()["field"] == "quantity"
    assert plant.post("maintenance", f"/maintenance-requests/{code}/parts",
                      {"lot": "SK-1", "bin": "SP-01", "quantity": "1"}).status_code == 201
    closed = plant.post("maintenance", f"/maintenance-requests/{code}/close",
                        {"released": True, "note": "fan replaced"})
    assert closed.status_code == 201, closed.text
    assert machine_state(plant) == "idle"
    got = plant.client("operator").get(f"/api/v1/maintenance-requests/{code}").json()
    assert (got["status"], got["released"], got["technician"], got["note"]) == ("closed", True, "maintenance1",
                                                                                 "smoke from the motor")
    assert got["parts"] == [{"quantity": "1", "item": "SEAL-KIT", "lot": "SK-1", "bin": "SP-01"}]
    assert got["photos"][0]["photo"] == PHOTO
    stock = ENTITY_TABLES["stock"].table
    with plant.store.engine.connect() as conn:
        assert conn.execute(select(stock.c.quantity).where(stock.c.lot == "SK-1")).scalar_one() == Decimal(9)
    assert plant.post("operator", "/work-orders/WO-1/operations/10/start", {}).status_code == 201


def test_a_plan_due_by_counted_cycles_blocks_a_start_naming_the_plan(plant: RunningNode) -> None:
    answer = plant.post("maintenance", "/maintenance-plans",
                        {"plan": "PM-GUIDE", "equipment": "M-PRESS", "kind": "cycles", "interval": "5",
                         "description": "Check ram guide", "blocks_start": True})
    assert answer.status_code == 201, answer.text
    bad = plant.post("maintenance", "/maintenance-plans",
                     {"plan": "PM-X", "equipment": "M-PRESS", "kind": "weekly", "interval": "5"})
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    assert plant.post("operator", "/work-orders/WO-1/operations/10/start", {}).status_code == 201
    assert plant.post("service", "/work-orders/WO-1/operations/10/production",
                      {"good": "4", "scrap": "1", "scrap_reason": "crack"}).status_code == 201
    due = plant.client("maintenance").get("/api/v1/maintenance-plans/due").json()
    assert [(p["plan"], p["used"], p["status"]) for p in due["due"]] == [("PM-GUIDE", "5", "due")]
    refused = plant.post("operator", "/work-orders/WO-1/operations/20/start", {})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "MAINTENANCE_DUE" and "PM-GUIDE" in refused.json()["message"]
    assert plant.post("maintenance", "/maintenance-plans/PM-GUIDE/start", {}).status_code == 201
    [req] = requests_of(plant.store)
    for step, body in (("accept", {}), ("close", {"released": True})):
        assert plant.post("maintenance", f"/maintenance-requests/{req['request']}/{step}", body).status_code == 201
    assert plant.client("maintenance").get("/api/v1/maintenance-plans/due").json()["due"] == []
    assert plant.post("operator", "/work-orders/WO-1/operations/20/start", {}).status_code == 201


async def test_maintenance_and_its_spare_parts_reach_the_central_erp_per_machine(plant: RunningNode,
                                                                                  tmp_path: Any) -> None:
    raised = plant.post("operator", "/equipment/M-PRESS/maintenance-requests", {"reason": "noise", "note": "bearing?"})
    assert raised.status_code == 201, raised.text
    code = requests_of(plant.store)[0]["request"]
    for step, body in (("accept", {}), ("start", {}), ("parts", {"lot": "SK-1", "bin": "SP-01", "quantity": "2"}),
                       ("close", {"released": False, "note": "bearing ordered"})):
        assert plant.post("maintenance", f"/maintenance-requests/{code}/{step}", body).status_code == 201
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", {"maintenance-node-token-00": "test-node"}) as sim:
        async with CentralClient(sim.url, "maintenance-node-token-00", "test-node") as client:
            await Pusher(plant.store, "test-node", client).push()
        [row] = sim.call("GET", "/central/v1/equipment/M-PRESS/maintenance")
        types = [e["type"] for e in sim.call("GET", "/central/v1/nodes/test-node/events?limit=1000")
                 if e["subject"] == f"maintenance:{code}"]
    assert types == ["MaintenanceRequested", "MaintenanceAccepted", "MaintenanceWorkStarted", "MaintenancePartsIssued",
                     "MaintenanceWorkStopped", "MaintenanceCompleted"]
    assert (row["request"], row["status"], row["technician"], row["released"], row["reason"]) == (
        code, "completed", "maintenance1", False, "noise")
    assert row["parts"] == [{"item": "SEAL-KIT", "lot": "SK-1", "bin": "SP-01", "quantity": "2"}]
    exported = plant.client("maintenance").get("/api/v1/b2mml/maintenance")
    assert exported.status_code == 200, exported.text
    if not (SHARED_DATA / "b2mml" / "V0600").is_dir():
        pytest.skip(MIRROR_HINT)
    verdict, root = Schemas(SHARED_DATA / "b2mml").validate(exported.content)
    assert verdict.ok, verdict.describe()
    assert root is not None and root.tag == f"{V0600}SyncOperationsPerformance"
    [response] = root.iter(f"{V0600}OperationsResponse")
    assert (response.findtext(f"{V0600}ID"), response.findtext(f"{V0600}OperationsType"),
            response.findtext(f"{V0600}ResponseState")) == (code, "Maintenance", "Completed")
    assert response.findtext(f".//{V0600}PersonnelActual/{V0600}PersonID") == "maintenance1"
    assert response.findtext(f".//{V0600}MaterialActual/{V0600}MaterialLotID") == "SK-1"
    released = [d.findtext(f"{V0600}Value/{V0600}ValueString") for d in response.iter(f"{V0600}SegmentData")
                if d.findtext(f"{V0600}ID") == "ReleasedForProduction"]
    assert released == ["false"]


async def test_the_node_timer_raises_a_request_for_a_stop_still_going_on(plant: RunningNode) -> None:
    from datetime import UTC, datetime, timedelta

    from takt.maintenance_timer import raise_requests_for_long_stops

    began = datetime.now(UTC) - timedelta(hours=2)
    plant.service.handle(c.SetMachineState(idempotency_key="stop", actor="plc:press", actor_roles=frozenset({"service"}),
                                           equipment="M-PRESS", state="down", reason="jam", since=began))
    assert await raise_requests_for_long_stops(plant.service, began + timedelta(minutes=30)) == 0  # not long yet
    assert await raise_requests_for_long_stops(plant.service, datetime.now(UTC)) == 1
    assert await raise_requests_for_long_stops(plant.service, datetime.now(UTC)) == 0  # one open already
    [req] = requests_of(plant.store)
    assert (req["trigger"], req["reason"], req["stop_since"]) == ("duration", "jam", began)
