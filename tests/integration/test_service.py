"""The write path (``edge.service.Service``) on a real store: idempotency, refusals that write nothing,
group commit, concurrent clients racing for the same stock, restarts, durability settings, migrations."""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from edge.domain import DomainError
from edge.domain import commands as c
from edge.service import IdempotencyKeyReused, Recorded, Service, StoreUnavailable
from edge.store import Store, schema, sqlite_url
from edge.store.verify import verify
from tests.conftest import StoreFactory, store_file

D = Decimal
NODE = "svc-node"
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
WAREHOUSE: dict[str, Any] = {"actor": "wh", "actor_roles": frozenset({"warehouse"})}


def _setup(service: Service) -> None:
    for cmd in (
        c.DefineItem(idempotency_key="item-screw", item="SCREW", description="Screw", unit="pcs", revision="B",
                     **WAREHOUSE),
        c.DefineItem(idempotency_key="item-pump", item="PUMP", description="Pump", unit="pcs", revision="A",
                     **WAREHOUSE),
        c.DefineBin(idempotency_key="bin-a", bin="A-01", zone="A", **WAREHOUSE),
        c.DefineBin(idempotency_key="bin-line", bin="LINE1", zone="L", **WAREHOUSE),
        c.ReceiveLot(idempotency_key="recv-l1", lot="L1", item="SCREW", item_revision=None, quantity=D(100),
                     bin="A-01", expiry=date(2027, 1, 1), **WAREHOUSE),
        c.ReleaseWorkOrder(idempotency_key="wo1", work_order="WO1", item="PUMP", item_revision="A", bom_revision="3",
                           quantity=D(1000), operations=(c.OperationSpec(operation=10, description="Build",
                                                                         workstation="WS1"),),
                           bom=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(4)),),
                           **WAREHOUSE),
    ):
        service.handle(cmd)


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    made = store_factory()
    made.node_id(NODE)
    return made


@pytest.fixture
def service(store: Store) -> Iterator[Service]:
    with Service(store, NODE, clock=lambda: NOW) as running:
        _setup(running)
        yield running


def move(key: str, quantity: D | int = 1, lot: str = "L1", from_bin: str = "A-01", to_bin: str = "LINE1") -> c.MoveStock:
    return c.MoveStock(idempotency_key=key, lot=lot, from_bin=from_bin, to_bin=to_bin, quantity=D(quantity),
                       **WAREHOUSE)


def journal_count(store: Store) -> int:
    return len(list(store.journal()))


def command_log_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.command_log)).scalar_one())


def stock(store: Store) -> dict[tuple[str, str], D]:
    return {key: row.quantity for key, row in store.load_state().stock.items()}


class HeldWriter:
    """Holds the writer thread inside its post-commit listener, so that everything submitted meanwhile
    queues up and is recorded as one batch when released. (The listener is the service's own hook.)"""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.holding = threading.Event()
        self.release = threading.Event()
        self.armed = True
        service.on_recorded(self._listener)

    def _listener(self, _events: list[dict[str, Any]]) -> None:
        if self.armed:
            self.armed = False
            self.holding.set()
            self.release.wait(30)

    def hold(self, key: str) -> None:
        """Record one command and keep the writer busy until ``let_go``."""
        answer = self.service.submit(c.DefineBin(idempotency_key=key, bin=key, zone="H", **WAREHOUSE))
        assert self.holding.wait(30), f"the writer never reached the listener: {answer}"

    def let_go(self) -> None:
        self.release.set()


# --- idempotency -----------------------------------------------------------------------------------


def test_a_repeated_key_returns_the_first_result_and_writes_nothing(service: Service, store: Store) -> None:
    first = service.handle(move("m1", 10))
    events, commands = journal_count(store), command_log_count(store)

    again = service.handle(move("m1", 10))
    assert again.replayed is True and first.replayed is False
    assert (again.idempotency_key, again.command, again.events) == (first.idempotency_key, first.command, first.events)
    assert (journal_count(store), command_log_count(store)) == (events, commands)
    assert stock(store) == {("L1", "A-01"): D(90), ("L1", "LINE1"): D(10)}  # moved once, not twice


def test_a_repeat_is_recognised_after_a_restart(service: Service, store: Store) -> None:
    first = service.handle(move("m1", 10))
    service.stop()
    with Service(Store(store.url), NODE) as restarted:
        again = restarted.handle(move("m1", 10))
    assert again.replayed and again.events == first.events
    assert stock(store)[("L1", "LINE1")] == D(10)


