"""The tamper-evident journal: rows edited, deleted, reordered or added with SQL on SQLite and PostgreSQL are found
by ``verify`` and named by their seq; checkpoints signed with the node's secret catch a journal rewritten with fresh
hashes; a wrong or missing signature is found; the chain holds across a backup restore and archived segments."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.backup import backup, restore
from edge.store.chain import CHAIN_COLUMNS, GENESIS, CheckpointKey, key_from_text, link, stored_time_text
from edge.store.retention import compact
from edge.store.sync import PUSH, SyncLedger
from edge.store.verify import verify, verify_chain

NODE = "chain-node"
KEY = key_from_text("a-secret-kept-outside-the-store", "test")
WH: dict[str, Any] = {"actor": "wh", "actor_roles": frozenset({"warehouse"})}
T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def record(store: Store, moves: int = 10, *, every: int = 5, clock: Any = None) -> None:
    """Items, bins, a lot and ``moves`` moves: 4 + ``moves`` events, a checkpoint every ``every``."""
    kwargs: dict[str, Any] = {"clock": clock} if clock is not None else {}
    with Service(store, NODE, checkpoint_key=KEY, checkpoint_every=every, **kwargs) as service:
        service.handle(c.DefineItem(idempotency_key="i", item="SCREW", description="Screw", unit="pcs", revision="B",
                                    **WH))
        service.handle(c.DefineBin(idempotency_key="b1", bin="A-01", zone="A", **WH))
        service.handle(c.DefineBin(idempotency_key="b2", bin="LINE1", zone="L", **WH))
        service.handle(c.ReceiveLot(idempotency_key="r", lot="L1", item="SCREW", item_revision=None,
                                    quantity=Decimal(1000), bin="A-01", expiry=date(2027, 1, 1), **WH))
        for i in range(moves):
            service.handle(c.MoveStock(idempotency_key=f"m{i}", lot="L1", from_bin="A-01", to_bin="LINE1",
                                       quantity=Decimal(1), **WH))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    made = Store(url)
    made.migrate()
    made.node_id(NODE)
    try:
        yield made
    finally:
        made.close()


def sql(store: Store, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def first_break(store: Store, key: CheckpointKey | None = KEY) -> str:
    report = verify_chain(store, key)
    assert not report.ok
    return (report.breaks or report.checkpoint_problems)[0]


def test_an_untouched_journal_verifies_with_its_checkpoints(store: Store) -> None:
    record(store)
    report = verify(store, KEY)
    assert report.ok, (report.differences, report.chain)
    assert report.chain is not None
    assert report.chain.events == 14 and report.chain.head_seq == 14
    assert report.chain.checkpoints == 3  # seq 5 and 10 (interval), 14 (shutdown)
    assert report.chain.unsigned_tail == 0


def test_a_changed_event_is_named(store: Store) -> None:
    record(store)
    sql(store, "UPDATE journal SET payload = replace(payload, '\"1\"', '\"2\"') WHERE seq = 7")
    assert first_break(store).startswith("seq 7: its content does not match its hash")


def test_a_changed_actor_is_named(store: Store) -> None:
    record(store)
    sql(store, "UPDATE journal SET actor = 'mallory' WHERE seq = 3")
    assert first_break(store).startswith("seq 3: its content")


def test_a_deleted_event_is_named(store: Store) -> None:
    record(store)
    sql(store, "DELETE FROM journal WHERE seq = 6")
    assert first_break(store) == "seq 6: missing from the journal (deleted) before seq 7"


def test_deleted_last_events_show_against_the_checkpoints(store: Store) -> None:
    record(store)
    sql(store, "DELETE FROM journal WHERE seq >= 12")
    assert first_break(store).startswith("checkpoint at seq 14: beyond the journal's last event 11")


def test_reordered_events_are_named(store: Store) -> None:
    record(store)
    sql(store, "UPDATE journal SET seq = -8 WHERE seq = 8", "UPDATE journal SET seq = 8 WHERE seq = 9",
        "UPDATE journal SET seq = 9 WHERE seq = -8")
    assert first_break(store).startswith("seq 8: out of its recorded order")


def test_an_event_added_without_its_hash_is_named(store: Store) -> None:
    record(store)
    sql(store, "INSERT INTO journal (seq, event_id, node_id, type, subject, payload, actor, occurred_at, recorded_at, "
               "origin, idempotency_key, key_part) SELECT 15, 'forged-id', node_id, type, subject, payload, actor, "
               "occurred_at, recorded_at, origin, 'forged', 0 FROM journal WHERE seq = 14")
    assert first_break(store) == "seq 15: has no chain hash (added to the journal outside the writer)"


def test_an_event_inserted_in_the_middle_is_named(store: Store) -> None:
    record(store)
    sql(store, "UPDATE journal SET seq = -seq WHERE seq >= 5", "UPDATE journal SET seq = 1 - seq WHERE seq < 0",
        "INSERT INTO journal (seq, event_id, node_id, type, subject, payload, actor, occurred_at, recorded_at, "
        "origin, idempotency_key, key_part, chain_hash) SELECT 5, 'forged-id', node_id, type, subject, payload, "
        "actor, occurred_at, recorded_at, origin, 'forged', 0, chain_hash FROM journal WHERE seq = 6")
    assert first_break(store).startswith("seq 5: ")


def _rehash(store: Store) -> None:
    """What someone who can write the store but lacks the secret does: recompute every hash after an edit."""
    with store.engine.begin() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(CHAIN_COLUMNS)} FROM journal ORDER BY seq")).all()
        prev = GENESIS
        for r in rows:
            prev = link(prev, r.seq, r.event_id, r.type, r.subject, r.payload, r.actor, r.recorded_by,
                        r.on_behalf_of, r.source_device, stored_time_text(r.occurred_at),
                        stored_time_text(r.recorded_at), r.origin)
            conn.execute(text("UPDATE journal SET chain_hash = :h WHERE seq = :s"), {"h": prev, "s": r.seq})


def test_a_journal_rewritten_with_fresh_hashes_is_caught_by_the_signed_checkpoint(store: Store) -> None:
    record(store)
    sql(store, "UPDATE journal SET actor = 'mallory' WHERE seq = 7")
    _rehash(store)
    report = verify_chain(store, KEY)
    assert report.breaks == []
    assert report.checkpoint_problems[0].startswith("checkpoint at seq 10: the chain hash there is not the one signed")


def test_a_wrong_or_missing_checkpoint_signature_is_found(store: Store) -> None:
    record(store)
    sql(store, f"UPDATE journal_checkpoints SET signature = '{'ab' * 32}' WHERE seq = 5")
    assert first_break(store) == "checkpoint at seq 5: signature wrong (not made with this node's key)"
    sql(store, "UPDATE journal_checkpoints SET signature = NULL WHERE seq = 5")
    assert first_break(store) == "checkpoint at seq 5: signature missing"
    other = key_from_text("another-nodes-secret-entirely", "other")
    sql(store, "DELETE FROM journal_checkpoints WHERE seq = 5")
    assert first_break(store, other) == "checkpoint at seq 10: signature wrong (not made with this node's key)"


def test_a_deleted_checkpoint_is_found(store: Store) -> None:
    record(store, moves=16)  # checkpoints at 5, 10, 15, 20 and 20 again is the head: no shutdown one
    sql(store, "DELETE FROM journal_checkpoints WHERE seq = 10")
    assert first_break(store).startswith("checkpoint before seq 15: missing")


def test_the_chain_survives_a_restart_of_the_writer(store: Store) -> None:
    record(store, moves=3)
    store.engine.dispose()  # PostgreSQL: the pooled session that held the writer's advisory lock goes
    with Service(store, NODE, checkpoint_key=KEY, checkpoint_every=5) as again:
        again.handle(c.MoveStock(idempotency_key="after-restart", lot="L1", from_bin="A-01", to_bin="LINE1",
                                 quantity=Decimal(1), **WH))
    report = verify_chain(store, KEY)
    assert report.ok and report.head_seq == 8


def test_verify_across_a_backup_restore(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    live = Store(sqlite_url(tmp_path / "live"))
    live.migrate()
    live.node_id(NODE)
    record(live)
    copy = backup(live.url, tmp_path / "backup.sqlite").destination
    live.close()
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    restore(copy, sqlite_url(restored_dir))
    restored = Store(sqlite_url(restored_dir))
    try:
        report = verify(restored, KEY)
        assert report.ok and report.chain is not None and report.chain.head_seq == 14
    finally:
        restored.close()


def test_a_backup_whose_journal_was_edited_is_not_restored(tmp_path: Path) -> None:
    import sqlite3

    from edge.store.backup import BackupError

    (tmp_path / "live").mkdir()
    live = Store(sqlite_url(tmp_path / "live"))
    live.migrate()
    live.node_id(NODE)
    record(live)
    copy = backup(live.url, tmp_path / "backup.sqlite").destination
    live.close()
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE journal SET actor = 'mallory' WHERE seq = 9")
    (tmp_path / "restored").mkdir()
    with pytest.raises(BackupError, match="hash chain is broken: seq 9: its content does not match"):
        restore(copy, sqlite_url(tmp_path / "restored"))


def test_verify_across_archived_segments(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    store.migrate()
    store.node_id(NODE)
    record(store, moves=20, clock=lambda: T0)
    SyncLedger(store).acknowledge(24)
    done = compact(store, tmp_path / "archive", timedelta(days=1), batch=7, now=T0 + timedelta(days=30))
    assert done.up_to_seq == 23
    try:
        report = verify(store, KEY)
        assert report.ok, (report.differences, report.chain)
        assert report.chain is not None and report.chain.head_seq == 24 and report.chain.events == 24
        with store.engine.connect() as conn:
            last_hash = conn.execute(text("SELECT last_hash FROM journal_archives WHERE last_seq = 21")).scalar()
        assert last_hash is not None
        # the archive's recorded end hash must be what the chain has there
        sql(store, f"UPDATE journal_archives SET last_hash = '{'0' * 64}' WHERE last_seq = 21")
        assert first_break(store).startswith("archive ")
    finally:
        store.close()
    assert PUSH == "push"


def test_an_old_store_gets_its_chain_from_the_upgrade_and_the_writer_continues_it(store: Store, tmp_path: Path) -> None:
    from tests.integration.old_stores import REV0001_EVENTS, store_at_rev0001

    url = store.url
    store.close()
    if url.startswith("sqlite"):
        url = sqlite_url(tmp_path / "old")
        (tmp_path / "old").mkdir()
    else:  # an empty database for the old store
        with Store(url).engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    old, _ = store_at_rev0001(url, tmp_path)
    old.close()
    upgraded = Store(url)
    try:
        upgraded.migrate()
        report = verify_chain(upgraded, KEY)
        assert report.ok, report.breaks
        assert (report.chained_from, report.chained_since, report.head_seq) == (1, REV0001_EVENTS, REV0001_EVENTS)
        with Service(upgraded, upgraded.node_id(), checkpoint_key=KEY, checkpoint_every=50) as service:
            service.handle(c.DefineItem(idempotency_key="after-upgrade", item="NEW-1", description="new", unit="pcs",
                                        revision="A", **WH))
        report = verify_chain(upgraded, KEY)
        assert report.ok and report.head_seq == REV0001_EVENTS + 1 and report.checkpoints == 1
    finally:
        upgraded.close()
