"""Brownfield PLC benchmark: the S7 and Logix connectors' read paths against a raw client of the same library on the
same simulated PLC in the same run. ``python -m bench.brownfield [--seconds S] [--json FILE]``.

Figures (``FIGURE <name> <value> <unit>`` lines at the end):

- ``s7_vs_raw_ratio``: values per second through ``S7Connector``'s read path (its planned multi-variable
  requests, per-item return codes, decoding 24 tags of S7 types in DB1, M, I and Q into samples) over a raw
  python-snap7 loop reading the same addresses: ``Client.read_multi_vars`` with one item per tag, 20 a call
  (its limit; snap7's own optimiser merges them), bytes only, no decoding. The PLC is ``simulators.s7_plc`` in a
  child process. The connector comes out well ahead: it sends one request of 5 merged items where snap7 makes
  two calls (20 items at most each) and deep-copies its read plan on every call, and it bounds a request with
  one timer where snap7's asyncio client waits on each socket read with ``asyncio.wait_for``.
- ``s7_vs_wire_ratio``: the same connector path over a loop sending the connector's very requests on snap7's
  asyncio client without looking at the answers: what checking, decoding and making samples cost (1.0 = free).
- ``logix_vs_raw_ratio``: values per second through ``LogixConnector``'s read path (one pylogix call for the
  group, status checks, samples) over a raw pylogix ``PLC.Read`` loop of the same tag list on the same
  connection settings. The controller is cpppo's server (``simulators.logix_plc``, its own process).

- ``sparkplug_ingest_per_s``: metrics per second from a Sparkplug B edge node (a child process publishing DDATA
  of 100 metrics by alias as fast as it can, rebirthing on request) through a local Mosquitto into
  ``SparkplugSourceConnector`` and on into ``SignalMapper`` with a running ``Service`` (goal >= 20,000). The
  metrics are looked up by the mapping but not stored (no rule names them). Also printed: seq gaps seen (QoS 0:
  the broker drops what a slow subscriber cannot take, and the connector then waits for a rebirth). The
  publisher (encoding 100 metrics a message in Python, one process) may be the limit rather than the connector.

Each pair is measured interleaved three times (raw, ours, raw, ...) for ``--seconds`` each; the figures are the
ratios of the medians. Also printed: the raw and the connector's values/s.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from simulators.ports import free_port

FIGURES: list[tuple[str, float, str]] = []


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 3), unit))
    print(f"  {name} = {round(value, 3)} {unit}", flush=True)


async def rate(call: Callable[[], Awaitable[int]], seconds: float) -> float:
    """Values per second of ``call`` (which returns how many values it read) repeated for ``seconds``."""
    values, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        values += await call()
    return values / (time.perf_counter() - start)


async def interleaved(raw: Callable[[], Awaitable[int]], ours: Callable[[], Awaitable[int]], seconds: float,
                      what: str) -> float:
    raw_rates, our_rates = [], []
    for _ in range(3):  # interleaved, median: this machine is shared and noisy
        raw_rates.append(await rate(raw, seconds))
        our_rates.append(await rate(ours, seconds))
    r, o = statistics.median(raw_rates), statistics.median(our_rates)
    print(f"  {what}: raw {r:.0f} values/s, connector {o:.0f} values/s", flush=True)
    return o / r


# --- S7 -------------------------------------------------------------------------------------------------

def s7_tags() -> list[Any]:
    from connectors.config import S7Tag

    db = [("INT", 0), ("INT", 2), ("DWORD", 4), ("DWORD", 8), ("REAL", 12), ("REAL", 16), ("UDINT", 20),
          ("BYTE", 24), ("DTL", 44), ("DATE_AND_TIME", 56), ("LREAL", 64), ("WORD", 100), ("DINT", 102),
          ("UINT", 106), ("REAL", 108), ("LREAL", 112), ("INT", 120), ("DWORD", 122)]
    tags = [S7Tag(name=f"db{i}", db=1, offset=offset, type=kind)  # type: ignore[arg-type]
            for i, (kind, offset) in enumerate(db)]
    tags += [S7Tag(name="running", db=1, offset=24, type="BOOL", bit=0),
             S7Tag(name="machine", db=1, offset=26, type="STRING", length=16),
             S7Tag(name="m_running", area="M", offset=0, type="BOOL", bit=0),
             S7Tag(name="m_good", area="M", offset=4, type="DWORD"),
             S7Tag(name="i_running", area="I", offset=0, type="BOOL", bit=0),
             S7Tag(name="q_byte", area="Q", offset=0, type="BYTE")]
    return tags


async def s7_ratio(seconds: float) -> float:
    from snap7.async_client import AsyncClient
    from snap7.client import Client

    from connectors.config import S7Plc, S7PollGroup
    from connectors.s7 import AREAS, S7Connector

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.brownfield", "--serve-s7", str(port)])
    try:
        tags = s7_tags()
        connector = S7Connector(S7Plc(name="S7", host="127.0.0.1", port=port, groups=[S7PollGroup(tags=tags)]))
        ours_client = AsyncClient()
        raw_client = Client()
        deadline = time.monotonic() + 20
        while True:
            try:
                await ours_client.connect("127.0.0.1", 0, 1, port)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        raw_client.connect("127.0.0.1", 0, 1, port)
        requests = connector.plans[0][1]
        print(f"  s7: {len(tags)} tags in {len(requests)} request(s) of "
              f"{[len(r.blocks) for r in requests]} item(s), PDU {ours_client.pdu_length}", flush=True)
        items = [{"area": AREAS[t.area], "db_number": t.db or 0, "start": t.offset, "size": t.size} for t in tags]

        chunks = [items[i:i + Client.MAX_VARS] for i in range(0, len(items), Client.MAX_VARS)]

        async def raw() -> int:
            n = 0
            for chunk in chunks:  # snap7 takes at most MAX_VARS (20) items a call
                code, data = raw_client.read_multi_vars(chunk)
                assert code == 0 and len(data) == len(chunk)
                n += len(data)
            return n

        wire_client = AsyncClient()
        await wire_client.connect("127.0.0.1", 0, 1, port)
        assert wire_client.connection is not None
        wire_client.connection.timeout = None  # type: ignore[assignment]  # as the connector runs it
        specs = [[b.spec for b in r.blocks] for r in requests]

        async def wire() -> int:
            for spec in specs:  # the connector's very requests, answers not looked at
                answer = await wire_client._send_receive(wire_client.protocol.build_multi_read_request(spec))
                assert answer["raw_data"]
            return len(tags)

        async def ours() -> int:
            n = 0
            for request in requests:
                samples, split = await connector._read(ours_client, request)
                assert not split and samples[0].quality == "good", samples[0]
                n += len(samples)
            return n

        try:
            figure("s7_vs_wire_ratio", await interleaved(wire, ours, seconds, "s7 wire"), "ratio")
            return await interleaved(raw, ours, seconds, "s7")
        finally:
            raw_client.disconnect()
            await ours_client.disconnect()
            await wire_client.disconnect()
    finally:
        server.terminate()
        server.wait(10)


async def serve_s7(port: int) -> None:
    from simulators.machine import Machine
    from simulators.s7_plc import S7Plc, serve

    await serve(S7Plc(Machine(cycle_time_s=0.5, scrap_rate=0.05), port=port, tick_s=0.05))


# --- Logix ----------------------------------------------------------------------------------------------

LOGIX_TAGS = [("state", "State"), ("alarm", "Alarm"), ("good", "GoodCount"), ("scrap", "ScrapCount"),
              ("temperature", "Temperature"), ("pressure", "Pressure"), ("running", "Running"),
              ("station_good", "Line.Station1.Good"), ("step", "Program:MainProgram.Step"),
              ("recent_0", "Recent[0]"), ("recent_5", "Recent[5]"), ("recent_9", "Recent[9]")]


async def logix_ratio(seconds: float) -> float:
    from pylogix import PLC

    from connectors.config import LogixController, LogixPollGroup, LogixTag
    from connectors.logix import LogixConnector
    from simulators.logix_plc import LogixPlc

    sim = LogixPlc(port=free_port(), cycle_time_s=0.5)
    await sim.start()
    try:
        tags = [LogixTag(name=n, tag=t) for n, t in LOGIX_TAGS]
        connector = LogixConnector(LogixController(name="L", host="127.0.0.1", port=sim.port,
                                                   groups=[LogixPollGroup(tags=tags)]))
        names = [t for _, t in LOGIX_TAGS]
        ours_plc, raw_plc = connector._plc(), PLC("127.0.0.1", port=sim.port)
        reads = [t.tag for t in tags]

        async def raw() -> int:
            answers = await asyncio.to_thread(raw_plc.Read, names)
            assert all(a.Status == "Success" for a in answers)
            return len(answers)

        async def ours() -> int:
            samples = await connector._read(ours_plc, tags, reads)
            assert samples[0].quality == "good", samples[0]
            return len(samples)

        try:
            return await interleaved(raw, ours, seconds, "logix")
        finally:
            raw_plc.Close()
            ours_plc.Close()
    finally:
        await sim.stop()


# --- Sparkplug B in ---------------------------------------------------------------------------------------

SPB_METRICS = 100


def publish_sparkplug(port: int) -> None:
    """The load edge node (a child process): births, then DDATA of ``SPB_METRICS`` metrics as fast as it can."""
    import threading

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from connectors.sparkplug import DOUBLE, INT64, encode_metric, encode_payload

    rebirth = threading.Event()
    rebirth.set()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-edge")
    client.on_connect = lambda c, u, f, r, p: c.subscribe("spBv1.0/bench/NCMD/edge-9")
    client.on_message = lambda c, u, m: rebirth.set()
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    seq, value = 0, 0.0
    while True:
        if rebirth.is_set():
            rebirth.clear()
            seq = 0
            client.publish("spBv1.0/bench/NBIRTH/edge-9", encode_payload(
                [encode_metric(name="bdSeq", datatype=INT64, value=0)], timestamp_ms=0, seq=seq))
            births = [encode_metric(name=f"m{i}", alias=i + 1, datatype=DOUBLE, value=0.0) for i in range(SPB_METRICS)]
            seq = (seq + 1) % 256
            client.publish("spBv1.0/bench/DBIRTH/edge-9/dev", encode_payload(births, timestamp_ms=0, seq=seq))
        value += 1.0
        now = int(time.time() * 1000)
        data = [encode_metric(alias=i + 1, timestamp_ms=now, value=value + i) for i in range(SPB_METRICS)]
        seq = (seq + 1) % 256
        client.publish("spBv1.0/bench/DDATA/edge-9/dev", encode_payload(data, timestamp_ms=now, seq=seq))
        time.sleep(0.0005)  # paho's queue must not grow without bound


async def sparkplug_ingest(seconds: float) -> float:
    import shutil
    import tempfile

    from bench.machines import node_service
    from connectors.base import Backoff, supervise
    from connectors.config import SparkplugSource
    from connectors.mapping import SignalMapper
    from connectors.sparkplug_in import SparkplugSourceConnector

    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        conf = Path(folder) / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n"
                        "user root\n")
        broker = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        store, service = node_service(Path(folder))
        mapper = SignalMapper(service, store, [])
        connector = SparkplugSourceConnector(SparkplugSource(
            name="SPB", host="127.0.0.1", port=port, group_id="bench", edge_node_id="edge-9", device_id="dev",
            tags=[{"name": f"t{i}", "metric": f"m{i}"} for i in range(SPB_METRICS)]))  # type: ignore[misc]
        task = asyncio.create_task(supervise(connector, mapper, Backoff(initial=0.1, maximum=0.5)))
        edge: subprocess.Popen[bytes] | None = None
        try:
            while not connector.health.connected:
                await asyncio.sleep(0.05)
            edge = subprocess.Popen([sys.executable, "-m", "bench.brownfield", "--publish-sparkplug", str(port)])
            while connector.health.values < 10 * SPB_METRICS:
                await asyncio.sleep(0.05)
            before, gaps, start = connector.health.values, connector.gaps, time.monotonic()
            await asyncio.sleep(seconds * 3)
            per_s = (connector.health.values - before) / (time.monotonic() - start)
            print(f"  sparkplug: {per_s:.0f} metrics/s, {connector.gaps - gaps} seq gaps, "
                  f"{connector.rebirths_requested} rebirths asked for", flush=True)
            return per_s
        finally:
            if edge is not None:
                edge.terminate()
                edge.wait(10)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            service.stop()
            store.close()
            broker.terminate()
            broker.wait(10)


async def main(seconds: float, only: str | None = None) -> None:
    if only in (None, "s7"):
        figure("s7_vs_raw_ratio", await s7_ratio(seconds), "ratio")
    if only in (None, "logix"):
        figure("logix_vs_raw_ratio", await logix_ratio(seconds), "ratio")
    if only in (None, "sparkplug"):
        figure("sparkplug_ingest_per_s", await sparkplug_ingest(seconds), "metrics/s")


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.brownfield", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per rate (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve-s7", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--publish-sparkplug", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["s7", "logix", "sparkplug"], help="measure only this one")
    args = parser.parse_args()
    if args.publish_sparkplug:
        publish_sparkplug(args.publish_sparkplug)
        return
    if args.serve_s7:
        asyncio.run(serve_s7(args.serve_s7))
        return
    asyncio.run(main(args.seconds, args.only))
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({n: {"value": v, "unit": u} for n, v, u in FIGURES}, indent=2))


if __name__ == "__main__":
    cli()
