"""The connectivity section of a site file: references between devices, tags and machines are checked."""
from __future__ import annotations

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
