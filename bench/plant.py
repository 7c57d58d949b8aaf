"""A plant of many lines, one central side: N node processes push their backlogs at once into the central ERP
simulator on PostgreSQL.

    python -m bench.plant                        # 20 nodes, a throwaway PostgreSQL cluster
    python -m bench.plant --nodes 8 --events 10000 --max-ingest 4
    TAKT_BENCH_POSTGRES_URL=postgresql+psycopg://u:p@host:5432 python -m bench.plant   # a server of your own

Each node is its own process with its own SQLite store (a copy of one recorded backlog: machine state changes, as a
PLC makes them, recorded through the node's write path) and the product's pusher and HTTP client (what ``takt sync
push`` and the sync daemon run). The central side is ``takt sim erp`` in its own process on a fresh PostgreSQL
database, with ``--max-ingest`` batches stored at once (past it: 503 BUSY + Retry-After, which the nodes honour).

In the same run, three measurements (the first two before and after the third, averaged: the machine is shared):

1. the central side's own limit: ``--max-ingest`` probe nodes post the same backlog's batches, built and gzipped
   before the clock starts (no node work), each next one as soon as the last is answered;
2. one node alone draining its backlog: the baseline;
3. N nodes draining theirs at once, started together.

Then the central database is checked: every (node, seq) of every backlog is held exactly once, no more, no fewer.

Figures:

- ``plant_nodes``: N
- ``plant_sync_events_per_s``: events acknowledged per second by all nodes together, first start to last end
  (goal >= 20,000)
- ``plant_single_node_events_per_s``: one node alone, same run (the baseline)
- ``plant_central_limit_events_per_s``: the central side's limit (measurement 1)
- ``plant_vs_single_ratio``: aggregate / min(single x N, central limit) (goal >= 0.8)
- ``plant_fair_share_min``: while every node is still pushing (start to the first node's end), the slowest node's
  rate / the mean rate of all nodes in that window (goal >= 0.5: no node starves)
- ``plant_busy_answers``: 503 BUSY answers the nodes waited out (they are the mechanism, not a fault)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy

from bench.erp_sim import fresh_database, throwaway_postgres
from bench.sync import record_backlog
from edge.backoff import Backoff
from edge.store import Store, sqlite_url
from erp_sync.client import CentralClient, CentralUnavailable, gzip_bytes
from erp_sync.push import Pusher, PushReport
from simulators.ports import free_port

ADMIN = "plant-admin-token-0000"


def probe(tag: str, k: int) -> str:
    """The nodes whose ready-made batches measure the central side's limit."""
    return f"probe-{tag}-{k}"


def token(node: str) -> str:
    return f"plant-token-{node}-0000"


def say(text: str) -> None:
    print(text, flush=True)


# --- a node: its own process ---------------------------------------------------------------------------


async def _push(url: str, node: str, central: str, batch: int) -> dict[str, Any]:
    store = Store(url)
    marks: list[tuple[float, int]] = []
    try:
        async with CentralClient(central, token(node), node, timeout_s=300) as client:
            pusher = Pusher(store, node, client, batch_events=batch)
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)  # all nodes start together
            started, cpu = time.time(), time.process_time()
            done, in_round, failed, total = 0, [0], 0, PushReport()
            backoff = Backoff(initial=0.5, maximum=5.0)

            def seen(r: PushReport) -> None:
                in_round[0] = r.sent
                marks.append((time.time(), done + r.sent))

            while True:  # rounds until drained, as the sync daemon runs them: a failed round is tried again
                in_round[0] = 0
                try:
                    report = await pusher.push(progress=seen)
                except CentralUnavailable as exc:
                    done += in_round[0]  # what the failed round had acknowledged stays acknowledged
                    failed += 1
                    print(f"{node}: round failed ({exc}); again with backoff", file=sys.stderr, flush=True)
                    await asyncio.sleep(backoff.next())
                    continue
                done += report.sent
                for name in ("stored", "duplicates", "busy", "batches"):
                    setattr(total, name, getattr(report, name))
                break
            ended, cpu = time.time(), time.process_time() - cpu
    finally:
        store.close()
    return {"node": node, "sent": done, "stored": total.stored, "duplicates": total.duplicates,
            "busy": total.busy, "batches": total.batches, "started": started, "ended": ended, "marks": marks,
            "cpu_s": cpu, "failed_rounds": failed}


