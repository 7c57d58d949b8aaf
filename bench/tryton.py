"""Benchmark: Takt's sync with a live Tryton (trytond 8.2 on PostgreSQL, started here).

``python -m bench.tryton [--events N] [--naive-events N] [--pull N] [--sqlite]``

- ``tryton_push_events_per_s``: bin moves recorded at the edge (each a different lot) pushed into Tryton as
  internal shipments, batched as Tryton's API allows (one create, one wait, one assign, one do per run of moves).
- the baseline, measured in the same run on the same database: the same kind of event applied one by one (each
  move its own search, create, wait, assign and do), ``tryton_push_naive_events_per_s``; and
  ``tryton_push_vs_naive_ratio`` = batched / one by one.
- ``tryton_push_inspections_per_s``: inspections of a production recorded at the edge pushed into Tryton as
  quality inspections, batched (one search, create, process per run); ``tryton_push_inspections_vs_naive_ratio``
  against the same applied one by one in the same run.
- ``tryton_pull_10k_s``: 10,000 products changed in Tryton pulled into an edge node as items (read in pages of
  1000 by write stamp, applied through the node's write path); ``tryton_read_10k_s`` is the reading alone. (The
  lots the push part created in Tryton are pulled before, unmeasured, so the figure stays one of products.)

The PostgreSQL cluster is a throwaway one (``bench.erp_sim.throwaway_postgres``: the local binaries, fsync off as
in the tests); ``--sqlite`` runs Tryton on SQLite instead. The edge node's store is SQLite in a temporary folder.
Creating the Tryton database takes a minute or so and is not measured.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store
from edge.store.sync import PULL, PUSH, SyncLedger
from erp_sync.pull import Puller
from erp_sync.push import Pusher
from erp_sync.tryton import TrytonCentral, TrytonRPC
from simulators.tryton import Plant, TrytonServer, TrytonSession, release_production, running_tryton, set_up_plant

NODE = "bench-node"
SEED = frozenset({"admin"})
QUALITY = frozenset({"quality"})


def say(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def tryton(folder: Path, sqlite: bool) -> Iterator[TrytonServer]:
    if sqlite:
        with running_tryton(folder / "tryton") as server:
            yield server
        return
    from bench.erp_sim import throwaway_postgres

    with throwaway_postgres() as pg:
        uri = pg.replace("postgresql+psycopg://", "postgresql://") + "/"
        with running_tryton(folder / "tryton", db_uri=uri) as server:
            yield server


def stock_lots(s: TrytonSession, plant: Plant, service: Service, prefix: str, n: int) -> list[str]:
    """``n`` seal lots of 5 in bin A1, in Tryton (in bulk) and as go-live stock at the edge."""
    lots = [f"{prefix}-{i:05d}" for i in range(n)]
    for start in range(0, n, 50):
        chunk = lots[start:start + 50]
        ids = s.create("stock.lot", *[{"number": lot, "product": plant.products["SEAL"]} for lot in chunk])
        moves = s.create("stock.move", *[{
            "product": plant.products["SEAL"], "unit": plant.unit, "quantity": 5.0, "lot": lot_id,
            "from_location": plant.lost_found, "to_location": plant.bins["A1"], "company": plant.company,
            "effective_date": date.today()} for lot_id in ids])
        s.model("stock.move", "do", moves)
    futures = [service.submit(c.ReceiveLot(idempotency_key=f"opening:{lot}", actor="seed", actor_roles=SEED,
                                           origin="erp", lot=lot, item="SEAL", item_revision="1",
                                           quantity=Decimal(5), bin="A1")) for lot in lots]
    for f in futures:
        f.result(120)
    return lots


def move_lots(service: Service, lots: list[str], to_bin: str) -> None:
    futures = [service.submit(c.MoveStock(idempotency_key=f"move:{lot}:{to_bin}", actor="op-1", lot=lot,
                                          from_bin="A1", to_bin=to_bin, quantity=Decimal(2))) for lot in lots]
    for f in futures:
        f.result(120)


async def push(server: TrytonServer, store: Store, *, bulk: bool) -> float:
    rpc = TrytonRPC(server.url, server.database, "admin", server.password, timeout_s=600)
    central = TrytonCentral(rpc, NODE, store, bulk=bulk)
    try:
        started = time.perf_counter()
        report = await Pusher(store, NODE, central).push()
        seconds = time.perf_counter() - started
    finally:
        await central.close()
    if report.refused:
        raise SystemExit(f"Tryton refused {report.refused} events: the benchmark is void")
    return seconds


def inspect(service: Service, work_order: str, prefix: str, n: int) -> None:
    futures = [service.submit(c.RecordInspection(
        idempotency_key=f"inspect:{prefix}-{i}", actor="qa-1", actor_roles=QUALITY, inspection=f"{prefix}-{i:05d}", plan="PUMP-FINAL",
        work_order=work_order, measurements=(c.Measurement(characteristic="leak", passed=True),
                                             c.Measurement(characteristic="pressure", value=Decimal("10.1")))))
        for i in range(n)]
    for f in futures:
        f.result(120)


def make_products(s: TrytonSession, plant: Plant, n: int) -> None:
    for start in range(0, n, 50):  # with a hundred at once, SQLite overflows its parser stack
        s.create("product.template", *[{
            "name": f"Part {i}", "code": f"PART-{i:05d}", "type": "goods", "default_uom": plant.unit,
            "products": [["create", [{}]]]} for i in range(start, min(n, start + 50))])


async def pull(server: TrytonServer, service: Service, after: int) -> tuple[float, float, int]:
    rpc = TrytonRPC(server.url, server.database, "admin", server.password, timeout_s=600)
    central = TrytonCentral(rpc, NODE, service.store)
    try:
        started = time.perf_counter()
        cursor, read = after, 0
        while True:
            feed = await central.changes(cursor, 1000)
            read += len(feed.changes)
            cursor = feed.cursor
            if not feed.more:
                break
        read_s = time.perf_counter() - started
    finally:
        await central.close()
    rpc = TrytonRPC(server.url, server.database, "admin", server.password, timeout_s=600)
    central = TrytonCentral(rpc, NODE, service.store)
    try:
        started = time.perf_counter()
        report = await Puller(service, central, page=1000).pull()
        pull_s = time.perf_counter() - started
    finally:
        await central.close()
    if report.refused:
        raise SystemExit(f"the edge refused {report.refused} changes: the benchmark is void")
    return read_s, pull_s, report.applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="bin moves pushed in batches")
    parser.add_argument("--naive-events", type=int, default=200, help="bin moves pushed one by one (baseline)")
    parser.add_argument("--inspections", type=int, default=500, help="inspections pushed in batches")
    parser.add_argument("--naive-inspections", type=int, default=100, help="inspections pushed one by one")
    parser.add_argument("--pull", type=int, default=10_000, help="products changed in Tryton, then pulled")
    parser.add_argument("--sqlite", action="store_true", help="Tryton on SQLite instead of PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="takt-bench-tryton-") as tmp:
        folder = Path(tmp)
        say(f"creating a Tryton database on {'SQLite' if args.sqlite else 'PostgreSQL'} (not measured)")
        with tryton(folder, args.sqlite) as server:
            s = server.session()
            plant = set_up_plant(s)
            store = Store(f"sqlite:///{folder}/edge.sqlite")
            store.migrate()
            store.node_id(NODE)
            service = Service(store, NODE).start()
            try:
                asyncio.run(pull(server, service, 0))  # the plant's master data first
                pushed_from = store.last_seq()
                SyncLedger(store).set_cursor(PUSH, pushed_from)
                say(f"{args.events} lots for the batched push, {args.naive_events} for the one-by-one one")
                batched_lots = stock_lots(s, plant, service, "B", args.events)
                naive_lots = stock_lots(s, plant, service, "N", args.naive_events)
                SyncLedger(store).set_cursor(PUSH, store.last_seq())
                move_lots(service, naive_lots, "B1")
                naive_s = asyncio.run(push(server, store, bulk=False))
                say(f"one by one: {args.naive_events} moves in {naive_s:.1f} s")
                move_lots(service, batched_lots, "A2")
                batched_s = asyncio.run(push(server, store, bulk=True))
                say(f"batched: {args.events} moves in {batched_s:.1f} s")
                a2 = s.search_read("stock.lot", [("number", "in", batched_lots[:5])], ["quantity"],
                                   context={"locations": [plant.bins["A2"]]})
                assert [r["quantity"] for r in a2] == [2.0] * 5, a2
                batched_rate = args.events / batched_s
                naive_rate = args.naive_events / naive_s
                print(f"FIGURE tryton_push_events_per_s {batched_rate:.1f}")
                print(f"FIGURE tryton_push_naive_events_per_s {naive_rate:.2f}")
                print(f"FIGURE tryton_push_vs_naive_ratio {batched_rate / naive_rate:.1f}")

                _, wo = release_production(s, plant, Decimal(1))
                asyncio.run(pull(server, service, SyncLedger(store).cursor(PULL)))  # the order, the lots: unmeasured
                SyncLedger(store).set_cursor(PUSH, store.last_seq())
                inspect(service, wo, "N", args.naive_inspections)
                naive_s = asyncio.run(push(server, store, bulk=False))
                say(f"one by one: {args.naive_inspections} inspections in {naive_s:.1f} s")
                inspect(service, wo, "B", args.inspections)
                batched_s = asyncio.run(push(server, store, bulk=True))
                say(f"batched: {args.inspections} inspections in {batched_s:.1f} s")
                booked = s.search_read("quality.inspection", [("reference", "like", "takt:%")], ["id"])
                assert len(booked) == args.inspections + args.naive_inspections, len(booked)
                batched_rate = args.inspections / batched_s
                naive_rate = args.naive_inspections / naive_s
                print(f"FIGURE tryton_push_inspections_per_s {batched_rate:.1f}")
                print(f"FIGURE tryton_push_naive_inspections_per_s {naive_rate:.2f}")
                print(f"FIGURE tryton_push_inspections_vs_naive_ratio {batched_rate / naive_rate:.1f}")

                say(f"{args.pull} products changed in Tryton")
                cursor = SyncLedger(store).cursor(PULL)
                make_products(s, plant, args.pull)
                read_s, pull_s, applied = asyncio.run(pull(server, service, cursor))
                if applied < args.pull:
                    raise SystemExit(f"only {applied} of {args.pull} products arrived: the benchmark is void")
                print(f"FIGURE tryton_read_10k_s {read_s * 10_000 / args.pull:.2f}")
                print(f"FIGURE tryton_pull_10k_s {pull_s * 10_000 / args.pull:.2f}")
            finally:
                service.stop()
                store.close()


if __name__ == "__main__":
    main()
