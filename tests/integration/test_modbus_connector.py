"""The Modbus connector against the simulated PLC (and a device that answers garbage), over the wire."""
from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

import pytest

from connectors.base import Backoff
from connectors.config import ModbusDevice, ModbusTag, PollGroup
from connectors.modbus import ModbusConnector
from simulators.machine import Machine, PackMLState
from simulators.modbus_plc import ModbusPlc
from tests.integration.conftest import supervised
from tests.integration.test_opcua_connector import Collected
from tests.integration.wire import free_port, wait_for

MACHINE_TAGS = [
    ModbusTag(name="state", address=0, type="uint16"),
    ModbusTag(name="alarm", address=1, type="uint16"),
    ModbusTag(name="good", address=2, type="uint32"),
    ModbusTag(name="scrap", address=4, type="uint32"),
    ModbusTag(name="temperature", address=6, type="float32"),
    ModbusTag(name="running", address=14, type="bit", bit=0),
    ModbusTag(name="running_coil", table="coil", address=0, type="bool"),
]


@pytest.fixture
async def plc() -> AsyncIterator[ModbusPlc]:
    sim = ModbusPlc(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.02)
    await sim.start()
    yield sim
    await sim.stop()


def device(port: int, tags: list[ModbusTag] | None = None, **options: object) -> ModbusDevice:
    return ModbusDevice(name="PLC-1", host="127.0.0.1", port=port, groups=[
        PollGroup(interval_ms=20, tags=tags or MACHINE_TAGS)], **options)  # type: ignore[arg-type]


def running(connector: ModbusConnector, sink: Collected) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    return supervised(connector, sink, Backoff(initial=0.1, maximum=1.0))


async def test_machine_registers_are_polled_and_decoded(plc: ModbusPlc) -> None:
    plc.machine.start()
    plc.machine.produce(70_000)
    plc.refresh()
    connector, sink = ModbusConnector(device(plc.port, timeout_s=0.5, max_gap=6)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.values("good")[-1:] == [plc.machine.good], 5, "the good counter")
        assert sink.values("state")[-1] == PackMLState.EXECUTE
        assert sink.values("running")[-1] is True and sink.values("running_coil")[-1] is True
        temperature = sink.values("temperature")[-1]
        assert isinstance(temperature, float) and abs(temperature - plc.machine.temperature) < 0.5
        # registers 0..7 and 14 are one request across the gap (max_gap 6), the coil another
        assert len(connector.plans[0][1]) == 2
        assert connector.health.as_dict()["connected"] is True


async def test_every_type_decodes_over_the_wire(plc: ModbusPlc) -> None:
    plc.write_scratch(100, list(struct.unpack(">4H", struct.pack("<d", -2.5))))  # float64, little-endian bytes+words
    plc.write_scratch(104, list(struct.unpack(">2H", struct.pack(">i", -7))))
    plc.write_scratch(106, list(struct.unpack(">4H", struct.pack(">q", -(2**40)))))
    plc.write_scratch(110, [int.from_bytes(b"AB", "big"), int.from_bytes(b"C\x00", "big")])
    plc.write_scratch(112, [0xFFFE, 0x8000, 650])
    tags = [
        ModbusTag(name="f64", address=100, type="float64", byte_order="little", word_order="little"),
        ModbusTag(name="i32", address=104, type="int32"),
        ModbusTag(name="i64", address=106, type="int64"),
        ModbusTag(name="text", address=110, type="string", length=2),
        ModbusTag(name="i16", address=112, type="int16"),
        ModbusTag(name="bit15", address=113, type="bit", bit=15),
        ModbusTag(name="scaled", address=114, type="uint16", scale=0.1, offset=-40),
    ]
    connector, sink = ModbusConnector(device(plc.port, tags)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.last("scaled") is not None, 5, "a poll")
    got = {t.name: sink.values(t.name)[-1] for t in tags}
    assert got == {"f64": -2.5, "i32": -7, "i64": -(2**40), "text": "ABC", "i16": -2, "bit15": True,
                   "scaled": pytest.approx(25.0)}
    assert len(connector.plans[0][1]) == 1  # 100..114 in one request


