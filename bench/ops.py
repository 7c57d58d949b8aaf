"""Operations benchmark: recording while `takt store backup` runs, and a cold start on a large store.

1. Fill a store through the one write path to ``--size-mb`` (default 200; ``--size-mb 1024`` for the issue's 1 GB
   figure, which takes a few minutes to fill), with one of two mixes (``--mix``):

   - ``plant`` (the default): what a line's node gathers over the years — 20,000 items and 500 bins, then lots
     received, moved three times between bins and used up (scrapped, standing in for consumption, which would
     need work orders): the store is mostly journal, command log and move history, and the lots stay in the
     state as used up.
   - ``items``: every command a new item, ~1 KB each (950,000 items in 1 GB): the worst case for a start-up,
     which holds the current state of every item in memory.
2. Baseline: 8 threads record commands through the service for ``--seconds``; throughput and latencies.
3. Same run, same store: `takt store backup` in a process of its own (as a plant would run it from cron)
   while the 8 threads record; throughput and latencies for as long as the backup runs (at least
   ``--seconds``: the backup is repeated until then).
4. Cold start: ``takt run`` on the store in a new process, timed from the process start to /health answering
   200, and to /health saying the writer has loaded the state (commands sent before are queued and answered
   then; edge.service); the page cache is warm: the store was just written.

Prints ``FIGURE backup_throughput_ratio`` (during / without), ``FIGURE backup_p99_ms`` (latency of a recorded
command while the backup runs; the baseline's p99 beside it) and ``FIGURE cold_start_1gb_s`` (scaled note: on the
size given; the figure is only the issue's when ``--size-mb 1024``).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.node import ROOT
from edge.domain import commands as c
from edge.service import Recorded, Service
from edge.store import Store, sqlite_url
from simulators.ports import free_port

ROLES = frozenset({"admin"})
THREADS = 8


def _item(key: str) -> c.DefineItem:
    return c.DefineItem(idempotency_key=key, actor="admin1", actor_roles=ROLES, item=key.upper(),
                        description=(("item " + key + " ") * 12)[:200], unit="pcs", revision="A")


PLANT_ITEMS, PLANT_BINS = 20_000, 500


def _plant_commands(n: int) -> list[c.Command]:
    """The ``n``-th lot's life: received, moved three times, used up (master data first, with lot 0)."""
    admin: dict[str, Any] = {"actor": "admin1", "actor_roles": ROLES}
    out: list[c.Command] = []
    if n == 0:
        out += [_item(f"fill-{i}") for i in range(PLANT_ITEMS)]
        out += [c.DefineBin(idempotency_key=f"bin-{b}", bin=f"B-{b:03d}", zone="storage", **admin)
                for b in range(PLANT_BINS)]
    lot, item, qty = f"L{n:08d}", f"FILL-{n % PLANT_ITEMS}", Decimal(100)
    bins = [f"B-{(n * 7 + k * 131) % PLANT_BINS:03d}" for k in range(4)]
    out.append(c.ReceiveLot(idempotency_key=f"r-{n}", lot=lot, item=item, item_revision=None, quantity=qty,
                            bin=bins[0], **admin))
    out += [c.MoveStock(idempotency_key=f"m-{n}-{k}", lot=lot, from_bin=bins[k], to_bin=bins[k + 1], quantity=qty,
                        reason="replenish line side", **admin) for k in range(3)]
    out.append(c.ScrapStock(idempotency_key=f"s-{n}", lot=lot, bin=bins[3], quantity=qty, reason="used up", **admin))
    return out


def fill(service: Service, path: Path, size_mb: int, mix: str = "plant") -> int:
    """Record commands until the store file is ``size_mb`` large; returns how many."""
    n = lots = 0
    target = size_mb * 1_000_000
    while path.stat().st_size + _wal_size(path) < target:
        if mix == "items":
            batch: list[c.Command] = [_item(f"fill-{n + i}") for i in range(5000)]
        else:
            batch = [cmd for k in range(1000) for cmd in _plant_commands(lots + k)]
            lots += 1000
        pending: list[Future[Recorded]] = [service.submit(cmd) for cmd in batch]
        for fut in pending:
            fut.result(120)
        n += len(pending)
    return n


def _wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def record(service: Service, prefix: str, until: threading.Event) -> tuple[int, float, list[float]]:
    """THREADS threads recording one command after another until ``until``; (count, seconds, latencies in ms)."""
    latencies: list[list[float]] = [[] for _ in range(THREADS)]

    def worker(t: int) -> None:
        n = 0
        mine = latencies[t]
        while not until.is_set():
            n += 1
            started = time.perf_counter()
            service.handle(_item(f"{prefix}-{t}-{n}"))
            mine.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - started
    merged = [x for part in latencies for x in part]
    return len(merged), seconds, merged


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 100 else max(values, default=0.0)


