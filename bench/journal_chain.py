"""Journal hash chain benchmark: what the tamper-evident journal costs the write path, and how fast it is checked.

``journal_chain_overhead_ratio``: durable commands/s with the chain (each event's hash computed in the group commit
and stored, a signed checkpoint every 1,000 events) ÷ the same without it (the hash function replaced by one that
returns none, no checkpoint key: nothing computed, the column left empty), same run, same store kind (SQLite, WAL,
synchronous=FULL). Stock moves are submitted by ``--clients`` threads; the two variants run back to back on fresh
stores ``--rounds`` times (which goes first alternates), and the figure is the median of the rounds' ratios, so both
sides of each ratio saw the same moment of a shared, noisy machine. The process's CPU seconds per command are
printed beside it (a ratio that other load on the machine hardly moves).

``verify_1m_events_s``: ``takt store verify --chain-only`` (a separate process, start-up included) over a store of
``--events`` (1,000,000) journal events. The store is filled directly (rows made like the writer makes them: the
same columns, a realistic machine-state payload, chain hashes computed by ``edge.store.chain.link``) because
recording a million commands through the write path would take minutes. The replay check of a full
``takt store verify`` (projections rebuilt from every event) is not part of this figure; ``--replay-events N``
also times the full verify over N events recorded through the write path and prints it as a line (not a figure).
"""
from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import edge.service
from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.chain import GENESIS, key_from_text, link, timestamp_text

WH: dict[str, Any] = {"actor": "bench", "actor_roles": frozenset({"warehouse"})}
KEY = key_from_text("bench-secret-kept-outside-the-store", "bench")


def _no_chain(*_args: Any) -> None:
    return None


def _setup(service: Service) -> None:
    service.handle(c.DefineItem(idempotency_key="i", item="SCREW", description="Screw", unit="pcs", revision="B", **WH))
    service.handle(c.DefineBin(idempotency_key="b1", bin="A-01", zone="A", **WH))
    service.handle(c.DefineBin(idempotency_key="b2", bin="LINE1", zone="L", **WH))
    service.handle(c.ReceiveLot(idempotency_key="r", lot="L1", item="SCREW", item_revision=None,
                                quantity=Decimal(10_000_000), bin="A-01", expiry=date(2030, 1, 1), **WH))


def commands_per_s(folder: Path, chained: bool, commands: int, clients: int) -> tuple[float, float]:
    """Durable stock moves per second from ``clients`` threads, with or without the chain, and the process's CPU
    seconds per move."""
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    store.node_id("bench")
    # the baseline: the writer's hash function swapped for one that computes nothing (the column stays empty)
    original = vars(edge.service)["link"]
    if not chained:
        setattr(edge.service, "link", _no_chain)  # noqa: B010
    try:
        with Service(store, "bench", checkpoint_key=KEY if chained else None) as service:
            _setup(service)
            per_client = commands // clients

            def client(n: int) -> None:
                futures = [service.submit(c.MoveStock(
                    idempotency_key=f"m-{n}-{i}", lot="L1", from_bin="A-01" if i % 2 == 0 else "LINE1",
                    to_bin="LINE1" if i % 2 == 0 else "A-01", quantity=Decimal(1), **WH)) for i in range(per_client)]
                for f in futures:
                    f.result(120)

            threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
            cpu = time.process_time()
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
    finally:
        setattr(edge.service, "link", original)  # noqa: B010
        store.close()
    return per_client * clients / seconds, cpu / (per_client * clients)


