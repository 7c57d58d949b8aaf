"""Power loss: the process doing the work is killed with SIGKILL (no shutdown code runs, as when the power goes)
while it records, backs the store up, upgrades it, or compacts its journal. Afterwards the store opens, passes
``takt store verify`` (replay equals state), and holds every event that was acknowledged before the kill.

Each kill is triggered by what the process has visibly done, not by a timer: after N commands were answered 2xx,
when the backup's ``.partial`` file has grown, when ``takt store migrate`` has reported a step, when ``takt store
compact`` has written some archive files. Every process is the real ``takt`` command (``python -m takt.cli``).
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.migrate import current_revision
from edge.store.sync import SyncLedger
from tests.integration.old_stores import rows_of, store_at_rev0001
from tests.integration.wire import free_port

ROOT = Path(__file__).resolve().parents[2]
ROLES = frozenset({"admin"})
ITEMS = 1500  # events in the stores that are backed up and compacted
AUTH = {"Authorization": "Bearer demo-admin-token-0000000000"}  # the demo configuration's admin (public, demo only)


def takt(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "takt.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def start_takt(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "takt.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], timeout: float = 60) -> None:
    """SIGKILL ``proc`` as soon as ``ready()``; fail if it ended (or took too long) before that."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"the process ended before the kill point: {proc.communicate()[0][-2000:]}"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, f"the process was not killed, it ended with {proc.returncode}"


class DemoNode:
    """``takt demo`` on a data folder as a child process (its output in ``node.log`` beside the data): ``start``
    returns once ``/health`` answers, ``kill`` is the power cut, ``start`` again runs it on the same data and port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> DemoNode:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.data_dir.parent / "node.log"
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "takt.cli", "demo", "--port", str(self.port), "--data-dir", str(self.data_dir),
                 "--log-level", "warning", "--no-plant"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"the node exited: {log.read_text(errors='replace')[-2000:]}"
            assert time.monotonic() < deadline, "the node did not answer /health"
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def seed_lot(base: str, *, item: str, bins: tuple[str, ...], lot: str, quantity: int) -> None:
    """An item, bins, and a lot with ``quantity`` in the first bin, through the API."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("/items", {"item": item, "description": "power-loss item", "unit": "pcs", "revision": "A"}),
        *[("/bins", {"bin": b, "zone": "power-loss"}) for b in bins],
        ("/lots", {"lot": lot, "item": item, "quantity": str(quantity), "bin": bins[0]}),
    ]
    with httpx.Client(base_url=base, timeout=30, headers=AUTH) as client:
        for n, (path, body) in enumerate(steps):
            r = client.post(f"/api/v1{path}", json=body, headers={"Idempotency-Key": f"seed-{n}"})
            assert r.status_code == 201, f"seeding {path}: {r.status_code} {r.text}"


