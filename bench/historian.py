"""Historian benchmark: a full node (``takt run`` from a site file) storing every change of 1,000 OPC UA Double
tags, against a raw asyncua client of the same server in the same run. ``python -m bench.historian
[--seconds S] [--json FILE]``.

The load server (a child process, the same OPC UA machine and lighter copies as :mod:`bench.machines`) rewrites
1,000 Double variables paced to an offered rate (20,000 and 40,000 changes/s). For each rate, on a fresh server:
the node runs as a subprocess from a site file whose ``process_values`` name all 1,000 tags with deadband 0
(sampling 0 ms, queue size 1, 20 ms publishing, as the raw client), and is measured between two writer flushes
(``/health``: values written); then it stops and the raw client (iterator mode, counting changes) is measured on
the same server. One after the other, so that neither takes the other's core.

Figures:

- ``historian_vs_raw_ratio_20k`` and ``historian_vs_raw_ratio_40k``: values stored per second by the node ÷ changes
  received per second by the raw client (goal >= 0.9).
- ``historian_bytes_per_value``: bytes the node's process wrote to the disk (``/proc/<pid>/io`` write_bytes and
  rusage: the process-values file, its WAL, the node's store and logs) per value, in steady state: each value is
  landed once and consolidated once, so the figure is what the process wrote in the measured window per value
  written there (landing, and any periodic consolidation falling in it) plus what its stop wrote per landed value
  it consolidated (chunks only partly filled: dearer than the periodic consolidation's whole chunks, so an
  overestimate), weighted by the values of both rates, on a process-values file that already holds 2 million
  earlier values (:func:`history`). The node's start-up is not counted. Goal <= 32.
- ``historian_query_shift_ms``: one tag over an 8-hour shift at 10 Hz (288,000 values) read as columns
  (``ProcessValueLog.columns``: int64 times and float64 numbers; the read as a tuple per value is printed beside)
  from the middle of a month of 1,000 tags built straight into the layout (:func:`month_store`: the read tag at
  10 Hz all month, the others once a minute). Goal <= 50 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.machines import PUBLISH_MS, _lighter_server_copies, opcua_raw_rate
from simulators.ports import free_port

FIGURES: list[tuple[str, float, str]] = []
TAGS = 1000
TOKEN = "bench-historian-token-000000000000"


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 3), unit))
    print(f"  {name} = {round(value, 3)} {unit}", flush=True)


async def serve_paced(port: int, variables: int, rate: float) -> None:
    """Rewrite ``variables`` Double variables so that ``rate`` changes per second are offered."""
    from simulators.machine import Machine
    from simulators.opcua_machine import OpcUaMachine

    _lighter_server_copies()
    sim = OpcUaMachine(Machine(cycle_time_s=3600), port=port, extra_variables=variables)
    await sim.start()
    print("READY", flush=True)
    names = [f"Tag{i:05d}" for i in range(variables)]
    every = variables / rate
    value, due = 0.0, time.monotonic()
    while True:
        value += 1.0
        await sim.write_extra({n: value + i * 0.001 for i, n in enumerate(names)})
        due += every
        await asyncio.sleep(max(0.0, due - time.monotonic()))


@contextlib.contextmanager
def load_server(port: int, rate: float) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.historian", "--serve", str(port), str(rate)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if "READY" not in proc.stdout.readline():
            raise RuntimeError("the load server did not start")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def site_file(folder: Path, url: str, api_port: int) -> Path:
    tags = [{"name": f"t{i}", "node_id": f"ns=2;s=M-ASSY.Tag{i:05d}", "sampling_interval_ms": 0, "queue_size": 1}
            for i in range(TAGS)]
    site = {
        "node": {"id": "bench-historian", "data_dir": str(folder / "data")},
        "site": {"enterprise": "acme", "site": "s", "area": "a", "line": "l1", "timezone": "UTC"},
        "api": {"port": api_port},
        "users": [{"user": "bench", "name": "Benchmark", "roles": ["admin"], "token": TOKEN}],
        "connectivity": {
            "opcua": [{"name": "LOAD", "url": url, "publishing_interval_ms": PUBLISH_MS, "timeout_s": 10,
                       "tags": tags}],
            "machines": [{"equipment": "M-LOAD", "device": "LOAD", "process_values": [
                {"tag": f"t{i}", "deadband": 0} for i in range(TAGS)]}]},
    }
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "site.yaml"
    file.write_text(yaml.safe_dump(site))
    return file


def write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/<pid>/io")


def cpu_s(pid: int) -> float:
    """The CPU time (user + system, all threads) of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def historian(client: httpx.Client) -> dict[str, Any]:
    try:
        body = client.get("/health").json()
    except (httpx.HTTPError, ValueError):
        return {}
    found: dict[str, Any] = body.get("connectivity", {}).get("process_values", {})
    return found


