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

Each pair is measured interleaved three times (raw, ours, raw, ...) for ``--seconds`` each; the figures are the
ratios of the medians. Also printed: the raw and the connector's values/s.
"""
from __future__ import annotations

import argparse
import asyncio
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


async def main(seconds: float) -> None:
    figure("s7_vs_raw_ratio", await s7_ratio(seconds), "ratio")
    figure("logix_vs_raw_ratio", await logix_ratio(seconds), "ratio")


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.brownfield", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per rate (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve-s7", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_s7:
        asyncio.run(serve_s7(args.serve_s7))
        return
    asyncio.run(main(args.seconds))
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({n: {"value": v, "unit": u} for n, v, u in FIGURES}, indent=2))


if __name__ == "__main__":
    cli()
