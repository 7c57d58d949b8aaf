"""A whole node (``takt run``) reading an S7 PLC (addressed by TSAP) and a Logix controller from its site file:
both connected on /health, their machines' states recorded, and the parts counted on the PLCs known to the node."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select

from edge.store import Store, sqlite_url
from edge.store.schema import machine_state_history
from simulators.logix_plc import LogixPlc
from simulators.machine import Machine
from simulators.s7_plc import S7Plc
from takt.config import demo_config_path
from tests.integration.wire import free_port, wait_for


async def test_takt_run_reads_an_s7_plc_and_a_logix_controller(tmp_path: Path) -> None:
    s7 = S7Plc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02)
    await s7.start()
    logix = LogixPlc(port=free_port())
    await logix.start()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["connectivity"] = {
        "s7": [{"name": "S7-PRESS", "host": "127.0.0.1", "port": s7.port, "local_tsap": 0x0100,
                "remote_tsap": 0x0200, "timeout_s": 0.5, "groups": [{"interval_ms": 50, "tags": [
                    {"name": "state", "db": 1, "offset": 0, "type": "INT"},
                    {"name": "alarm", "db": 1, "offset": 2, "type": "INT"},
                    {"name": "good", "db": 1, "offset": 4, "type": "DWORD"}]}]}],
        "logix": [{"name": "CLX-SCREW", "host": "127.0.0.1", "port": logix.port, "timeout_s": 1,
                   "groups": [{"interval_ms": 50, "tags": [
                       {"name": "state", "tag": "State"}, {"name": "alarm", "tag": "Alarm"},
                       {"name": "good", "tag": "Line.Station1.Good"}]}]}],
        "machines": [
            {"equipment": "PRESS-10", "device": "S7-PRESS", "state": {"tag": "state", "reason_tag": "alarm"},
             "counters": [{"tag": "good", "kind": "good"}]},
            {"equipment": "SCREWDRIVER-20", "device": "CLX-SCREW", "state": {"tag": "state", "reason_tag": "alarm"},
             "counters": [{"tag": "good", "kind": "good", "modulus": 2**31}]}],
    }
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "run", "--config", str(config), "--data-dir", str(tmp_path / "data"),
        "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    health: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5) as client:
            async def both_connected() -> bool:
                nonlocal health
                try:
                    health = (await client.get("/health", headers={
                        "Authorization": "Bearer demo-operator-token-000000"})).json()
                except httpx.HTTPError:
                    return False
                parts = health.get("connectivity", {})
                return all(parts.get(name, {}).get("connected") for name in ("S7-PRESS", "CLX-SCREW")) and \
                    parts["signal_mapping"]["commands"] >= 2

            await wait_for(both_connected, 30, "the node reading both PLCs")
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        await s7.stop()
        await logix.stop()
    assert proc.returncode == 0, err.decode()[-2000:]
    for name in ("S7-PRESS", "CLX-SCREW"):
        part = health["connectivity"][name]
        assert part["values"] > 0 and part["refused_tags"] == {} and part["last_error"] is None
    assert health["connectivity"]["S7-PRESS"]["kind"] == "s7" and health["connectivity"]["CLX-SCREW"]["kind"] == "logix"
    store = Store(sqlite_url(tmp_path / "data"))
    try:
        with store.engine.connect() as conn:
            states = dict(conn.execute(select(machine_state_history.c.equipment, machine_state_history.c.state)).all())
    finally:
        store.close()
    assert states == {"PRESS-10": "idle", "SCREWDRIVER-20": "running"}
