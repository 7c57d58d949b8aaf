"""``takt demo`` runs the simulated line: its machines (Modbus TCP and OPC UA simulators) and the connectors mapped
to the demo's equipment, so a fresh demo shows live machine states, and counts once an operation runs."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.plant import DemoPlant
from tests.integration.wire import free_port, wait_for

OPERATOR = {"Authorization": "Bearer demo-operator-token-000000"}
EQUIPMENT = ("PRESS-10", "SCREWDRIVER-20", "TESTRIG-30")


@pytest.mark.slow
async def test_the_demo_runs_the_simulated_line_and_books_its_counts(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "demo", "--port", str(port), "--data-dir", str(tmp_path / "demo"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    health: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            async def all_connected() -> bool:
                nonlocal health
                try:
                    health = (await client.get("/health", headers=OPERATOR)).json()
                except httpx.HTTPError:
                    return False
                parts = health.get("connectivity", {})
                return len(parts) >= 5 and all(
                    p.get("connected") and p.get("values", 0) > 0 for name, p in parts.items()
                    if name not in ("signal_mapping", "process_values", "setpoints"))

            await wait_for(all_connected, 45, "the demo's three machines connected")
            assert set(health["connectivity"]) == {"PLC-PRESS-10", "OPC-SCREWDRIVER-20", "OPC-TESTRIG-30",
                                                   "signal_mapping", "process_values", "setpoints"}

            async def states_known() -> bool:
                answers = [await client.get(f"/api/v1/equipment/{e}/state", headers=OPERATOR) for e in EQUIPMENT]
                return all(a.status_code == 200 for a in answers)

            await wait_for(states_known, 20, "a recorded state for every machine")
            press = (await client.get("/api/v1/equipment/PRESS-10/state", headers=OPERATOR)).json()
            assert press["state"] in ("running", "down")  # it runs; now and then an alarm stops it

            # An operator starts operation 10 of WO-1001 at WS-10: PRESS-10's parts are booked to it.
            started = await client.post("/api/v1/work-orders/WO-1001/operations/10/start", json={},
                                        headers={**OPERATOR, "Idempotency-Key": "demo-plant-start-1"})
            assert started.status_code in (200, 201), started.text

            async def booked() -> bool:
                order = (await client.get("/api/v1/work-orders/WO-1001", headers=OPERATOR)).json()
                op10 = next(o for o in order["operations"] if o["operation"] == 10)
                return float(op10["good"]) + float(op10["scrap"]) >= 1

            await wait_for(booked, 30, "parts from PRESS-10 booked to WO-1001 operation 10")
            # Operation 20 at WS-20: the recipe's setpoints (demo.yaml) go down to SCREWDRIVER-20 first, read back
            started = await client.post("/api/v1/work-orders/WO-1001/operations/20/start", json={},
                                        headers={**OPERATOR, "Idempotency-Key": "demo-plant-start-20"})
            assert started.status_code == 201, started.text
            shown = (await client.get("/api/v1/work-orders/WO-1001/operations/20/setpoints", headers=OPERATOR)).json()
            (download,) = shown["downloads"]
            assert {v["parameter"]: (float(v["written"]), float(v["read_back"])) for v in download["values"]} == {
                "Speed": (10.0, 10.0), "Temp": (40.0, 40.0)}
            series = (await client.get("/api/v1/equipment/TESTRIG-30/process-values", headers=OPERATOR)).json()
            assert series["series"] == ["pressure", "temperature"] and series["values"], series
            metrics = (await client.get("/metrics")).text
            assert 'takt_connector_values_total{connector="PLC-PRESS-10",kind="modbus"}' in metrics
    finally:
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, out.decode()[-3000:]
    assert "PRESS-10 (PLC-PRESS-10)" in out.decode()  # the banner names the connected machines


def test_the_plant_serves_its_machines_and_says_how_to_connect() -> None:
    with DemoPlant() as plant:
        section = plant.connectivity()
        assert {m["equipment"] for m in section["machines"]} == set(EQUIPMENT)
        assert all(plant.servers[e].running for e in EQUIPMENT)
        assert section["modbus"][0]["port"] == plant.ports["PRESS-10"]
    assert not any(s.running for s in plant.servers.values())
