"""A whole node (``takt run``) with a connectivity section: it polls a simulated PLC, records the machine's
state, and shows the connector's health on /health."""
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
from simulators.machine import Machine
from simulators.modbus_plc import ModbusPlc
from takt.config import demo_config_path
from tests.integration.wire import free_port, wait_for


async def test_takt_run_polls_a_plc_and_shows_its_health(tmp_path: Path) -> None:
    plc = ModbusPlc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02)
    await plc.start()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["connectivity"] = {
        "modbus": [{"name": "PLC-10", "host": "127.0.0.1", "port": plc.port, "timeout_s": 0.5,
                    "groups": [{"interval_ms": 50, "tags": [
                        {"name": "state", "address": 0}, {"name": "alarm", "address": 1},
                        {"name": "good", "address": 2, "type": "uint32"}]}]}],
        "machines": [{"equipment": "PRESS-10", "device": "PLC-10",
                      "state": {"tag": "state", "reason_tag": "alarm", "reasons": {101: "jam"}},
                      "counters": [{"tag": "good", "kind": "good"}]}],
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
            async def connected() -> bool:
                nonlocal health
                try:
                    health = (await client.get("/health", headers={"Authorization": "Bearer demo-operator-token-000000"})).json()
                except httpx.HTTPError:
                    return False
                plc_health = health.get("connectivity", {}).get("PLC-10", {})
                return bool(plc_health.get("connected")) and health["connectivity"]["signal_mapping"]["commands"] >= 1

            await wait_for(connected, 30, "the node polling the PLC")
            plc.machine.raise_alarm(101)
            plc.refresh()

            async def down() -> bool:
                await connected()
                return bool(health["connectivity"]["signal_mapping"]["commands"] >= 2)

            await wait_for(down, 10, "the alarm recorded")
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        await plc.stop()
    assert proc.returncode == 0, err.decode()[-2000:]
    part = health["connectivity"]["PLC-10"]
    assert part["reconnects"] == 0 and part["values"] > 0 and part["last_value_age_s"] < 5
    assert health["connectivity"]["signal_mapping"]["refused"] == 0
    assert health["status"] == "ok"
    store = Store(sqlite_url(tmp_path / "data"))
    try:
        with store.engine.connect() as conn:
            states = conn.execute(select(machine_state_history.c.state, machine_state_history.c.reason)
                                  .where(machine_state_history.c.equipment == "PRESS-10")
                                  .order_by(machine_state_history.c.seq)).all()
    finally:
        store.close()
    assert [tuple(r) for r in states] == [("idle", "idle"), ("down", "jam")]