def next_flush(client: httpx.Client, node: subprocess.Popen[bytes], kept: int,
               timeout_s: float = 30) -> tuple[float, int, dict[str, Any]]:
    """Poll /health until the writer has written past ``kept``; when it wrote (its own clock, Unix seconds), what
    it had kept then, and the health. Polled twice a second: /health is not free (a store probe, the reference
    data's files), and at the 50 Hz this once polled it took ~30 % of the node's CPU, from its receive loop; the
    writer's own time of the write keeps the window exact."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if node.poll() is not None:
            raise RuntimeError("the node ended: " + (node.stderr.read().decode()[-2000:] if node.stderr else ""))
        h = historian(client)
        written = h.get("last_write") or {}
        if written.get("kept", -1) > kept:
            return float(written["at"]), int(written["kept"]), h
        time.sleep(0.5)
    raise RuntimeError(f"the historian wrote nothing new within {timeout_s} s")


def history(path: Path, chunks: int = 100, values: int = 20) -> None:
    """Fill a process-values file with earlier values of the 1,000 tags (``chunks`` chunks of ``values`` each):
    a node that has run a while, whose series index no longer fits a few pages (steady state: a fresh file
    writes several times fewer bytes per value)."""
    from connectors import historian_store as hs

    db = hs.connect(path)
    ids: dict[tuple[str, str], int] = {}
    start = round((time.time() - 86400) * 1_000_000)
    db.execute("BEGIN")
    for tag in range(TAGS):
        series = hs.series_id(db, ids, "M-LOAD", f"t{tag}")
        for c in range(chunks):
            hs.append(db, series, [(start + (c * values + j) * 1000, float(c * values + j + tag), None, "good", None)
                                   for j in range(values)])
    db.execute("COMMIT")
    db.close()


def stored_values(path: Path) -> int:
    with sqlite3.connect(path) as db:
        landed = db.execute("SELECT coalesce(sum(count), 0) FROM process_values_recent").fetchone()[0]
        return int(db.execute("SELECT coalesce(sum(count), 0) FROM process_values").fetchone()[0]) + int(landed)


def landed_values(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT coalesce(sum(count), 0) FROM process_values_recent").fetchone()[0])


def node_rate(folder: Path, url: str, seconds: float) -> tuple[float, int, float, dict[str, Any]]:
    """Stored values per second of a full node between two writer flushes; the values written in that window;
    the bytes its process wrote per value in steady state: what it wrote in the window per value written there
    (landing, and any periodic consolidation that fell in it) plus what its stop wrote per value the stop
    consolidated (the landed values' consolidation, in chunks only partly filled: more than the periodic
    consolidation's whole chunks cost); its last health."""
    api_port = free_port()
    file = site_file(folder, url, api_port)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pv_file = folder / "data" / "process-values.sqlite"
    history(pv_file)
    with (folder / "node.log").open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "takt", "run", "--config", str(file), "--log-level",
                                 "warning"], stdout=subprocess.DEVNULL, stderr=err)
    reaped = False
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=5,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            _, kept, _ = next_flush(client, proc, 0, 60)  # subscribed and writing
            start, kept0, _ = next_flush(client, proc, kept)  # steady state from here
            bytes0, cpu0 = write_bytes(proc.pid), cpu_s(proc.pid)
            end, kept1 = start, kept0
            health: dict[str, Any] = {}
            while end - start < seconds:
                end, kept1, health = next_flush(client, proc, kept1)
            bytes1, cpu1 = write_bytes(proc.pid), cpu_s(proc.pid)
        landed = landed_values(pv_file)  # what the stop consolidates (and what lands after this)
        bytes_at_stop = write_bytes(proc.pid)
        proc.terminate()
        _, status, usage = os.wait4(proc.pid, 0)  # the whole process's blocks written, its threads included
        reaped = True
        proc.returncode = os.waitstatus_to_exitcode(status)
        landing = (bytes1 - bytes0) / max(kept1 - kept0, 1)
        consolidation = (usage.ru_oublock * 512 - bytes_at_stop) / max(landed, 1)
        print(f"  bytes per value: {landing:.1f} landing (window), {consolidation:.1f} consolidating ({landed} "
              "landed values at the stop)", flush=True)
        # the node's CPU per stored value: what decides its rate when the machine is saturated (not a figure:
        # the load of the machine's other work shows less in it than in the rates)
        print(f"  node CPU per stored value: {(cpu1 - cpu0) / max(kept1 - kept0, 1) * 1e6:.1f} us "
              f"({(cpu1 - cpu0) / (end - start):.2f} cores)", flush=True)
        return (kept1 - kept0) / (end - start), kept1 - kept0, landing + consolidation, health
    finally:
        if not reaped:
            proc.kill()
            proc.wait()
        if proc.returncode not in (0, -15):
            print((folder / "node.log").read_text()[-2000:], file=sys.stderr)


