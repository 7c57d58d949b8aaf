"""The PostgreSQL historian target, over the wire with the PostgreSQL the fixtures start: every value forwarded
exactly once across a broken connection (a TCP proxy between the node and the server is cut while values keep
coming, then resumed: they wait in the local buffer and catch up in batches) and across a restart of the writer
whose local watermark was lost (the server's watermark is the truth)."""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import psycopg.conninfo
import pytest

from connectors.base import Sample
from connectors.config import MachineSignals, ProcessValueRule
from connectors.historian_pg import TARGET, conninfo, read_values
from connectors.process_values import HistorianSettings, ProcessValueLog
from tests.integration.wire import free_port, wait_for

TAGS = ("temperature", "pressure", "torque")
START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


class Proxy:
    """A TCP proxy to the server that a test can cut (every connection broken, none accepted) and resume."""

    def __init__(self, target_port: int) -> None:
        self.target_port, self.port = target_port, free_port()
        self.server: asyncio.Server | None = None
        self.open: list[asyncio.StreamWriter] = []

    async def resume(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.open:
            writer.transport.abort()
        self.open.clear()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.open += [writer, up_writer]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


def machines() -> list[MachineSignals]:
    return [MachineSignals(equipment="OVEN-1", device="PLC-1", process_values=[
        ProcessValueRule(tag=t, deadband=0, retention_s=400 * 86400, max_points=10**9) for t in TAGS])]


def samples(first: int, count: int) -> list[Sample]:
    """``count`` values of each tag, the i-th at START + i * 10 ms with value i (+ the tag's offset)."""
    return [Sample("PLC-1", t, float(i + 1000 * n), "good", START + timedelta(milliseconds=10 * i))
            for i in range(first, first + count) for n, t in enumerate(TAGS)]


def forward(log: ProcessValueLog) -> dict[str, Any]:
    return dict(log.health()["forward"])


async def test_values_reach_postgresql_exactly_once_across_an_outage_and_a_restart(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    direct = conninfo(postgres_url)
    port = int(postgres_url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = Proxy(port)
    await proxy.resume()
    monkeypatch.setenv("TAKT_TEST_HISTORIAN_URL", direct.replace(f":{port}/", f":{proxy.port}/"))
    settings = HistorianSettings(flush_s=0.1, postgresql_url_env="TAKT_TEST_HISTORIAN_URL", node="edge-7",
                                 forward_batch_chunks=4)
    path = tmp_path / "pv.sqlite"
    log = ProcessValueLog(path, machines(), settings)
    log.forwarder.every_s = log.forwarder.retry_max_s = 0.2  # quicker than a node's 1 s and 30 s
    secret = str(psycopg.conninfo.conninfo_to_dict(direct)["password"])
    assert secret not in repr(settings)
    log.start()

    async def offered(first: int, count: int) -> None:
        for start in range(first, first + count, 50):  # batches as a connector hands them over, a flush apart
            await log.offer(samples(start, min(50, first + count - start)))
            assert await asyncio.to_thread(log.flush)

    async def caught_up() -> bool:
        f = await asyncio.to_thread(forward, log)
        return bool(f["state"] == "connected" and f["waiting"] == 0)

    try:
        await offered(0, 200)
        await wait_for(caught_up, 20, "the first values forwarded")
        assert forward(log)["forwarded"] == 600

        await proxy.cut()  # the connection breaks; values go on landing locally
        await offered(200, 300)
        await wait_for(lambda: forward(log)["state"] == "unreachable", 20, "the outage seen")
        during = forward(log)
        assert during["waiting"] == 900 and during["last_error"] and secret not in str(during)
        assert "forwarding to PostgreSQL failed" in caplog.text and secret not in caplog.text
        with psycopg.connect(direct) as pg:
            assert pg.execute("SELECT sum(count) FROM takt_historian.process_values").fetchone() == (600,)
        await proxy.resume()
        await wait_for(caught_up, 60, "the forwarder caught up after the outage")  # 4 chunks per batch
        assert forward(log)["forwarded"] == 1500

        # A crash after the server committed but before the node wrote its own watermark: the forwarder is
        # stopped, the local watermark put back before the last values, and the writer restarted.
        await offered(500, 100)
        await wait_for(caught_up, 20, "the last values forwarded")
        await asyncio.to_thread(log.forwarder.stop)  # threads: the proxy runs in this event loop
        with sqlite3.connect(path) as db:
            landed = db.execute("SELECT min(id) FROM process_values_recent").fetchone()[0]
            assert landed is not None  # forwarded, still landed (consolidation comes later)
            db.execute("UPDATE process_forward SET through = ? WHERE target = ?", (landed - 1, TARGET))
        await asyncio.to_thread(log.close)
        again = ProcessValueLog(path, machines(), settings)
        again.forwarder.every_s = 0.2
        again.start()
        log = again
        await offered(600, 100)
        await wait_for(caught_up, 20, "forwarded after the restart")
        assert forward(log)["forwarded"] == 300  # this process: only the new values, none resent
    finally:
        await asyncio.to_thread(log.close)
        await proxy.cut()

    with psycopg.connect(direct) as pg:
        for n, tag in enumerate(TAGS):
            rows = read_values(pg, "takt_historian", "edge-7", "OVEN-1", tag)
            assert [r[1] for r in rows] == [float(i + 1000 * n) for i in range(700)]  # each once, in order
            assert [r[0] for r in rows] == sorted({r[0] for r in rows})
        minutes = pg.execute("SELECT sum(samples), sum(numbers), min(min), max(max) FROM "
                             "takt_historian.process_value_minutes").fetchone()
        assert minutes == (2100, 2100, 0.0, 2699.0)
        assert pg.execute("SELECT through > 0, forwarded_values FROM takt_historian.forwarded WHERE node = "
                          "'edge-7'").fetchone() == (True, 2100)
    local = ProcessValueLog(path, machines(), settings)
    try:
        assert [r[1] for r in local.rows("OVEN-1", "pressure")] == [float(i + 1000) for i in range(700)]
    finally:
        local.close()


def landed_and_unforwarded(path: Path) -> tuple[int, int]:
    """Values in the landing table, and consolidated values not marked forwarded."""
    with sqlite3.connect(path) as db:
        landed = db.execute("SELECT coalesce(sum(count), 0) FROM process_values_recent").fetchone()[0]
        unforwarded = db.execute("SELECT coalesce(sum(count), 0) FROM process_values WHERE forwarded IS NULL"
                                 ).fetchone()[0]
    return int(landed), int(unforwarded)


def server_values(direct: str, node: str) -> dict[str, list[float | None]]:
    with psycopg.connect(direct) as pg:
        return {t: [r[1] for r in read_values(pg, "takt_historian", node, "OVEN-1", t)] for t in TAGS}


async def test_history_kept_before_the_target_was_configured_reaches_it_exactly_once(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    direct = conninfo(postgres_url)
    port = int(postgres_url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = Proxy(port)
    await proxy.resume()
    monkeypatch.setenv("TAKT_TEST_HISTORIAN_URL", direct.replace(f":{port}/", f":{proxy.port}/"))
    path = tmp_path / "pv.sqlite"
    for session in range(4):  # a node without a target, four runs: each stop consolidates its values into chunks
        before = ProcessValueLog(path, machines(), HistorianSettings(flush_s=0.1, node="edge-8"))
        before.start()
        await before.offer(samples(50 * session, 50))
        await asyncio.to_thread(before.stop)
        before.prune()  # as a node's stop does
        before.close()
    assert landed_and_unforwarded(path) == (0, 600)

    settings = HistorianSettings(flush_s=0.1, postgresql_url_env="TAKT_TEST_HISTORIAN_URL", node="edge-8",
                                 forward_batch_chunks=2)
    log = ProcessValueLog(path, machines(), settings)
    log.forwarder.every_s = log.forwarder.retry_max_s = 0.2
    log.start()

    async def caught_up() -> bool:
        f = await asyncio.to_thread(forward, log)
        return bool(f["state"] == "connected" and f["waiting"] == 0)

    try:
        await log.offer(samples(200, 50))  # new values meanwhile
        await wait_for(lambda: log.forwarder.relanded_chunks >= 2, 20, "history on its way")
        await proxy.cut()  # an outage in the middle of the history
        await log.offer(samples(250, 50))
        assert await asyncio.to_thread(log.flush)
        await wait_for(lambda: forward(log)["state"] == "unreachable", 20, "the outage seen")
        assert forward(log)["waiting"] > 0
        await proxy.resume()
        await wait_for(caught_up, 60, "the history and the new values forwarded")
        assert forward(log)["forwarded"] == 900
    finally:
        await asyncio.to_thread(log.close)
        await proxy.cut()

    assert server_values(direct, "edge-8") == {t: [float(i + 1000 * n) for i in range(300)]
                                               for n, t in enumerate(TAGS)}  # each once, in time order
    with psycopg.connect(direct) as pg:
        assert pg.execute("SELECT sum(samples) FROM takt_historian.process_value_minutes").fetchone() == (900,)
    assert landed_and_unforwarded(path)[1] == 0
    local = ProcessValueLog(path, machines(), settings)
    try:
        assert [r[1] for r in local.rows("OVEN-1", "torque")] == [float(i + 2000) for i in range(300)]
    finally:
        local.close()


async def test_a_long_outage_is_consolidated_locally_and_forwarded_once_when_the_server_is_back(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The landing table has no index (a flush must not touch a page per series): during an outage the values the
    forwarder never sent are consolidated anyway, so the table stays small, and re-landed when the server is
    back."""
    direct = conninfo(postgres_url)
    port = int(postgres_url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = Proxy(port)  # not resumed: the server is unreachable from the start
    monkeypatch.setenv("TAKT_TEST_HISTORIAN_URL", direct.replace(f":{port}/", f":{proxy.port}/"))
    settings = HistorianSettings(flush_s=0.1, consolidate_s=0.2, postgresql_url_env="TAKT_TEST_HISTORIAN_URL",
                                 node="edge-9", forward_batch_chunks=50)
    path = tmp_path / "pv.sqlite"
    log = ProcessValueLog(path, machines(), settings)
    log.forwarder.every_s = log.forwarder.retry_max_s = 0.2
    log.start()
    try:
        for first in range(0, 2400, 200):  # two whole chunks' worth per series
            await log.offer(samples(first, 200))
            assert await asyncio.to_thread(log.flush)
        await wait_for(lambda: landed_and_unforwarded(path)[0] < 3 * 1000, 20,
                       "the outage's values consolidated")
        landed, unforwarded = landed_and_unforwarded(path)
        assert unforwarded >= 3 * 1000 and landed + unforwarded == 7200
        assert forward(log)["state"] == "unreachable" and forward(log)["waiting"] == 7200
        assert [r[1] for r in log.rows("OVEN-1", "pressure")] == [float(i + 1000) for i in range(2400)]

        await proxy.resume()
        await wait_for(lambda: forward(log)["state"] == "connected" and forward(log)["waiting"] == 0, 60,
                       "forwarded after the outage")
        assert forward(log)["forwarded"] == 7200
    finally:
        await asyncio.to_thread(log.close)
        with contextlib.suppress(AssertionError):
            await proxy.cut()
    assert server_values(direct, "edge-9") == {t: [float(i + 1000 * n) for i in range(2400)]
                                               for n, t in enumerate(TAGS)}
    assert landed_and_unforwarded(path)[1] == 0
