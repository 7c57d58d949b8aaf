"""The OPC UA connector against the simulated OPC UA machine, over the wire."""
from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Sequence

import pytest

from connectors.base import Backoff, Sample
from connectors.config import Deadband, OpcUaServer, OpcUaTag
from connectors.opcua import OpcUaConnector, browse
from simulators.machine import Machine, PackMLState
from simulators.opcua_machine import OpcUaMachine
from tests.integration.conftest import supervised
from tests.integration.wire import free_port, wait_for


class Collected:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    async def __call__(self, batch: Sequence[Sample]) -> None:
        self.samples.extend(batch)

    def last(self, tag: str) -> Sample | None:
        for sample in self.samples[::-1]:
            if sample.tag == tag:
                return sample
        return None

    def values(self, tag: str) -> list[object]:
        return [s.value for s in self.samples if s.tag == tag]


@pytest.fixture
async def sim() -> AsyncIterator[OpcUaMachine]:
    machine = OpcUaMachine(Machine(cycle_time_s=3600, scrap_rate=0.0), port=free_port(), tick_s=0.02)
    await machine.start()
    yield machine
    await machine.stop()


def server_config(sim: OpcUaMachine, **tag_options: object) -> OpcUaServer:
    tags = [OpcUaTag(name=v, node_id=sim.node_id(v), sampling_interval_ms=20) for v in
            ("State", "Alarm", "GoodCount", "ScrapCount")]
    tags.append(OpcUaTag(name="Temperature", node_id=sim.node_id("Temperature"), sampling_interval_ms=20,
                         **tag_options))  # type: ignore[arg-type]
    return OpcUaServer(name="M-ASSY", url=sim.url, publishing_interval_ms=20, watchdog_s=0.5, timeout_s=2, tags=tags)


def running(connector: OpcUaConnector, sink: Collected) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    return supervised(connector, sink, Backoff(initial=0.1, maximum=1.0))


async def test_values_arrive_with_quality_and_source_timestamp(sim: OpcUaMachine) -> None:
    connector, sink = OpcUaConnector(server_config(sim)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: connector.health.connected and sink.last("GoodCount") is not None, 10, "first values")
        sim.machine.start()
        sim.machine.produce(3)
        await sim.publish_now()
        await wait_for(lambda: sink.values("GoodCount")[-1:] == [3], 5, "GoodCount 3")
        assert sink.values("State")[-1] == PackMLState.EXECUTE
        good = sink.last("GoodCount")
        assert good is not None and good.quality == "good" and good.source_time.tzinfo is not None
        assert abs(time.time() - good.source_time.timestamp()) < 5

        await sim.set_bad("Temperature")
        await wait_for(lambda: (s := sink.last("Temperature")) is not None and s.quality == "bad", 5, "bad quality")
        bad = sink.last("Temperature")
        assert bad is not None and bad.detail == "BadSensorFailure"
        health = connector.health.as_dict()
        assert health["connected"] and health["bad_values"] >= 1 and health["last_value_age_s"] < 5


async def temperatures_kept(sim: OpcUaMachine, deadband: Deadband, steps: Sequence[float]) -> list[float]:
    """Write the first temperature plus each of ``steps`` in turn; the temperature changes the connector delivered,
    as steps from the first (the last step must be one that is kept)."""
    sim.freeze()  # the test writes Temperature itself
    connector = OpcUaConnector(server_config(sim, deadband=deadband))
    sink = Collected()
    async with running(connector, sink):
        await wait_for(lambda: sink.last("Temperature") is not None, 10, "first temperature")
        first = sink.values("Temperature")[-1]
        assert isinstance(first, float)
        node = sim._nodes["Temperature"]
        for step in steps:
            await node.write_value(first + step)
            await asyncio.sleep(0.06)
        await wait_for(lambda: sink.values("Temperature")[-1] == first + steps[-1], 5, "the last change")
        assert connector.health.refused_tags == {}
        return [round(float(v) - first, 6) for v in sink.values("Temperature")]  # type: ignore[arg-type]


async def test_absolute_deadband_suppresses_small_changes(sim: OpcUaMachine) -> None:
    # Only the last step leaves the deadband around the first value.
    assert await temperatures_kept(sim, Deadband(kind="absolute", value=1.0), (0.2, 0.4, 0.6, 2.5)) == [0, 2.5]


