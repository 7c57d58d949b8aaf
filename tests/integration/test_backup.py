"""`takt store backup` while the node records, and `takt store restore` into a stopped node."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.backup import BackupError, backup, postgres_tool, restore
from edge.store.verify import verify
from takt.cli import app

ROLES = frozenset({"admin"})


class Recording:
    """A thread recording item definitions through the service, noting when each was acknowledged."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.acknowledged: list[tuple[float, str]] = []  # (monotonic time of the answer, idempotency key)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._record()
        except BaseException as exc:
            self.error = exc

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            assert self.error is None, f"recording failed: {self.error!r}"
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} commands recorded in {timeout} s"
            time.sleep(0.05)

    def _record(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"item-{n}"
            self.service.handle(c.DefineItem(idempotency_key=key, actor="admin1", actor_roles=ROLES, item=f"I-{n}",
                                             description=f"item {n} " + "x" * 150, unit="pcs", revision="A"))
            self.acknowledged.append((time.monotonic(), key))

    def __enter__(self) -> Recording:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)
        assert self.error is None, f"recording failed: {self.error!r}"


def _keys(store_url: str) -> set[str]:
    store = Store(store_url)
    try:
        return {e.idempotency_key for e in store.journal()}
    finally:
        store.close()


def _node(folder: Path) -> tuple[Store, Service]:
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    return store, Service(store, store.node_id("backup-node")).start()


