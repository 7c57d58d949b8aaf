"""Stops classified over the wire: machine states from the OPC UA and Modbus simulators recorded through the signal
mapping, then classified from the store's history (edge.store.downtime): a stop booked by the PLC's alarm code to
a leaf, a micro-stop, a dropped connection giving a "no data" stop closed when data returns, a starved station."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.config import MachineSignals, ModbusDevice, ModbusTag, OpcUaServer, OpcUaTag, PollGroup, StateRule
from connectors.mapping import NO_DATA, SignalMapper
from connectors.modbus import ModbusConnector
from connectors.opcua import OpcUaConnector
from edge.domain import commands as c
from edge.domain.downtime import Line, MachineSettings, ReasonNode, ReasonTree
from edge.service import Service
from edge.store import Store
from edge.store.downtime import DowntimeSetup, classified
from simulators.machine import ALARMS, Machine
from simulators.modbus_plc import ModbusPlc
from simulators.opcua_machine import OpcUaMachine
from tests.conftest import StoreFactory
from tests.integration.test_signal_mapping import connected, state_history
from tests.integration.wire import free_port, wait_for

ADMIN = frozenset({"admin", "supervisor", "operator", "service"})
TREE = ReasonTree("cell", (
    ReasonNode("machine", {"en": "Machine", "nl": "Machine"}, children=(
        ReasonNode("overheat", {"en": "Overheated", "nl": "Oververhit"}, maintenance=True, plc_codes=(104,)),
        ReasonNode("jam", {"en": "Jam", "nl": "Vastloper"}, plc_codes=(101,)))),))


@pytest.fixture
def line(store_factory: StoreFactory) -> Iterator[tuple[Store, Service]]:
    """A store with M-10 on WS-10 and M-ASSY on WS-20."""
    store = store_factory()
    service = Service(store, "test-node").start()
    for n, (eq, ws) in enumerate((("M-10", "WS-10"), ("M-ASSY", "WS-20"))):
        service.handle(c.DefineEquipment(idempotency_key=f"eq-{n}", actor="admin", actor_roles=ADMIN, equipment=eq,
                                         workstation=ws))
    try:
        yield store, service
    finally:
        service.stop()


def stops(store: Store, setup: DowntimeSetup, machines: list[str], since: datetime) -> list[Any]:
    with store.engine.connect() as conn:
        return classified(conn, machines, setup, since, datetime.now(UTC)).stops(setup)


@pytest.mark.slow  # the OPC UA server's start alone takes several seconds on a shared machine
async def test_opcua_a_stop_booked_by_its_alarm_code_and_a_micro_stop(line: tuple[Store, Service]) -> None:
    store, service = line
    began = datetime.now(UTC) - timedelta(seconds=1)
    sim = OpcUaMachine(Machine(cycle_time_s=3600, scrap_rate=0.0, seed=3), port=free_port(), tick_s=0.01)
    await sim.start()
    tags = [OpcUaTag(name=v, node_id=sim.node_id(v), sampling_interval_ms=10) for v in ("State", "Alarm")]
    connector = OpcUaConnector(OpcUaServer(name="M-ASSY-UA", url=sim.url, publishing_interval_ms=10,
                                           watchdog_s=0.3, timeout_s=1, tags=tags))
    mapper = SignalMapper(service, store, [MachineSignals(
        equipment="M-ASSY", device="M-ASSY-UA", state=StateRule(tag="State", reason_tag="Alarm", reasons=ALARMS))],
        no_data_timeout_s={"M-ASSY": 0.4}, link_up=lambda device: connector.health.connected)
    watch = asyncio.create_task(mapper.watch(every_s=0.05))
    m = sim.machine
    try:
        async with connected(connector, mapper):
            await wait_for(lambda: state_history(store)[-1:] == [("idle", "idle")], 10, "idle at first")
            m.start()
            await sim.publish_now()
            await wait_for(lambda: state_history(store)[-1:] == [("running", None)], 5, "running")
            m.raise_alarm(101)  # a jam of a moment: a micro-stop
            await sim.publish_now()
            await wait_for(lambda: state_history(store)[-1:] == [("down", "jam")], 5, "jammed")
            m.clear_alarm()
            m.start()
            await sim.publish_now()
            await wait_for(lambda: state_history(store)[-1:] == [("running", None)], 5, "running again")
            m.raise_alarm(104)  # overheated: a stop
            await sim.publish_now()
            await wait_for(lambda: state_history(store)[-1:] == [("down", "overtemperature")], 5, "overheated")
            await asyncio.sleep(1.0)
            m.clear_alarm()
            m.start()
            await sim.publish_now()
            await wait_for(lambda: state_history(store)[-1:] == [("running", None)], 5, "running after the stop")
    finally:
        watch.cancel()
        await sim.stop()
    setup = DowntimeSetup(settings={"M-ASSY": MachineSettings(micro_stop_s=0.8, workstation="WS-20")},
                          trees={"M-ASSY": TREE}, plc_reasons={"M-ASSY": ALARMS})
    found = stops(store, setup, ["M-ASSY"], began)
    got = [(s.kind, s.reason, s.leaf, s.maintenance) for s in found[1:]]  # the first: idle before the start
    assert got == [("micro_stop", "jam", "jam", False), ("stop", "overtemperature", "overheat", True)], got
    assert found[2].seconds >= 1.0


async def test_modbus_a_starved_station_and_a_dropped_connection_giving_no_data(line: tuple[Store, Service]) -> None:
    store, service = line
    began = datetime.now(UTC) - timedelta(seconds=1)
    plcs = {eq: ModbusPlc(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.01)
            for eq in ("M-10", "M-ASSY")}
    tags = [ModbusTag(name="state", address=0), ModbusTag(name="alarm", address=1)]
    connectors = [ModbusConnector(ModbusDevice(name=f"PLC-{eq}", host="127.0.0.1", port=plc.port, timeout_s=0.5,
                                               groups=[PollGroup(interval_ms=10, tags=tags)]))
                  for eq, plc in plcs.items()]
    mapper = SignalMapper(service, store, [MachineSignals(
        equipment=eq, device=f"PLC-{eq}", state=StateRule(tag="state", reason_tag="alarm", reasons=ALARMS))
        for eq in plcs], no_data_timeout_s={"M-ASSY": 0.4},
        link_up=lambda device: all(c.health.connected for c in connectors if c.name == device))
    watch = asyncio.create_task(mapper.watch(every_s=0.05))

    def last(eq: str) -> tuple[str, str | None] | None:
        from sqlalchemy import select

        from edge.store.schema import machine_state_history as h
        with store.engine.connect() as conn:
            row = conn.execute(select(h.c.state, h.c.reason).where(h.c.equipment == eq)
                               .order_by(h.c.seq.desc()).limit(1)).first()
        return (row[0], row[1]) if row else None

    for plc in plcs.values():
        plc.machine.start()
        await plc.start()
    try:
        async with connected(connectors[0], mapper), connected(connectors[1], mapper):
            await wait_for(lambda: last("M-10") == ("running", None) and last("M-ASSY") == ("running", None), 10,
                           "both running")
            plcs["M-10"].machine.raise_alarm(101)  # the station before jams ...
            plcs["M-10"].refresh()
            await wait_for(lambda: last("M-10") == ("down", "jam"), 5, "M-10 jammed")
            plcs["M-ASSY"].machine.suspend()  # ... and this one runs out of parts
            plcs["M-ASSY"].refresh()
            await wait_for(lambda: last("M-ASSY") == ("idle", "suspended"), 5, "M-ASSY waits")
            await asyncio.sleep(0.6)
            for plc in plcs.values():
                plc.machine.clear_alarm()
                plc.machine.start()
                plc.refresh()
            await wait_for(lambda: last("M-10") == ("running", None) and last("M-ASSY") == ("running", None), 5,
                           "both running again")
            await plcs["M-ASSY"].stop()  # the connection drops
            await wait_for(lambda: last("M-ASSY") == ("offline", NO_DATA), 10, "no data")
            await asyncio.sleep(0.3)
            await plcs["M-ASSY"].start()
            await wait_for(lambda: last("M-ASSY") == ("running", None), 10, "data back")
    finally:
        watch.cancel()
        for plc in plcs.values():
            await plc.stop()
    setup = DowntimeSetup(line=Line(("WS-10", "WS-20"), {"M-10": "WS-10", "M-ASSY": "WS-20"}),
                          settings={m: MachineSettings(micro_stop_s=0.3) for m in plcs},
                          trees={m: TREE for m in plcs}, plc_reasons={m: ALARMS for m in plcs})
    found = stops(store, setup, ["M-10", "M-ASSY"], began)
    assert [(s.equipment, s.kind, s.leaf) for s in found] == [
        ("M-10", "stop", "jam"), ("M-ASSY", "starved", None), ("M-ASSY", "no_data", None)]
    assert Decimal(str(found[1].seconds)) >= Decimal("0.5")
    assert found[2].reason == NO_DATA and not found[2].open and found[2].seconds >= 0.4  # closed: data came back
