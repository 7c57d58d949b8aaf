"""The S7 connector against the simulated S7 PLC (snap7's server), over the wire: types, merging, refusals, restarts."""
from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from connectors.base import Backoff
from connectors.config import MachineSignals, S7Plc, S7PollGroup, S7Tag
from connectors.mapping import SignalMapper
from connectors.s7 import S7Connector, plan_blocks, plan_requests
from edge.service import Service
from edge.store import Store
from simulators.machine import ALARMS, Machine, PackMLState
from simulators.s7_plc import S7Plc as SimulatedS7
from tests.integration.conftest import supervised
from tests.integration.test_opcua_connector import Collected
from tests.integration.test_signal_mapping import booked, plant, signals
from tests.integration.wire import free_port, wait_for

__all__ = ["plant"]  # the store fixture of the signal mapping tests, used here as is

MACHINE_TAGS = [
    S7Tag(name="state", db=1, offset=0, type="INT"),
    S7Tag(name="alarm", db=1, offset=2, type="INT"),
    S7Tag(name="good", db=1, offset=4, type="DWORD"),
    S7Tag(name="scrap", db=1, offset=8, type="DWORD"),
    S7Tag(name="temperature", db=1, offset=12, type="REAL"),
    S7Tag(name="running", db=1, offset=24, type="BOOL", bit=0),
    S7Tag(name="machine", db=1, offset=26, type="STRING", length=16),
    S7Tag(name="clock", db=1, offset=44, type="DTL"),
    S7Tag(name="clock_dt", db=1, offset=56, type="DATE_AND_TIME"),
    S7Tag(name="energy", db=1, offset=64, type="LREAL"),
    S7Tag(name="running_marker", area="M", offset=0, type="BOOL", bit=0),
    S7Tag(name="good_marker", area="M", offset=4, type="DWORD"),
    S7Tag(name="running_input", area="I", offset=0, type="BOOL", bit=0),
    S7Tag(name="outputs", area="Q", offset=0, type="BYTE"),
]


@pytest.fixture
async def plc() -> AsyncIterator[SimulatedS7]:
    sim = SimulatedS7(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.02)
    await sim.start()
    yield sim
    await sim.stop()


def config(port: int, tags: list[S7Tag] | None = None, **options: object) -> S7Plc:
    return S7Plc(name="S7-1", host="127.0.0.1", port=port, groups=[
        S7PollGroup(interval_ms=20, tags=tags or MACHINE_TAGS)], **options)  # type: ignore[arg-type]


def running(connector: S7Connector, sink: object) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    return supervised(connector, sink, Backoff(initial=0.1, maximum=1.0))


async def test_db_markers_inputs_and_outputs_are_read_in_one_request(plc: SimulatedS7) -> None:
    plc.machine.start()
    plc.machine.produce(70_000)
    plc.refresh()
    connector, sink = S7Connector(config(plc.port, timeout_s=1)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.values("good")[-1:] == [70_000], 5, "the good counter")
        assert sink.values("state")[-1] == PackMLState.EXECUTE
        assert sink.values("running")[-1] is True and sink.values("running_marker")[-1] is True
        assert sink.values("running_input")[-1] is True and sink.values("outputs")[-1] == 1
        assert sink.values("good_marker")[-1] == 70_000
        assert sink.values("machine")[-1] == "M-ASSY"
        temperature = sink.values("temperature")[-1]
        assert isinstance(temperature, float) and abs(temperature - plc.machine.temperature) < 0.5
        clock, clock_dt = sink.values("clock")[-1], sink.values("clock_dt")[-1]
        assert isinstance(clock, datetime) and isinstance(clock_dt, datetime)
        assert abs((clock - datetime.now()).total_seconds()) < 5 and clock_dt == clock
        # DB1 bytes 0..71 one item, M 0..7 another, I and Q one each: four items, one request
        assert [len(r.blocks) for r in connector.plans[0][1]] == [4]
        assert connector.health.as_dict()["connected"] is True and not connector.health.refused_tags
        assert all(s.quality == "good" for s in sink.samples)


