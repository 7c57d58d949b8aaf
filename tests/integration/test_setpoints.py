"""Setpoints down to the machine, over the wire against each of the four simulated PLCs (OPC UA, Modbus, S7, Logix),
through the node's HTTP API: the download at operation start written and read back and recorded with every value;
a value changed on the machine while the operation runs recorded as a flagged variance and shown by the API; a write
the PLC refuses blocks the changeover with the parameter named and records nothing; a value outside its limits is
refused before anything is written."""
from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.config import ConnectivitySection
from connectors.runtime import Connectivity
from edge.domain import commands as c
from edge.service import Service
from edge.store import Store
from edge.store.users import save_user
from simulators.logix_plc import LogixPlc
from simulators.machine import Machine
from simulators.modbus_plc import ModbusPlc
from simulators.opcua_machine import OpcUaMachine
from simulators.s7_plc import S7Plc
from takt.api.app import create_app
from tests.conftest import StoreFactory
from tests.integration.conftest import TOKENS, RunningNode
from tests.integration.wire import free_port, wait_for

ADMIN = frozenset({"admin"})
# parameter → (tag, limits): Speed and Temp are the machine's setpoints; Broken is marked writable in the site file
# but the PLC refuses the write (a node that is not writable, a register outside the writable area, a DB the PLC
# does not have, a tag the controller does not know).
SETPOINTS = [
    {"parameter": "Speed", "tag": "speed", "writable": True, "low": 10, "high": 120, "unit": "ppm"},
    {"parameter": "Temp", "tag": "temp", "writable": True, "low": 20, "high": 250, "tolerance": "0.01"},
    {"parameter": "Broken", "tag": "broken", "writable": True},
]

Change = Callable[[float], Awaitable[None]]


@asynccontextmanager
async def simulated(protocol: str) -> AsyncIterator[tuple[dict[str, Any], Change]]:
    """The PLC of ``protocol`` running: its connectivity section (device PLC with tags speed, temp, broken) and
    how to change the speed setpoint on the machine's side (an operator at its HMI)."""
    if protocol == "opcua":
        ua = OpcUaMachine(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.05)
        await ua.start()
        tags = {"speed": "SpeedSetpoint", "temp": "TempSetpoint", "broken": "Temperature"}
        device: dict[str, Any] = {"opcua": [{"name": "PLC", "url": ua.url, "tags": [
            {"name": n, "node_id": ua.node_id(v), "sampling_interval_ms": 20} for n, v in tags.items()]}]}
        try:
            yield device, lambda v: ua.change_setpoint("SpeedSetpoint", v)
        finally:
            await ua.stop()
    elif protocol == "modbus":
        mb = ModbusPlc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.05)
        await mb.start()

        async def change_modbus(v: float) -> None:
            mb.write_scratch(100, list(struct.unpack(">HH", struct.pack(">f", v))))

        device = {"modbus": [{"name": "PLC", "host": "127.0.0.1", "port": mb.port, "timeout_s": 1, "groups": [
            {"interval_ms": 50, "tags": [{"name": "speed", "address": 100, "type": "float32"},
                                         {"name": "temp", "address": 102, "type": "float32"},
                                         {"name": "broken", "address": 20, "type": "float32"}]}]}]}
        try:
            yield device, change_modbus
        finally:
            await mb.stop()
    elif protocol == "s7":
        s7 = S7Plc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.05)
        await s7.start()

        async def change_s7(v: float) -> None:
            s7.write_scratch(100, struct.pack(">f", v))

        device = {"s7": [{"name": "PLC", "host": "127.0.0.1", "port": s7.port, "timeout_s": 1, "groups": [
            {"interval_ms": 50, "tags": [{"name": "speed", "db": 1, "offset": 100, "type": "REAL"},
                                         {"name": "temp", "db": 1, "offset": 104, "type": "REAL"},
                                         {"name": "broken", "db": 9, "offset": 0, "type": "REAL"}]}]}]}
        try:
            yield device, change_s7
        finally:
            await s7.stop()
    else:
        lx = LogixPlc(port=free_port())
        await lx.start()

        async def change_logix(v: float) -> None:
            from pylogix import PLC

            def write() -> None:
                with PLC("127.0.0.1", port=lx.port, timeout=2.0) as plc:
                    assert plc.Write("SpeedSetpoint", v).Status == "Success"

            await asyncio.to_thread(write)

        device = {"logix": [{"name": "PLC", "host": "127.0.0.1", "port": lx.port, "timeout_s": 2, "groups": [
            {"interval_ms": 50, "tags": [{"name": "speed", "tag": "SpeedSetpoint"},
                                         {"name": "temp", "tag": "TempSetpoint"},
                                         {"name": "broken", "tag": "NoSuchSetpoint"}]}]}]}
        try:
            yield device, change_logix
        finally:
            await lx.stop()


