"""Central ERP simulator benchmark: pushed events stored per second, 5,000-event batches against one-event batches.

``python -m bench.erp_sim [--batches N] [--postgres] [--database-url URL] [--json FILE]``

The simulator runs as ``takt sim erp`` in a child process (so client and server do not share one Python
interpreter), on a fresh SQLite file (WAL, synchronous=FULL: a batch is acknowledged once it is on disk).
The events are a plant's mix: production reports, stock moves and issues, machine states, labour, receipts.
Bodies are built and gzipped before the clock starts; every answer is checked (all stored, cursor right).

Figures (``FIGURE <name> <value> <unit>``):

- ``erp_sim_batch_events_per_s``: events stored per second over HTTP in batches of 5,000 (gzip).
- ``erp_sim_single_events_per_s``: the baseline measured in the same run: one event per request and commit.
- ``erp_sim_batch_vs_single_ratio``: the two above divided.
- ``erp_sim_store_events_per_s``: the store alone, in process (parse, dedup, effects, commit of each 5,000-event
  batch), no HTTP; after ``gc.freeze()``, as ``takt sim erp`` does at start-up.
- with ``--postgres`` (a throwaway cluster from the local PostgreSQL binaries, fsync off as in the tests) or
  ``--database-url postgresql+psycopg://...``: the same four with the suffix ``_pg``.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import glob
import gzip
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from simulators.ports import free_port

FIGURES: list[tuple[str, float, str]] = []
BATCH = 5000
TOKEN, ADMIN = "bench-node-token", "bench-admin-token"
AT = "2026-11-26T10:00:00Z"


def say(text: str) -> None:
    print(text, flush=True)


def event(seq: int) -> dict[str, Any]:
    kind = seq % 10
    lot = f"L-{seq % 400:04d}"
    if kind < 4:
        t, subject, p = "ProductionReported", "work_order:WO-1", {
            "work_order": "WO-1", "operation": 10, "workstation": "WS-10", "good": "1", "scrap": "0",
            "scrap_reason": None, "at": AT}
    elif kind < 6:
        t, subject, p = "StockMoved", f"lot:{lot}", {
            "lot": lot, "item": "C-1", "kind": "move", "from_bin": "A-01", "to_bin": "B-01", "quantity": "1",
            "lot_quantity_delta": "0", "work_order": None, "bom_line": None, "reason": None, "at": AT, "serial": None}
    elif kind == 6:
        t, subject, p = "StockMoved", f"lot:{lot}", {
            "lot": lot, "item": "C-1", "kind": "issue", "from_bin": "B-01", "to_bin": None, "quantity": "1",
            "lot_quantity_delta": "-1", "work_order": "WO-1", "bom_line": 1, "reason": None, "at": AT,
            "serial": None}
    elif kind == 7:
        state, previous = ("running", "idle") if seq % 20 < 10 else ("idle", "running")
        t, subject, p = "MachineStateChanged", "equipment:M-10", {
            "equipment": "M-10", "state": state, "reason": None, "since": "2026-11-26T10:05:00Z",
            "previous": previous, "previous_since": AT}
    elif kind == 8:
        t, subject, p = "LabourClockedOff", "work_order:WO-1", {
            "operator": "op1", "work_order": "WO-1", "operation": 10, "since": AT, "at": AT, "minutes": "1.5"}
    else:
        t, subject, p = "LotReceived", f"lot:R-{seq}", {
            "lot": f"R-{seq}", "item": "C-1", "item_revision": "A", "quantity": "10", "bin": "A-01",
            "expiry": None, "supplier_lot": None, "status": "available", "at": AT}
    return {"seq": seq, "event_id": str(uuid.uuid4()), "message": "X", "type": t, "subject": subject,
            "occurred_at": AT, "recorded_at": AT, "actor": "op1", "device": None, "payload": p}


def batch_body(node: str, after: int, size: int) -> bytes:
    events = [event(seq) for seq in range(after + 1, after + size + 1)]
    return json.dumps({"node": node, "after": after, "through": after + size, "events": events}).encode()


def set_up_plant(base: str) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=base, headers=admin, timeout=60) as c:
        for item in ({"item": "FG-1", "description": "Gearbox"},
                     {"item": "C-1", "description": "Housing", "source": "buy"}):
            c.put("/central/v1/items", json=item).raise_for_status()
        c.put("/central/v1/workstations", json={"workstation": "WS-10", "labour_rate": "60", "machine_rate": "120",
                                                "equipment": ["M-10"]}).raise_for_status()
        c.post("/central/v1/work-orders", json={"work_order": "WO-1", "item": "FG-1", "quantity": "1000000",
                                                "operations": [{"operation": 10, "description": "Assemble",
                                                                "workstation": "WS-10"}]}).raise_for_status()


@contextlib.contextmanager
def simulator(database_url: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "sim", "erp", "--database-url", database_url,
                             "--port", str(port), "--node-token", f"bench-a={TOKEN}", "--admin-token", ADMIN],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.05)
        set_up_plant(base)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def over_http(database_url: str, batches: int, single_seconds: float) -> tuple[float, float]:
    bodies = [gzip.compress(batch_body("bench-a", i * BATCH, BATCH), 1) for i in range(batches)]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "Content-Encoding": "gzip"}
    with simulator(database_url) as base, httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        start = time.perf_counter()
        for body in bodies:
            answer = client.post("/sync/v1/nodes/bench-a/events", content=body)
            if answer.status_code != 200 or answer.json()["stored"] != BATCH:
                raise RuntimeError(f"batch not stored: {answer.status_code} {answer.text[:300]}")
        batch_rate = batches * BATCH / (time.perf_counter() - start)
        after = batches * BATCH
        singles = [gzip.compress(batch_body("bench-a", after + i, 1), 1) for i in range(20_000)]
        start = time.perf_counter()
        sent = 0
        while time.perf_counter() - start < single_seconds and sent < len(singles):
            answer = client.post("/sync/v1/nodes/bench-a/events", content=singles[sent])
            if answer.status_code != 200 or answer.json()["stored"] != 1:
                raise RuntimeError(f"event not stored: {answer.status_code} {answer.text[:300]}")
            sent += 1
        single_rate = sent / (time.perf_counter() - start)
        cursor = client.get("/sync/v1/nodes/bench-a/cursor").json()["acknowledged"]
        if cursor != after + sent:
            raise RuntimeError(f"cursor {cursor}, expected {after + sent}")
    return batch_rate, single_rate


def in_process(database_url: str, batches: int) -> float:
    from simulators.erp import ErpSimConfig, ErpSimulator
    from simulators.erp.inputs import ItemIn, WorkOrderIn, WorkstationIn

    sim = ErpSimulator(ErpSimConfig(database_url, {TOKEN: "bench-b"}, ADMIN))
    try:
        sim.central.put_item(ItemIn(item="FG-1", description="Gearbox"))
        sim.central.put_workstation(WorkstationIn(workstation="WS-10", equipment=["M-10"]))
        sim.central.release_work_order(WorkOrderIn.model_validate({
            "work_order": "WO-1", "item": "FG-1", "quantity": "1000000",
            "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS-10"}]}))
        bodies = [batch_body("bench-b", i * BATCH, BATCH) for i in range(batches)]
        gc.freeze()  # as `takt sim erp` does: the libraries' objects stay out of every collection
        elapsed = 0.0
        for body in bodies:
            start = time.perf_counter()
            ack = sim.ingest.store("bench-b", body)
            elapsed += time.perf_counter() - start
            if ack.stored != BATCH:
                raise RuntimeError(f"stored {ack.stored}")
        return batches * BATCH / elapsed
    finally:
        sim.close()


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary folder (the tests' recipe: initdb as ``postgres``, fsync off)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("--postgres: no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
    bindir = Path(found[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="takt-bench-pg-"))
    os.chmod(base, 0o755)
    password = secrets.token_hex(8)
    (base / "pw").write_text(password)
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(base / "pw", "postgres", "postgres")
    port = free_port()
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(base / "data"), "-U", "app", f"--pwfile={base / 'pw'}",
                    "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True,
                   capture_output=True)
    subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-w", "-l", str(base / "log"), "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"], check=True,
                   capture_output=True)
    server = f"postgresql+psycopg://app:{password}@127.0.0.1:{port}"
    try:
        yield server
    finally:
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(server: str) -> str:
    import sqlalchemy

    name = f"bench_{secrets.token_hex(4)}"
    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return f"{server}/{name}"


def run(label: str, suffix: str, urls: Iterator[str], batches: int, single_seconds: float) -> None:
    say(f"{label}: {batches} batches of {BATCH} events over HTTP, then one-event batches for {single_seconds:.0f} s")
    batch_rate, single_rate = over_http(next(urls), batches, single_seconds)
    say(f"  batches {batch_rate:,.0f} events/s; one event per request {single_rate:,.0f} events/s")
    store_rate = in_process(next(urls), batches)
    say(f"  store alone (in process) {store_rate:,.0f} events/s")
    FIGURES.extend([(f"erp_sim_batch_events_per_s{suffix}", batch_rate, "events/s"),
                    (f"erp_sim_single_events_per_s{suffix}", single_rate, "events/s"),
                    (f"erp_sim_batch_vs_single_ratio{suffix}", batch_rate / single_rate, "x"),
                    (f"erp_sim_store_events_per_s{suffix}", store_rate, "events/s")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batches", type=int, default=20, help="5,000-event batches per run (default 20)")
    parser.add_argument("--single-seconds", type=float, default=5.0, help="how long to send one-event batches")
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL cluster")
    parser.add_argument("--database-url", help="also on this PostgreSQL server (URL without the database name)")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="takt-bench-erp-"))
    try:
        sqlite_urls = iter([f"sqlite:///{folder}/http.db", f"sqlite:///{folder}/store.db"])
        run("SQLite", "", sqlite_urls, args.batches, args.single_seconds)
        if args.database_url:
            server = args.database_url.rstrip("/")
            run("PostgreSQL", "_pg", iter([fresh_database(server), fresh_database(server)]), args.batches,
                args.single_seconds)
        elif args.postgres:
            with throwaway_postgres() as server:
                run("PostgreSQL (throwaway, fsync off)", "_pg", iter([fresh_database(server), fresh_database(server)]),
                    args.batches, args.single_seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value:.1f} {unit}")
    if args.json:
        Path(args.json).write_text(json.dumps({n: {"value": v, "unit": u} for n, v, u in FIGURES}, indent=2))


if __name__ == "__main__":
    main()
