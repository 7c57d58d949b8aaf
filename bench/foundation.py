"""Foundation benchmark: durable commands per second, in process and over HTTP, against an fsync baseline;
p99 latency at a fixed offered rate; and kill -9 trials. ``python -m bench.foundation [--trials N] [--json FILE]``.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``baseline_fsync_commits_per_s``: raw ``sqlite3``, WAL, ``synchronous=FULL``, one INSERT + COMMIT per
  command (the durability Takt promises, without group commit). Measured in this run, because these
  machines' disks are noisy; ``service_vs_baseline`` is the ratio.
- ``service_commands_per_s``: ``Service`` in process on SQLite (WAL, synchronous=FULL): 1,000 asyncio tasks
  each awaiting ``service.execute(MoveStock(...))`` in a loop, fresh idempotency keys, 100 lots; every
  command acknowledged only after its group's commit. Median of three runs.
- ``http_commands_per_s``: the demo node (``python -m takt.cli demo``) in a child process, driven by
  ``wrk`` (2 threads, 64 connections, 10 s after a 2 s warm-up) with ``bench/moves.lua``: each request a
  ``POST /api/v1/stock/moves`` with a fresh ``Idempotency-Key``; only 201 answers count (acknowledged).
  wrk and the node share the 2 cores. The bench installs wrk (``apt-get install -y wrk``) if missing.
- ``http_p99_ms_at_1000``: the same node and request, offered at 1,000 requests/s *open-loop* for 10 s
  (after 1 s warm-up) by ``bench.paced``: requests are scheduled at fixed times on 32 keep-alive
  connections and each latency runs from the scheduled time to the end of the answer, as wrk2 does, so
  a stall counts for every request it delays (no coordinated omission). wrk itself cannot pace, and
  wrk's Lua ``delay()`` paces per connection after each answer, which is closed-loop again.
- ``kill9_lost_acknowledged``: acknowledged commands missing after ``kill -9`` + restart, summed over
  ``--trials`` trials (``bench.kill9`` says what a trial checks; any other failed check is reported too).
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

from bench.node import ADMIN_TOKEN, ROOT, NodeProcess, seed_lot

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


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk not found: installing it (apt-get install -y wrk)")
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        apt = ["sudo", "-n", *apt]
    if subprocess.run(apt, capture_output=True).returncode != 0:
        subprocess.run([*apt[:-4], "apt-get", "update", "-q"], capture_output=True)
        subprocess.run(apt, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
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


def http_figures(folder: Path) -> dict[str, Any]:
    from bench.paced import paced, render_post

    wrk = ensure_wrk()
    node = NodeProcess(folder / "http-node").start()
    out: dict[str, Any] = {}
    try:
        seed_lot(node.base, item="BENCH-1", bins=("BENCH-A", "BENCH-B"), lot="BENCH-L1", quantity=10**11)
        body = json.dumps({"lot": "BENCH-L1", "from_bin": "BENCH-A", "to_bin": "BENCH-B", "quantity": "1"})
        url = f"{node.base}/api/v1/stock/moves"
        run_wrk(wrk, url, seconds=2, connections=64, threads=2, prefix="warm", body=body)
        result = run_wrk(wrk, url, seconds=10, connections=64, threads=2, prefix="tp", body=body)
        seconds = result["duration_us"] / 1e6
        out["wrk"] = {**result, "acknowledged_per_s": result["created"] / seconds}
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        move = {"lot": "BENCH-L1", "from_bin": "BENCH-A", "to_bin": "BENCH-B", "quantity": "1"}

        def request(i: int) -> bytes:
            return render_post("127.0.0.1", node.port, "/api/v1/stock/moves",
                               {**headers, "Idempotency-Key": f"paced-{i}"}, move)

        time.sleep(1.0)  # let the node settle after the saturation run
        p = paced("127.0.0.1", node.port, request, rate=1000, duration=10, warmup=1.0, connections=32)
        out["paced"] = {"offered_per_s": p.offered_per_s, "sent": p.sent, "acknowledged": p.acknowledged,
                        "failed": p.failed, "p50_ms": p.percentile(50), "p90_ms": p.percentile(90),
                        "p99_ms": p.percentile(99), "p999_ms": p.percentile(99.9), "max_ms": max(p.latencies_ms)}
    finally:
        node.stop()
    return out


# --- main ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.foundation", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="kill -9 trials (default 20)")
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

        if not args.skip_http:
            say("(b) HTTP: demo node + wrk (64 connections, 10 s) and open-loop 1,000/s for p99 ...")
            http = http_figures(folder)
            SUMMARY["http"] = http
            w, p = http["wrk"], http["paced"]
            say(f"    wrk: {w['acknowledged_per_s']:,.0f} acknowledged/s ({w['created']:.0f} x 201, {w['other']:.0f} other),"
                f" latency p50 {w['p50_us'] / 1000:.1f} ms, p99 {w['p99_us'] / 1000:.1f} ms")
            say(f"    paced {p['offered_per_s']:.0f}/s: {p['acknowledged']} of {p['sent']} acknowledged, p50 {p['p50_ms']:.1f} ms,"
                f" p90 {p['p90_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, max {p['max_ms']:.1f} ms")
            figure("http_commands_per_s", round(w["acknowledged_per_s"]), "commands/s")
            figure("http_vs_baseline", round(w["acknowledged_per_s"] / baseline, 2), "x")
            figure("http_p99_ms_at_1000", round(p["p99_ms"], 1), "ms")

        if args.trials > 0:
            from bench.kill9 import run_trials

            say(f"(c) kill -9: {args.trials} trials (8 clients, SIGKILL after 0.3-1.0 s, restart, check) ...")

            def progress(r: Any, seconds: float) -> None:
                flag = "ok" if r.ok else "FAILED " + "; ".join(r.problems[:2] + [f"lost {len(r.lost)}"])
                say(f"    trial {r.trial + 1:2d}: {r.acknowledged} acknowledged, {r.journaled} journaled "
                    f"({r.journaled - r.acknowledged + len(r.lost)} unacknowledged but committed), {flag} [{seconds:.1f} s]")

            trials, replay_ok = run_trials(folder / "kill9", args.trials, on_trial=progress)
            lost = sum(len(t.lost) for t in trials)
            failed = [t.trial for t in trials if not t.ok]
            SUMMARY["kill9"] = {"trials": len(trials), "lost_acknowledged": lost, "failed_trials": failed,
                                "acknowledged": sum(t.acknowledged for t in trials),
                                "journaled": sum(t.journaled for t in trials), "verify_after_ok": replay_ok}
            say(f"    {sum(t.acknowledged for t in trials)} acknowledged in all, {lost} lost; trials failing any check:"
                f" {failed or 'none'}; store verify after the crashes: {'ok' if replay_ok else 'DIFFERENCES'}")
            figure("kill9_lost_acknowledged", lost, "commands")
            figure("kill9_failed_trials", len(failed), "trials")

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
