"""The machine simulators over the wire, read by plain protocol clients (asyncua, pymodbus)."""
from __future__ import annotations

import asyncio
import re
import shutil
import struct
from collections.abc import AsyncIterator

import pytest
from asyncua.client.client import Client
from asyncua.ua.status_codes import StatusCodes
from pymodbus.client import AsyncModbusTcpClient

from simulators.machine import Machine, PackMLState
from simulators.modbus_plc import ModbusPlc
from simulators.opcua_machine import OpcUaMachine
from tests.integration.wire import free_port, wait_for


@pytest.fixture
async def opcua_sim() -> AsyncIterator[OpcUaMachine]:
    sim = OpcUaMachine(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.02)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def modbus_sim() -> AsyncIterator[ModbusPlc]:
    plc = ModbusPlc(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.02)
    await plc.start()
    yield plc
    await plc.stop()


async def test_opcua_machine_serves_state_counters_and_source_timestamps(opcua_sim: OpcUaMachine) -> None:
    opcua_sim.machine.start()
    opcua_sim.machine.produce(7)
    async with Client(opcua_sim.url, timeout=5) as client:
        good = client.get_node(opcua_sim.node_id("GoodCount"))
        state = client.get_node(opcua_sim.node_id("State"))

        async def seven() -> bool:
            return bool(await good.read_value() == 7)

        await wait_for(seven, 5, "GoodCount 7")
        dv = await good.read_data_value()
        assert dv.StatusCode is not None and dv.StatusCode.is_good() and dv.SourceTimestamp is not None
        assert await state.read_value() == PackMLState.EXECUTE
        await opcua_sim.set_bad("Temperature")
        temp = await client.get_node(opcua_sim.node_id("Temperature")).read_data_value(raise_on_bad_status=False)
        assert temp.StatusCode is not None and temp.StatusCode.value == StatusCodes.BadSensorFailure


async def test_opcua_machine_restart_drops_clients_and_resets_counters(opcua_sim: OpcUaMachine) -> None:
    opcua_sim.machine.produce(5)
    await opcua_sim.publish_now()
    client = Client(opcua_sim.url, timeout=2)
    await client.connect()
    await opcua_sim.restart()
    with pytest.raises(Exception):  # noqa: B017 - asyncua raises ConnectionError or a timeout, both fine
        await client.get_node(opcua_sim.node_id("GoodCount")).read_value()
    async with Client(opcua_sim.url, timeout=5) as again:
        assert await again.get_node(opcua_sim.node_id("GoodCount")).read_value() == 0
    assert opcua_sim.machine.total_good == 5


async def test_opcua_frozen_values_stop_changing(opcua_sim: OpcUaMachine) -> None:
    opcua_sim.freeze()
    opcua_sim.machine.produce(4)
    async with Client(opcua_sim.url, timeout=5) as client:
        assert await client.get_node(opcua_sim.node_id("GoodCount")).read_value() == 0
        opcua_sim.freeze(False)

        async def four() -> bool:
            return bool(await client.get_node(opcua_sim.node_id("GoodCount")).read_value() == 4)

        await wait_for(four, 5, "GoodCount 4 after thawing")


async def test_modbus_plc_register_map(modbus_sim: ModbusPlc) -> None:
    modbus_sim.machine.start()
    modbus_sim.machine.produce(70_000)  # past 16 bits: the counter needs both words
    modbus_sim.refresh()
    client = AsyncModbusTcpClient("127.0.0.1", port=modbus_sim.port, timeout=2, retries=0)
    await client.connect()
    try:
        rr = await client.read_holding_registers(0, count=15, device_id=1)
        assert not rr.isError()
        regs = rr.registers
        assert regs[0] == PackMLState.EXECUTE
        assert (regs[2] << 16 | regs[3]) == modbus_sim.machine.good == 70_000
        temperature = struct.unpack(">f", struct.pack(">HH", regs[6], regs[7]))[0]
        assert abs(temperature - modbus_sim.machine.temperature) < 0.01
        coils = await client.read_coils(0, count=2, device_id=1)
        assert coils.bits[:2] == [True, False]
        ir = await client.read_input_registers(2, count=2, device_id=1)
        assert ir.registers == regs[2:4]
    finally:
        client.close()


async def test_modbus_plc_faults_exception_responses_and_restart(modbus_sim: ModbusPlc) -> None:
    modbus_sim.machine.produce(9)
    modbus_sim.refresh()
    client = AsyncModbusTcpClient("127.0.0.1", port=modbus_sim.port, timeout=2, retries=0, reconnect_delay=0.1,
                                  reconnect_delay_max=0.2)
    await client.connect()
    try:
        modbus_sim.exception_code = 4
        rr = await client.read_holding_registers(0, count=6, device_id=1)
        assert rr.isError() and rr.exception_code == 4
        modbus_sim.exception_code = None
        await modbus_sim.restart()

        async def reads_zero() -> bool:
            try:
                r = await client.read_holding_registers(2, count=2, device_id=1)
            except Exception:
                return False
            return not r.isError() and r.registers == [0, 0]

        await wait_for(reads_zero, 5, "counters read 0 after the restart")
        assert modbus_sim.machine.total_good == 9
    finally:
        client.close()


@pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll (Debian package) is not installed")
async def test_an_independent_modbus_master_reads_the_plc(modbus_sim: ModbusPlc) -> None:
    """mbpoll (a C Modbus master, not pymodbus) reads the state and the 32-bit good counter."""
    modbus_sim.machine.start()
    modbus_sim.machine.produce(70_000)
    modbus_sim.refresh()

    async def mbpoll(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            "mbpoll", "-m", "tcp", "-a", "1", "-p", str(modbus_sim.port), "-1", "-o", "2", *args, "127.0.0.1",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    state = await mbpoll("-t", "4", "-r", "1", "-c", "1")
    assert re.search(r"^\[1\]:\s+6$", state, re.M), state
    good = await mbpoll("-t", "4:int", "-B", "-r", "3", "-c", "1")  # 32-bit, big-endian words, reference 3 = address 2
    assert re.search(rf"^\[3\]:\s+{modbus_sim.machine.good}$", good, re.M), good
