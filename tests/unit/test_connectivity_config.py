"""The connectivity section of a site file: references between devices, tags and machines are checked."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.config import ConnectivitySection

DEVICE: dict[str, Any] = {"name": "PLC-10", "host": "10.0.0.5", "groups": [{"tags": [{"name": "state", "address": 0}]}]}


def test_a_machine_must_name_a_known_device_and_tags() -> None:
    ok = ConnectivitySection.model_validate({"modbus": [DEVICE], "machines": [
        {"equipment": "PRESS-10", "device": "PLC-10", "state": {"tag": "state"}}]})
    assert ok.machines[0].state is not None and ok.machines[0].state.kind == "packml"
    with pytest.raises(ValidationError, match="no OPC UA server, Modbus device or MQTT source is named PLC-99"):
        ConnectivitySection.model_validate({"modbus": [DEVICE], "machines": [
            {"equipment": "PRESS-10", "device": "PLC-99"}]})
    with pytest.raises(ValidationError, match="PLC-10 has no tag good"):
        ConnectivitySection.model_validate({"modbus": [DEVICE], "machines": [
            {"equipment": "PRESS-10", "device": "PLC-10", "counters": [{"tag": "good", "kind": "good"}]}]})


def test_queue_size_zero_and_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="queue_size"):
        ConnectivitySection.model_validate({"opcua": [{"name": "M", "url": "opc.tcp://h:4840/", "tags": [
            {"name": "t", "node_id": "ns=2;s=t", "queue_size": 0}]}]})
    with pytest.raises(ValidationError, match="sampling"):
        ConnectivitySection.model_validate({"opcua": [{"name": "M", "url": "opc.tcp://h:4840/", "tags": [
            {"name": "t", "node_id": "ns=2;s=t", "sampling": 5}]}]})


S7: dict[str, Any] = {"name": "S7-1", "host": "10.0.0.7", "groups": [{"tags": [
    {"name": "state", "db": 1, "offset": 0}, {"name": "running", "area": "M", "offset": 0, "type": "BOOL", "bit": 0}]}]}


def test_s7_plcs_are_devices_machines_can_name() -> None:
    ok = ConnectivitySection.model_validate({"s7": [S7], "machines": [
        {"equipment": "PRESS-10", "device": "S7-1", "state": {"tag": "state"}}]})
    plc = ok.s7[0]
    assert (plc.rack, plc.slot, plc.port) == (0, 1, 102)
    assert [t.address for t in plc.groups[0].tags] == ["DB1.DBW0", "M0.0"]
    with pytest.raises(ValidationError, match="S7-1 has no tag good"):
        ConnectivitySection.model_validate({"s7": [S7], "machines": [
            {"equipment": "PRESS-10", "device": "S7-1", "counters": [{"tag": "good", "kind": "good"}]}]})
    with pytest.raises(ValidationError, match="defined twice"):
        ConnectivitySection.model_validate({"s7": [S7], "modbus": [{**DEVICE, "name": "S7-1"}]})


@pytest.mark.parametrize(("tag", "why"), [
    ({"name": "t", "offset": 0}, "a DB tag needs its data block number"),
    ({"name": "t", "area": "M", "db": 1, "offset": 0}, "only DB tags have one"),
    ({"name": "t", "db": 1, "offset": 0, "type": "BOOL"}, "a BOOL needs bit 0..7"),
    ({"name": "t", "db": 1, "offset": 0, "type": "BOOL", "bit": 8}, "less than or equal to 7"),
    ({"name": "t", "db": 1, "offset": 0, "type": "STRING"}, "a STRING needs its declared length"),
    ({"name": "t", "db": 1, "offset": 0, "type": "S5TIME"}, "type"),
])
def test_s7_tags_are_checked(tag: dict[str, Any], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        ConnectivitySection.model_validate({"s7": [{**S7, "groups": [{"tags": [tag]}]}]})


def test_s7_tsaps_go_together() -> None:
    ConnectivitySection.model_validate({"s7": [{**S7, "local_tsap": 0x0100, "remote_tsap": 0x0200}]})
    with pytest.raises(ValidationError, match="local_tsap and remote_tsap go together"):
        ConnectivitySection.model_validate({"s7": [{**S7, "remote_tsap": 0x0200}]})


LOGIX: dict[str, Any] = {"name": "L-1", "host": "10.0.0.9", "groups": [{"tags": [
    {"name": "good", "tag": "GoodCount"}, {"name": "step", "tag": "Program:MainProgram.Step"},
    {"name": "station", "tag": "Line.Station1.Good"}, {"name": "recent", "tag": "Recent[0]", "elements": 10},
    {"name": "bit", "tag": "Status.3"}, {"name": "cell", "tag": "Grid[1,2].Value"}]}]}


def test_logix_controllers_are_devices_machines_can_name() -> None:
    ok = ConnectivitySection.model_validate({"logix": [LOGIX], "machines": [
        {"equipment": "PRESS-10", "device": "L-1", "counters": [{"tag": "good", "kind": "good"}]}]})
    assert ok.logix[0].address == "10.0.0.9:44818 slot 0"
    micro = ConnectivitySection.model_validate({"logix": [{**LOGIX, "micro800": True}]}).logix[0]
    assert micro.address == "10.0.0.9:44818"
    with pytest.raises(ValidationError, match="L-1 has no tag scrap"):
        ConnectivitySection.model_validate({"logix": [LOGIX], "machines": [
            {"equipment": "PRESS-10", "device": "L-1", "counters": [{"tag": "scrap", "kind": "scrap"}]}]})


@pytest.mark.parametrize("tag", ["1Count", "Line..Good", "Program:.Step", "Recent[]", "Good Count", "Recent[1,2,3,4]"])
def test_logix_tag_names_are_checked(tag: str) -> None:
    with pytest.raises(ValidationError, match="String should match pattern"):
        ConnectivitySection.model_validate({"logix": [{**LOGIX, "groups": [{"tags": [{"name": "t", "tag": tag}]}]}]})


@pytest.mark.parametrize(("setpoint", "tag", "reason"), [
    ({"parameter": "Speed", "tag": "nope", "writable": True}, {}, "setpoints: PLC has no tag nope"),
    ({"parameter": "Speed", "tag": "speed", "writable": True}, {"table": "input"}, "Speed: tag speed is in the "
     "read-only input table"),
    ({"parameter": "Speed", "tag": "speed", "low": 5, "high": 1}, {}, "low: 5 is above high 1"),
])
def test_a_setpoint_names_what_is_wrong(setpoint: dict[str, Any], tag: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ConnectivitySection.model_validate({
            "modbus": [{"name": "PLC", "host": "127.0.0.1", "groups": [{"tags": [
                {"name": "speed", "address": 100, "type": "float32", **tag}]}]}],
            "machines": [{"equipment": "M-1", "device": "PLC", "setpoints": {"tags": [setpoint]}}]})
    assert reason in str(caught.value)


def test_a_recipe_per_item_revision_and_operation_once() -> None:
    from takt.config.master_data import MasterData

    recipe = {"item": "PUMP", "revision": "B", "parameters": {"Speed": "72.3"}}
    found = MasterData.model_validate({"recipes": [recipe, {**recipe, "operation": 10}]})
    assert found.recipes[0].parameters == {"Speed": Decimal("72.3")}
    with pytest.raises(ValidationError, match="item PUMP revision B has two recipes for every operation"):
        MasterData.model_validate({"recipes": [recipe, recipe]})
    with pytest.raises(ValidationError, match="recipes.0.parameters"):
        MasterData.model_validate({"recipes": [{**recipe, "parameters": {"Speed": "fast"}}]})
