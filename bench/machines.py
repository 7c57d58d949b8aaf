"""Machine connectivity benchmark: OPC UA and Modbus ingestion against the simulators, each against a raw client
of the same library on the same server in the same run. ``python -m bench.machines [--seconds S] [--json FILE]``.

Figures (``FIGURE <name> <value> <unit>`` lines at the end):

- ``opcua_changes_per_s``: value changes per second through ``OpcUaConnector`` (subscription, status → quality,
  source time, batching) into ``SignalMapper`` (rule lookup per sample) with a running ``Service``. The load
  server (a child process) rewrites 1,000 Double variables as fast as it can; only the machine's counters
  and state are mapped to commands, so the 1,000 load values are looked up by the mapping but not stored (no
  process-value rules name them). Both clients subscribe with a 20 ms publishing interval and queue size 1, so
  the subscription itself allows up to 50,000 changes/s (at 50 ms it capped both at 20,000), and the load
  server skips asyncua's per-item deep copy of each value (``_lighter_server_copies``: the server, not the
  client, was the limit).
- ``opcua_raw_changes_per_s`` and ``opcua_vs_raw_ratio``: a bare asyncua client (one subscription, iterator
  mode, counting events) on the same server; the ratio is ours / raw.
- ``opcua_subscribe_10k_s``: seconds from a connected session to 10,000 monitored items accepted (the
  connector creates them in requests of 1,000).
- ``opcua_reconnect_gap_s``: worst of 5 trials, from the simulated machine's server being back after a stop to
  the connector delivering a new value (fresh session and subscription).
- ``modbus_vs_raw_ratio``: reads per second of the connector's read path (request, checks, decoding 21 mixed
  tags in one 50-register read into samples) over a bare ``read_holding_registers`` loop against the same
  simulated PLC (a child process), interleaved three times each, medians.
- ``modbus_jitter_p99_ms``: 100 simulated PLCs (a child process) each polled every 100 ms by its own connector
  for ``--seconds``; p99 of how late each cycle started.
- ``rss_10k_tags_mb``: this process's resident memory with 10,000 subscribed OPC UA tags streaming (the bench
  process also holds the store, the service and the Modbus connectors).

``--soak MINUTES`` runs the memory soak instead: 10,000 subscribed tags, all rewritten by the server every 2 s
(5,000 changes/s) through the signal mapping and a process-value log (deadband 0.5) for MINUTES; RSS is sampled
every 30 s. Figures ``rss_soak_start_mb`` (after the first minute), ``rss_soak_end_mb``, ``rss_soak_growth_mb``.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from simulators.ports import free_port

FIGURES: list[tuple[str, float, str]] = []
PUBLISH_MS = 20  # publishing interval of the throughput runs: 1,000 items x 1 value per publish caps it at 50,000/s


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 3), unit))
    print(f"  {name} = {round(value, 3)} {unit}", flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- child processes: the load servers --------------------------------------------------------------------


def _lighter_server_copies() -> None:
    """asyncua's server deep-copies every written value once per monitored item to compare it with the next
    (``MonitoredItemValues.set_current_datavalue``): 40 % of the load server's time in a profile, and the server,
    not the client under test, was the limit. The values the load server writes are new objects each time and
    never changed afterwards, so a shallow copy keeps the comparison right. Only the load server of this
    benchmark does this; both the raw client and the connector are measured against the same server."""
    import copy
    import types

    import asyncua.server.monitored_item_service as mis

    mis.copy = types.SimpleNamespace(deepcopy=copy.copy)  # type: ignore[attr-defined,assignment]


async def serve_opcua(port: int, variables: int, write: bool, every_s: float = 0.001) -> None:
    from simulators.machine import Machine
    from simulators.opcua_machine import OpcUaMachine

    _lighter_server_copies()

    sim = OpcUaMachine(Machine(cycle_time_s=0.01, scrap_rate=0.05), port=port, extra_variables=variables)
    sim.machine.start()
    await sim.start()
    print("READY", flush=True)
    names = [f"Tag{i:05d}" for i in range(variables)]
    value = 0.0
    while True:
        if write:
            value += 1.0
            await sim.write_extra({n: value + i for i, n in enumerate(names)})
        await asyncio.sleep(every_s if write else 1)


async def serve_modbus(base_port: int, count: int) -> None:
    from simulators.machine import Machine
    from simulators.modbus_plc import ModbusPlc

    plcs = [ModbusPlc(Machine(cycle_time_s=0.5, seed=i), port=base_port + i, tick_s=0.1) for i in range(count)]
    for p in plcs:
        p.machine.start()
        await p.start()
    print("READY", flush=True)
    await asyncio.Event().wait()


@contextlib.contextmanager
def child(*args: str) -> Any:
    proc = subprocess.Popen([sys.executable, "-m", "bench.machines", *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "READY" not in line:
            raise RuntimeError(f"load server did not start: {line!r}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def free_range(count: int) -> int:
    """A first port of ``count`` consecutive free ports."""
    import random
    import socket

    while True:
        base = random.randint(20000, 60000 - count)
        ok = True
        for port in range(base, base + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base


# --- OPC UA --------------------------------------------------------------------------------------------


async def opcua_raw_rate(url: str, node_ids: list[str], seconds: float, queue: int = 1) -> float:
    from asyncua import ua
    from asyncua.client.client import Client
    from asyncua.common.subscription import DataChangeEvent, OverflowPolicy
    from asyncua.ua.attribute_ids import AttributeIds

    async with Client(url, timeout=10) as client:
        sub = await client.create_subscription(PUBLISH_MS, None, queue_maxsize=200_000, overflow=OverflowPolicy.WARN)
        requests = []
        for handle, nid in enumerate(node_ids, start=1):
            rv = ua.ReadValueId()
            rv.NodeId = ua.NodeId.from_string(nid)
            rv.AttributeId = ua.UInt32(AttributeIds.Value)
            params = ua.MonitoringParameters()
            params.ClientHandle = ua.UInt32(handle)
            params.SamplingInterval = ua.Duration(0)
            params.QueueSize = ua.UInt32(queue)
            params.DiscardOldest = True
            req = ua.MonitoredItemCreateRequest()
            req.ItemToMonitor = rv
            req.MonitoringMode = ua.MonitoringMode.Reporting
            req.RequestedParameters = params
            requests.append(req)
        await sub.create_monitored_items(requests)
        count = 0
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1.0)  # warm-up
        end = loop.time() + seconds
        start = loop.time()
        while loop.time() < end:
            ev = await sub.next_event(timeout=0.5)
            if isinstance(ev, DataChangeEvent):
                count += 1
        return count / (loop.time() - start)


@contextlib.asynccontextmanager
async def running(connector: Any, sink: Any) -> AsyncIterator[asyncio.Task[None]]:
    from connectors.base import Backoff, supervise

    task = asyncio.create_task(supervise(connector, sink, Backoff(initial=0.05, maximum=0.5)))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def node_service(folder: Path) -> tuple[Any, Any]:
    from edge.domain import commands as c
    from edge.service import Service
    from edge.store import Store, sqlite_url

    store = Store(sqlite_url(folder))
    store.migrate()
    service = Service(store, "bench").start()
    roles = frozenset({"admin", "service"})
    service.handle(c.DefineEquipment(idempotency_key="eq", actor="bench", actor_roles=roles, equipment="M-ASSY",
                                     workstation="WS-20"))
    return store, service


async def opcua_ours_rate(url: str, node_ids: list[str], seconds: float, mapper: Any, queue: int = 1) -> float:
    from connectors.config import OpcUaServer, OpcUaTag
    from connectors.opcua import OpcUaConnector

    tags = [OpcUaTag(name=f"t{i}", node_id=nid, sampling_interval_ms=0, queue_size=queue)
            for i, nid in enumerate(node_ids)]
    connector = OpcUaConnector(OpcUaServer(name="LOAD", url=url, publishing_interval_ms=PUBLISH_MS, timeout_s=10,
                                           tags=tags))
    async with running(connector, mapper):
        while connector.subscribed < len(tags):
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        before, start = connector.health.values, time.monotonic()
        await asyncio.sleep(seconds)
        return (connector.health.values - before) / (time.monotonic() - start)


async def opcua_subscribe_10k(url: str, node_ids: list[str]) -> tuple[float, float]:
    from connectors.config import OpcUaServer, OpcUaTag
    from connectors.opcua import OpcUaConnector

    tags = [OpcUaTag(name=f"t{i}", node_id=nid, sampling_interval_ms=1000, queue_size=1)
            for i, nid in enumerate(node_ids)]
    connector = OpcUaConnector(OpcUaServer(name="LOAD10K", url=url, publishing_interval_ms=500, timeout_s=30,
                                           tags=tags))

    async def sink(batch: Sequence[Any]) -> None:
        return None

    async with running(connector, sink):
        while not connector.health.connected:
            await asyncio.sleep(0.001)
        start = time.monotonic()
        while connector.subscribed < len(tags):
            await asyncio.sleep(0.005)
        took = time.monotonic() - start
        await asyncio.sleep(2.0)  # streaming: initial values of all 10,000
        return took, rss_mb()


async def opcua_reconnect_gap(trials: int = 5) -> float:
    from connectors.config import OpcUaServer, OpcUaTag
    from connectors.opcua import OpcUaConnector
    from simulators.machine import Machine
    from simulators.opcua_machine import OpcUaMachine

    sim = OpcUaMachine(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.01)
    await sim.start()
    connector = OpcUaConnector(OpcUaServer(name="M", url=sim.url, publishing_interval_ms=50, watchdog_s=1,
                                           tags=[OpcUaTag(name="good", node_id=sim.node_id("GoodCount"))]))
    seen: list[Any] = []

    async def sink(batch: Sequence[Any]) -> None:
        seen.extend(s.value for s in batch if s.tag == "good")

    gaps = []
    async with running(connector, sink):
        while not seen:
            await asyncio.sleep(0.01)
        for _ in range(trials):
            await sim.stop()
            while connector.health.connected:
                await asyncio.sleep(0.01)
            await asyncio.sleep(2.0)  # down for 2 s: the backoff has grown meanwhile
            sim.machine.produce(1)
            await sim.start()
            back = time.monotonic()
            target = sim.machine.good
            while not seen or seen[-1] != target:
                await asyncio.sleep(0.005)
            gaps.append(time.monotonic() - back)
    await sim.stop()
    return max(gaps)


# --- Modbus --------------------------------------------------------------------------------------------


async def modbus_ratio(seconds: float) -> float:
    from pymodbus.client import AsyncModbusTcpClient

    from connectors.config import ModbusDevice, ModbusTag, PollGroup
    from connectors.modbus import ModbusConnector, plan_reads

    port = free_range(1)
    kinds = ["uint16", "int16", "uint32", "int32", "float32", "float64", "uint64"]
    tags, address = [], 0
    for i in range(25):
        kind = kinds[i % len(kinds)]
        tag = ModbusTag(name=f"t{i}", address=address, type=kind)  # type: ignore[arg-type]
        tags.append(tag)
        address += tag.count
    tags = [t for t in tags if t.address + t.count <= 50]
    connector = ModbusConnector(ModbusDevice(name="R", host="127.0.0.1", port=port,
                                             groups=[PollGroup(tags=tags)]))
    read = connector.plans[0][1][0]
    assert len(plan_reads(tags)) == 1
    server = child("--serve-modbus", str(port), "1")
    server.__enter__()
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    await client.connect()
    try:
        async def rate(call: Any) -> float:
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                await call()
                n += 1
            return n / (time.perf_counter() - start)

        async def raw() -> None:
            await client.read_holding_registers(read.address, count=read.count, device_id=1)

        async def ours() -> None:
            samples, ok = await connector._read(client, read)
            assert ok and samples[0].quality == "good"

        raw_rates, our_rates = [], []
        for _ in range(3):  # interleaved, median: this machine is noisy
            raw_rates.append(await rate(raw))
            our_rates.append(await rate(ours))
        print(f"  modbus raw {statistics.median(raw_rates):.0f} reads/s, ours {statistics.median(our_rates):.0f}",
              flush=True)
        return statistics.median(our_rates) / statistics.median(raw_rates)
    finally:
        client.close()
        server.__exit__(None, None, None)


async def modbus_jitter(seconds: float, devices: int = 100) -> float:
    from connectors.config import ModbusDevice, ModbusTag, PollGroup
    from connectors.modbus import ModbusConnector

    base = free_range(devices)
    tags = [ModbusTag(name="state", address=0), ModbusTag(name="good", address=2, type="uint32"),
            ModbusTag(name="scrap", address=4, type="uint32"), ModbusTag(name="temperature", address=6,
                                                                           type="float32")]
    with child("--serve-modbus", str(base), str(devices)):
        connectors = [ModbusConnector(ModbusDevice(name=f"PLC-{i}", host="127.0.0.1", port=base + i, timeout_s=1,
                                                   groups=[PollGroup(interval_ms=100, tags=tags)]))
                      for i in range(devices)]

        async def sink(batch: Sequence[Any]) -> None:
            return None

        async with contextlib.AsyncExitStack() as stack:
            for conn in connectors:
                await stack.enter_async_context(running(conn, sink))
            await asyncio.sleep(1.0)
            for conn in connectors:
                conn.cycle_lag_s.clear()
            await asyncio.sleep(seconds)
        lags = sorted(lag for conn in connectors for lag in conn.cycle_lag_s)
        bad = sum(conn.health.bad_values for conn in connectors)
        print(f"  modbus: {len(lags)} cycles of {devices} devices, {bad} bad values", flush=True)
        return lags[int(len(lags) * 0.99)] * 1000


# --- main ----------------------------------------------------------------------------------------------


async def main(seconds: float) -> None:
    from connectors.config import CounterRule, MachineSignals, StateRule
    from connectors.mapping import SignalMapper

    with tempfile.TemporaryDirectory() as folder:
        store, service = node_service(Path(folder))
        try:
            print("OPC UA: 1,000 changing variables", flush=True)
            port = free_port()
            with child("--serve-opcua", str(port), "1000", "write"):
                url = f"opc.tcp://127.0.0.1:{port}/takt/"
                ids = [f"ns=2;s=M-ASSY.Tag{i:05d}" for i in range(1000)]
                machine = MachineSignals(equipment="M-ASSY", device="LOAD", state=StateRule(tag="state"),
                                         counters=[CounterRule(tag="good", kind="good")])
                mapper = SignalMapper(service, store, [machine])
                raws, ours = [], []
                for _ in range(2):  # interleaved
                    raws.append(await opcua_raw_rate(url, ids, seconds))
                    ours.append(await opcua_ours_rate(url, ids, seconds, mapper))
                raw, our = statistics.median(raws), statistics.median(ours)
                figure("opcua_changes_per_s", our, "changes/s")
                print("  (opcua_changes_per_s maps the values and stores none of them; what a node storing every "
                      "change keeps up with: python -m bench.historian)", flush=True)
                figure("opcua_raw_changes_per_s", raw, "changes/s")
                figure("opcua_vs_raw_ratio", our / raw, "ratio")
            print("OPC UA: 10,000 variables", flush=True)
            port = free_port()
            with child("--serve-opcua", str(port), "10000", "still"):
                url = f"opc.tcp://127.0.0.1:{port}/takt/"
                took, rss = await opcua_subscribe_10k(url, [f"ns=2;s=M-ASSY.Tag{i:05d}" for i in range(10000)])
                figure("opcua_subscribe_10k_s", took, "s")
                figure("rss_10k_tags_mb", rss, "MB")
            print("OPC UA: reconnect after the server is back", flush=True)
            figure("opcua_reconnect_gap_s", await opcua_reconnect_gap(), "s")
            print("Modbus", flush=True)
            figure("modbus_vs_raw_ratio", await modbus_ratio(min(seconds, 3.0)), "ratio")
            figure("modbus_jitter_p99_ms", await modbus_jitter(seconds), "ms")
        finally:
            service.stop()
            store.close()


async def soak(minutes: float) -> None:
    from connectors.config import MachineSignals, OpcUaServer, OpcUaTag, ProcessValueRule
    from connectors.mapping import SignalMapper
    from connectors.opcua import OpcUaConnector
    from connectors.process_values import ProcessValueLog

    with tempfile.TemporaryDirectory() as folder:
        store, service = node_service(Path(folder))
        port = free_port()
        try:
            with child("--serve-opcua", str(port), "10000", "slow"):
                url = f"opc.tcp://127.0.0.1:{port}/takt/"
                tags = [OpcUaTag(name=f"t{i}", node_id=f"ns=2;s=M-ASSY.Tag{i:05d}", sampling_interval_ms=500,
                                 queue_size=1) for i in range(10000)]
                rules = [ProcessValueRule(tag=f"t{i}", deadband=0.5, retention_s=60, max_points=20)
                         for i in range(0, 10000, 10)]  # 1,000 series kept, pruned as they go
                machine = MachineSignals(equipment="M-ASSY", device="SOAK", process_values=rules)
                mapper = SignalMapper(service, store, [machine])
                log = ProcessValueLog(Path(folder) / "process-values.sqlite", [machine])

                async def sink(batch: Sequence[Any]) -> None:
                    log.keep(batch)
                    await mapper(batch)

                connector = OpcUaConnector(OpcUaServer(name="SOAK", url=url, publishing_interval_ms=500,
                                                       timeout_s=30, tags=tags))
                samples: list[tuple[float, float]] = []
                async with running(connector, sink):
                    start = time.monotonic()
                    while time.monotonic() - start < minutes * 60:
                        await asyncio.sleep(30)
                        samples.append((time.monotonic() - start, rss_mb()))
                        print(f"  {samples[-1][0]:.0f} s: RSS {samples[-1][1]:.1f} MB, {connector.health.values} "
                              f"values, {log.kept} kept", flush=True)
                log.close()
            first = next((r for t, r in samples if t >= 60), samples[0][1])
            figure("rss_soak_start_mb", first, "MB")
            figure("rss_soak_end_mb", samples[-1][1], "MB")
            figure("rss_soak_growth_mb", samples[-1][1] - first, "MB")
        finally:
            service.stop()
            store.close()


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.machines", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per rate (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="run the memory soak for MINUTES instead")
    parser.add_argument("--serve-opcua", nargs=3, metavar=("PORT", "VARIABLES", "write|slow|still"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--serve-modbus", nargs=2, metavar=("BASE_PORT", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_opcua:
        port, variables, mode = args.serve_opcua
        asyncio.run(serve_opcua(int(port), int(variables), mode in ("write", "slow"), 2.0 if mode == "slow" else 0.001))
        return
    if args.serve_modbus:
        asyncio.run(serve_modbus(int(args.serve_modbus[0]), int(args.serve_modbus[1])))
        return
    asyncio.run(soak(args.soak) if args.soak else main(args.seconds))
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({n: {"value": v, "unit": u} for n, v, u in FIGURES}, indent=2))


if __name__ == "__main__":
    cli()
