"""Foundation benchmark: durable commands per second, in process and over HTTP, each beside a baseline of the same
work measured in the same run; p99 latency at half the measured capacity; and kill -9 trials.
``python -m bench.foundation [--trials N] [--json FILE]``.

These machines differ about 3x in CPU speed and are shared, so every absolute figure comes with a baseline from the
same run and a ratio; the ratios are what mean the same on any host.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``baseline_fsync_commits_per_s``: raw ``sqlite3``, WAL, ``synchronous=FULL``, one INSERT + COMMIT per
  command (the durability Takt promises, without group commit). Measured in this run, because these
  machines' disks are noisy; ``service_vs_baseline`` is the ratio.
- ``service_commands_per_s``: ``Service`` in process on SQLite (WAL, synchronous=FULL): 1,000 asyncio tasks
  each awaiting ``service.execute(MoveStock(...))`` in a loop, fresh idempotency keys, 100 lots; every
  command acknowledged only after its group's commit. Median of three runs.
- ``http_commands_per_s``: the demo node (``python -m takt.cli demo --no-plant`` with a ``sync`` section) in a child
  process, syncing with the central ERP simulator in a process of its own (``takt sim erp``) as a site's node syncs
  with a central system elsewhere (until stop 26 the demo's in-process simulator shared the node's GIL), driven by
  ``wrk`` (2 threads, 64 connections, two 4 s runs after a 2 s warm-up) with ``bench/moves.lua``: each request a
  ``POST /api/v1/stock/moves`` with a fresh ``Idempotency-Key``; only 201 answers count (acknowledged).
  wrk and the node share the 2 cores. The bench installs wrk (``apt-get install -y wrk``) if missing, and says
  so; if it cannot, it says that the HTTP figures are skipped. ``http_vs_baseline`` is the ratio to the fsync
  baseline.
- ``probe_commands_per_s``: the same load on ``bench.probe``, a bare FastAPI + uvicorn app in the node's process
  model that group-commits one row per request (key + body) into SQLite (WAL, ``synchronous=FULL``), without the
  domain. The probe's and the node's wrk runs alternate (probe, node, probe, node), both processes up, so that
  a change in the machine's other load falls on both. ``http_vs_probe_ratio`` = node / probe (goal >= 0.8).
- ``http_p99_ms_at_half_capacity``: the node's p99 latency with requests offered *open-loop* at half of
  ``http_commands_per_s`` (the capacity this run measured, not a fixed rate) for 6 s after a 1 s warm-up, by
  ``bench.paced``: requests are scheduled at fixed times on 32 keep-alive connections and each latency runs
  from the scheduled time to the end of the answer, as wrk2 does, so a stall counts for every request it delays
  (no coordinated omission). wrk itself cannot pace, and wrk's Lua ``delay()`` paces per connection after each
  answer, which is closed-loop again. Before each paced run the bench waits until the central side acknowledged the
  node's last event (the runs at full capacity leave the sync a backlog): latency at a steady half load. Goal <= 20 ms. ``probe_p99_ms_at_half_capacity``: the probe at the same
  offered rate; ``http_p99_vs_probe_at_half_capacity`` the ratio.
- ``http_p99_ms_at_1000``: the node's p99 with 1,000 requests/s offered the same way (the figure of the first
  notes; on a slow machine 1,000/s is near capacity, hence the figure above).
- ``kill9_lost_acknowledged``: acknowledged commands missing after ``kill -9`` + restart, summed over
  ``--trials`` trials (default 10, to stay under 3 minutes on a loaded machine; ``python -m bench.kill9`` runs
  20 on their own). ``bench.kill9`` says what a trial checks; ``kill9_failed_trials`` counts trials failing any.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.node import ADMIN_TOKEN, DEMO_NODE_ID, ROOT, CentralProcess, NodeProcess, SiteNodeProcess, seed_lot
from bench.probe import ProbeProcess

FIGURES: list[tuple[str, float, str]] = []
SUMMARY: dict[str, Any] = {}


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, value, unit))


def say(text: str) -> None:
    print(text, flush=True)


# --- (a) baseline and in-process service ------------------------------------------------------------


def baseline_fsync(folder: Path, seconds: float = 3.0) -> float:
    """One durable single-row commit per command: WAL, synchronous=FULL, INSERT + COMMIT."""
    db = sqlite3.connect(folder / "baseline.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE command_log (idempotency_key TEXT PRIMARY KEY, payload TEXT NOT NULL)")
    payload = json.dumps({"lot": "L1", "from_bin": "A", "to_bin": "B", "quantity": "1"})
    n = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        db.execute("BEGIN")
        db.execute("INSERT INTO command_log VALUES (?, ?)", (f"k{n}", payload))
        db.execute("COMMIT")
        n += 1
    db.close()
    return n / elapsed


def service_throughput(folder: Path, commands: int = 40_000, callers: int = 1000) -> dict[str, Any]:
    from edge.domain import commands as c
    from edge.service import Service
    from edge.store import Store, sqlite_url

    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    service = Service(store, store.node_id("bench")).start()
    who: dict[str, Any] = {"actor": "bench", "actor_roles": frozenset({"admin"})}
    try:
        service.handle(c.DefineItem(idempotency_key="item", item="X", description="", unit="pcs", revision="A", **who))
        for b in ("A", "B"):
            service.handle(c.DefineBin(idempotency_key=f"bin-{b}", bin=b, zone="Z", **who))
        for i in range(100):
            service.handle(c.ReceiveLot(idempotency_key=f"lot-{i}", lot=f"L{i}", item="X", item_revision=None,
                                        quantity=Decimal(10**9), bin="A", **who))
        one = Decimal(1)
        runs: list[float] = []
        commits: list[int] = []
        for run in range(3):
            async def caller(first: int, run: int = run) -> None:
                for i in range(first, commands, callers):
                    await service.execute(c.MoveStock(idempotency_key=f"r{run}-{i}", lot=f"L{i % 100}", from_bin="A",
                                                      to_bin="B", quantity=one, **who))

            async def all_callers() -> float:
                started = time.perf_counter()
                await asyncio.gather(*(caller(w) for w in range(callers)))
                return time.perf_counter() - started

            before = service.commits
            elapsed = asyncio.run(all_callers())
            runs.append(commands / elapsed)
            commits.append(service.commits - before)
        recorded = service.commands_recorded
    finally:
        service.stop()
        store.close()
    return {"runs_per_s": [round(r) for r in runs], "median_per_s": statistics.median(runs),
            "commands_per_run": commands, "callers": callers, "commits_per_run": commits,
            "commands_recorded": recorded}


# --- (b) HTTP ---------------------------------------------------------------------------------------


def ensure_wrk() -> str | None:
    """wrk's path; installs it when missing (Debian package ``wrk``); None, said aloud, when that fails."""
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is not installed; the HTTP figures need it: installing it (apt-get install -y wrk) ...")
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        apt = ["sudo", "-n", *apt]
    if subprocess.run(apt, capture_output=True).returncode != 0:
        subprocess.run([*apt[:-4], "apt-get", "update", "-q"], capture_output=True)
        subprocess.run(apt, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        say("wrk could NOT be installed: the HTTP figures are skipped (install the Debian package wrk, run again)")
    return found


WRK_RESULT = re.compile(r"WRK_RESULT (.*)")


def run_wrk(wrk: str, url: str, *, seconds: int, connections: int, threads: int, prefix: str, body: str
            ) -> dict[str, float]:
    out = subprocess.run(
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
         str(ROOT / "bench" / "moves.lua"), url, "--", prefix, ADMIN_TOKEN, body],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout
    found = WRK_RESULT.search(out)
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return {k: float(v) for k, v in (pair.split("=") for pair in found.group(1).split())}


MOVE = {"lot": "BENCH-L1", "from_bin": "BENCH-A", "to_bin": "BENCH-B", "quantity": "1"}


def throughput(wrk: str, servers: dict[str, NodeProcess], *, rounds: int = 2, seconds: int = 4
               ) -> dict[str, dict[str, float]]:
    """Acknowledged requests/s of each server under wrk: a warm-up each, then ``rounds`` runs each, alternating."""
    body = json.dumps(MOVE)
    totals: dict[str, dict[str, float]] = {name: {"created": 0, "other": 0, "seconds": 0.0, "p50_us": 0.0,
                                                  "p99_us": 0.0} for name in servers}
    for name, server in servers.items():
        run_wrk(wrk, f"{server.base}/api/v1/stock/moves", seconds=2, connections=64, threads=2,
                prefix=f"warm-{name}", body=body)
    for run in range(rounds):
        for name, server in servers.items():
            result = run_wrk(wrk, f"{server.base}/api/v1/stock/moves", seconds=seconds, connections=64, threads=2,
                             prefix=f"tp{run}-{name}", body=body)
            t = totals[name]
            t["created"] += result["created"]
            t["other"] += result["other"]
            t["seconds"] += result["duration_us"] / 1e6
            t["p50_us"] = max(t["p50_us"], result["p50_us"])  # the worse of the runs
            t["p99_us"] = max(t["p99_us"], result["p99_us"])
    for t in totals.values():
        t["acknowledged_per_s"] = t["created"] / t["seconds"]
    return totals


def paced_latency(server: NodeProcess, rate: float, prefix: str, seconds: float = 6.0) -> dict[str, float]:
    """Open-loop: ``rate`` requests/s for ``seconds`` after a 1 s warm-up; latencies from the scheduled times."""
    from bench.paced import paced, render_post

    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def request(i: int) -> bytes:
        return render_post("127.0.0.1", server.port, "/api/v1/stock/moves",
                           {**headers, "Idempotency-Key": f"{prefix}-{i}"}, MOVE)

    time.sleep(1.0)  # let the server settle after the run before
    p = paced("127.0.0.1", server.port, request, rate=rate, duration=seconds, warmup=1.0, connections=32)
    return {"offered_per_s": p.offered_per_s, "sent": p.sent, "acknowledged": p.acknowledged, "failed": p.failed,
            "p50_ms": p.percentile(50), "p90_ms": p.percentile(90), "p99_ms": p.percentile(99),
            "p999_ms": p.percentile(99.9), "max_ms": max(p.latencies_ms, default=float("nan"))}


def synced(node: NodeProcess, central: CentralProcess, timeout_s: float = 300.0) -> float:
    """Seconds until the central side acknowledged everything the node recorded: a paced run measures the node at
    a steady rate, not catching up on the backlog that wrk's runs at full capacity left for the sync."""
    import httpx

    started = time.monotonic()
    with httpx.Client(timeout=10) as client:
        while True:
            head = client.get(f"{node.base}/health", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
                              ).json()["store"]["last_seq"]
            acknowledged = client.get(f"{central.base}/sync/v1/nodes/{DEMO_NODE_ID}/cursor", headers={
                "Authorization": f"Bearer {central.node_token}"}).json()["acknowledged"]
            if acknowledged >= head:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(f"the sync did not catch up in {timeout_s} s ({acknowledged} of {head})")
            time.sleep(0.2)


def http_figures(folder: Path, wrk: str) -> dict[str, Any]:
    central = CentralProcess(folder / "central", DEMO_NODE_ID)
    node = SiteNodeProcess(folder / "http-node", central)
    probe = ProbeProcess(folder / "probe")
    out: dict[str, Any] = {}
    try:
        central.start()
        node.start()
        probe.start()
        seed_lot(node.base, item="BENCH-1", bins=("BENCH-A", "BENCH-B"), lot="BENCH-L1", quantity=10**11)
        tp = throughput(wrk, {"probe": probe, "node": node})
        out["wrk"], out["probe_wrk"] = tp["node"], tp["probe"]
        half = round(tp["node"]["acknowledged_per_s"] / 2)
        out["sync_drain_s"] = [synced(node, central)]  # the wrk runs' backlog pushed: latency in steady state
        out["paced_1000"] = paced_latency(node, 1000, "paced-1000")
        out["sync_drain_s"].append(synced(node, central))
        out["paced_half"] = paced_latency(node, half, "paced-half")
        out["probe_paced_half"] = paced_latency(probe, half, "paced-half")
    finally:
        node.stop()
        probe.stop()
        central.stop()
    return out


def _paced_line(what: str, p: dict[str, float]) -> str:
    return (f"    {what} paced {p['offered_per_s']:.0f}/s: {p['acknowledged']} of {p['sent']} acknowledged, "
            f"p50 {p['p50_ms']:.1f} ms, p90 {p['p90_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, max {p['max_ms']:.1f} ms")


# --- main ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.foundation", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6, help="kill -9 trials (default 6; bench.kill9 alone runs 20)")
    parser.add_argument("--json", type=Path, help="also write the figures and details to this file")
    parser.add_argument("--skip-http", action="store_true", help="skip the HTTP figures (no wrk, no node process)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="takt-bench-") as tmp:
        folder = Path(tmp)
        say("(a) fsync baseline: one INSERT + COMMIT per command, WAL, synchronous=FULL ...")
        baseline = baseline_fsync(folder)
        say(f"    {baseline:,.0f} commits/s")
        figure("baseline_fsync_commits_per_s", round(baseline), "commits/s")

        say("(a) Service in process: 1,000 asyncio callers awaiting execute(MoveStock), 3 runs of 40,000 ...")
        svc = service_throughput(folder / "service")
        SUMMARY["service"] = svc
        say(f"    runs {svc['runs_per_s']} commands/s, commits per run {svc['commits_per_run']}")
        figure("service_commands_per_s", round(svc["median_per_s"]), "commands/s")
        figure("service_vs_baseline", round(svc["median_per_s"] / baseline, 2), "x")

        wrk = None if args.skip_http else ensure_wrk()
        if wrk is not None:
            say("(b) HTTP: bare probe and demo node under wrk (64 connections, alternating 2 x 4 s each), then "
                "open-loop at half the node's capacity and at 1,000/s ...")
            http = http_figures(folder, wrk)
            SUMMARY["http"] = http
            w, pw = http["wrk"], http["probe_wrk"]
            for what, t in (("probe", pw), ("node ", w)):
                say(f"    {what}: {t['acknowledged_per_s']:,.0f} acknowledged/s ({t['created']:.0f} x 201, "
                    f"{t['other']:.0f} other), latency p50 {t['p50_us'] / 1000:.1f} ms, p99 {t['p99_us'] / 1000:.1f} ms")
            half, probe_half, at_1000 = http["paced_half"], http["probe_paced_half"], http["paced_1000"]
            say("    the node's sync caught up with the central side before each paced run, in "
                + " and ".join(f"{s:.1f} s" for s in http["sync_drain_s"]))
            say(_paced_line("node ", at_1000))
            say(_paced_line("node ", half))
            say(_paced_line("probe", probe_half))
            figure("probe_commands_per_s", round(pw["acknowledged_per_s"]), "commands/s")
            figure("http_commands_per_s", round(w["acknowledged_per_s"]), "commands/s")
            figure("http_vs_probe_ratio", round(w["acknowledged_per_s"] / pw["acknowledged_per_s"], 2), "x")
            figure("http_vs_baseline", round(w["acknowledged_per_s"] / baseline, 2), "x")
            figure("probe_p99_ms_at_half_capacity", round(probe_half["p99_ms"], 1), "ms")
            figure("http_p99_ms_at_half_capacity", round(half["p99_ms"], 1), "ms")
            figure("http_p99_vs_probe_at_half_capacity", round(half["p99_ms"] / probe_half["p99_ms"], 2), "x")
            figure("http_p99_ms_at_1000", round(at_1000["p99_ms"], 1), "ms")

        if args.trials > 0:
            from bench.kill9 import describe, run_trials, summary

            say(f"(c) kill -9: {args.trials} trials (8 clients, SIGKILL after 0.3-1.0 s, restart, check) ...")
            trials, replay_ok = run_trials(folder / "kill9", args.trials,
                                           on_trial=lambda r, seconds: say("    " + describe(r, seconds)))
            k9 = SUMMARY["kill9"] = summary(trials, replay_ok)
            say(f"    {k9['acknowledged']} acknowledged in all, {k9['lost_acknowledged']} lost; trials failing any "
                f"check: {k9['failed_trials'] or 'none'}; store verify after the crashes: "
                f"{'ok' if replay_ok else 'DIFFERENCES'}")
            figure("kill9_lost_acknowledged", k9["lost_acknowledged"], "commands")
            figure("kill9_failed_trials", len(k9["failed_trials"]), "trials")

    SUMMARY["seconds"] = round(time.perf_counter() - started, 1)
    say(f"done in {SUMMARY['seconds']} s")
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({"figures": {n: {"value": v, "unit": u} for n, v, u in FIGURES},
                                         "details": SUMMARY}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
