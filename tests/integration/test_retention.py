"""Retention: delivered, old journal events go to archive files in small batches while the node records; events the
ERP has not acknowledged stay; `takt store verify` still replays the whole history."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, schema, sqlite_url
from edge.store.retention import archivable_up_to, archived_entries, compact
from edge.store.sync import SyncLedger
from edge.store.verify import verify
from takt.cli import app
from tests.integration.test_backup import Recording

ROLES = frozenset({"admin"})


def _node(folder: Path) -> tuple[Store, Service]:
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    return store, Service(store, store.node_id("retention-node")).start()


def _record(service: Service, prefix: str, n: int) -> None:
    for fut in [service.submit(c.DefineItem(idempotency_key=f"{prefix}-{i}", actor="admin1", actor_roles=ROLES,
                                            item=f"{prefix.upper()}-{i % 50}", description=f"rev {i}", unit="pcs",
                                            revision="A")) for i in range(n)]:
        fut.result(60)


def _journal_seqs(store: Store) -> tuple[int, int]:
    j = schema.journal
    with store.engine.connect() as conn:
        low, high = conn.execute(select(func.min(j.c.seq), func.max(j.c.seq))).one()
    return int(low), int(high)


def test_only_acknowledged_old_events_are_archived_while_recording_goes_on(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    try:
        _record(service, "old", 3000)
        SyncLedger(store).set_cursor("push", 2500)  # the ERP has everything up to 2500
        assert archivable_up_to(store, timedelta(days=30)) == 0, "nothing is 30 days old yet"
        assert archivable_up_to(store, timedelta(0)) == 2500
        with Recording(service) as load:
            load.wait_for(200)
            before = len(load.acknowledged)
            report = compact(store, tmp_path / "archive", timedelta(0), batch=100)
            after = len(load.acknowledged)
        assert report.archived == 2500 and report.up_to_seq == 2500 and len(report.files) == 25
        assert after > before, "recording stopped while the journal was compacted"
        low, high = _journal_seqs(store)
        assert low == 2501, "an event the ERP has not acknowledged was removed (or a delivered one left a gap)"
        assert [e.seq for e in archived_entries(store)] == list(range(1, 2501))
        assert verify(store).ok
        # recording continues the sequence; a command archived long ago is still known (the command log stays)
        again = service.handle(c.DefineItem(idempotency_key="old-7", actor="admin1", actor_roles=ROLES, item="OLD-7",
                                            description="rev 7", unit="pcs", revision="A"))
        assert again.replayed
        assert service.handle(c.DefineItem(idempotency_key="new", actor="admin1", actor_roles=ROLES, item="NEW",
                                           description="n", unit="pcs", revision="A")).last_seq == high + 1
        # everything delivered: the newest event stays all the same (the sequence continues from it)
        SyncLedger(store).set_cursor("push", high + 1)
        compact(store, tmp_path / "archive", timedelta(0))
        assert _journal_seqs(store) == (high + 1, high + 1)
        assert verify(store).ok
    finally:
        service.stop()
        store.close()


def test_young_events_stay_even_when_delivered(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    try:
        _record(service, "a", 100)
        SyncLedger(store).set_cursor("push", 100)
        report = compact(store, tmp_path / "archive", timedelta(days=7), now=datetime.now(UTC) + timedelta(days=3))
        assert report.archived == 0
        report = compact(store, tmp_path / "archive", timedelta(days=7), now=datetime.now(UTC) + timedelta(days=8))
        assert report.archived == 99
    finally:
        service.stop()
        store.close()


def test_verify_says_when_an_archive_is_missing_or_changed(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    try:
        _record(service, "a", 300)
        SyncLedger(store).set_cursor("push", 300)
        report = compact(store, tmp_path / "archive", timedelta(0), batch=100)
    finally:
        service.stop()
        store.close()
    runner = CliRunner()
    ok = runner.invoke(app, ["store", "verify", "--data-dir", str(tmp_path / "node")])
    assert ok.exit_code == 0 and "replayed 300 events" in ok.output, ok.output
    report.files[1].write_bytes(report.files[1].read_bytes()[:-8] + b"\0" * 8)
    changed = runner.invoke(app, ["store", "verify", "--data-dir", str(tmp_path / "node")])
    assert changed.exit_code == 1 and "SHA-256 differs" in changed.output
    report.files[1].unlink()
    missing = runner.invoke(app, ["store", "verify", "--data-dir", str(tmp_path / "node")])
    assert missing.exit_code == 1 and "cannot be read" in missing.output


def test_compact_command(tmp_path: Path) -> None:
    store, service = _node(tmp_path / "node")
    try:
        _record(service, "a", 50)
        runner = CliRunner()
        nothing = runner.invoke(app, ["store", "compact", "--older-than-days", "0", "--data-dir",
                                      str(tmp_path / "node")])
        assert nothing.exit_code == 0 and "nothing to archive" in nothing.output  # the ERP has nothing yet
        SyncLedger(store).set_cursor("push", 40)
        out = runner.invoke(app, ["store", "compact", "--older-than-days", "0", "--data-dir", str(tmp_path / "node")])
        assert out.exit_code == 0, out.output
        assert "archived 40 events up to seq 40" in out.output
        assert len(list((tmp_path / "node" / "archive").glob("journal-*.jsonl.gz"))) == 1
        saved = runner.invoke(app, ["store", "backup", str(tmp_path / "b.sqlite"), "--data-dir",
                                    str(tmp_path / "node")])
        assert saved.exit_code == 0 and f"{tmp_path / 'node' / 'archive'}, not in the backup file" in saved.output
        _record(service, "b", 5)
    finally:
        service.stop()
        store.close()
    assert CliRunner().invoke(app, ["store", "verify", "--data-dir", str(tmp_path / "node")]).exit_code == 0