def seed(service: Service) -> None:
    """Machine M-1 at WS-1; WO-1 with operation 10 (good setpoints, from the order and the recipe), 20 (a speed
    above its limit), 30 (a parameter the PLC refuses) and 40 (good again), all at WS-1."""
    n = 0

    def do(kind: Any, **fields: Any) -> None:
        nonlocal n
        n += 1
        service.handle(kind(idempotency_key=f"setup-{n}", actor="admin", actor_roles=ADMIN, **fields))

    do(c.DefineItem, item="PUMP", description="Pump", unit="pcs", revision="B", lot_controlled=False)
    do(c.DefineEquipment, equipment="M-1", workstation="WS-1")
    do(c.ReleaseWorkOrder, work_order="WO-1", item="PUMP", item_revision="B", bom_revision="1",
       quantity=Decimal(100), operations=(
           c.OperationSpec(operation=10, description="Mould", workstation="WS-1", parameters=("Speed=72.3",)),
           c.OperationSpec(operation=20, description="Mould fast", workstation="WS-1", parameters=("Speed=500",)),
           c.OperationSpec(operation=30, description="Mould", workstation="WS-1",
                           parameters=("Speed=70", "Broken=5")),
           c.OperationSpec(operation=40, description="Mould", workstation="WS-1", parameters=("Speed=65",))))


