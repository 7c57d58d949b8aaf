"""The simulated OPC UA machine with the PackML companion specification loaded: browsable as a PackML object, and
its state machine's CurrentState (a text) read by the connector and recorded as the machine's state."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.base import Backoff
from connectors.config import MachineSignals, OpcUaServer, OpcUaTag, StateRule
from connectors.mapping import SignalMapper
from connectors.opcua import OpcUaConnector, browse
from edge import reference
from edge.service import Service
from edge.store import Store
from simulators.machine import Machine
from simulators.opcua_machine import OpcUaMachine
from tests.integration.conftest import supervised
from tests.integration.test_signal_mapping import plant, state_history  # noqa: F401  (M-ASSY on WS-20)
from tests.integration.wire import free_port, wait_for
from tests.shared_data import SHARED_DATA

NODESETS = reference.opcua_nodesets() or SHARED_DATA / "opcua" / "nodesets"  # installed, else the mirror
PACKML = NODESETS / "PackML" / "Opc.Ua.PackML.NodeSet2.xml"
pytestmark = pytest.mark.skipif(not PACKML.exists(), reason=f"{PACKML} (shared data) is not there")


@pytest.fixture
async def sim() -> AsyncIterator[OpcUaMachine]:
    machine = OpcUaMachine(Machine(cycle_time_s=2.0), port=free_port(), tick_s=0.02, nodesets=[PACKML])
    await machine.start()
    yield machine
    await machine.stop()


async def test_the_machine_is_a_packml_object_and_its_current_state_is_recorded(
        sim: OpcUaMachine, plant: tuple[Store, Service]) -> None:  # noqa: F811
    listed = {row["path"]: row for row in await browse(sim.url, max_depth=4)}
    assert listed["Objects/PackMLObjects/M-ASSY/BaseStateMachine/CurrentState"]["type"] == "LocalizedText"
    assert listed["Objects/PackMLObjects/M-ASSY/Status/CurMachSpeed"]["type"] == "Float"
    assert listed["Objects/M-ASSY/GoodCount"]["node_id"] == sim.node_id("GoodCount")  # still ns=2, the machine's

    store, service = plant
    tags = [OpcUaTag(name=name, node_id=sim.packml_node_ids[name], sampling_interval_ms=20)
            for name in ("CurrentState", "CurMachSpeed")]
    connector = OpcUaConnector(OpcUaServer(name="UA-PACKML", url=sim.url, publishing_interval_ms=20, watchdog_s=0.5,
                                           tags=tags))
    mapper = SignalMapper(service, store, [MachineSignals(equipment="M-ASSY", device="UA-PACKML",
                                                          state=StateRule(tag="CurrentState"))])
    seen: list[tuple[str, object]] = []

    async def sink(batch: object) -> None:
        seen.extend((s.tag, s.value) for s in batch)  # type: ignore[attr-defined]
        await mapper(batch)  # type: ignore[arg-type]

    async with supervised(connector, sink, Backoff(initial=0.1, maximum=0.5)):
        await wait_for(lambda: ("CurrentState", "Idle") in seen, 10, "Idle as text")
        # the sink saw it before the mapping recorded it: wait for the record, do not race it
        await wait_for(lambda: state_history(store) == [("idle", "idle")], 10, "idle recorded")
        sim.machine.start()
        await wait_for(lambda: state_history(store)[-1:] == [("running", None)], 10, "running recorded")
        await wait_for(lambda: ("CurMachSpeed", 30.0) in seen, 10, "speed 30 (a part every 2 s)")
        sim.machine.raise_alarm(101)
        await wait_for(lambda: state_history(store)[-1:] == [("down", "aborted")], 10, "down recorded")
        await mapper.drain()


def test_a_missing_nodeset_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nodesets: no such file"):
        OpcUaMachine(Machine(), nodesets=[tmp_path / "nope.xml"])
