"""The Logix connector against cpppo's EtherNet/IP server (``takt sim logix``), over the wire: scopes, arrays, UDT
members, unknown tags, restarts and counters booked exactly; and ``takt logix browse`` where no tag list exists."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from typer.testing import CliRunner

from connectors.base import Backoff
from connectors.config import LogixController, LogixPollGroup, LogixTag
from connectors.logix import LogixConnector
from connectors.mapping import SignalMapper
from edge.service import Service
from edge.store import Store
from simulators.logix_plc import LogixPlc
from takt.cli import app
from tests.integration.conftest import supervised
from tests.integration.test_opcua_connector import Collected
from tests.integration.test_signal_mapping import booked, plant, signals
from tests.integration.wire import free_port, wait_for

__all__ = ["plant"]  # the store fixture of the signal mapping tests, used here as is

MACHINE_TAGS = [
    LogixTag(name="state", tag="State"), LogixTag(name="alarm", tag="Alarm"),
    LogixTag(name="good", tag="GoodCount"), LogixTag(name="scrap", tag="ScrapCount"),
    LogixTag(name="temperature", tag="Temperature"), LogixTag(name="running", tag="Running"),
    LogixTag(name="station_good", tag="Line.Station1.Good"), LogixTag(name="step", tag="Program:MainProgram.Step"),
    LogixTag(name="recent", tag="Recent[0]", elements=4), LogixTag(name="recent_3", tag="Recent[3]"),
]


@pytest.fixture
async def plc() -> AsyncIterator[LogixPlc]:
    sim = LogixPlc(port=free_port())
    await sim.start()
    yield sim
    await sim.stop()


def config(port: int, tags: list[LogixTag] | None = None, **options: object) -> LogixController:
    return LogixController(name="L-1", host="127.0.0.1", port=port, groups=[
        LogixPollGroup(interval_ms=20, tags=tags or MACHINE_TAGS)], **options)  # type: ignore[arg-type]


def running(connector: LogixConnector, sink: object) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    return supervised(connector, sink, Backoff(initial=0.1, maximum=1.0))


async def test_controller_program_array_and_udt_tags_are_read_in_one_call(plc: LogixPlc) -> None:
    await plc.produce(12)
    connector, sink = LogixConnector(config(plc.port)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.values("good")[-1:] == [12], 10, "the good counter")
    assert sink.values("station_good")[-1] == 12 and sink.values("step")[-1] == 12
    assert sink.values("state")[-1] == 6 and sink.values("running")[-1] is True
    recent = sink.values("recent")[-1]
    assert isinstance(recent, list) and len(recent) == 4
    # The element read alone is the array's fourth, read in the same call just after the array: the simulator shifts
    # the array by one every tick (20 ms), so a tick between the two reads makes it the array's third (or second)
    assert sink.values("recent_3")[-1] in recent[1:], (recent, sink.values("recent_3")[-1])
    assert all(s.quality == "good" for s in sink.samples) and not connector.health.refused_tags
    # one call a cycle for the whole group
    assert connector.requests == connector.cycles or connector.requests == connector.cycles - 1


async def test_an_unknown_tag_is_a_named_refusal_and_the_others_are_read_on(plc: LogixPlc) -> None:
    tags = [*MACHINE_TAGS[:3], LogixTag(name="typo", tag="GoodCnt"),
            LogixTag(name="other_program", tag="Program:Other.Step"), LogixTag(name="no_member", tag="Line.Station9.Good")]
    await plc.produce(2)
    connector, sink = LogixConnector(config(plc.port, tags)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: len(connector.health.refused_tags) == 3, 10, "the refusals")
        await wait_for(lambda: sink.values("good")[-1:] == [2], 5, "good still read")
    refused = connector.health.refused_tags
    assert refused["typo"].startswith("GoodCnt: the controller has no such tag (")
    assert "Program:Other.Step" in refused["other_program"] and "program scope" in refused["other_program"]
    assert (s := sink.last("typo")) is not None and s.quality == "bad" and s.detail == refused["typo"]
    assert connector.health.connects == 1  # a refusal is an answer: no reconnect


async def test_controller_restart_reconnects_and_reads_the_reset_counters(plc: LogixPlc) -> None:
    await plc.produce(8)
    connector, sink = LogixConnector(config(plc.port, MACHINE_TAGS[:4], timeout_s=0.5)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.values("good")[-1:] == [8], 10, "the counter before")
        await plc.restart(downtime_s=0.3)
        await plc.produce(2)
        await wait_for(lambda: sink.values("good")[-1:] == [2], 10, "the counter after the restart")
        assert connector.health.reconnects >= 1
        assert "Connection" in (connector.health.last_error or "") or connector.health.restarts >= 1


async def test_a_controller_that_is_down_is_retried_and_read_when_it_comes() -> None:
    port = free_port()
    connector, sink = LogixConnector(config(port, MACHINE_TAGS[:4], timeout_s=0.3)), Collected()
    async with running(connector, sink):
        await asyncio.sleep(0.8)
        assert connector.health.connects == 0 and "cannot connect" in (connector.health.last_error or "")
        sim = LogixPlc(port=port)
        await sim.start()
        try:
            await sim.produce(5)
            await wait_for(lambda: sink.values("good")[-1:] == [5], 10, "read once it is up")
        finally:
            await sim.stop()


async def test_counter_resets_by_restarts_are_booked_exactly(plant: tuple[Store, Service], plc: LogixPlc) -> None:
    store, service = plant
    connector = LogixConnector(config(plc.port, MACHINE_TAGS[:4], timeout_s=0.5))
    mapper = SignalMapper(service, store, [signals("L-1", "state", "alarm", "good", "scrap", resets_on_restart=False)])
    made = 0
    async with supervised(connector, mapper, Backoff(initial=0.05, maximum=0.5)):
        await wait_for(lambda: mapper.counters.get("M-ASSY/good") == 0, 10, "the baseline")
        await plc.produce(10)
        made += 10
        await wait_for(lambda: booked(store) == (10, 0), 10, "10 booked")
        for _ in range(2):  # controller restarts: counters to 0, then counting again
            await plc.restart()
            await wait_for(lambda: mapper.counters.get("M-ASSY/good") == 0, 10, "the reset seen")
            await plc.produce(4)
            made += 4
            await wait_for(lambda: mapper.counters.get("M-ASSY/good") == 4, 10, "counting again")
        await wait_for(lambda: booked(store) == (made, 0), 10, "booked == made")
    assert mapper.stats.resets == 2 and booked(store) == (18, 0)


def test_browse_says_when_the_controller_has_no_tag_list(plc: LogixPlc) -> None:
    result = CliRunner().invoke(app, ["logix", "browse", "127.0.0.1", "--port", str(plc.port), "--timeout", "2"])
    assert result.exit_code == 1
    assert "does not give its tag list" in result.output and "cpppo" in result.output


async def test_a_micro800_is_read_one_tag_a_request(plc: LogixPlc) -> None:
    await plc.produce(3)
    connector, sink = LogixConnector(config(plc.port, [*MACHINE_TAGS[:4], LogixTag(name="typo", tag="GoodCnt")],
                                            micro800=True)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.values("good")[-1:] == [3], 10, "the good counter")
        await wait_for(lambda: "typo" in connector.health.refused_tags, 5, "the refusal")
    assert sink.values("state")[-1] == 6