def backup_while_recording(service: Service, data: Path, seconds: float, pause_ms: float = 0.0) -> tuple[int, float, list[float], int, float]:
    until = threading.Event()
    result: list[tuple[int, float, list[float]]] = []
    recorder = threading.Thread(target=lambda: result.append(record(service, "during", until)))
    recorder.start()
    started = time.perf_counter()
    backups = 0
    backup_seconds = 0.0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    while time.perf_counter() - started < seconds or backups == 0:
        one = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "takt.cli", "store", "backup", str(data / "backup.sqlite"),
                               "--data-dir", str(data), "--pause-ms", str(pause_ms)], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            until.set()
            recorder.join()
            raise RuntimeError(f"backup failed: {done.stderr}")
        backup_seconds += time.perf_counter() - one
        backups += 1
    until.set()
    recorder.join()
    count, secs, latencies = result[0]
    return count, secs, latencies, backups, backup_seconds / backups


def cold_start(data: Path) -> tuple[float, float]:
    """Seconds from ``takt run`` to /health answering 200, and to its writer having loaded the state (commands
    sent before that are queued and answered then)."""
    port = free_port()
    site = data / "site.yaml"
    site.write_text(textwrap.dedent(f"""
        node: {{id: bench-ops, data_dir: {data}}}
        site: {{enterprise: acme, site: bench, area: a1, line: l1}}
        api: {{port: {port}}}
        users:
          - {{user: admin1, name: Admin, roles: [admin], token: bench-admin-token-000000000}}
        """))
    started = time.perf_counter()
    serving: float | None = None
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "run", "--config", str(site), "--log-level", "warning"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"takt run exited with {proc.returncode}")
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1,  # details need a token
                                   headers={"Authorization": "Bearer bench-admin-token-000000000"})
                if answer.status_code == 200:
                    if serving is None:
                        serving = time.perf_counter() - started
                    if answer.json()["components"]["writer"]["state_loaded"]:
                        return serving, time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=200, help="store size (1024 for the issue's 1 GB figure)")
    parser.add_argument("--seconds", type=float, default=8.0, help="recording time of each measurement")
    parser.add_argument("--pause-ms", type=float, default=0.0, help="takt store backup --pause-ms")
    parser.add_argument("--data-dir", type=Path, default=None, help="where the store is built (default: a temp dir)")
    parser.add_argument("--mix", choices=("plant", "items"), default="plant",
                        help="what fills the store: a plant's years of lots and moves, or only items (worst case)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="takt-bench-ops-") as tmp:
        data = args.data_dir or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        store = Store(sqlite_url(data))
        store.migrate()
        service = Service(store, store.node_id("bench-ops")).start()
        try:
            began = time.perf_counter()
            filled = fill(service, data / "takt.sqlite", args.size_mb, args.mix)
            size = (data / "takt.sqlite").stat().st_size + _wal_size(data / "takt.sqlite")
            print(f"store: {size / 1e6:.0f} MB, {filled} commands ({args.mix} mix), filled in "
                  f"{time.perf_counter() - began:.1f} s")
            until = threading.Event()
            timer = threading.Timer(args.seconds, until.set)
            timer.start()
            base_n, base_s, base_lat = record(service, "base", until)
            during_n, during_s, during_lat, backups, backup_s = backup_while_recording(service, data, args.seconds,
                                                                                        args.pause_ms)
        finally:
            service.stop()
            store.close()
        backup_mb = (data / "backup.sqlite").stat().st_size / 1e6
        start_s, loaded_s = cold_start(data)
    base_rate, during_rate = base_n / base_s, during_n / during_s
    print(f"baseline: {base_rate:.0f} commands/s, p50 {statistics.median(base_lat):.1f} ms, "
          f"p99 {p99(base_lat):.1f} ms ({base_n} commands, {THREADS} threads)")
    print(f"during backup: {during_rate:.0f} commands/s, p50 {statistics.median(during_lat):.1f} ms, "
          f"p99 {p99(during_lat):.1f} ms; {backups} backup(s) of {backup_mb:.0f} MB, {backup_s:.1f} s each")
    print(f"cold start to /health 200 on a {size / 1e6:.0f} MB store: {start_s:.2f} s; the writer had loaded the "
          f"state (commands answered) at {loaded_s:.2f} s")
    print(f"FIGURE backup_throughput_ratio {during_rate / base_rate:.2f} ratio")
    print(f"FIGURE backup_p99_ms {p99(during_lat):.1f} ms")
    print(f"FIGURE backup_p99_baseline_ms {p99(base_lat):.1f} ms")
    if size < 1_000_000_000:
        print(f"note: cold_start_1gb_s below is on a {size / 1e6:.0f} MB store; --size-mb 1024 for the 1 GB figure")
    print(f"FIGURE cold_start_1gb_s {start_s:.2f} s")
    print(f"FIGURE cold_start_state_loaded_1gb_s {loaded_s:.2f} s")


if __name__ == "__main__":
    main()