def test_the_same_key_for_a_different_command_is_refused(service: Service, store: Store) -> None:
    service.handle(move("m1", 10))
    events = journal_count(store)
    with pytest.raises(IdempotencyKeyReused) as caught:
        service.handle(move("m1", 11))
    assert caught.value.key == "m1" and caught.value.first_command == "MoveStock"
    with pytest.raises(IdempotencyKeyReused):
        service.handle(c.HoldLot(idempotency_key="m1", lot="L1", reason="recall", **WAREHOUSE))
    assert journal_count(store) == events
    assert stock(store)[("L1", "LINE1")] == D(10)


def test_delivery_details_do_not_make_a_repeat_a_different_command(service: Service) -> None:
    first = service.handle(move("m1", 10))
    retry = c.MoveStock(idempotency_key="m1", lot="L1", from_bin="A-01", to_bin="LINE1", quantity=D(10),
                        actor="wh", actor_roles=frozenset({"warehouse", "operator"}), source_device="hh-7",
                        occurred_at=NOW)
    again = service.handle(retry)
    assert again.replayed and again.events == first.events


def test_duplicate_keys_inside_one_batch(service: Service, store: Store) -> None:
    held = HeldWriter(service)
    held.hold("hold-1")
    events, commits = journal_count(store), service.commits
    answers = [service.submit(cmd) for cmd in (
        move("b1", 5),
        move("b1", 5),  # the same request twice in one batch
        move("b1", 6),  # the same key for something else
        move("b2", 1000),  # refused: not enough stock
        move("b2", 1000),  # its repeat is decided again (a refusal is not remembered) and refused again
        move("b3", 7),
    )]
    held.let_go()
    first, repeat = answers[0].result(30), answers[1].result(30)
    assert (first.replayed, repeat.replayed) == (False, True) and repeat.events == first.events
    with pytest.raises(IdempotencyKeyReused):
        answers[2].result(30)
    for refused in answers[3:5]:
        with pytest.raises(DomainError) as caught:
            refused.result(30)
        assert caught.value.code == "INSUFFICIENT_STOCK"
    assert answers[5].result(30).events
    assert service.commits - commits == 1, "the six commands were meant to share one commit"
    assert journal_count(store) == events + 2
    assert stock(store) == {("L1", "A-01"): D(88), ("L1", "LINE1"): D(12)}


# --- refusals --------------------------------------------------------------------------------------


def test_a_refused_command_writes_nothing_and_its_key_stays_free(service: Service, store: Store) -> None:
    events, commands, before = journal_count(store), command_log_count(store), stock(store)
    to_new_bin = move("m1", 10, to_bin="B-07")
    with pytest.raises(DomainError) as caught:
        service.handle(to_new_bin)
    assert caught.value.as_dict() == {"code": "UNKNOWN_BIN", "message": "bin B-07 is not known here",
                                      "field": "to_bin"}
    assert (journal_count(store), command_log_count(store), stock(store)) == (events, commands, before)
    assert service.commands_refused >= 1

    # Once the cause is fixed, the very same request (same key) goes through.
    service.handle(c.DefineBin(idempotency_key="bin-b07", bin="B-07", zone="B", **WAREHOUSE))
    recorded = service.handle(to_new_bin)
    assert not recorded.replayed and stock(store)[("L1", "B-07")] == D(10)


def test_a_refusal_in_a_batch_does_not_take_its_neighbours_down(service: Service, store: Store) -> None:
    held = HeldWriter(service)
    held.hold("hold-1")
    answers = [service.submit(move(f"n{i}", q)) for i, q in enumerate((10, 500, 20, -1, 30))]
    held.let_go()
    outcomes: list[bool | str] = []
    for answer in answers:
        try:
            outcomes.append(answer.result(30).replayed)
        except DomainError as err:
            outcomes.append(err.code)
    assert outcomes == [False, "INSUFFICIENT_STOCK", False, "INVALID_QUANTITY", False]
    assert stock(store) == {("L1", "A-01"): D(40), ("L1", "LINE1"): D(60)}


def test_a_stopped_writer_accepts_nothing(store: Store) -> None:
    service = Service(store, NODE).start()
    service.stop()
    with pytest.raises(StoreUnavailable):
        service.handle(move("m1"))


