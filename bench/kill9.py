"""kill -9 trials: does every acknowledged command survive a crash of the node, exactly once?

One trial, on a node process with its data directory:

1. Seed a lot of its own with 1,000,000 units in bin K9-A (acknowledged before the chaos starts).
2. Several concurrent clients send ``POST /api/v1/stock/moves`` (1 unit K9-A -> K9-B), each with a
   fresh Idempotency-Key, and note which keys they sent and which got a 2xx.
3. After a random 0.3-1.0 s, the node is killed with SIGKILL mid-stream, then restarted on the same data.
4. Checks, over the journal (``GET /api/v1/journal``) and the lot (``GET /api/v1/lots/{lot}``):
   every acknowledged key is in the journal (else it is *lost*); no key is journaled twice; nothing
   is journaled that was never sent; the stock in K9-B equals the number of journaled moves (some
   unacknowledged ones may have committed: they count, they are in the journal) and K9-A the rest;
   re-sending every journaled command with its key answers 201 with ``Idempotent-Replayed: true``
   and adds no journal row.

Trials run back to back on one data directory (each restart is the next trial's start); at the end
the node is stopped and the store is replayed from its journal (``edge.store.verify``).

``python -m bench.kill9 [--trials N] [--clients N] [--seed N] [--data-dir DIR] [--json FILE]`` runs the trials on
their own (``bench.foundation`` runs them too); ``--json`` writes every trial's result, for a test to read. Figures:
``kill9_lost_acknowledged`` (summed over the trials) and ``kill9_failed_trials`` (trials failing any check).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.node import AUTH, NodeProcess, seed_lot

STOCK = 1_000_000
BINS = ("K9-A", "K9-B")


@dataclass
class TrialResult:
    trial: int
    sent: int
    acknowledged: int
    journaled: int
    lost: list[str] = field(default_factory=list)  # acknowledged, not in the journal
    duplicates: int = 0  # journal rows beyond the first per key
    phantoms: int = 0  # journaled keys no client sent
    stock_ok: bool = True
    replays_ok: bool = True
    replay_new_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicates or self.phantoms or self.problems) and self.stock_ok \
            and self.replays_ok and not self.replay_new_rows


def _move(lot: str) -> dict[str, Any]:
    return {"lot": lot, "from_bin": BINS[0], "to_bin": BINS[1], "quantity": "1"}


async def _chaos(node: NodeProcess, lot: str, prefix: str, clients: int, kill_after: float
                 ) -> tuple[set[str], set[str]]:
    sent: set[str] = set()
    acked: set[str] = set()
    stop = asyncio.Event()

    async def client(c: int) -> None:
        async with httpx.AsyncClient(base_url=node.base, timeout=10) as http:
            n = 0
            while not stop.is_set():
                n += 1
                key = f"{prefix}-{c}-{n}"
                sent.add(key)
                try:
                    r = await http.post("/api/v1/stock/moves", json=_move(lot),
                                        headers={**AUTH, "Idempotency-Key": key})
                except httpx.HTTPError:
                    return  # the node is gone
                if 200 <= r.status_code < 300:
                    acked.add(key)

    tasks = [asyncio.create_task(client(c)) for c in range(clients)]
    # The kill comes ``kill_after`` seconds into the stream, counted from the first acknowledgement:
    # on a slow machine the first answers can take longer than the shortest delay.
    deadline = asyncio.get_running_loop().time() + 15
    while not acked and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(kill_after)
    node.kill()
    stop.set()
    await asyncio.gather(*tasks)
    return sent, acked


def journal_after(http: httpx.Client, after: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        r = http.get("/api/v1/journal", params={"after": after, "limit": 1000}, headers=AUTH)
        r.raise_for_status()
        page = r.json()["events"]
        if not page:
            return events
        events.extend(page)
        after = page[-1]["seq"]


async def _resend(base: str, lot: str, keys: list[str], clients: int) -> tuple[bool, list[str]]:
    problems: list[str] = []
    todo = list(keys)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while todo:
                key = todo.pop()
                r = await http.post("/api/v1/stock/moves", json=_move(lot), headers={**AUTH, "Idempotency-Key": key})
                if r.status_code != 201 or r.headers.get("idempotent-replayed") != "true" or not r.json()["replayed"]:
                    problems.append(f"{key}: {r.status_code} replayed={r.headers.get('idempotent-replayed')}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return not problems, problems


def run_trial(node: NodeProcess, trial: int, *, clients: int = 8, rng: random.Random | None = None,
              tag: str = "k9") -> TrialResult:
    """One trial on a running node; leaves the node running (restarted after the kill)."""
    rng = rng or random.Random()
    lot = f"{tag}-lot-{trial}"
    prefix = f"{tag}-{trial}"
    seed_lot(node.base, item="K9-ITEM", bins=BINS, lot=lot, quantity=STOCK)
    with httpx.Client(base_url=node.base, timeout=30) as http:
        before = _last_seq(http)
    sent, acked = asyncio.run(_chaos(node, lot, prefix, clients, rng.uniform(0.3, 1.0)))
    node.start()
    result = TrialResult(trial, len(sent), len(acked), 0)
    with httpx.Client(base_url=node.base, timeout=30) as http:
        events = [e for e in journal_after(http, before) if e["idempotency_key"].startswith(prefix + "-")]
        keys = [e["idempotency_key"] for e in events]
        journaled = set(keys)
        result.journaled = len(journaled)
        result.duplicates = len(keys) - len(journaled)
        result.lost = sorted(acked - journaled)
        result.phantoms = len(journaled - sent)
        if any(e["type"] != "StockMoved" for e in events):
            result.problems.append("a move key journaled something other than StockMoved")
        lot_view = http.get(f"/api/v1/lots/{lot}", headers=AUTH).json()
        stock = {s["bin"]: float(s["quantity"]) for s in lot_view.get("stock", [])}
        want_b, want_a = len(keys), STOCK - len(keys)
        result.stock_ok = stock.get(BINS[1], 0.0) == want_b and stock.get(BINS[0], 0.0) == want_a
        if not result.stock_ok:
            result.problems.append(f"stock {stock} != {{{BINS[0]}: {want_a}, {BINS[1]}: {want_b}}}")
        last = _last_seq(http)
        result.replays_ok, problems = asyncio.run(_resend(node.base, lot, sorted(journaled), clients))
        result.problems.extend(problems[:5])
        result.replay_new_rows = sum(1 for e in journal_after(http, last) if e["idempotency_key"].startswith(prefix + "-"))
    return result


def _last_seq(http: httpx.Client) -> int:
    """The journal's last sequence number, as /health reports it."""
    r = http.get("/health", headers=AUTH)  # the details need a token
    r.raise_for_status()
    return int(r.json()["store"]["last_seq"])