def assert_verifies(data_dir: Path) -> str:
    done = takt("store", "verify", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def journal_keys(url: str) -> list[str]:
    store = Store(url)
    try:
        return [e.idempotency_key for e in store.journal()]
    finally:
        store.close()


def recorded_store(folder: Path, items: int) -> Store:
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    with Service(store, store.node_id("power-node")) as service:
        futures = [service.submit(c.DefineItem(idempotency_key=f"item-{n}", actor="admin1", actor_roles=ROLES,
                                               item=f"I-{n}", description=f"item {n} " + "x" * 180, unit="pcs",
                                               revision="A")) for n in range(items)]
        for f in futures:
            f.result(60)
    return store


# --- while recording ---------------------------------------------------------------------------------------------


def test_kill_during_recording_keeps_every_acknowledged_command(tmp_path: Path) -> None:
    node = DemoNode(tmp_path / "node").start()
    try:
        seed_lot(node.base, item="PL-ITEM", bins=("PL-A", "PL-B"), lot="PL-LOT", quantity=100_000)
        acked: set[str] = set()
        sent: set[str] = set()

        async def record() -> None:
            stop = asyncio.Event()

            async def client(n: int) -> None:
                async with httpx.AsyncClient(base_url=node.base, timeout=10) as http:
                    i = 0
                    while not stop.is_set():
                        i += 1
                        key = f"pl-{n}-{i}"
                        sent.add(key)
                        try:
                            r = await http.post("/api/v1/stock/moves", headers={**AUTH, "Idempotency-Key": key},
                                                json={"lot": "PL-LOT", "from_bin": "PL-A", "to_bin": "PL-B",
                                                      "quantity": "1"})
                        except httpx.HTTPError:
                            return  # the node is gone
                        if 200 <= r.status_code < 300:
                            acked.add(key)

            tasks = [asyncio.create_task(client(n)) for n in range(4)]
            while len(acked) < 150:  # the kill point: 150 commands answered 2xx, 4 clients still sending
                await asyncio.sleep(0.001)
                assert all(not t.done() for t in tasks), "a client stopped before the kill"
            node.kill()
            stop.set()
            await asyncio.gather(*tasks)

        asyncio.run(record())
    finally:
        node.kill()
    journaled = [k for k in journal_keys(sqlite_url(tmp_path / "node")) if k.startswith("pl-")]
    assert not acked - set(journaled), f"acknowledged but lost: {sorted(acked - set(journaled))[:5]}"
    assert len(journaled) == len(set(journaled)) and set(journaled) <= sent
    assert "ok: replayed" in assert_verifies(tmp_path / "node")
    node.start()  # the node starts again on the store and answers
    try:
        r = httpx.get(f"{node.base}/api/v1/lots/PL-LOT", headers=AUTH)
        stock = {s["bin"]: float(s["quantity"]) for s in r.json()["stock"]}
        assert stock == {"PL-A": 100_000 - len(journaled), "PL-B": len(journaled)}
    finally:
        node.stop()


# --- during takt store backup ------------------------------------------------------------------------------------


def test_kill_during_backup_leaves_no_file_that_looks_like_a_backup(tmp_path: Path) -> None:
    store = recorded_store(tmp_path / "node", ITEMS)
    store.close()
    destination = tmp_path / "backup.sqlite"
    partial = tmp_path / "backup.sqlite.partial"
    proc = start_takt("store", "backup", str(destination), "--data-dir", str(tmp_path / "node"),
                      "--pages-per-step", "1", "--pause-ms", "2")
    kill_when(proc, lambda: partial.exists() and partial.stat().st_size > 100_000)
    assert not destination.exists(), "a cut-off backup was given the backup's name"
    assert partial.exists()  # what was left carries its .partial name
    refused = takt("store", "restore", str(partial), "--data-dir", str(tmp_path / "elsewhere"))
    assert refused.returncode == 1 and "unfinished backup" in refused.stderr
    assert not (tmp_path / "elsewhere" / "takt.sqlite").exists()
    assert f"replayed {ITEMS} events" in assert_verifies(tmp_path / "node")  # the store itself is untouched

    again = takt("store", "backup", str(destination), "--data-dir", str(tmp_path / "node"))
    assert again.returncode == 0, again.stderr
    assert not partial.exists(), "the next backup left the stale .partial behind"
    restored = takt("store", "restore", str(destination), "--data-dir", str(tmp_path / "restored"))
    assert restored.returncode == 0 and f"replaying {ITEMS} events" in restored.stdout, restored.stderr


# --- during takt store migrate -----------------------------------------------------------------------------------


def test_kill_during_migrate_leaves_the_old_revision_then_the_upgrade_completes(tmp_path: Path) -> None:
    folder = tmp_path / "node"
    folder.mkdir()
    store, old = store_at_rev0001(sqlite_url(folder), tmp_path)
    before = rows_of(store, old)
    store.close()
    proc = start_takt("store", "migrate", "--data-dir", str(folder))
    assert proc.stdout is not None
    seen: list[str] = []

    def step_reported() -> bool:  # reads the steps as they are printed: the kill comes right after 0003 ran
        seen.append(proc.stdout.readline())  # type: ignore[union-attr]
        return "applied 0003" in seen[-1]

    kill_when(proc, step_reported)
    assert not any(line.startswith("ok:") for line in seen + [proc.stdout.read()])
    store = Store(sqlite_url(folder))
    try:
        assert current_revision(store.engine) == "0001", "steps of a cut-off upgrade were kept"
        assert rows_of(store, old) == before
    finally:
        store.close()
    done = takt("store", "migrate", "--data-dir", str(folder))
    assert done.returncode == 0 and "from 0001" in done.stdout, done.stdout + done.stderr
    assert "replayed 99 events" in assert_verifies(folder)


# --- during takt store compact -----------------------------------------------------------------------------------


def test_kill_during_compact_keeps_the_history_whole(tmp_path: Path) -> None:
    store = recorded_store(tmp_path / "node", ITEMS)
    SyncLedger(store).set_cursor("push", ITEMS - 100)  # the ERP acknowledged all but the last 100 events
    store.close()
    archive = tmp_path / "node" / "archive"
    proc = start_takt("store", "compact", "--older-than-days", "0", "--batch", "20", "--data-dir",
                      str(tmp_path / "node"))
    kill_when(proc, lambda: archive.is_dir() and len(list(archive.glob("*.jsonl.gz"))) >= 10)
    files = len(list(archive.glob("*.jsonl.gz")))
    assert files < (ITEMS - 100) // 20, "compact finished before the kill"
    assert f"replayed {ITEMS} events" in assert_verifies(tmp_path / "node")
    assert set(journal_keys(sqlite_url(tmp_path / "node"))) >= {f"item-{n}" for n in range(ITEMS - 100, ITEMS)}

    done = takt("store", "compact", "--older-than-days", "0", "--batch", "500", "--data-dir", str(tmp_path / "node"))
    assert done.returncode == 0, done.stderr
    assert f"replayed {ITEMS} events" in assert_verifies(tmp_path / "node")
    store = Store(sqlite_url(tmp_path / "node"))
    try:
        assert [e.seq for e in store.journal()] == list(range(ITEMS - 99, ITEMS + 1))  # the unarchived tail only
    finally:
        store.close()