# --- group commit ----------------------------------------------------------------------------------


async def test_concurrent_commands_share_commits(service: Service, store: Store) -> None:
    commits, events = service.commits, journal_count(store)
    receipts = [
        c.ReceiveLot(idempotency_key=f"g{i}", lot=f"G{i}", item="SCREW", item_revision=None, quantity=D(1), bin="LINE1",
                     **WAREHOUSE)
        for i in range(200)
    ]
    results = await asyncio.gather(*(service.execute(cmd) for cmd in receipts))
    assert all(isinstance(r, Recorded) and not r.replayed for r in results)
    used = service.commits - commits
    assert used <= 20, f"200 concurrent commands took {used} commits"
    assert journal_count(store) == events + 200
    assert sorted(r.events[0]["seq"] for r in results) == list(range(events + 1, events + 201))
    assert sum(q for (lot, _), q in stock(store).items() if lot.startswith("G")) == D(200)


# --- racing for the last units ---------------------------------------------------------------------


def _race(service: Service, commands: list[c.Command]) -> list[Recorded | DomainError]:
    """Send every command from its own thread at the same moment; collect each answer."""
    start = threading.Barrier(len(commands))
    answers: list[Recorded | DomainError | None] = [None] * len(commands)

    def client(i: int) -> None:
        start.wait()
        try:
            answers[i] = service.handle(commands[i])
        except DomainError as err:
            answers[i] = err

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(commands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def test_clients_racing_for_the_last_units_of_a_lot_one_wins(service: Service, store: Store) -> None:
    service.handle(move("to-line", 90))  # 10 left in A-01
    commands: list[c.Command] = []
    for i in range(24):  # half of them issue the last 10 to the work order, half move them away
        if i % 2:
            commands.append(c.IssueToWorkOrder(idempotency_key=f"race-{i}", work_order="WO1", lot="L1", bin="A-01",
                                               quantity=D(10), **WAREHOUSE))
        else:
            commands.append(move(f"race-{i}", 10, to_bin="LINE1"))
    answers = _race(service, commands)
    winners = [a for a in answers if isinstance(a, Recorded)]
    losers = [a for a in answers if isinstance(a, DomainError)]
    assert len(winners) == 1
    assert {err.code for err in losers} == {"INSUFFICIENT_STOCK"}
    assert all("bin A-01 holds 0 of lot L1; 10 asked" == err.message for err in losers)
    assert ("L1", "A-01") not in stock(store)
    assert all(q > 0 for q in stock(store).values())
    assert verify(store).ok


def test_racing_small_picks_never_take_more_than_there_is(service: Service, store: Store) -> None:
    service.handle(move("to-line", 87))  # 13 left in A-01
    commands: list[c.Command] = [
        c.IssueToWorkOrder(idempotency_key=f"pick-{i}", work_order="WO1", lot="L1", bin="A-01",
                           quantity=D(1 + i % 3), **WAREHOUSE)
        for i in range(30)
    ]
    answers = _race(service, commands)
    taken = sum((cmd.quantity for cmd, a in zip(commands, answers, strict=True)  # type: ignore[attr-defined]
                 if isinstance(a, Recorded)), D(0))
    assert D(11) <= taken <= D(13)  # whatever the order, picks stop only when none of 1, 2, 3 fits
    left = stock(store).get(("L1", "A-01"), D(0))
    assert left == D(13) - taken >= 0
    lot = store.load_state().lots["L1"]
    assert lot.quantity == D(100) - taken
    assert verify(store).ok


async def test_two_async_clients_racing_for_the_last_units(service: Service, store: Store) -> None:
    service.handle(move("to-line", 95))  # 5 left in A-01
    a, b = await asyncio.gather(
        service.execute(move("client-a", 5, to_bin="LINE1")),
        service.execute(c.ScrapStock(idempotency_key="client-b", lot="L1", bin="A-01", quantity=D(5),
                                     reason="dropped", **WAREHOUSE)),
        return_exceptions=True,
    )
    outcomes = sorted(type(x).__name__ for x in (a, b))
    assert outcomes == ["DomainError", "Recorded"]
    assert ("L1", "A-01") not in stock(store)


# --- restart and the journal's sequence ------------------------------------------------------------


def test_a_restarted_node_continues_state_and_sequence(service: Service, store: Store) -> None:
    service.handle(move("m1", 10))
    last = service.handle(move("m2", 5)).last_seq
    service.stop()

    reopened = Store(store.url)  # as after a process restart
    assert reopened.node_id("another-default") == NODE  # the node keeps its id
    with Service(reopened, NODE, clock=lambda: NOW) as restarted:
        after = restarted.handle(move("m3", 1))
        assert after.events[0]["seq"] == (last or 0) + 1
        with pytest.raises(DomainError) as caught:  # the in-memory state came back from the tables
            restarted.handle(move("m4", 85))
        assert caught.value.message == "bin A-01 holds 84 of lot L1; 85 asked"
    entries = list(reopened.journal())
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert {e.node_id for e in entries} == {NODE}
    assert len({e.event_id for e in entries}) == len(entries)
    assert stock(reopened) == {("L1", "A-01"): D(84), ("L1", "LINE1"): D(16)}
    assert verify(reopened).ok
    reopened.close()


def test_many_restarts_keep_the_sequence_gapless(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.node_id(NODE)
    with Service(store, NODE) as first:
        _setup(first)
    for round_ in range(5):
        with Service(Store(store.url), NODE) as service:
            for i in range(7):
                service.handle(move(f"r{round_}-{i}", 1))
            try:
                service.handle(move(f"r{round_}-bad", 10_000))
            except DomainError:
                pass
    seqs = [e.seq for e in store.journal()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert stock(store) == {("L1", "A-01"): D(65), ("L1", "LINE1"): D(35)}


def test_an_acknowledged_command_survives_a_killed_process(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.node_id(NODE)
    with Service(store, NODE) as first:
        _setup(first)
    store.close()
    script = textwrap.dedent(f"""
        import sys
        from decimal import Decimal
        from edge.domain import commands as c
        from edge.service import Service
        from edge.store import Store
        service = Service(Store({store.url!r}), {NODE!r}).start()
        for i in range(1000):
            service.handle(c.MoveStock(idempotency_key=f"k{{i}}", lot="L1", from_bin="A-01", to_bin="LINE1",
                                       quantity=Decimal("0.01"), actor="wh"))
            print(f"k{{i}}", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    acknowledged = [proc.stdout.readline().strip() for _ in range(40)]
    os.kill(proc.pid, signal.SIGKILL)  # no clean shutdown: the writer dies mid-stream
    proc.wait(10)
    proc.stdout.close()

    after = Store(store.url)
    keys = {e.idempotency_key for e in after.journal()}
    assert set(acknowledged) <= keys
    seqs = [e.seq for e in after.journal()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert verify(after).ok
    after.close()


# --- durability settings and schema ----------------------------------------------------------------


def test_sqlite_is_in_wal_mode_with_full_sync(service: Service, store: Store) -> None:
    with service.store.engine.connect() as conn:  # the engine the writer's connection comes from
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: fsync on every commit
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    writer_conn = getattr(service, "_conn", None)
    if writer_conn is not None:  # the writer's own connection, while it runs
        assert writer_conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert writer_conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    # WAL is recorded in the database file itself: any other reader sees it too.
    with sqlite3.connect(store_file(store)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _schema_differences(url: str) -> list[Any]:
    store = Store(url)
    try:
        store.migrate()
        with store.engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), schema.metadata))
    finally:
        store.close()


def test_migrations_produce_exactly_the_schema_on_sqlite(tmp_path: Path) -> None:
    assert _schema_differences(sqlite_url(tmp_path)) == []


def test_migrations_produce_exactly_the_schema_on_postgresql(postgres_url: str) -> None:
    assert _schema_differences(postgres_url) == []


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    store.migrate()
    store.node_id(NODE)
    store.migrate()
    assert store.node_id() == NODE
    assert _schema_differences(sqlite_url(tmp_path)) == []
    store.close()


def test_a_time_without_a_zone_is_refused_as_input_not_as_a_store_failure(service: Service, store: Store) -> None:
    events = journal_count(store)
    naive = c.MoveStock(idempotency_key="naive", lot="L1", from_bin="A-01", to_bin="LINE1", quantity=D(1),
                        occurred_at=datetime(2026, 6, 1, 8, 0), **WAREHOUSE)
    with pytest.raises(DomainError) as caught:
        service.handle(naive)
    assert (caught.value.code, caught.value.field) == ("INVALID_TIME", "occurred_at")
    assert journal_count(store) == events
