"""A plant of several lines syncing to one central side: the central simulator's limit of batches at once (503 BUSY,
429 for a node's second batch, both with Retry-After), the nodes' pushers waiting it out, exactly once on
PostgreSQL when a node's requests race, the plant view (``GET /central/v1/nodes``) and ``takt fleet status``.
"""
from __future__ import annotations

import asyncio
import gzip
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from typer.testing import CliRunner

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.sync import PUSH, SyncLedger
from erp_sync.client import CentralBusy, CentralClient
from erp_sync.push import Pusher, PushReport
from simulators.erp import RunningErpSim, running_erp_sim
from simulators.erp.app import retryable
from takt.cli.main import app

ADMIN = "plant-admin-token-test"
NODES = ("line-1", "line-2", "line-3")
TOKENS = {f"token-{n}": n for n in NODES}
T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)

runner = CliRunner()


def record_backlog(folder: Path, node: str, events: int) -> str:
    """A node's store holding ``events`` machine state changes (as a PLC makes them) not yet pushed."""
    folder.mkdir()
    url = sqlite_url(folder)
    store = Store(url)
    store.migrate()
    store.node_id(node)
    service = Service(store, node).start()
    try:
        service.handle(c.DefineEquipment(idempotency_key="eq", actor="seed", actor_roles=frozenset({"admin"}),
                                         origin="erp", equipment=f"M-{node}", workstation="ASSY"))
        futures = [service.submit(c.SetMachineState(
            idempotency_key=f"plc:{i}", actor="plc", actor_roles=frozenset({"service"}), equipment=f"M-{node}",
            state="running" if i % 2 == 0 else "idle", since=T0 + timedelta(seconds=i))) for i in range(events)]
        for f in futures:
            f.result(60)
    finally:
        service.stop()
        store.close()
    return url


async def push_all(urls: dict[str, str], central: str, batch: int) -> dict[str, PushReport]:
    """Every node's pusher at once, each with its own store and client, until each has drained its journal."""
    async def one(node: str, url: str) -> PushReport:
        store = Store(url)
        try:
            async with CentralClient(central, f"token-{node}", node, timeout_s=60) as client:
                return await Pusher(store, node, client, batch_events=batch).push()
        finally:
            store.close()

    reports = await asyncio.gather(*(one(n, u) for n, u in urls.items()))
    return dict(zip(urls, reports, strict=True))