async def test_every_type_decodes_over_the_wire(plc: SimulatedS7) -> None:
    plc.write_scratch(100, struct.pack(">hHiIfd", -2, 65534, -7, 4_000_000_000, -2.5, 1e-3))
    plc.write_scratch(124, bytes([0b1000_0000, 0xAB]) + bytes([10, 3]) + b"ABC")
    tags = [
        S7Tag(name="int", db=1, offset=100, type="INT"), S7Tag(name="word", db=1, offset=102, type="WORD"),
        S7Tag(name="dint", db=1, offset=104, type="DINT"), S7Tag(name="udint", db=1, offset=108, type="UDINT"),
        S7Tag(name="real", db=1, offset=112, type="REAL"), S7Tag(name="lreal", db=1, offset=116, type="LREAL"),
        S7Tag(name="bit7", db=1, offset=124, type="BOOL", bit=7), S7Tag(name="byte", db=1, offset=125, type="BYTE"),
        S7Tag(name="text", db=1, offset=126, type="STRING", length=10),
    ]
    connector, sink = S7Connector(config(plc.port, tags)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.last("text") is not None, 5, "a poll")
    got = {t.name: sink.values(t.name)[-1] for t in tags}
    assert got == {"int": -2, "word": 65534, "dint": -7, "udint": 4_000_000_000, "real": -2.5, "lreal": 1e-3,
                   "bit7": True, "byte": 0xAB, "text": "ABC"}


def test_reads_are_merged_and_packed_to_the_pdu_size() -> None:
    tags = [S7Tag(name=f"t{i}", db=1, offset=i * 40, type="DINT") for i in range(30)]
    # 40 bytes apart, max_gap 16: one block each; 30 blocks: 20 a request at most
    assert [len(r.blocks) for r in plan_requests(plan_blocks(tags, 480, 16), 480)] == [20, 10]
    # max_gap 36: neighbours merge, but one answer of a 240-byte PDU carries at most 222 bytes
    blocks = plan_blocks(tags, 240, 36)
    assert all(b.size <= 222 for b in blocks) and sum(len(b.tags) for b in blocks) == 30
    assert [len(b.tags) for b in blocks] == [6] * 5  # 6 DINTs span 204 bytes; a seventh would make 244
    # an answer of 240 bytes holds one such block beside its headers: one request each
    requests = plan_requests(blocks, 240)
    assert len(requests) == 5 and all(sum(b.answer_size for b in r.blocks) + 14 <= 240 for r in requests)


async def test_a_wrong_address_and_an_optimised_db_are_named_refusals(plc: SimulatedS7) -> None:
    tags = [*MACHINE_TAGS[:3], S7Tag(name="past_the_end", db=1, offset=198, type="DINT"),
            S7Tag(name="no_such_db", db=9, offset=0, type="INT"),
            S7Tag(name="optimised", db=2, offset=0, type="INT")]
    plc.machine.produce(3)
    plc.refresh()
    connector, sink = S7Connector(config(plc.port, tags, max_gap=200)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: len(connector.health.refused_tags) == 3, 5, "the refusals")
        await wait_for(lambda: connector.alone == {"past_the_end"}, 5, "the others merged again")
        await wait_for(lambda: (s := sink.last("good")) is not None and s.quality == "good", 5, "good still read")
    refused = connector.health.refused_tags
    assert set(refused) == {"past_the_end", "no_such_db", "optimised"}
    assert "DB2 has optimised block access" in refused["optimised"] and "OPC UA" in refused["optimised"]
    assert refused["past_the_end"].startswith("DB1.DBD198: the PLC refused it (address out of range)")
    assert "DB9 is not in the PLC" in refused["no_such_db"]
    assert sink.values("good")[-1] == 3
    # the block that merged 0..201 was refused as a whole once, its tags were read one by one for a cycle, and
    # now the refused tags are read alone and the others merged again
    blocks = [b for r in connector.plans[0][1] for b in r.blocks]
    assert sorted(tuple(t.name for t in b.tags) for b in blocks) == [
        ("no_such_db",), ("optimised",), ("past_the_end",), ("state", "alarm", "good")]
    assert connector.health.connects == 1