def fill(folder: Path, events: int) -> None:
    """A migrated store with ``events`` journal rows, chained as the writer chains them."""
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    store.node_id("bench")
    store.close()
    db = sqlite3.connect(folder / "takt.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    prev = GENESIS
    page: list[tuple[Any, ...]] = []
    sql = ("INSERT INTO journal (seq, event_id, node_id, type, subject, payload, actor, source_device, occurred_at, "
           "recorded_at, origin, idempotency_key, key_part, recorded_by, on_behalf_of, chain_hash) "
           "VALUES (?, ?, 'bench', ?, ?, ?, ?, ?, ?, ?, 'edge', ?, 0, ?, NULL, ?)")
    for seq in range(1, events + 1):
        at = t0 + timedelta(milliseconds=250 * seq)
        at_text = timestamp_text(at)
        stored = f"{at:%Y-%m-%d %H:%M:%S.%f}"
        machine = f"PRESS-{seq % 4 + 1}"
        payload = (f'{{"equipment":"{machine}","state":"{"running" if seq % 2 else "idle"}","reason":null,'
                   f'"since":"{at.isoformat()}"}}')
        event_id = str(uuid.UUID(int=seq << 64 | 0x7000_8000_0000_0000))
        prev = link(prev, seq, event_id, "MachineStateChanged", f"equipment:{machine}", payload, "plc", "plc", None,
                    "plc-1", at_text, at_text, "edge")
        page.append((seq, event_id, "MachineStateChanged", f"equipment:{machine}", payload, "plc", "plc-1", stored,
                     stored, f"plc:{machine}:{seq}", "plc", prev))
        if len(page) == 50_000:
            db.executemany(sql, page)
            db.commit()
            page = []
    if page:
        db.executemany(sql, page)
        db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def verify_seconds(folder: Path, *, chain_only: bool = True) -> tuple[float, str]:
    args = [sys.executable, "-m", "takt", "store", "verify", "--data-dir", str(folder)]
    if chain_only:
        args.append("--chain-only")
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"takt store verify failed: {done.stderr or done.stdout}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    load = os.getloadavg()[0]
    return seconds, (f"{done.stdout.strip().splitlines()[0]} [{seconds:.2f} s wall, {cpu:.2f} s CPU, "
                     f"load average {load:.1f} on {os.cpu_count()} cores]")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=4000, help="stock moves per round and variant")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--replay-events", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="takt-bench-chain-") as tmp:
        base = Path(tmp)
        ratios: list[float] = []
        cpu_ratios: list[float] = []
        for r in range(args.rounds):
            rate: dict[bool, float] = {}
            cpu: dict[bool, float] = {}
            for chained in (False, True) if r % 2 == 0 else (True, False):
                rate[chained], cpu[chained] = commands_per_s(base / f"write-{r}-{int(chained)}", chained,
                                                             args.commands, args.clients)
            ratios.append(rate[True] / rate[False])
            cpu_ratios.append(cpu[False] / cpu[True])
            print(f"round {r + 1}: {rate[True]:,.0f} commands/s with the chain, {rate[False]:,.0f} without "
                  f"(ratio {ratios[-1]:.3f}); CPU per command {cpu[True] * 1e6:.0f} µs with, {cpu[False] * 1e6:.0f} µs "
                  f"without", flush=True)
        print(f"CPU per command without / with the chain (median): {statistics.median(cpu_ratios):.3f}", flush=True)
        big = base / "million"
        started = time.perf_counter()
        fill(big, args.events)
        print(f"filled {args.events:,} chained events in {time.perf_counter() - started:.1f} s "
              f"({os.path.getsize(big / 'takt.sqlite') / 1e6:.0f} MB)", flush=True)
        seconds, said = verify_seconds(big)
        print(f"takt store verify --chain-only: {said}", flush=True)
        if args.replay_events:
            replayed = base / "replay"
            commands_per_s(replayed, True, args.replay_events, 4)
            full, said_full = verify_seconds(replayed, chain_only=False)
            print(f"full takt store verify (chain + replay) over {args.replay_events:,} events: {full:.2f} s "
                  f"({said_full})", flush=True)
    print(f"FIGURE journal_chain_overhead_ratio {statistics.median(ratios):.3f} ratio")
    print(f"FIGURE verify_1m_events_s {seconds:.2f} s")


if __name__ == "__main__":
    main()