def test_backup_under_load_holds_every_acknowledged_event_and_restores(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    try:
        with Recording(service) as load:
            load.wait_for(2000)  # a store of some size before the backup
            began = time.monotonic()
            acked_before = {k for t, k in load.acknowledged if t < began}
            # one page per step, pausing between steps: the copy spans many of the writer's commits
            report = backup(store.url, tmp_path / "backup.sqlite", pages_per_step=1, pause_s=0.002)
            ended = time.monotonic()
            during = [k for t, k in load.acknowledged if began < t < ended]
        assert report.seconds > 0.2, "the copy was too quick to overlap any recording"
        assert len(during) > 20, f"the writer was held up by the backup: {len(during)} commands in {report.seconds} s"
        in_backup = _keys(f"sqlite:///{report.destination}")
        missing = acked_before - in_backup
        assert not missing, f"{len(missing)} events acknowledged before the backup are not in it: {sorted(missing)[:5]}"
        assert len(in_backup) >= len(acked_before)

        with pytest.raises(BackupError, match="stop the node"):  # the node still runs: restore is refused
            restore(report.destination, store.url)
    finally:
        service.stop()
        store.close()

    restored_url = sqlite_url(tmp_path / "restored")
    done = restore(report.destination, restored_url)
    assert done.last_seq == report.last_seq and done.events == report.last_seq
    assert acked_before <= _keys(restored_url)
    restored = Store(restored_url)
    try:
        assert verify(restored).ok
        assert restored.node_id() == "backup-node"
    finally:
        restored.close()
    # the restored node starts and records on from where the backup ended
    store2, service2 = _node(tmp_path / "restored")
    try:
        r = service2.handle(c.DefineItem(idempotency_key="after-restore", actor="admin1", actor_roles=ROLES,
                                         item="I-AFTER", description="after", unit="pcs", revision="A"))
        assert r.last_seq == report.last_seq + 1
        again = service2.handle(c.DefineItem(idempotency_key="item-1", actor="admin1", actor_roles=ROLES, item="I-1",
                                             description="item 1 " + "x" * 150, unit="pcs", revision="A"))
        assert again.replayed, "a command recorded before the backup is not known after the restore"
    finally:
        service2.stop()
        store2.close()


def test_restore_replaces_a_stopped_store_and_keeps_the_old_one(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    for n in range(50):
        service.handle(c.DefineItem(idempotency_key=f"a-{n}", actor="admin1", actor_roles=ROLES, item=f"A-{n}",
                                    description="a", unit="pcs", revision="A"))
    saved = backup(store.url, tmp_path)  # a folder: a dated file in it
    assert saved.destination.parent == tmp_path and saved.destination.name.startswith("takt-")
    for n in range(30):
        service.handle(c.DefineItem(idempotency_key=f"b-{n}", actor="admin1", actor_roles=ROLES, item=f"B-{n}",
                                    description="b", unit="pcs", revision="A"))
    service.stop()
    store.close()

    done = restore(saved.destination, sqlite_url(tmp_path / "node"))
    assert done.last_seq == 50
    assert done.replaced is not None and done.replaced.is_file()
    assert _keys(sqlite_url(tmp_path / "node")) == {f"a-{n}" for n in range(50)}
    # what was replaced is still there, whole (its WAL folded in)
    old = Store(f"sqlite:///{done.replaced}")
    try:
        assert old.last_seq() == 80
    finally:
        old.close()


def test_restore_refuses_a_damaged_backup_and_changes_nothing(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    for n in range(300):
        service.handle(c.DefineItem(idempotency_key=f"a-{n}", actor="admin1", actor_roles=ROLES, item=f"A-{n}",
                                    description="a" * 200, unit="pcs", revision="A"))
    saved = backup(store.url, tmp_path / "b.sqlite")
    service.stop()
    store.close()
    damaged = tmp_path / "damaged.sqlite"
    data = bytearray(saved.destination.read_bytes())
    page = 4096
    for at in range(page * 3, len(data) - page, page * 2):  # overwrite every other page past the schema
        data[at:at + 64] = b"\xff" * 64
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="not a sound SQLite store|replay check"):
        restore(damaged, sqlite_url(tmp_path / "node"))
    assert _keys(sqlite_url(tmp_path / "node")) == {f"a-{n}" for n in range(300)}
    assert not list((tmp_path / "node").glob("*.restoring*")) and not list((tmp_path / "node").glob("*.replaced-*"))


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    for n in range(10):
        service.handle(c.DefineItem(idempotency_key=f"a-{n}", actor="admin1", actor_roles=ROLES, item=f"A-{n}",
                                    description="a", unit="pcs", revision="A"))
    runner = CliRunner()
    try:
        out = runner.invoke(app, ["store", "backup", str(tmp_path / "b.sqlite"), "--data-dir", str(tmp_path / "node")])
        assert out.exit_code == 0, out.output
        assert "journal up to seq 10" in out.output
        refused = runner.invoke(app, ["store", "restore", str(tmp_path / "b.sqlite"),
                                      "--data-dir", str(tmp_path / "node")])
        assert refused.exit_code == 1
        assert "stop the node" in refused.output
    finally:
        service.stop()
        store.close()
    out = runner.invoke(app, ["store", "restore", str(tmp_path / "b.sqlite"), "--data-dir", str(tmp_path / "new")])
    assert out.exit_code == 0, out.output
    assert "replaying 10 events" in out.output
    missing = runner.invoke(app, ["store", "restore", str(tmp_path / "nothing.sqlite"),
                                  "--data-dir", str(tmp_path / "new")])
    assert missing.exit_code == 1 and "no backup at" in missing.output


@pytest.mark.skipif(postgres_tool("pg_dump") is None or postgres_tool("pg_restore") is None,
                    reason="pg_dump / pg_restore are not installed (Debian: postgresql-client)")
def test_postgres_backup_under_load_and_restore(postgres_url: str, tmp_path: Path) -> None:
    store = Store(postgres_url)
    store.migrate()
    service = Service(store, store.node_id("pg-node")).start()
    try:
        with Recording(service) as load:
            load.wait_for(300)
            began = time.monotonic()
            acked_before = {k for t, k in load.acknowledged if t < began}
            report = backup(postgres_url, tmp_path / "pg.dump")
        with pytest.raises(BackupError, match="stop the node"):
            restore(report.destination, postgres_url)
    finally:
        service.stop()
    with store.engine.begin() as conn:  # lose some data after the backup: the restore must bring the backup back
        conn.exec_driver_sql("DELETE FROM command_log")
    store.close()
    done = restore(report.destination, postgres_url)
    assert done.last_seq >= report.last_seq
    assert acked_before <= _keys(postgres_url)