@contextlib.contextmanager
def node_processes(urls: dict[str, str], central: str, batch: int) -> Iterator[list[subprocess.Popen[str]]]:
    procs = [subprocess.Popen([sys.executable, "-m", "bench.plant", "--child", url, node, central, str(batch)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for node, url in urls.items()]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def drain(urls: dict[str, str], central: str, batch: int) -> list[dict[str, Any]]:
    """Start a process per node, let them all go at once, and collect what each reports."""
    with node_processes(urls, central, batch) as procs:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a node process did not start: {line!r}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"a node process failed ({proc.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
    return results


# --- the central side ----------------------------------------------------------------------------------


@contextlib.contextmanager
def central(database_url: str, nodes: list[str], max_ingest: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    tokens = [a for node in nodes for a in ("--node-token", f"{node}={token(node)}")]
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "sim", "erp", "--database-url", database_url,
                             "--port", str(port), "--admin-token", ADMIN, "--max-ingest", str(max_ingest), *tokens],
                            stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("takt sim erp did not start")
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def probe_bodies(url: str, node: str, batch: int) -> list[bytes]:
    """The backlog's batches as node ``node`` sends them (the product's pusher builds them), gzipped."""
    store = Store(url)
    pusher = Pusher(store, node, CentralClient("http://127.0.0.1:9", "unused", node), batch_events=batch)
    bodies, after = [], 0
    try:
        while (built := pusher.build(after, {})) is not None:
            bodies.append(gzip_bytes(built.body))
            after = built.through
    finally:
        asyncio.run(pusher.client.close())
        store.close()
    return bodies


def central_limit(base: str, url: str, tag: str, senders: int, batch: int) -> tuple[float, int]:
    """``senders`` probe nodes (a thread each) post the backlog's batches, built and gzipped before the clock
    starts, each next batch once the previous is answered: what the central side stores per second with no node
    work at all. Returns the rate and the events each probe node stored."""
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    bodies = {k: probe_bodies(url, probe(tag, k), batch) for k in range(senders)}

    def send(k: int) -> int:
        node = probe(tag, k)
        stored = 0
        with httpx.Client(base_url=base, headers={**headers, "Authorization": f"Bearer {token(node)}"},
                          timeout=300) as client:
            client.get("/health")
            built.wait()
            for i, body in enumerate(bodies[k]):
                while True:
                    answer = client.post(f"/sync/v1/nodes/{node}/events", content=body)
                    if answer.status_code == 200:
                        stored += int(answer.json()["stored"])
                        break
                    if answer.status_code != 503 or "retry-after-ms" not in answer.headers:
                        raise RuntimeError(f"probe batch {i}: {answer.status_code} {answer.text[:300]}")
                    time.sleep(int(answer.headers["retry-after-ms"]) / 1000)
        return stored

    built = threading.Barrier(senders + 1)
    with ThreadPoolExecutor(senders) as pool:
        futures = [pool.submit(send, k) for k in range(senders)]
        built.wait()
        started = time.perf_counter()
        stored = [f.result() for f in futures]
        seconds = time.perf_counter() - started
    if len(set(stored)) != 1:
        raise RuntimeError(f"the probe nodes stored {stored} events: not all of their backlogs")
    return sum(stored) / seconds, stored[0]


# --- the figures ---------------------------------------------------------------------------------------


def sent_by(marks: list[list[float]], when: float) -> float:
    """Events a node had acknowledged by ``when`` (its progress marks, linearly between two marks)."""
    before_t, before_n = 0.0, 0.0
    for t, n in marks:
        if t >= when:
            if t == before_t:
                return n
            return before_n + (n - before_n) * (when - before_t) / (t - before_t)
        before_t, before_n = t, n
    return before_n


def fair_share_min(results: list[dict[str, Any]]) -> tuple[float, str]:
    """The slowest node's rate over the window where all nodes push (start to the first node's end) / the mean."""
    start = max(r["started"] for r in results)
    first_end = min(r["ended"] for r in results)
    window = first_end - start
    if window <= 0:
        return 1.0, "-"
    rates = {r["node"]: sent_by([[start, 0.0], *r["marks"]], first_end) / window for r in results}
    mean = sum(rates.values()) / len(rates)
    slowest = min(rates, key=lambda n: rates[n])
    return rates[slowest] / mean, slowest


def check_exactly_once(database_url: str, expected: dict[str, int]) -> None:
    """Every node's events are held once each: as many rows as the node's backlog has edge events, and the
    sequences cover its journal without a gap or a double."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = {r.node: r for r in conn.execute(sqlalchemy.text(
                "SELECT node, count(*) AS n, count(DISTINCT seq) AS distinct_seqs, min(seq) AS first, "
                "max(seq) AS last FROM received_events GROUP BY node"))}
    finally:
        engine.dispose()
    for node, events in expected.items():
        r = rows.get(node)
        if r is None or r.n != events or r.distinct_seqs != events or r.last - r.first + 1 != events:
            raise SystemExit(f"node {node}: the central side holds {r and r.n} rows ({r and r.distinct_seqs} distinct "
                             f"seqs, {r and r.first}..{r and r.last}) for {events} events: not exactly once")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def edge_events(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sqlalchemy.text("SELECT count(*) FROM journal WHERE origin = 'edge'")).scalar_one())
    finally:
        engine.dispose()


def run(server: str, args: argparse.Namespace, folder: Path) -> list[tuple[str, float, str]]:
    nodes = [f"line-{i:02d}" for i in range(1, args.nodes + 1)]
    template = folder / "template"
    template.mkdir()
    say(f"recording a backlog of {args.events:,} events, copied to {args.nodes + 2} node stores ...")
    record_backlog(sqlite_url(template), "line-00", args.events)
    events = edge_events(sqlite_url(template))
    urls: dict[str, str] = {}
    solos = ["solo-before", "solo-after"]
    for node in [*solos, *nodes]:
        shutil.copytree(template, folder / node)
        urls[node] = sqlite_url(folder / node)
    database = fresh_database(server)
    probes = [probe(tag, k) for tag in ("before", "after") for k in range(args.max_ingest)]
    with central(database, [*solos, *probes, *nodes], args.max_ingest) as (base, central_pid):
        say(f"central side: takt sim erp on PostgreSQL, --max-ingest {args.max_ingest}")

        def baselines(tag: str) -> tuple[float, float]:
            """The central side's limit and one node alone (before and after the plant run: the machine is shared,
            the two are averaged)."""
            limit, _ = central_limit(base, urls[f"solo-{tag}"], tag, args.max_ingest, args.batch)
            solo = drain({f"solo-{tag}": urls[f"solo-{tag}"]}, base, args.batch)[0]
            single = solo["sent"] / (solo["ended"] - solo["started"])
            say(f"  {tag} the plant: the central side's limit (ready-made batches from {args.max_ingest} senders) "
                f"{limit:,.0f} events/s; one node alone {single:,.0f} events/s")
            return limit, single

        before = baselines("before")
        load_before, central_cpu = os.getloadavg(), cpu_seconds(central_pid)
        results = drain({n: urls[n] for n in nodes}, base, args.batch)
        load_after, central_cpu = os.getloadavg(), cpu_seconds(central_pid) - central_cpu
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60) as admin:
            view = {n["node"]: n for n in admin.get("/central/v1/nodes").raise_for_status().json()}
        after = baselines("after")
    limit, single = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    check_exactly_once(database, {n: events for n in [*solos, *probes, *nodes]})
    for node in nodes:
        if view[node]["backlog"] != 0 or view[node]["events"] != events:
            raise SystemExit(f"the plant view shows node {node} with {view[node]}")
    sent = sum(r["sent"] for r in results)
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    aggregate = sent / seconds
    fair, slowest = fair_share_min(results)
    busy = sum(r["busy"] for r in results)
    failed = sum(r["failed_rounds"] for r in results)
    rates = sorted(r["sent"] / (r["ended"] - r["started"]) for r in results)
    say(f"  {args.nodes} nodes at once: {sent:,} events in {seconds:.1f} s, {aggregate:,.0f} events/s; per node "
        f"{rates[0]:,.0f}..{rates[-1]:,.0f} events/s over its own drain; {busy} busy answers waited out; "
        f"{failed} failed rounds tried again; "
        f"slowest while all pushed: {slowest}")
    node_cpu = sum(r["cpu_s"] for r in results)
    say(f"  CPU per event: the nodes {node_cpu / sent * 1e6:.0f} µs, the central process {central_cpu / sent * 1e6:.0f} "
        f"µs (PostgreSQL's own not counted); {node_cpu + central_cpu:.0f} CPU s in {seconds:.0f} s on "
        f"{os.cpu_count()} cores")
    say(f"  exactly once: {len(nodes) + len(solos) + len(probes)} nodes x {events:,} events, each (node, seq) held once; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after the plant run ({os.cpu_count()} cores)")
    return [("plant_nodes", args.nodes, "nodes"),
            ("plant_sync_events_per_s", aggregate, "events/s (goal >= 20000)"),
            ("plant_single_node_events_per_s", single, "events/s (baseline, same run: before and after, mean)"),
            ("plant_central_limit_events_per_s", limit, "events/s (same run: before and after, mean)"),
            ("plant_vs_single_ratio", aggregate / min(single * args.nodes, limit),
             "x (aggregate / min(single x N, central limit); goal >= 0.8)"),
            ("plant_fair_share_min", fair, "x (goal >= 0.5)"),
            ("plant_busy_answers", busy, "answers")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--events", type=int, default=20_000, help="backlog per node")
    parser.add_argument("--batch", type=int, default=5000, help="events per push (the product's default)")
    parser.add_argument("--max-ingest", type=int, default=4, help="batches the central side stores at once")
    parser.add_argument("--database-url", default=os.environ.get("TAKT_BENCH_POSTGRES_URL"),
                        help="a PostgreSQL server (URL without the database name); default: a throwaway cluster")
    parser.add_argument("--json", help="write the figures to this file too")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, node, base, batch = args.child
        print(json.dumps(asyncio.run(_push(url, node, base, int(batch)))), flush=True)
        return
    folder = Path(tempfile.mkdtemp(prefix="takt-bench-plant-"))
    try:
        if args.database_url:
            figures = run(args.database_url.rstrip("/"), args, folder)
        else:
            with throwaway_postgres() as server:
                figures = run(server, args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for name, value, unit in figures:
        print(f"FIGURE {name} {value:.2f} {unit}" if isinstance(value, float) else f"FIGURE {name} {value} {unit}")
    if args.json:
        Path(args.json).write_text(json.dumps({n: {"value": v, "unit": u} for n, v, u in figures}, indent=2))


if __name__ == "__main__":
    main()