DAYS = 30


def month_store(path: Path, start: datetime) -> int:
    """A process-values file holding a month of 1,000 tags, built straight into the layout (chunks encoded as the
    writer encodes them, rows inserted hour by hour as the writer's consolidations append them): tag ``t0`` at
    10 Hz all month (25.9 million values, 36 chunks an hour), the 999 others once a minute (one chunk per tag and
    hour: 720 an hour across the others; their values repeat from tag to tag, their chunk sizes are real). A month
    of 1,000 tags all at 10 Hz would be 26 billion values (~70 GB at 2-3 bytes each): not built here; the read of
    one tag goes through the (series, first_at) index, whose depth 26 million rows would grow by one level.
    Returns the file's size in bytes."""
    from connectors import historian_store as hs

    db = hs.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    ids: dict[tuple[str, str], int] = {}
    base = round(start.timestamp() * 1_000_000)
    db.execute("BEGIN")
    series = [hs.series_id(db, ids, "M-Q", f"t{i}") for i in range(TAGS)]
    hour_us = 3600 * 1_000_000
    for hour in range(DAYS * 24):
        first = base + hour * hour_us
        minute_rows = [(first + m * 60_000_000, round(20.0 + 5.0 * math.sin((hour * 60 + m) / 90.0), 2), None,
                        "good", None) for m in range(60)]
        other = hs.encode(minute_rows)
        db.executemany("INSERT INTO process_values (series, first_at, last_at, count, chunk) VALUES (?, ?, ?, ?, ?)",
                       [(s, first, minute_rows[-1][0], 60, other) for s in series[1:]])
        for c in range(36):  # t0: 1,000 values per chunk, 100 s each
            at0 = first + c * 100_000_000
            rows = [(at0 + j * 100_000, round(180.0 + 2.0 * math.sin((hour * 36000 + c * 1000 + j) / 300.0), 2),
                     None, "good", None) for j in range(1000)]
            db.execute("INSERT INTO process_values (series, first_at, last_at, count, chunk) VALUES (?, ?, ?, ?, ?)",
                       (series[0], at0, rows[-1][0], 1000, hs.encode(rows)))
    db.executemany("UPDATE process_series SET stored = ? WHERE series = ?",
                   [(DAYS * 24 * 36_000 if s == series[0] else DAYS * 24 * 60, s) for s in series])
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path.stat().st_size


