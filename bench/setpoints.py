"""Setpoint download benchmark: 50 parameters written to a simulated machine and read back, through the node's whole
download path, against raw client writes and reads of the same 50 values in the same run.
``python -m bench.setpoints [--rounds N] [--json FILE]``.

Figures (``FIGURE <name> <value> <unit>`` lines at the end):

- ``setpoint_download_p99_ms``: the 99th percentile time of one changeover download of an operation's 50 parameters
  through ``connectors.setpoints.SetpointDownloads`` (the operation's parameters mapped to the machine's setpoint
  tags, every check before writing, the write and the read-back on the connector's live connection, and
  ``DownloadSetpoints`` recorded through the one write path: a durable SQLite commit), the larger of OPC UA and
  Modbus (goal <= 250 ms on both). Each round writes new values, so the PLC really changes them.
- ``setpoint_download_p99_ms_opcua`` / ``_modbus``: the same per protocol. The OPC UA machine
  (``simulators.opcua_machine`` with 50 writable Double setpoints) and the Modbus PLC (``simulators.modbus_plc``,
  50 float32 in its writable registers 100..199) run in a child process each.
- ``setpoint_raw_p99_ms_opcua`` / ``_modbus``: the baseline, the same 50 values written and read back by a raw client
  of the same library on its own connection (asyncua: one Write and one Read request; pymodbus: one
  write_registers of 100 registers and one read_holding_registers), measured interleaved with the node's rounds.
- ``setpoint_download_vs_raw_ratio_opcua`` / ``_modbus``: the node's p99 over the raw p99 (what checking, recording
  and the journal cost on top of the wire).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from simulators.ports import free_port

COUNT = 50
FIGURES: list[tuple[str, float, str]] = []


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 3), unit))
    print(f"  {name} = {round(value, 3)} {unit}", flush=True)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] * 1000


# --- the simulated machines (child processes) ---------------------------------------------------------------

async def serve(kind: str, port: int) -> None:
    from simulators.machine import Machine

    sim: Any
    if kind == "opcua":
        from simulators.opcua_machine import OpcUaMachine

        sim = OpcUaMachine(Machine(cycle_time_s=3600), port=port, extra_setpoints=COUNT, tick_s=0.5)
    else:
        from simulators.modbus_plc import ModbusPlc

        sim = ModbusPlc(Machine(cycle_time_s=3600), port=port, tick_s=0.5)
    await sim.start()
    print("READY", flush=True)
    await asyncio.Event().wait()


@contextlib.contextmanager
def child(kind: str, port: int) -> Any:
    proc = subprocess.Popen([sys.executable, "-m", "bench.setpoints", "--serve", kind, str(port)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "READY" not in line:
            raise RuntimeError(f"the {kind} machine did not start: {line!r}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- the node's side --------------------------------------------------------------------------------------

def device_section(kind: str, port: int) -> dict[str, Any]:
    if kind == "opcua":
        url = f"opc.tcp://127.0.0.1:{port}/takt/"
        return {"opcua": [{"name": "PLC", "url": url, "tags": [
            {"name": f"sp{i}", "node_id": f"ns=2;s=M-ASSY.SP{i:03d}", "sampling_interval_ms": 1000}
            for i in range(COUNT)]}]}
    return {"modbus": [{"name": "PLC", "host": "127.0.0.1", "port": port, "timeout_s": 2, "groups": [
        {"interval_ms": 1000, "tags": [{"name": f"sp{i}", "address": 100 + 2 * i, "type": "float32"}
                                       for i in range(COUNT)]}]}]}


@contextlib.asynccontextmanager
async def node(kind: str, port: int, folder: Path) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    """A node (store, service, connectivity) with machine M-1 taking 50 setpoints; yields a changeover of round n."""
    from connectors.config import ConnectivitySection
    from connectors.runtime import Connectivity
    from edge.domain import commands as c
    from edge.service import Service
    from edge.store import Store, sqlite_url

    store = Store(sqlite_url(folder))
    store.migrate()
    service = Service(store, "bench").start()
    admin = frozenset({"admin"})
    service.handle(c.DefineItem(idempotency_key="item", actor="bench", actor_roles=admin, item="PUMP",
                                description="Pump", unit="pcs", revision="A", lot_controlled=False))
    service.handle(c.DefineEquipment(idempotency_key="eq", actor="bench", actor_roles=admin, equipment="M-1",
                                     workstation="WS-1"))
    section = ConnectivitySection.model_validate({**device_section(kind, port), "machines": [
        {"equipment": "M-1", "device": "PLC", "setpoints": {"tags": [
            {"parameter": f"P{i:02d}", "tag": f"sp{i}", "writable": True, "low": 0, "high": 10_000}
            for i in range(COUNT)]}}]})
    connectivity = Connectivity(service, store, section)
    downloads = connectivity.setpoints
    assert downloads is not None
    connectivity.start()
    deadline = time.monotonic() + 20
    while not connectivity.connectors[0].health.connected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {kind} connector did not connect")
        await asyncio.sleep(0.02)

    async def changeover(n: int) -> None:
        # a work order per round, its operation carrying the 50 parameters (new values each round)
        wo = f"WO-{n}"
        service.handle(c.ReleaseWorkOrder(
            idempotency_key=f"wo-{n}", actor="bench", actor_roles=admin, work_order=wo, item="PUMP",
            item_revision="A", bom_revision="1", quantity=Decimal(1), operations=(c.OperationSpec(
                operation=10, description="Mould", workstation="WS-1",
                parameters=tuple(f"P{i:02d}={n % 97 + i}.5" for i in range(COUNT))),)))
        start = time.perf_counter()
        recorded = await downloads.download(wo, 10, idempotency_key=f"changeover-{n}", actor="bench",
                                            actor_roles=frozenset({"operator"}))
        TIMES.append(time.perf_counter() - start)
        assert recorded and recorded[0].events, "the download was not recorded"

    try:
        yield changeover
    finally:
        await connectivity.stop()
        service.stop()
        store.close()


TIMES: list[float] = []


# --- the raw baselines ------------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def raw(kind: str, port: int) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    if kind == "opcua":
        from asyncua import ua
        from asyncua.client.client import Client
        from asyncua.ua.attribute_ids import AttributeIds

        client = Client(f"opc.tcp://127.0.0.1:{port}/takt/", timeout=4)
        await client.connect()
        nodes = [ua.NodeId.from_string(f"ns=2;s=M-ASSY.SP{i:03d}") for i in range(COUNT)]

        async def opcua_round(n: int) -> None:
            values = [ua.DataValue(ua.Variant(float(n % 97 + i) + 0.25, ua.VariantType.Double)) for i in range(COUNT)]
            start = time.perf_counter()
            statuses = await client.uaclient.write_attributes(nodes, values)
            read = await client.uaclient.read_attributes(nodes, AttributeIds.Value)
            RAW.append(time.perf_counter() - start)
            assert all(s.is_good() for s in statuses) and len(read) == COUNT

        try:
            yield opcua_round
        finally:
            await client.disconnect()
        return
    from pymodbus.client import AsyncModbusTcpClient

    mb = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    await mb.connect()

    async def modbus_round(n: int) -> None:
        raw_bytes = struct.pack(f">{COUNT}f", *(float(n % 97 + i) + 0.25 for i in range(COUNT)))
        words = list(struct.unpack(f">{COUNT * 2}H", raw_bytes))
        start = time.perf_counter()
        wr = await mb.write_registers(100, words, device_id=1)
        rr = await mb.read_holding_registers(100, count=COUNT * 2, device_id=1)
        RAW.append(time.perf_counter() - start)
        assert not wr.isError() and list(rr.registers) == words

    try:
        yield modbus_round
    finally:
        mb.close()


RAW: list[float] = []


async def measure(kind: str, rounds: int) -> tuple[float, float]:
    port = free_port()
    TIMES.clear()
    RAW.clear()
    with child(kind, port), tempfile.TemporaryDirectory(prefix="takt-bench-setpoints-") as folder:
        async with node(kind, port, Path(folder)) as ours, raw(kind, port) as baseline:
            for n in range(3):  # warm up both paths (first writes learn types, caches fill)
                await ours(10_000 + n)
                await baseline(n)
            TIMES.clear()
            RAW.clear()
            for n in range(rounds):  # interleaved: the same load on both
                await baseline(n)
                await ours(n)
    print(f"  {kind}: node median {statistics.median(TIMES) * 1000:.1f} ms, raw median "
          f"{statistics.median(RAW) * 1000:.1f} ms ({rounds} rounds)", flush=True)
    return p99(TIMES), p99(RAW)


async def main(rounds: int) -> None:
    worst = 0.0
    for kind in ("opcua", "modbus"):
        ours, baseline = await measure(kind, rounds)
        figure(f"setpoint_download_p99_ms_{kind}", ours, "ms")
        figure(f"setpoint_raw_p99_ms_{kind}", baseline, "ms")
        figure(f"setpoint_download_vs_raw_ratio_{kind}", ours / baseline, "ratio")
        worst = max(worst, ours)
    figure("setpoint_download_p99_ms", worst, "ms")


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.setpoints", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="downloads per protocol (default 200)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve[0], int(args.serve[1])))
        return
    asyncio.run(main(args.rounds))
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({n: {"value": v, "unit": u} for n, v, u in FIGURES}, indent=2))


if __name__ == "__main__":
    cli()
