"""Connector metrics on a running node's /metrics: values, reads, failed reads, errors, reconnects, last value age,
read over HTTP from ``takt run`` polling a simulated Modbus PLC and subscribed to a simulated OPC UA machine."""
from __future__ import annotations

import asyncio
import math
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from simulators.machine import Machine
from simulators.modbus_plc import ModbusPlc
from simulators.opcua_machine import OpcUaMachine
from takt.config import demo_config_path
from tests.integration.wire import free_port, wait_for


def samples(text: str) -> dict[tuple[str, str], float]:
    """(sample name, connector or other label) → value."""
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            label = s.labels.get("connector") or s.labels.get("outcome") or s.labels.get("kind") or ""
            found[(s.name, label)] = s.value
    return found


async def test_connector_metrics_on_the_nodes_metrics_endpoint(tmp_path: Path) -> None:
    plc = ModbusPlc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02)
    opcua = OpcUaMachine(Machine(cycle_time_s=3600), name="M-WELD", port=free_port(), tick_s=0.02)
    await plc.start()
    await opcua.start()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["connectivity"] = {
        "modbus": [{"name": "PLC-10", "host": "127.0.0.1", "port": plc.port, "timeout_s": 0.5,
                    "groups": [{"interval_ms": 50, "tags": [{"name": "state", "address": 0},
                                                            {"name": "good", "address": 2, "type": "uint32"}]}]}],
        "opcua": [{"name": "M-WELD", "url": opcua.url, "publishing_interval_ms": 50, "watchdog_s": 0.5,
                   "tags": [{"name": "State", "node_id": opcua.node_id("State")},
                            {"name": "Cycles", "node_id": opcua.node_id("Cycles"), "mode": "poll"}],
                   "poll_interval_ms": 100}],
        "machines": [{"equipment": "PRESS-10", "device": "PLC-10", "state": {"tag": "state"},
                      "counters": [{"tag": "good", "kind": "good"}]}],
    }
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "run", "--config", str(config), "--data-dir", str(tmp_path / "data"),
        "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen: dict[tuple[str, str], float] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5) as client:
            async def scrape() -> dict[tuple[str, str], float]:
                nonlocal seen
                try:
                    response = await client.get("/metrics")
                except httpx.HTTPError:
                    return {}
                assert response.status_code == 200
                seen = samples(response.text)
                return seen

            async def flowing() -> bool:
                m = await scrape()
                return (m.get(("takt_connector_values_total", "PLC-10"), 0) >= 10
                        and m.get(("takt_connector_reads_total", "M-WELD"), 0) >= 3
                        and m.get(("takt_connector_connected", "M-WELD")) == 1)

            await wait_for(flowing, 30, "values from both connectors on /metrics")
            m = seen
            assert m[("takt_connector_connected", "PLC-10")] == 1
            assert m[("takt_connector_reads_total", "PLC-10")] >= 10  # two requests per poll
            assert m[("takt_connector_failed_reads_total", "PLC-10")] == 0
            assert m[("takt_connector_errors_total", "PLC-10")] == 0
            assert m[("takt_connector_reconnects_total", "PLC-10")] == 0
            assert 0 <= m[("takt_connector_last_value_age_seconds", "PLC-10")] < 5
            assert m[("takt_connector_values_total", "M-WELD")] >= 3
            assert m[("takt_signal_commands_total", "recorded")] >= 1  # PRESS-10's state was recorded

            await plc.stop()  # the PLC goes away: errors count, the age grows, then it is back: a reconnect
            await wait_for(lambda: _is(scrape(), ("takt_connector_errors_total", "PLC-10"), lambda v: v >= 1), 10,
                           "the lost PLC counted as an error")
            assert seen[("takt_connector_connected", "PLC-10")] == 0
            await asyncio.sleep(0.5)
            age = seen[("takt_connector_last_value_age_seconds", "PLC-10")]
            m = await scrape()
            assert m[("takt_connector_last_value_age_seconds", "PLC-10")] > age
            await plc.start()
            await wait_for(lambda: _is(scrape(), ("takt_connector_reconnects_total", "PLC-10"), lambda v: v >= 1), 15,
                           "the reconnect counted")
            await wait_for(lambda: _is(scrape(), ("takt_connector_last_value_age_seconds", "PLC-10"),
                                       lambda v: not math.isnan(v) and v < 1), 10, "fresh values again")
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        await plc.stop()
        await opcua.stop()
    assert proc.returncode == 0, err.decode()[-2000:]


async def _is(scraped: Any, key: tuple[str, str], check: Any) -> bool:
    m = await scraped
    return key in m and bool(check(m[key]))
