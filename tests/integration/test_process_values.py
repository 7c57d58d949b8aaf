"""Process values as time series: deadband (absolute and percent), quality changes, retention and a point limit,
kept across restarts, and read over HTTP from a node subscribed to a simulated OPC UA machine."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import ValidationError

from connectors.base import Quality, Sample
from connectors.config import MachineSignals, ProcessValueRule
from connectors.process_values import ProcessValueLog
from simulators.machine import Machine
from simulators.opcua_machine import OpcUaMachine
from takt.config import demo_config_path
from tests.integration.wire import free_port, wait_for

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
OPERATOR = {"Authorization": "Bearer demo-operator-token-000000"}


def machines(**rule: Any) -> list[MachineSignals]:
    return [MachineSignals(equipment="OVEN-1", device="PLC-1", process_values=[
        ProcessValueRule(tag="temp", name="temperature", **rule), ProcessValueRule(tag="mode")])]


def at(seconds: float, value: Any, quality: Quality = "good", tag: str = "temp") -> Sample:
    return Sample("PLC-1", tag, value, quality, T0 + timedelta(seconds=seconds), None if quality == "good" else "x")


def values(log: ProcessValueLog, name: str = "temperature") -> list[Any]:
    return [(r["value"], r["quality"]) for r in log.query("OVEN-1", name)]


def test_an_absolute_deadband_keeps_only_changes_that_leave_it(tmp_path: Path) -> None:
    log = ProcessValueLog(tmp_path / "pv.sqlite", machines(deadband=0.5))
    log.keep([at(0, 180.0), at(1, 180.3), at(2, 180.5), at(3, 180.6), at(4, 179.4), at(5, 179.4)])
    assert values(log) == [(180.0, "good"), (180.6, "good"), (179.4, "good")]
    assert (log.kept, log.suppressed) == (3, 3)
    # A broken sensor is kept (quality changed), and so is the first good value after it.
    log.keep([at(6, None, "bad"), at(7, None, "bad"), at(8, 179.5), at(9, 179.6, "uncertain")])
    assert values(log)[3:] == [(None, "bad"), (179.5, "good"), (179.6, "uncertain")]
    # Text values are kept when they change; samples of tags without a rule are not kept at all.
    log.keep([at(10, "AUTO", tag="mode"), at(11, "AUTO", tag="mode"), at(12, "MANUAL", tag="mode"),
              at(13, 1.0, tag="other")])
    assert values(log, "mode") == [("AUTO", "good"), ("MANUAL", "good")]
    rows = log.query("OVEN-1", "temperature", since=T0 + timedelta(seconds=3), until=T0 + timedelta(seconds=6))
    assert [r["at"] for r in rows] == ["2026-11-26T01:00:03Z", "2026-11-26T01:00:04Z", "2026-11-26T01:00:06Z"]
    assert log.query("OVEN-1", limit=2)[-1]["value"] == "MANUAL"  # the newest two, oldest first


def test_a_percent_deadband_is_relative_to_the_last_kept_value(tmp_path: Path) -> None:
    log = ProcessValueLog(tmp_path / "pv.sqlite", machines(deadband_percent=1.0))
    log.keep([at(0, 200.0), at(1, 201.9), at(2, 202.1), at(3, 204.0), at(4, 204.2)])
    assert [v for v, _ in values(log)] == [200.0, 202.1, 204.2]


def test_retention_and_the_point_limit_drop_the_oldest(tmp_path: Path) -> None:
    log = ProcessValueLog(tmp_path / "pv.sqlite", machines(retention_s=60, max_points=10))
    log.keep([at(i, float(i)) for i in range(30)])
    assert log.prune(now=(T0 + timedelta(seconds=70)).timestamp()) == 20  # 10 too old (t < 10 s), 10 over the limit
    assert [v for v, _ in values(log)] == [float(i) for i in range(20, 30)]


def test_the_series_survive_a_restart_and_the_deadband_goes_on_from_the_last_kept_value(tmp_path: Path) -> None:
    log = ProcessValueLog(tmp_path / "pv.sqlite", machines(deadband=1.0))
    log.keep([at(0, 50.0), at(1, 52.0)])
    log.close()
    again = ProcessValueLog(tmp_path / "pv.sqlite", machines(deadband=1.0))
    again.keep([at(2, 52.5), at(3, 53.5)])
    assert [v for v, _ in values(again)] == [50.0, 52.0, 53.5]


def test_rules_are_checked() -> None:
    with pytest.raises(ValidationError, match="process value temperature is defined twice"):
        MachineSignals(equipment="OVEN-1", device="PLC-1", process_values=[
            ProcessValueRule(tag="t1", name="temperature"), ProcessValueRule(tag="t2", name="temperature")])
    with pytest.raises(ValidationError, match="deadband"):
        ProcessValueRule(tag="t", deadband=-1)


async def test_a_node_keeps_a_machines_temperature_and_serves_it_over_http(tmp_path: Path) -> None:
    sim = OpcUaMachine(Machine(cycle_time_s=3600), name="M-WELD", port=free_port(), tick_s=0.02)
    sim.freeze()  # the test writes the temperature itself
    await sim.start()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["connectivity"] = {
        "opcua": [{"name": "UA-WELD", "url": sim.url, "publishing_interval_ms": 20, "watchdog_s": 0.5,
                   "tags": [{"name": "Temperature", "node_id": sim.node_id("Temperature"),
                             "sampling_interval_ms": 10}]}],
        "machines": [{"equipment": "TESTRIG-30", "device": "UA-WELD", "process_values": [
            {"tag": "Temperature", "name": "temperature", "deadband": 1.0}]}],
    }
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "run", "--config", str(config), "--data-dir", str(tmp_path / "data"),
        "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = "/api/v1/equipment/TESTRIG-30/process-values"
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5,
                                     headers=OPERATOR) as client:
            async def kept(n: int) -> bool:
                try:
                    body = (await client.get(url, params={"name": "temperature"})).json()
                except httpx.HTTPError:
                    return False
                return len(body.get("values", [])) >= n

            await wait_for(lambda: kept(1), 30, "the first temperature kept")
            node = sim._nodes["Temperature"]
            for value in (30.0, 30.4, 30.8, 32.0, 32.5, 40.0):  # 30.4, 30.8 and 32.5 stay inside the deadband
                await node.write_value(value)
                await asyncio.sleep(0.1)
            await wait_for(lambda: kept(4), 10, "the values that left the deadband")
            body = (await client.get(url, params={"name": "temperature"})).json()
            assert [v["value"] for v in body["values"]][-3:] == [30.0, 32.0, 40.0]
            assert all(v["quality"] == "good" and v["at"].endswith("Z") for v in body["values"])
            latest = body["values"][-1]["at"]
            since = (await client.get(url, params={"since": latest})).json()
            assert [v["value"] for v in since["values"]] == [40.0]
            health = (await client.get("/health", headers=OPERATOR)).json()  # the retention timer runs (takt.upkeep), none done yet
            assert health["retention"] == {"enabled": True, "runs": 0, "last": None}
            assert health["components"]["writer"]["state_loaded"] is True
            minutes = await client.get(url, params={"resolution": "minute"})  # nothing old enough to fold yet
            assert minutes.status_code == 200 and minutes.json()["values"] == []
            assert (await client.get(url, params={"resolution": "hour"})).status_code == 422
            unknown = await client.get(url, params={"name": "humidity"})
            assert unknown.status_code == 404 and "has no process value humidity" in unknown.text
            assert (await client.get("/api/v1/equipment/PRESS-10/process-values")).status_code == 404
            naive = await client.get(url, params={"since": "2026-11-26T01:00:00"})
            assert naive.status_code == 422 and "since" in naive.text
            assert (await client.get(url, headers={"Authorization": ""})).status_code == 401
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        await sim.stop()
    assert proc.returncode == 0, err.decode()[-2000:]


async def test_a_machine_measured_characteristic_is_recorded_as_inspections_with_verdicts(tmp_path: Path) -> None:
    sim = OpcUaMachine(Machine(cycle_time_s=3600), name="M-RIG", port=free_port(), tick_s=0.02)
    await sim.start()  # idle: about 1 bar
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["master_data"]["inspection_plans"].append({
        "plan": "IP-RIG-PRESSURE", "description": "Test rig line pressure", "hold_on_fail": True,
        "characteristics": [{"characteristic": "line_pressure", "kind": "numeric", "nominal": 1.0, "lsl": 0.5,
                             "usl": 3.0, "unit": "bar"}]})
    site["connectivity"] = {
        "opcua": [{"name": "UA-RIG", "url": sim.url, "publishing_interval_ms": 20,
                   "tags": [{"name": "Pressure", "node_id": sim.node_id("Pressure"), "sampling_interval_ms": 10}]}],
        "machines": [{"equipment": "TESTRIG-30", "device": "UA-RIG",
                      "process_values": [{"tag": "Pressure", "name": "pressure", "deadband": 0.5}],
                      "inspections": [{"plan": "IP-RIG-PRESSURE", "every_s": 0.5,
                                       "characteristics": {"line_pressure": "pressure"}}]}],
    }
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "run", "--config", str(config), "--data-dir", str(tmp_path / "data"),
        "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5,
                                     headers=OPERATOR) as client:
            async def inspections() -> dict[str, Any]:
                try:
                    return dict((await client.get("/health", headers=OPERATOR)).json()["connectivity"]["machine_inspections"])
                except (httpx.HTTPError, KeyError):
                    return {}

            async def recorded(n: int, ncrs: int = 0) -> bool:
                found = await inspections()
                return bool(found.get("recorded", 0) >= n and found.get("nonconformances", 0) >= ncrs)

            await wait_for(lambda: recorded(2), 30, "two passing inspections while the rig idles")
            assert (await inspections())["nonconformances"] == 0
            sim.machine.start()  # running: about 6 bar, over the plan's 3 bar limit
            await wait_for(lambda: recorded(3, ncrs=1), 15, "a failing inspection and its NCR")
            journal = (await client.get("/api/v1/journal", params={"limit": 1000})).json()
            events = journal.get("events", journal) if isinstance(journal, dict) else journal
            kinds = [ev["type"] for ev in events]
            assert "InspectionRecorded" in kinds and "NonconformanceRaised" in kinds
            ncr = next(ev for ev in events if ev["type"] == "NonconformanceRaised")
            assert "line_pressure" in json.dumps(ncr)
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        await sim.stop()
    assert proc.returncode == 0, err.decode()[-2000:]


def test_an_inspection_must_measure_with_kept_process_values() -> None:
    from connectors.config import MachineInspection

    with pytest.raises(ValidationError, match="measured by process value leak, which machine OVEN-1 does not keep"):
        MachineSignals(equipment="OVEN-1", device="PLC-1", process_values=[ProcessValueRule(tag="temp")],
                       inspections=[MachineInspection(plan="IP-1", characteristics={"leak_rate": "leak"})])


def test_an_inspection_round_is_skipped_without_a_fresh_good_value(tmp_path: Path) -> None:
    from connectors.config import MachineInspection
    from connectors.inspections import MachineInspector

    machine = MachineSignals(equipment="OVEN-1", device="PLC-1", process_values=[ProcessValueRule(tag="temp")],
                             inspections=[MachineInspection(plan="IP-1", every_s=10,
                                                            characteristics={"oven_temp": "temp"})])
    log = ProcessValueLog(tmp_path / "pv.sqlite", [machine])

    async def nowhere(equipment: str) -> None:
        return None

    inspector = MachineInspector(None, log, [machine], nowhere)  # type: ignore[arg-type]
    rule = machine.inspections[0]
    assert inspector.measurements(machine, rule, T0) == "no value of temp yet"
    log.keep([at(0, None, "bad")])
    assert inspector.measurements(machine, rule, T0) == "temp is bad (None)"
    log.keep([at(1, 181.25)])
    measured = inspector.measurements(machine, rule, T0 + timedelta(seconds=5))
    assert not isinstance(measured, str)
    assert [(m.characteristic, str(m.value)) for m in measured] == [("oven_temp", "181.25")]
    stale = inspector.measurements(machine, rule, T0 + timedelta(seconds=30))
    assert isinstance(stale, str) and stale.startswith("temp is stale")