async def test_percent_deadband_is_a_share_of_the_eu_range(sim: OpcUaMachine) -> None:
    """Temperature's EURange is 0..200, so 1 % is 2.0; asyncua's server does not filter percent deadbands itself
    (it logs that), so this also proves the connector's own filter."""
    steps = (0.5, 1.5, 2.0, -1.9, 2.5, 3.0, 4.6)  # kept: 2.5 (more than 2 from the first), 4.6 (from 2.5)
    assert await temperatures_kept(sim, Deadband(kind="percent", value=1.0), steps) == [0, 2.5, 4.6]


async def test_percent_deadband_on_a_node_without_eu_range_is_refused_by_name(sim: OpcUaMachine) -> None:
    cfg = server_config(sim)
    tags = [*cfg.tags, OpcUaTag(name="Counter", node_id=sim.node_id("GoodCount"),
                                deadband=Deadband(kind="percent", value=5))]
    connector, sink = OpcUaConnector(cfg.model_copy(update={"tags": tags})), Collected()
    async with running(connector, sink):
        await wait_for(lambda: connector.subscribed == len(cfg.tags), 10, "the other tags subscribed")
        await wait_for(lambda: sink.last("GoodCount") is not None, 5, "values of the other tags")
        assert "EURange" in connector.health.as_dict()["refused_tags"]["Counter"]
        assert sink.last("Counter") is None


def test_a_percent_deadband_over_100_is_refused_in_config() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        Deadband(kind="percent", value=150)


async def test_reconnects_after_a_server_restart_and_resubscribes(sim: OpcUaMachine) -> None:
    connector, sink = OpcUaConnector(server_config(sim)), Collected()
    async with running(connector, sink):
        await wait_for(lambda: connector.health.connected and sink.last("GoodCount") is not None, 10, "connected")
        sim.machine.produce(4)
        await sim.publish_now()
        await wait_for(lambda: sink.values("GoodCount")[-1:] == [4], 5, "GoodCount 4")
        await sim.stop()
        await wait_for(lambda: not connector.health.connected, 5, "the loss noticed")
        await asyncio.sleep(0.5)  # the server stays away a while; the connector keeps trying without spinning
        sim.machine.restart()
        await sim.start()
        back = time.monotonic()
        sim.machine.produce(2)
        await sim.publish_now()
        await wait_for(lambda: sink.values("GoodCount")[-1:] == [2], 5, "data after the restart")
        gap = time.monotonic() - back
        assert gap <= 5, f"data resumed {gap:.1f} s after the server was back"
        assert connector.health.reconnects >= 1
        assert connector.subscribed == 5


async def test_polled_tags_and_browse(sim: OpcUaMachine) -> None:
    tags = [OpcUaTag(name="Cycles", node_id=sim.node_id("Cycles"), mode="poll")]
    config = OpcUaServer(name="M-ASSY", url=sim.url, poll_interval_ms=50, tags=tags)
    connector, sink = OpcUaConnector(config), Collected()
    async with running(connector, sink):
        await wait_for(lambda: len(sink.values("Cycles")) >= 3, 10, "three polls")
    listed = await browse(sim.url)
    paths = {row["path"]: row for row in listed}
    assert paths["Objects/M-ASSY/GoodCount"]["node_id"] == sim.node_id("GoodCount")
    assert paths["Objects/M-ASSY/GoodCount"]["type"] == "UInt32"


async def test_an_unreachable_server_is_retried_with_backoff_not_a_busy_loop() -> None:
    config = OpcUaServer(name="nowhere", url=f"opc.tcp://127.0.0.1:{free_port()}/", timeout_s=0.5,
                         tags=[OpcUaTag(name="x", node_id="ns=2;s=x")])
    connector, sink = OpcUaConnector(config), Collected()
    async with running(connector, sink):
        await asyncio.sleep(1.5)
    # backoff 0.1, 0.2, 0.4, 0.8 (with jitter): a handful of attempts, not thousands
    assert 2 <= connector.health.restarts <= 6
    assert not connector.health.connected and connector.health.last_error


async def test_takt_opcua_browse_lists_candidate_tags(sim: OpcUaMachine) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "opcua", "browse", sim.url, "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert {"node_id": sim.node_id("State"), "path": "Objects/M-ASSY/State", "type": "Int32"} in rows