def held_once(database_url: str) -> dict[str, tuple[int, int, int, int]]:
    """Per node, as the central database holds them: rows, distinct seqs, first and last seq."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {r[0]: (r[1], r[2], r[3], r[4]) for r in conn.execute(sqlalchemy.text(
                "SELECT node, count(*), count(DISTINCT seq), min(seq), max(seq) FROM received_events GROUP BY node"))}
    finally:
        engine.dispose()


@pytest.mark.slow
def test_three_lines_push_at_once_through_a_small_limit_exactly_once(tmp_path: Path, postgres_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    events = 1200
    urls = {n: record_backlog(tmp_path / n, n, events) for n in NODES}
    with running_erp_sim(postgres_url, TOKENS, ADMIN, max_ingest=1) as sim:
        reports = asyncio.run(push_all(urls, sim.url, batch=200))
        # the limit of one batch at once was met, and waited out
        assert sum(r.busy for r in reports.values()) > 0, reports
        for node, report in reports.items():
            assert (report.sent, report.stored, report.duplicates, report.refused) == (events, events, 0, 0), node
        view = {n["node"]: n for n in sim.call("GET", "/central/v1/nodes")}
        assert set(view) == set(NODES)
        for node in NODES:
            store = Store(urls[node])
            head = store.last_seq()
            assert SyncLedger(store).cursor(PUSH) == head  # each node finished: its whole journal acknowledged
            store.close()
            assert view[node]["acknowledged"] == head and view[node]["journal_head"] == head
            assert view[node]["backlog"] == 0 and view[node]["events"] == events
            assert view[node]["rejected"] == 0
        assert sum(view[n]["busy"] for n in NODES) == sum(r.busy for r in reports.values())
        monkeypatch.setenv("TAKT_CENTRAL_TOKEN", ADMIN)
        shown = runner.invoke(app, ["fleet", "status", "--central", sim.url])
        assert shown.exit_code == 0, shown.output
        assert "3 node(s)" in shown.output and all(n in shown.output for n in NODES)
    # every (node, seq) exactly once: as many rows as events, no seq twice, none missing
    held = held_once(postgres_url)
    assert {n: (h[0], h[1], h[3] - h[2] + 1) for n, h in held.items()} == {n: (events,) * 3 for n in NODES}


def _batch(node: str, seqs: range, redelivery: bool = False) -> bytes:
    events = [{"seq": s, "event_id": str(uuid.uuid4()), "message": "ProductionPerformance",
               "type": "MachineStateChanged", "subject": "equipment:M-1", "occurred_at": T0.isoformat(),
               "recorded_at": T0.isoformat(), "actor": "plc", "device": None,
               "payload": {"equipment": "M-1", "state": "running", "reason": None, "since": T0.isoformat(),
                           "previous": None, "previous_since": None}} for s in seqs]
    body = {"node": node, "after": seqs[0] - 1, "through": seqs[-1], "redelivery": redelivery, "events": events}
    return gzip.compress(json.dumps(body).encode())


def test_racing_requests_of_one_node_store_each_event_once_on_postgresql(postgres_url: str) -> None:
    """The same batches sent again and again at once (a node retrying after timeouts, a redelivery beside them): the
    node's mark row orders them, the primary key on (node, seq) stands behind it; nothing doubled, none lost."""
    with running_erp_sim(postgres_url, TOKENS, ADMIN) as sim:
        first, second = _batch("line-1", range(1, 301)), _batch("line-1", range(301, 601))
        again = _batch("line-1", range(250, 351), redelivery=True)
        answers: list[httpx.Response] = []
        start = threading.Barrier(12)

        def send(body: bytes) -> None:
            with httpx.Client(base_url=sim.url, timeout=60, headers={
                    "Authorization": "Bearer token-line-1", "Content-Encoding": "gzip",
                    "Content-Type": "application/json"}) as client:
                start.wait()
                answers.append(client.post("/sync/v1/nodes/line-1/events", content=body))

        threads = [threading.Thread(target=send, args=(body,)) for body in [first] * 6 + [second] * 3 + [again] * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(a.status_code in (200, 409) for a in answers), [(a.status_code, a.text) for a in answers]
        stored = sum(a.json()["stored"] for a in answers if a.status_code == 200)
        # what the race left out (a second batch before its first) is sent again, as a node does
        for body in (first, second):
            answer = httpx.post(f"{sim.url}/sync/v1/nodes/line-1/events", content=body, headers={
                "Authorization": "Bearer token-line-1", "Content-Encoding": "gzip"})
            assert answer.status_code == 200, answer.text
            stored += answer.json()["stored"]
        assert stored == 600
        assert sim.call("GET", "/central/v1/nodes")[0]["acknowledged"] == 600
    assert held_once(postgres_url) == {"line-1": (600, 600, 1, 600)}


@pytest.fixture
def small_sim(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/erp.db", TOKENS, ADMIN, max_ingest=2) as running:
        yield running


def test_past_the_limit_503_busy_and_a_nodes_second_batch_429_both_with_retry_after(small_sim: RunningErpSim) -> None:
    gate = small_sim.simulator.admission
    held = gate.enter("line-1")  # line-1's batch is being stored
    headers = {"Authorization": "Bearer token-line-1", "Content-Encoding": "gzip"}
    own = httpx.post(f"{small_sim.url}/sync/v1/nodes/line-1/events", content=_batch("line-1", range(1, 3)),
                     headers=headers)
    assert own.status_code == 429 and own.json()["code"] == "TOO_MANY_REQUESTS"
    assert own.headers["Retry-After"] == "1" and int(own.headers["Retry-After-Ms"]) > 0
    other = gate.enter("line-3")  # now both slots are taken
    busy = httpx.post(f"{small_sim.url}/sync/v1/nodes/line-2/events", content=_batch("line-2", range(1, 3)),
                      headers={**headers, "Authorization": "Bearer token-line-2"})
    assert busy.status_code == 503 and busy.json()["code"] == "BUSY" and "Retry-After" in busy.headers
    assert small_sim.call("GET", "/central/v1/nodes") == []  # nothing stored by either
    gate.leave("line-1", held)
    gate.leave("line-3", other)
    assert httpx.post(f"{small_sim.url}/sync/v1/nodes/line-2/events", content=_batch("line-2", range(1, 3)),
                      headers={**headers, "Authorization": "Bearer token-line-2"}).status_code == 200
    assert small_sim.simulator.admission.refused == {"line-1": 1, "line-2": 1}


def test_the_pusher_waits_out_busy_answers_and_sends_the_batch_once(tmp_path: Path, small_sim: RunningErpSim) -> None:
    url = record_backlog(tmp_path / "line-1", "line-1", 50)
    gate = small_sim.simulator.admission
    taken = [gate.enter("line-2"), gate.enter("line-3")]  # the plant's other lines hold both slots ...

    def free() -> None:
        for node, started in zip(("line-2", "line-3"), taken, strict=True):
            gate.leave(node, started)

    threading.Timer(0.6, free).start()

    async def push() -> PushReport:  # ... for 0.6 s; the pusher is told "busy" until then, and waits
        store = Store(url)
        try:
            async with CentralClient(small_sim.url, "token-line-1", "line-1") as client:
                with pytest.raises(CentralBusy) as told:
                    await client.push(_batch("line-1", range(1, 3)))
                assert told.value.status == 503 and 0 < told.value.retry_after_s <= 30
                return await Pusher(store, "line-1", client).push()
        finally:
            store.close()

    report = asyncio.run(push())
    assert report.busy >= 1 and (report.sent, report.stored, report.duplicates) == (50, 50, 0)
    assert small_sim.call("GET", "/central/v1/nodes")[0]["busy"] == report.busy + 1


def test_fleet_status_says_in_one_line_when_the_central_side_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAKT_CENTRAL_TOKEN", "x")
    result = runner.invoke(app, ["fleet", "status", "--central", "http://127.0.0.1:9", "--timeout", "2"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("cannot reach the central side at http://127.0.0.1:9: ConnectError")
    assert len(result.output.strip().splitlines()) == 1
    monkeypatch.delenv("TAKT_CENTRAL_TOKEN")
    result = runner.invoke(app, ["fleet", "status", "--central", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "TAKT_CENTRAL_TOKEN is not set" in result.output


def test_fleet_status_names_a_refused_token(small_sim: RunningErpSim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAKT_CENTRAL_TOKEN", "token-line-1")  # a node's token, not the admin's
    result = runner.invoke(app, ["fleet", "status", "--central", small_sim.url])
    assert result.exit_code == 1 and "refused the token (403)" in result.output


def _raised(call: Any) -> BaseException:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - the error itself is what the test looks at
        return exc
    raise AssertionError("the statement did not fail")


def test_what_the_simulator_answers_retry_for_and_what_not_from_real_postgresql_errors(postgres_url: str) -> None:
    """Each error raised by the test run's PostgreSQL itself: through SQLAlchemy, and as the driver raises it where
    SQLAlchemy does not wrap it (psycopg's COPY, the simulator's bulk insert)."""
    engine = sqlalchemy.create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE received_events (node text, seq int, PRIMARY KEY (node, seq))")
            conn.exec_driver_sql("CREATE TABLE work_orders (work_order text PRIMARY KEY)")
            conn.exec_driver_sql("INSERT INTO received_events VALUES ('line-1', 1)")
            conn.exec_driver_sql("INSERT INTO work_orders VALUES ('WO-1')")

        def sql(statement: str) -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql(statement)

        def copy_twice() -> None:
            with engine.begin() as conn:
                raw: Any = conn.connection.driver_connection
                with raw.cursor() as cur, cur.copy("COPY received_events (node, seq) FROM STDIN") as copy:
                    copy.write_row(("line-1", 1))

        def raise_sqlstate(code: str) -> None:
            sql(f"DO $$ BEGIN RAISE EXCEPTION 'as the server says' USING ERRCODE = '{code}'; END $$")

        deadlock = _raised(lambda: raise_sqlstate("40P01"))
        assert isinstance(deadlock, sqlalchemy.exc.DBAPIError) and retryable(deadlock)
        assert retryable(_raised(lambda: raise_sqlstate("40001")))  # serialisation failure
        assert retryable(_raised(lambda: sql("INSERT INTO received_events VALUES ('line-1', 1)")))
        assert not retryable(_raised(lambda: sql("INSERT INTO work_orders VALUES ('WO-1')")))
        assert not retryable(_raised(lambda: sql("SELECT * FROM no_such_table")))  # a missing table: a bug
        unwrapped = _raised(copy_twice)
        assert not isinstance(unwrapped, sqlalchemy.exc.SQLAlchemyError) and retryable(unwrapped)
        with engine.connect():  # the pool's one connection taken: the next waits 0.2 s and gives up
            assert retryable(_raised(engine.connect))
        assert not retryable(ValueError("not a database error"))
    finally:
        engine.dispose()