def run_trials(data_dir: Path, trials: int, *, clients: int = 8, seed: int | None = None,
               on_trial: Any = None) -> tuple[list[TrialResult], bool]:
    """``trials`` kill -9 trials on a fresh node in ``data_dir``; returns the trials and whether the
    store replays to the same state afterwards."""
    from edge.store import Store, sqlite_url
    from edge.store.verify import verify

    rng = random.Random(seed)
    node = NodeProcess(data_dir)
    results: list[TrialResult] = []
    node.start()
    try:
        for trial in range(trials):
            started = time.perf_counter()
            results.append(run_trial(node, trial, clients=clients, rng=rng))
            if on_trial is not None:
                on_trial(results[-1], time.perf_counter() - started)
    finally:
        node.stop()
    store = Store(sqlite_url(data_dir))
    try:
        report = verify(store)
    finally:
        store.close()
    return results, report.ok


def describe(result: TrialResult, seconds: float) -> str:
    """One trial in a line, as the benchmarks print it."""
    flag = "ok" if result.ok else "FAILED " + "; ".join(result.problems[:2] + [f"lost {len(result.lost)}"])
    return (f"trial {result.trial + 1:2d}: {result.acknowledged} acknowledged, {result.journaled} journaled "
            f"({result.journaled - result.acknowledged + len(result.lost)} unacknowledged but committed), {flag} "
            f"[{seconds:.1f} s]")


def summary(trials: list[TrialResult], verify_after_ok: bool) -> dict[str, Any]:
    return {"trials": len(trials), "lost_acknowledged": sum(len(t.lost) for t in trials),
            "failed_trials": [t.trial for t in trials if not t.ok],
            "acknowledged": sum(t.acknowledged for t in trials), "journaled": sum(t.journaled for t in trials),
            "verify_after_ok": verify_after_ok}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kill9", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients posting moves (default 8)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill times (default: random)")
    parser.add_argument("--data-dir", type=Path, default=None, help="the node's data (default: a temporary folder)")
    parser.add_argument("--json", type=Path, default=None, help="also write every trial's result to this file")
    args = parser.parse_args(argv)

    def progress(result: TrialResult, seconds: float) -> None:
        print("    " + describe(result, seconds), flush=True)

    print(f"kill -9: {args.trials} trials ({args.clients} clients, SIGKILL after 0.3-1.0 s, restart, check) ...",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="takt-bench-kill9-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "node"
        trials, verify_after_ok = run_trials(data_dir, args.trials, clients=args.clients, seed=args.seed,
                                             on_trial=progress)
    result = summary(trials, verify_after_ok)
    print(f"    {result['acknowledged']} acknowledged in all, {result['lost_acknowledged']} lost; trials failing any "
          f"check: {result['failed_trials'] or 'none'}; store verify after the crashes: "
          f"{'ok' if verify_after_ok else 'DIFFERENCES'}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({**result, "results": [{**asdict(t), "ok": t.ok} for t in trials]},
                                        indent=2), encoding="utf-8")
    print(f"FIGURE kill9_lost_acknowledged {result['lost_acknowledged']} commands")
    print(f"FIGURE kill9_failed_trials {len(result['failed_trials'])} trials")
    return 0


if __name__ == "__main__":
    sys.exit(main())
