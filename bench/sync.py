"""Sync figures: draining a backlog to the central simulator, against one request per event; and applying the
central change feed.

    python -m bench.sync                      # 200,000-event backlog (under 3 minutes here)
    python -m bench.sync --events 1000000     # the full run

The central simulator runs as its own process (``takt sim erp``, SQLite), as it would on its own server. The
backlog is recorded through the node's write path (machine state changes, as a PLC makes them). The drain runs
in a child process, so its peak RSS is the daemon's own. Figures:

- ``sync_drain_events_per_s``: edge events acknowledged per second while draining the backlog (goal >= 20,000)
- ``sync_naive_events_per_s``: the baseline, one request per event, measured in the same run
- ``sync_vs_naive_ratio``: the two divided (goal >= 50)
- ``sync_peak_rss_mb``: peak RSS of the draining process (bounded: batches are paged)
- ``pull_apply_per_s``: central changes applied per second through the write path (goal >= 5,000)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from erp_sync.client import CentralClient
from erp_sync.pull import Puller
from erp_sync.push import Pusher
from simulators.erp.runner import free_port

ADMIN = "bench-admin-token-000"
NODES = {"bench-node": "bench-node-token-0000", "naive-node": "naive-node-token-0000",
         "pull-node": "pull-node-token-00000"}


def record_backlog(url: str, node: str, events: int) -> None:
    store = Store(url)
    store.migrate()
    store.node_id(node)
    service = Service(store, node).start()
    roles = frozenset({"service"})
    service.handle(c.DefineEquipment(idempotency_key="eq", actor="seed", actor_roles=frozenset({"admin"}),
                                     origin="erp", equipment="M-1", workstation="ASSY"))
    t0 = datetime.now(UTC) - timedelta(days=1)
    chunk = 20_000
    for start in range(0, events, chunk):
        futures = [service.submit(c.SetMachineState(
            idempotency_key=f"plc:{i}", actor="plc", actor_roles=roles, equipment="M-1",
            state="running" if i % 2 == 0 else "idle", since=t0 + timedelta(milliseconds=i)))
            for i in range(start, min(events, start + chunk))]
        for f in futures:
            f.result(120)
    service.stop()
    store.close()


async def _drain(url: str, node: str, central: str, batch: int) -> dict[str, float]:
    store = Store(url)
    async with CentralClient(central, NODES[node], node, timeout_s=120) as client:
        report = await Pusher(store, node, client, batch_events=batch).push()
    store.close()
    return {"sent": report.sent, "seconds": report.seconds, "batches": report.batches,
            "refused": report.refused, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def drain_child(url: str, node: str, central: str, batch: int) -> dict[str, float]:
    """Drain in a fresh process, so the peak RSS is the sync's alone."""
    out = subprocess.run([sys.executable, "-m", "bench.sync", "--child", url, node, central, str(batch)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"the draining process failed: {out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def start_sim(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    tokens = [a for node, token in NODES.items() for a in ("--node-token", f"{node}={token}")]
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "sim", "erp", "--database-url",
                             f"sqlite:///{folder}/central.sqlite", "--port", str(port), "--admin-token", ADMIN,
                             *tokens], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("takt sim erp did not start")


async def _pull(url: str, central: str) -> tuple[int, float]:
    store = Store(url)
    store.migrate()
    store.node_id("pull-node")
    service = Service(store, "pull-node").start()
    try:
        async with CentralClient(central, NODES["pull-node"], "pull-node", timeout_s=120) as client:
            report = await Puller(service, client, page=5000).pull()
    finally:
        service.stop()
        store.close()
    return report.applied, report.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="backlog to drain")
    parser.add_argument("--naive-events", type=int, default=2_000, help="events sent one request each")
    parser.add_argument("--changes", type=int, default=100_000, help="central changes to pull")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, node, central, batch = args.child
        print(json.dumps(asyncio.run(_drain(url, node, central, int(batch)))))
        return
    with tempfile.TemporaryDirectory(prefix="takt-bench-sync-") as tmp:
        folder = Path(tmp)
        print(f"recording a backlog of {args.events:,} events ...", flush=True)
        started = time.perf_counter()
        backlog = sqlite_url(folder / "edge")
        (folder / "edge").mkdir()
        record_backlog(backlog, "bench-node", args.events)
        naive = sqlite_url(folder / "naive")
        (folder / "naive").mkdir()
        record_backlog(naive, "naive-node", args.naive_events)
        print(f"  recorded in {time.perf_counter() - started:.1f} s", flush=True)
        proc, central = start_sim(folder)
        try:
            slow = drain_child(naive, "naive-node", central, 1)
            fast = drain_child(backlog, "bench-node", central, args.batch)
            print(f"loading {args.changes:,} central changes ...", flush=True)
            admin = httpx.Client(base_url=central, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=300)
            for start in range(0, args.changes, 50_000):
                admin.put("/central/v1/items/load", json=[
                    {"item": f"ITEM-{i:07d}", "description": f"bench item {i}"}
                    for i in range(start, min(args.changes, start + 50_000))]).raise_for_status()
            (folder / "pull").mkdir()
            applied, pull_seconds = asyncio.run(_pull(sqlite_url(folder / "pull"), central))
        finally:
            proc.terminate()
            proc.wait(30)
    fast_rate = fast["sent"] / fast["seconds"]
    slow_rate = slow["sent"] / slow["seconds"]
    print(f"drained {fast['sent']:,.0f} events in {fast['batches']:.0f} batches in {fast['seconds']:.1f} s; "
          f"baseline {slow['sent']:,.0f} events one request each in {slow['seconds']:.1f} s")
    print(f"FIGURE sync_drain_events_per_s {fast_rate:.0f}")
    print(f"FIGURE sync_naive_events_per_s {slow_rate:.0f}")
    print(f"FIGURE sync_vs_naive_ratio {fast_rate / slow_rate:.1f}")
    print(f"FIGURE sync_peak_rss_mb {fast['peak_rss_mb']:.0f}")
    print(f"FIGURE pull_apply_per_s {applied / pull_seconds:.0f}  ({applied:,} changes in {pull_seconds:.1f} s)")


if __name__ == "__main__":
    main()