def test_a_variable_larger_than_the_pdu_is_refused_by_name() -> None:
    connector = S7Connector(config(1, [MACHINE_TAGS[0], S7Tag(name="long", db=1, offset=0, type="STRING", length=254)],
                                   pdu_size=240))
    assert connector.health.refused_tags == {
        "long": "DB1.DBB0: 256 bytes do not fit the PLC's PDU of 240 bytes (at most 222 a variable)"}
    assert [t.name for r in connector.plans[0][1] for b in r.blocks for t in b.tags] == ["state"]


async def test_plc_restart_reconnects_and_reads_the_reset_counters(plc: SimulatedS7) -> None:
    plc.machine.produce(8)
    plc.refresh()
    connector, sink = S7Connector(config(plc.port, MACHINE_TAGS[:4], timeout_s=0.5)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.values("good")[-1:] == [8], 5, "the counter before")
        await plc.restart(downtime_s=0.3)
        plc.machine.produce(2)
        plc.refresh()
        await wait_for(lambda: sink.values("good")[-1:] == [2], 10, "the counter after the restart")
        assert connector.health.reconnects >= 1


async def test_a_plc_that_stops_answering_is_reconnected_without_a_busy_loop(plc: SimulatedS7) -> None:
    connector, sink = S7Connector(config(plc.port, MACHINE_TAGS[:4], timeout_s=0.2)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.last("good") is not None, 5, "first poll")
        plc.slow_s = 0.5
        await wait_for(lambda: "did not answer" in (connector.health.last_error or ""), 5, "the timeout")
        before = connector.requests
        await asyncio.sleep(1.0)
        assert connector.requests - before <= 10  # a try per timeout and backoff, not thousands
        plc.slow_s = 0.0
        plc.machine.produce(1)
        plc.refresh()
        await wait_for(lambda: sink.values("good")[-1:] == [1], 10, "read again once it answers")
        assert connector.health.reconnects >= 1


async def test_a_plc_that_is_down_is_retried_with_backoff_and_read_when_it_comes() -> None:
    port = free_port()
    connector, sink = S7Connector(config(port, MACHINE_TAGS[:4], timeout_s=0.3)), Collected()
    async with running(connector, sink):
        await asyncio.sleep(0.8)
        assert connector.health.connects == 0 and "cannot connect" in (connector.health.last_error or "")
        sim = SimulatedS7(Machine(cycle_time_s=3600), port=port, tick_s=0.02)
        sim.machine.produce(5)
        await sim.start()
        try:
            await wait_for(lambda: sink.values("good")[-1:] == [5], 10, "read once it is up")
        finally:
            await sim.stop()
    assert connector.health.restarts <= 8  # backoff 0.1 .. 1 s, not a busy loop


async def test_counter_reset_by_restarts_is_booked_exactly(plant: tuple[Store, Service]) -> None:
    store, service = plant
    plc = SimulatedS7(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.01)
    plc.machine.set_counters(2**32 - 3, 0)
    await plc.start()
    connector = S7Connector(config(plc.port, MACHINE_TAGS[:4], timeout_s=0.5))
    machine: MachineSignals = signals("S7-1", "state", "alarm", "good", "scrap", resets_on_restart=False)
    mapper = SignalMapper(service, store, [machine])
    assert machine.state is not None and machine.state.reasons == ALARMS
    try:
        async with supervised(connector, mapper, Backoff(initial=0.05, maximum=0.5)):
            await wait_for(lambda: mapper.counters.get("M-ASSY/good") == 2**32 - 3, 5, "the baseline")
            plc.machine.produce(10)  # wraps past 2**32 to 7
            plc.refresh()
            await wait_for(lambda: booked(store) == (10, 0), 5, "10 booked across the wrap")
            for _ in range(3):  # PLC restarts: counters to 0, then counting again
                await plc.restart()
                await wait_for(lambda: mapper.counters.get("M-ASSY/good") == 0, 10, "the reset seen")
                plc.machine.produce(4)
                plc.refresh()
                await wait_for(lambda: mapper.counters.get("M-ASSY/good") == 4, 5, "counting again")
            await wait_for(lambda: booked(store) == (22, 0), 5, "booked == made")
    finally:
        await plc.stop()
    assert mapper.stats.rollovers == 1 and mapper.stats.resets == 3
    assert booked(store) == (plc.machine.total_good, plc.machine.total_scrap) == (22, 0)