def journal_types(store: Store) -> list[str]:
    return [e.type for e in store.journal()]


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["opcua", "modbus", "s7", "logix"])
async def test_setpoints_down_to_the_machine(protocol: str, store_factory: StoreFactory) -> None:
    store = store_factory()
    service = Service(store, "test-node").start()
    for role, token in TOKENS.items():
        save_user(store, f"{role}1", f"Test {role}", [role], token)
    seed(service)
    async with simulated(protocol) as (device, change_speed):
        section = ConnectivitySection.model_validate({**device, "machines": [
            {"equipment": "M-1", "device": "PLC", "setpoints": {"tags": SETPOINTS, "roles": ["operator"]}}]})
        # the site's recipe for PUMP revision B: Temp for every operation; the order's own Speed wins over its 60
        connectivity = Connectivity(service, store, section, recipes=lambda item, rev, op: (
            {"Temp": Decimal("180.5"), "Speed": Decimal(60)} if (item, rev) == ("PUMP", "B") else {}))

        class Node:
            pass

        node: Any = Node()
        node.store, node.service, node.node_id, node.connectivity = store, service, "test-node", connectivity
        app = create_app(node, max_body_bytes=64_000)
        connectivity.start()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node",
                                         headers={"Authorization": f"Bearer {TOKENS['operator']}"}) as api:
                await wait_for(lambda: connectivity.connectors[0].health.connected, 20, f"{protocol} connected")

                async def post(path: str, key: str) -> httpx.Response:
                    return await api.post(f"/api/v1/work-orders/WO-1/operations/{path}", json={},
                                          headers={"Idempotency-Key": key})

                # a supervisor is not among the site's setpoint roles: refused by name, nothing written
                before = store.last_seq()
                refused = await api.post("/api/v1/work-orders/WO-1/operations/10/setpoints", json={}, headers={
                    "Idempotency-Key": "sv-1", "Authorization": f"Bearer {TOKENS['supervisor']}"})
                assert refused.status_code == 409 and refused.json()["code"] == "ROLE_REQUIRED", refused.text
                assert store.last_seq() == before

                # start: the setpoints go down first, are read back, and both are recorded
                started = await post("10/start", "start-10")
                assert started.status_code == 201, started.text
                assert journal_types(store)[-2:] == ["SetpointsDownloaded", "OperationStarted"]
                shown = (await api.get("/api/v1/work-orders/WO-1/operations/10/setpoints")).json()
                (download,) = shown["downloads"]
                assert download["source"] == "start" and download["equipment"] == "M-1"
                values = {v["parameter"]: v for v in download["values"]}
                assert set(values) == {"Speed", "Temp"}
                assert Decimal(values["Speed"]["written"]) == Decimal("72.3")
                assert abs(Decimal(values["Speed"]["read_back"]) - Decimal("72.3")) < Decimal("0.0001")
                assert Decimal(values["Temp"]["written"]) == Decimal("180.5") == Decimal(values["Temp"]["read_back"])
                assert values["Speed"]["unit"] == "ppm" and values["Speed"]["high"] == "120"

                # an operator changes the speed on the machine while the operation runs: a flagged variance
                await change_speed(95.0)

                async def variance_shown() -> bool:
                    got = (await api.get("/api/v1/work-orders/WO-1/operations/10/setpoints")).json()
                    return bool(got["variances"])

                await wait_for(variance_shown, 10, "the variance in the API")
                (variance,) = (await api.get("/api/v1/work-orders/WO-1/operations/10/setpoints")).json()["variances"]
                assert variance["parameter"] == "Speed" and variance["flagged"] is True
                assert Decimal(variance["observed"]) == Decimal(95) and Decimal(variance["downloaded"]) == \
                    Decimal("72.3")
                await asyncio.sleep(0.3)  # the same value polled again is the same variance, not a new one
                assert journal_types(store).count("SetpointVarianceRecorded") == 1

                # the next changeover, once operation 10 is done: a write the PLC refuses blocks it, names the
                # parameter and records nothing
                assert (await post("10/complete", "complete-10")).status_code == 201
                before = store.last_seq()
                broken = await post("30/setpoints", "changeover-30")
                assert broken.status_code == 409, broken.text
                assert broken.json()["code"] == "SETPOINT_WRITE_REFUSED"
                assert broken.json()["field"] == "setpoints.Broken" and "Broken" in broken.json()["message"]
                assert store.last_seq() == before

                # a value outside its limits is refused before anything is written, and blocks the start
                fast = await post("20/start", "start-20")
                assert fast.status_code == 409 and fast.json()["code"] == "SETPOINT_OUT_OF_LIMITS", fast.text
                assert "Speed" in fast.json()["message"] and "120" in fast.json()["message"]
                assert store.last_seq() == before
                assert service.state.operations[("WO-1", 20)].status == "released"

                # an explicit changeover step, then the start: downloaded once, at the changeover
                changeover = await post("40/setpoints", "changeover-40")
                assert changeover.status_code == 201 and changeover.json()["events"][0]["type"] == \
                    "SetpointsDownloaded", changeover.text
                assert (await post("40/start", "start-40")).status_code == 201
                assert journal_types(store)[-2:] == ["SetpointsDownloaded", "OperationStarted"]
                (download,) = (await api.get("/api/v1/work-orders/WO-1/operations/40/setpoints")).json()["downloads"]
                assert download["source"] == "changeover"
                assert [(v["parameter"], v["written"]) for v in download["values"]] == [("Speed", "65"),
                                                                                        ("Temp", "180.5")]
        finally:
            await connectivity.stop()
            service.stop()


def test_a_work_order_released_over_the_api_carries_its_operations_parameters(node: RunningNode) -> None:
    assert node.post("service", "/items", {"item": "PUMP", "unit": "pcs", "revision": "B"}).status_code == 201
    order = {"work_order": "WO-7", "item": "PUMP", "item_revision": "B", "bom_revision": "1", "quantity": "5",
             "operations": [{"operation": 10, "workstation": "WS-1", "parameters": {"Speed": "72.3", "Temp": "180"}}]}
    assert node.post("service", "/work-orders", order).status_code == 201
    (op,) = node.client("operator").get("/api/v1/work-orders/WO-7").json()["operations"]
    assert op["parameters"] == ["Speed=72.3", "Temp=180"]
    bad = {**order, "work_order": "WO-8", "operations": [{"operation": 10, "workstation": "WS-1",
                                                          "parameters": {"Speed=": "1"}}]}
    refused = node.post("service", "/work-orders", bad)
    assert refused.status_code == 422 and "operations[0].parameters.Speed=" in refused.text, refused.text