def query_shift_ms(folder: Path) -> tuple[float, float]:
    """One tag over an 8-hour shift at 10 Hz in the middle of a month of 1,000 tags: the best of three reads as
    columns (``ProcessValueLog.columns``: the figure) and as rows (a tuple per value: said, not the figure)."""
    from connectors.config import MachineSignals, ProcessValueRule
    from connectors.process_values import ProcessValueLog

    start = datetime(2026, 10, 1, tzinfo=UTC)
    began = time.perf_counter()
    size = month_store(folder / "month.sqlite", start)
    print(f"  a month of {TAGS} tags built in {time.perf_counter() - began:.0f} s ({size / 1e6:.0f} MB)", flush=True)
    rules = [ProcessValueRule(tag=f"t{i}", deadband=0, retention_s=400 * 86400, max_points=10**9)
             for i in range(TAGS)]
    log = ProcessValueLog(folder / "month.sqlite", [MachineSignals(equipment="M-Q", device="Q", process_values=rules)])
    shift_s = 8 * 3600
    since = start + timedelta(days=DAYS // 2, hours=6)
    until = since + timedelta(seconds=shift_s) - timedelta(microseconds=1)
    best_columns = best_rows = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        columns = log.columns("M-Q", "t0", since, until)
        best_columns = min(best_columns, (time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        rows = log.rows("M-Q", "t0", since, until)
        best_rows = min(best_rows, (time.perf_counter() - began) * 1000)
    assert len(columns) == shift_s * 10 == len(rows), (len(columns), len(rows))
    log.close()
    return best_columns, best_rows


async def raw_rate(url: str, seconds: float) -> float:
    return await opcua_raw_rate(url, [f"ns=2;s=M-ASSY.Tag{i:05d}" for i in range(TAGS)], seconds)


def main(seconds: float, query: bool) -> None:
    stored, written = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for rate in (20_000, 40_000):
            port = free_port()
            url = f"opc.tcp://127.0.0.1:{port}/takt/"
            with load_server(port, rate):
                print(f"{rate} offered/s: a full node storing every change", flush=True)
                ours, n, per_value, health = node_rate(Path(tmp) / f"node-{rate}", url, seconds)
                stored, written = stored + n, written + per_value * n
                print(f"  node stored {ours:.0f}/s ({n} values, {per_value:.1f} bytes each; queue "
                      f"{health.get('queued')}, dropped {health.get('dropped')}, blocked "
                      f"{health.get('blocked_s')} s)", flush=True)
                print(f"{rate} offered/s: the raw asyncua client", flush=True)
                raw = asyncio.run(raw_rate(url, seconds))
                print(f"  raw client received {raw:.0f}/s", flush=True)
                figure(f"historian_vs_raw_ratio_{rate // 1000}k", ours / raw, "ratio")
        figure("historian_bytes_per_value", written / max(stored, 1), "bytes")
        if query:
            print("one tag over an 8-hour shift at 10 Hz, in a month of 1,000 tags", flush=True)
            columns_ms, rows_ms = query_shift_ms(Path(tmp))
            print(f"  as rows (a tuple per value): {rows_ms:.1f} ms", flush=True)
            figure("historian_query_shift_ms", columns_ms, "ms")


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.historian", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per rate (default 10)")
    parser.add_argument("--no-query", action="store_true", help="skip the shift query figure")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "RATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_paced(int(args.serve[0]), TAGS, float(args.serve[1])))
        return
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main(args.seconds, not args.no_query)
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({n: {"value": v, "unit": u} for n, v, u in FIGURES}, indent=2))


if __name__ == "__main__":
    cli()
