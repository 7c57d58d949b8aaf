"""A full disk under the historian: a full node (``takt run``) whose ``historian.folder`` is a small tmpfs mounted
by the test (1 MB; a filler file takes the room left once the node writes), reading a temperature from the OPC UA
simulator. How the disk is made full: a real filesystem without room (ENOSPC, SQLite's SQLITE_FULL), not a mock;
mounting needs root (CI runs the suite as root), so the test is skipped elsewhere. The historian refuses new values
with a clear state on /health (``disk_full``) and counters (/health and /metrics), the OPC UA source and the
recording of commands go on (an operator starts an operation: recorded in the journal), and once there is room
again the historian writes again; a node stopped on a full disk stops cleanly."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from simulators.machine import Machine
from simulators.opcua_machine import OpcUaMachine
from takt.config import demo_config_path
from tests.integration.wire import free_port, wait_for

pytestmark = pytest.mark.slow

OPERATOR = {"Authorization": "Bearer demo-operator-token-000000"}


def mount_tmpfs(folder: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs for a full disk needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def fill(folder: Path) -> Path:
    """A file taking every byte left on the volume."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 4096, 512, 1):
            try:
                while out.write(b"\0" * size):
                    pass
            except OSError:
                pass
    return filler


async def test_a_full_disk_refuses_process_values_with_a_clear_state_and_commands_go_on(tmp_path: Path) -> None:
    volume = tmp_path / "historian"
    volume.mkdir()
    mount_tmpfs(volume, "1m")
    sim = OpcUaMachine(Machine(cycle_time_s=3600), name="M-WELD", port=free_port(), tick_s=0.02)
    sim.freeze()
    await sim.start()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["historian"] = {"flush_s": 0.1, "folder": str(volume)}
    site["connectivity"] = {
        "opcua": [{"name": "UA-WELD", "url": sim.url, "publishing_interval_ms": 20, "watchdog_s": 0.5,
                   "tags": [{"name": "Temperature", "node_id": sim.node_id("Temperature"),
                             "sampling_interval_ms": 10}]}],
        "machines": [{"equipment": "TESTRIG-30", "device": "UA-WELD", "process_values": [
            {"tag": "Temperature", "name": "temperature", "deadband": 0}]}],
    }
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    temperature = sim._nodes["Temperature"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "run", "--config", str(config), "--data-dir", str(tmp_path / "data"),
        "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5, headers=OPERATOR) as client:
            async def historian() -> dict[str, Any]:
                try:
                    body = (await client.get("/health")).json()
                except (httpx.HTTPError, ValueError):
                    return {}
                return dict(body.get("connectivity", {}).get("process_values", {}))

            async def written(n: int) -> bool:
                return int((await historian()).get("kept", 0)) >= n

            await wait_for(lambda: written(1), 30, "the first value written")
            assert (await historian())["file"] == str(volume / "process-values.sqlite")
            filler = fill(volume)
            value = 100.0

            async def full() -> bool:
                nonlocal value
                value += 1
                await temperature.write_value(value)
                return (await historian()).get("state") == "disk_full"

            await wait_for(full, 30, "the historian to see its disk full", interval=0.05)
            for _ in range(10):  # the source goes on: new values are refused at once, counted
                value += 1
                await temperature.write_value(value)
                await asyncio.sleep(0.05)
            await wait_for(lambda: refused_some(historian), 10, "values refused")
            health = await historian()
            assert "full" in health["last_error"] and health["write_errors"] >= 1 and health["dropped"] == 0
            metrics = (await client.get("/metrics")).text
            assert "takt_historian_disk_full 1.0" in metrics and "takt_historian_refused_values_total" in metrics

            # the recording of commands does not wait on the historian's disk
            started = await client.post("/api/v1/work-orders/WO-1001/operations/10/start", json={},
                                        headers={**OPERATOR, "Idempotency-Key": "disk-full-start-1"})
            assert started.status_code in (200, 201), started.text
            order = (await client.get("/api/v1/work-orders/WO-1001")).json()
            assert next(o for o in order["operations"] if o["operation"] == 10)["status"] != "planned", order

            filler.unlink()  # room again: the writer writes what it held, and new values are kept again
            await wait_for(lambda: state_is(historian, "ok"), 15, "the historian writing again")
            value = 500.0
            await temperature.write_value(value)

            async def stored() -> bool:
                body = (await client.get("/api/v1/equipment/TESTRIG-30/process-values",
                                         params={"limit": 10_000})).json()
                return 500.0 in [v["value"] for v in body.get("values", [])]

            await wait_for(stored, 15, "a value stored after the disk had room again")
            fill(volume)  # full again: the node still stops cleanly (exit 0 below), counting what it lost
            await wait_for(full, 30, "the disk full again", interval=0.05)
    finally:
        try:
            if proc.returncode is None:
                proc.terminate()
                _, err = await asyncio.wait_for(proc.communicate(), 30)
                assert proc.returncode == 0, err.decode()[-2000:]
        finally:
            await sim.stop()
            subprocess.run(["umount", str(volume)], check=False)


async def refused_some(historian: Any) -> bool:
    return int((await historian()).get("refused", 0)) > 0


async def state_is(historian: Any, state: str) -> bool:
    return bool((await historian()).get("state") == state)