async def test_exception_responses_are_bad_quality_and_polling_goes_on(plc: ModbusPlc) -> None:
    connector, sink = ModbusConnector(device(plc.port)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.last("good") is not None, 5, "first poll")
        plc.exception_code = 2  # illegal data address
        await wait_for(lambda: (s := sink.last("good")) is not None and s.quality == "bad", 5, "bad quality")
        bad = sink.last("good")
        assert bad is not None and bad.value is None and bad.detail == "exception response 2"
        connects = connector.health.connects
        plc.exception_code = None
        plc.machine.produce(3)
        plc.refresh()
        await wait_for(lambda: sink.values("good")[-1:] == [3], 5, "good values again")
        assert connector.health.connects == connects  # an exception response is an answer: no reconnect


async def test_slow_answers_time_out_retry_and_turn_bad_without_a_busy_loop(plc: ModbusPlc) -> None:
    connector, sink = ModbusConnector(device(plc.port, timeout_s=0.1, retries=1)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.last("good") is not None, 5, "first poll")
        plc.slow_s = 0.3
        await wait_for(lambda: (s := sink.last("good")) is not None and s.quality == "bad", 5, "bad quality")
        before = connector.requests
        await asyncio.sleep(1.0)
        # each try waits its 0.1 s timeout (plus reconnects when a whole cycle fails): tens a second, not thousands
        assert connector.requests - before <= 30
        plc.slow_s = 0.0
        plc.machine.produce(1)
        plc.refresh()
        await wait_for(lambda: sink.values("good")[-1:] == [1], 10, "recovered after the slow spell")


async def test_plc_restart_reconnects_and_reads_the_reset_counters(plc: ModbusPlc) -> None:
    plc.machine.produce(8)
    plc.refresh()
    connector, sink = ModbusConnector(device(plc.port, timeout_s=0.3)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.values("good")[-1:] == [8], 5, "the counter before")
        await plc.restart(downtime_s=0.3)
        plc.machine.produce(2)
        plc.refresh()
        await wait_for(lambda: sink.values("good")[-1:] == [2], 5, "the counter after the restart")
        assert connector.health.reconnects >= 1


async def test_garbled_frames_are_bad_quality_never_a_crash() -> None:
    served = 0

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        try:
            while await reader.read(260):
                served += 1
                writer.write(b"\x00\x01\xff\xfe\x00\x09garbage!!!")
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connector, sink = ModbusConnector(device(port, timeout_s=0.1, retries=1)), Collected()
    try:
        async with running(connector, sink):
            await wait_for(lambda: len(sink.samples) >= 14, 5, "two cycles of samples")
            await asyncio.sleep(0.5)
    finally:
        server.close()
        await server.wait_closed()
    assert sink.samples and all(s.quality == "bad" and s.value is None for s in sink.samples)
    assert served < 100  # timeouts pace the retries


async def test_a_dead_device_does_not_stop_another() -> None:
    alive = ModbusPlc(Machine(scrap_rate=0.0), port=free_port())
    await alive.start()
    try:
        dead = ModbusConnector(device(free_port(), timeout_s=0.2))
        live = ModbusConnector(device(alive.port))
        dead_sink, live_sink = Collected(), Collected()
        async with running(dead, dead_sink), running(live, live_sink):
            await asyncio.sleep(0.2)
            alive.machine.produce(5)
            alive.refresh()
            await wait_for(lambda: live_sink.values("good")[-1:] == [5], 5, "the live device's values")
            await asyncio.sleep(0.5)
        assert not dead_sink.samples and dead.health.restarts >= 1 and dead.health.connects == 0
        assert dead.health.restarts <= 6  # backoff 0.1, 0.2, 0.4 ...: not a busy loop
    finally:
        await alive.stop()
