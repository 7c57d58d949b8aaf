"""The historian: process values from PLCs (Modbus and OPC UA simulators, over the wire) go through a bounded queue
to the writer thread, each stored exactly once across a restart of the writer and of the node; a full queue is
counted and shown; files of the first layout are migrated when opened; the durability setting shows on /health;
a node answers one moment, per-minute summaries of raw values and a CSV export; what the writer reported written
survives a kill -9."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from connectors.base import Backoff, Sample
from connectors.config import MachineSignals, ModbusDevice, ModbusTag, PollGroup, ProcessValueRule
from connectors.metrics import ConnectivityCollector
from connectors.modbus import ModbusConnector
from connectors.process_values import HistorianSettings, ProcessValueLog
from simulators.machine import Machine
from simulators.modbus_plc import ModbusPlc
from simulators.opcua_machine import OpcUaMachine
from takt.config import ConfigError, demo_config_path, load_config
from tests.integration.conftest import supervised
from tests.integration.wire import free_port, wait_for

OPERATOR = {"Authorization": "Bearer demo-operator-token-000000"}


def press(**rule: Any) -> list[MachineSignals]:
    return [MachineSignals(equipment="PRESS-1", device="PLC-1", process_values=[
        ProcessValueRule(tag="counter", name="strokes", deadband=0, **rule)])]


async def test_every_polled_value_is_stored_once_across_a_writer_restart(tmp_path: Path) -> None:
    plc = ModbusPlc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02)
    await plc.start()
    device = ModbusDevice(name="PLC-1", host="127.0.0.1", port=plc.port, timeout_s=0.5, groups=[
        PollGroup(interval_ms=20, tags=[ModbusTag(name="counter", address=100, type="uint16")])])
    settings = HistorianSettings(flush_s=0.2)
    log = ProcessValueLog(tmp_path / "pv.sqlite", press(), settings)
    log.start()
    connector = ModbusConnector(device)
    try:
        async with supervised(connector, log, Backoff(initial=0.1, maximum=1.0)):
            for n in range(1, 41):
                plc.write_scratch(100, [n])
                await wait_for(lambda n=n: log.latest.get(("PRESS-1", "strokes"), (None,))[0] == n, 5,  # type: ignore[misc]
                               f"value {n} received")
                if n == 20:  # the writer stops (writing what it holds) and starts again while polling goes on
                    await asyncio.to_thread(log.stop)
                    assert log.health()["writer"] == "stopped"
                    log.start()
            assert await asyncio.to_thread(log.flush)
    finally:
        await plc.stop()
    stored = [r["value"] for r in log.query("PRESS-1", "strokes", limit=10_000)]
    assert stored[0] in (0.0, 1.0)  # the register before the first write, if the poll saw it
    assert [v for v in stored if v >= 1] == [float(n) for n in range(1, 41)]  # each once, in order
    health = log.health()
    assert health["kept"] == len(stored) and health["queued"] == 0 and health["dropped"] == 0
    log.close()
    again = ProcessValueLog(tmp_path / "pv.sqlite", press(), settings)  # the deadband goes on from the file
    assert again.keep([Sample("PLC-1", "counter", 40, "good", datetime.now(UTC))]) == 0
    again.close()


async def test_a_full_queue_drops_by_deadband_first_counts_it_and_shows_it(tmp_path: Path) -> None:
    plc = ModbusPlc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02)
    await plc.start()
    device = ModbusDevice(name="PLC-1", host="127.0.0.1", port=plc.port, timeout_s=0.5, groups=[
        PollGroup(interval_ms=10, tags=[ModbusTag(name="counter", address=100, type="uint16")])])
    settings = HistorianSettings(queue_values=100, overflow="drop", overflow_deadband_percent=5.0, flush_s=0.1)
    log = ProcessValueLog(tmp_path / "pv.sqlite", press(), settings)  # the writer is not started: it is stuck
    connector = ModbusConnector(device)
    value = 1000
    try:
        async with supervised(connector, log, Backoff(initial=0.1, maximum=1.0)):
            while log.dropped == 0:  # each write moves 1 % (inside 5 %) except every tenth, which moves 10 %
                value += 10 if value % 100 == 0 else 100 if value % 10 == 0 else 1
                plc.write_scratch(100, [value % 65536])
                await asyncio.sleep(0.03)
                assert value < 60_000, "the queue never overflowed"
            health = log.health()
            assert health["queued"] == 100 and health["oldest_queued_age_s"] > 0
            assert health["dropped"] >= 1 and health["dropped_in_overflow_deadband"] >= 1
            metrics = {m.name: m for m in ConnectivityCollector(list, None, log.health).collect()}
            dropped = {s.labels["reason"]: s.value for s in metrics["takt_historian_dropped_values"].samples}
            assert dropped["queue_full"] >= 1 and dropped["overflow_deadband"] >= 1
            assert metrics["takt_historian_queue_values"].samples[0].value == 100
            assert len(log.query("PRESS-1", "strokes", limit=1000)) == 100  # readable while still queued
            log.start()  # the writer catches up
            assert await asyncio.to_thread(log.flush)
    finally:
        await plc.stop()
    assert log.kept == 100 and log.health()["queued"] == 0
    assert len(log.query("PRESS-1", "strokes", limit=1000)) == 100
    log.close()


def first_layout_file(path: Path) -> None:
    """A process-values file as the first layout wrote it (text names in every row)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE process_values (equipment TEXT NOT NULL, name TEXT NOT NULL, at REAL NOT NULL, "
                   "value REAL, text TEXT, quality TEXT NOT NULL, detail TEXT)")
        db.execute("CREATE INDEX process_values_series ON process_values (equipment, name, at)")
        db.execute("CREATE TABLE process_value_minutes (equipment TEXT NOT NULL, name TEXT NOT NULL, "
                   "minute INTEGER NOT NULL, samples INTEGER NOT NULL, numbers INTEGER NOT NULL, bad INTEGER NOT NULL, "
                   "min REAL, max REAL, sum REAL NOT NULL, PRIMARY KEY (equipment, name, minute)) WITHOUT ROWID")
        t0 = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
        db.executemany("INSERT INTO process_values VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [("PRESS-1", "strokes", t0 + i, float(i), None, "good", None) for i in range(2500)]
                       + [("PRESS-1", "strokes", t0 + 2500, None, None, "bad", "BadNotConnected"),
                          ("PRESS-1", "mode", t0 + 3, None, "AUTO", "good", None)])
        db.execute("INSERT INTO process_value_minutes VALUES ('PRESS-1', 'strokes', ?, 60, 60, 0, 1, 60, 1830)",
                   (int(t0) - 600,))


def test_a_file_of_the_first_layout_is_migrated_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "process-values.sqlite"
    first_layout_file(path)
    machines = [MachineSignals(equipment="PRESS-1", device="PLC-1", process_values=[
        ProcessValueRule(tag="counter", name="strokes", deadband=0, max_points=10**6),
        ProcessValueRule(tag="mode", max_points=10**6)])]
    log = ProcessValueLog(path, machines)
    strokes = log.query("PRESS-1", "strokes", limit=10_000)
    assert len(strokes) == 2501 and [r["value"] for r in strokes[:3]] == [0.0, 1.0, 2.0]
    assert strokes[-1]["quality"] == "bad" and strokes[-1]["detail"] == "BadNotConnected"
    assert strokes[0]["at"] == "2026-11-01T00:00:00Z"
    assert [r["value"] for r in log.query("PRESS-1", "mode")] == ["AUTO"]
    assert [(m["samples"], m["avg"]) for m in log.minutes("PRESS-1", "strokes")] == [(60, 30.5)]
    # the deadband goes on from the last migrated value (bad), so a good value is kept
    assert log.keep([Sample("PLC-1", "counter", 7, "good", datetime(2026, 11, 2, tzinfo=UTC))]) == 1
    log.close()
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"process_series", "process_values", "process_values_recent", "process_value_minutes",
                          "process_forward", "sqlite_sequence"}  # landed ids are never reused (forwarding)
        assert db.execute("SELECT sum(count), count(*) FROM process_values").fetchone() == (2503, 5)  # chunks of at most 1,000


def test_the_historian_settings_are_checked(tmp_path: Path) -> None:
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    site["historian"] = {"synchronous": "OFF", "queue_values": 1, "overflow": "drop-oldest"}
    file = tmp_path / "site.yaml"
    file.write_text(yaml.safe_dump(site))
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    for field in ("historian.synchronous", "historian.queue_values", "historian.overflow"):
        assert field in str(caught.value)
    site["historian"] = {"postgresql_url_env": "TAKT_TEST_NOT_SET_ANYWHERE", "postgresql_schema": "Drop Table"}
    file.write_text(yaml.safe_dump(site))
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert "historian.postgresql_schema" in str(caught.value)
    site["historian"] = {"postgresql_url_env": "TAKT_TEST_NOT_SET_ANYWHERE"}
    file.write_text(yaml.safe_dump(site))
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert "historian.postgresql_url_env" in str(caught.value) and "not set" in str(caught.value)
    site["historian"] = {"postgresql_url_env": "X", "postgresql_url_file": "url.txt"}
    file.write_text(yaml.safe_dump(site))
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert "not both" in str(caught.value)


async def test_a_node_stores_each_value_once_across_its_restart_and_shows_its_durability(tmp_path: Path) -> None:
    sim = OpcUaMachine(Machine(cycle_time_s=3600), name="M-WELD", port=free_port(), tick_s=0.02)
    sim.freeze()  # the test writes the temperature itself
    await sim.start()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["historian"] = {"synchronous": "FULL", "flush_s": 0.2}
    site["connectivity"] = {
        "opcua": [{"name": "UA-WELD", "url": sim.url, "publishing_interval_ms": 20, "watchdog_s": 0.5,
                   "tags": [{"name": "Temperature", "node_id": sim.node_id("Temperature"),
                             "sampling_interval_ms": 10}]}],
        "machines": [{"equipment": "TESTRIG-30", "device": "UA-WELD", "process_values": [
            {"tag": "Temperature", "name": "temperature", "deadband": 0}]}],
    }
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    url = "/api/v1/equipment/TESTRIG-30/process-values"
    temperature = sim._nodes["Temperature"]

    async def run_node(values: list[float]) -> dict[str, Any]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "takt", "run", "--config", str(config), "--data-dir", str(tmp_path / "data"),
            "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5,
                                         headers=OPERATOR) as client:
                async def stored() -> list[Any]:
                    try:
                        body = (await client.get(url, params={"limit": 10_000})).json()
                    except httpx.HTTPError:
                        return []
                    return [v["value"] for v in body.get("values", [])]

                async def holds(value: float) -> bool:
                    return value in await stored()

                await wait_for(lambda: client_ready(client), 30, "the node's API")
                await wait_for(lambda: stored_any(stored), 30, "the first temperature stored")
                for value in values:
                    await temperature.write_value(value)
                    await wait_for(lambda value=value: holds(value), 10, f"{value} stored")  # type: ignore[misc]
                if values[0] >= 200:  # the reads an engineer and the quality pages make
                    moment = (await client.get(url, params={"at": datetime.now(UTC).isoformat()})).json()
                    assert [(v["name"], v["value"]) for v in moment["values"]] == [("temperature", values[-1])]
                    minutes = (await client.get(url, params={"resolution": "minute", "include_raw": "true"})).json()
                    assert sum(m["samples"] for m in minutes["values"]) >= 20
                    assert max(m["max"] for m in minutes["values"]) == values[-1]
                    export = await client.get(url + "/export", params={
                        "since": "2000-01-01T00:00:00Z", "until": datetime.now(UTC).isoformat()})
                    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
                    lines = export.text.splitlines()
                    assert lines[0] == "name,at,value,quality,detail" and f"{values[-1]!r},good," in lines[-1]
                    naive = await client.get(url + "/export", params={"since": "2026-11-26T01:00:00",
                                                                      "until": "2026-11-26T02:00:00Z"})
                    assert naive.status_code == 422 and "since" in naive.text
                health = (await client.get("/health")).json()
        finally:
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()[-2000:]
        return dict(health["connectivity"]["process_values"])

    try:
        first = await run_node([100.0 + i for i in range(10)])
        second = await run_node([200.0 + i for i in range(10)])
    finally:
        await sim.stop()
    for health in (first, second):
        assert health["synchronous"] == "FULL" and "power cut" in health["durability"]
        assert health["writer"] == "running" and health["dropped"] == 0
    log = ProcessValueLog(tmp_path / "data" / "process-values.sqlite", [])
    values = [r["value"] for r in log.query("TESTRIG-30", "temperature", limit=10_000)]
    log.close()
    ours = [v for v in values if v >= 100]
    assert ours == [100.0 + i for i in range(10)] + [200.0 + i for i in range(10)]  # each once, in order


async def client_ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/health")).status_code in (200, 503)
    except httpx.HTTPError:
        return False


async def stored_any(stored: Any) -> bool:
    return bool(await stored())


async def test_what_the_writer_reported_written_survives_a_kill_9(tmp_path: Path) -> None:
    sim = OpcUaMachine(Machine(cycle_time_s=3600), name="M-WELD", port=free_port(), tick_s=0.02)
    sim.freeze()
    await sim.start()
    site: dict[str, Any] = yaml.safe_load(demo_config_path().read_text())
    api_port = free_port()
    site["api"]["port"] = api_port
    site["historian"] = {"synchronous": "FULL", "flush_s": 0.2}
    site["connectivity"] = {
        "opcua": [{"name": "UA-WELD", "url": sim.url, "publishing_interval_ms": 20, "watchdog_s": 0.5,
                   "tags": [{"name": "Temperature", "node_id": sim.node_id("Temperature"),
                             "sampling_interval_ms": 10}]}],
        "machines": [{"equipment": "TESTRIG-30", "device": "UA-WELD", "process_values": [
            {"tag": "Temperature", "name": "temperature", "deadband": 0}]}],
    }
    config = tmp_path / "site.yaml"
    config.write_text(yaml.safe_dump(site))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "takt", "run", "--config", str(config), "--data-dir", str(tmp_path / "data"),
        "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=5,
                                     headers=OPERATOR) as client:  # /health's details need a token
            async def written() -> int:
                try:
                    body = (await client.get("/health")).json()
                except (httpx.HTTPError, ValueError):
                    return 0
                return int(body.get("connectivity", {}).get("process_values", {}).get("kept", 0))

            async def at_least(n: int) -> bool:
                return await written() >= n

            await wait_for(lambda: at_least(1), 30, "the first value written")
            for i in range(30):
                await sim._nodes["Temperature"].write_value(500.0 + i)
                await asyncio.sleep(0.03)
            await wait_for(lambda: at_least(20), 10, "values written")
            reported = await written()
            proc.kill()  # kill -9: no stop, no last flush, no consolidation
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await sim.stop()
    log = ProcessValueLog(tmp_path / "data" / "process-values.sqlite", [])
    stored = log.query("TESTRIG-30", "temperature", limit=10_000)
    log.close()
    assert len(stored) >= reported  # every value the writer reported written is there (synchronous FULL)
    ours = [r["value"] for r in stored if r["value"] >= 500]
    assert ours == sorted(set(ours))  # and none twice


async def test_the_columns_read_gives_what_the_rows_read_gives(tmp_path: Path) -> None:
    """Columns (the fast read of a long range) against rows, over consolidated, landed and still queued values,
    a late value, a bad one and a text."""
    machines = [MachineSignals(equipment="PRESS-1", device="PLC-1", process_values=[
        ProcessValueRule(tag="t", deadband=0, max_points=10**6)])]
    log = ProcessValueLog(tmp_path / "pv.sqlite", machines, HistorianSettings(flush_s=60))
    t0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    log.keep([Sample("PLC-1", "t", float(i), "good", at(i)) for i in range(0, 1500)])  # consolidated chunks
    log.keep([Sample("PLC-1", "t", None, "bad", at(1500), "BadNotConnected"),
              Sample("PLC-1", "t", "AUTO", "good", at(1501)), Sample("PLC-1", "t", 7.5, "good", at(700.5))])
    log.start()  # the writer lands what is offered; then some stay queued
    await log.offer([Sample("PLC-1", "t", float(i), "good", at(i)) for i in range(1502, 1600)])
    assert await asyncio.to_thread(log.flush)
    await log.offer([Sample("PLC-1", "t", float(i), "good", at(i)) for i in range(1600, 1610)])
    try:
        for since, until in ((None, None), (at(600), at(1605)), (at(1500), at(1501)), (at(9999), None)):
            columns = log.columns("PRESS-1", "t", since, until)
            assert columns.rows() == log.rows("PRESS-1", "t", since, until), (since, until)
        whole = log.columns("PRESS-1", "t")
        assert len(whole) == 1611 and whole.other[1501] == (None, None, "bad", "BadNotConnected")
        assert list(whole.at[700:703]) == [700_000_000 + t0.timestamp() * 1e6 + d for d in (0, 500_000, 1_000_000)]
        assert log.columns("PRESS-1", "nothing").rows() == []
    finally:
        log.close()


def test_the_periodic_consolidation_moves_only_whole_chunks_or_old_values(tmp_path: Path) -> None:
    """The writer's periodic consolidation moves a series once a chunk's worth has landed (or its landed values
    are older than a chunk's span), so a series' index page is touched once per 1,000 values at any rate; a full
    consolidation (a stop, retention) moves everything."""
    from connectors import historian_store as hs

    db = hs.connect(tmp_path / "pv.sqlite")
    ids: dict[tuple[str, str], int] = {}
    now = 1_796_000_000_000_000
    full, young, old = (hs.series_id(db, ids, "E", n) for n in ("full", "young", "old"))
    db.execute("BEGIN")
    for part in range(5):  # five flushes of 200 values
        hs.append(db, full, [(now + (part * 200 + i) * 1000, float(i), None, "good", None) for i in range(200)],
                  recent=True)
    hs.append(db, young, [(now + i, 1.0, None, "good", None) for i in range(10)], recent=True)
    hs.append(db, old, [(now - hs.CHUNK_SPAN_US - 10 + i, 1.0, None, "good", None) for i in range(10)], recent=True)
    assert hs.consolidate(db, 1, 3, min_values=hs.CHUNK_MAX, first_before_us=now - hs.CHUNK_SPAN_US) == 6
    db.execute("COMMIT")
    assert [r[0] for r in db.execute("SELECT DISTINCT series FROM process_values_recent")] == [young]
    assert db.execute("SELECT series, count FROM process_values ORDER BY series").fetchall() == [(full, 1000),
                                                                                                 (old, 10)]
    assert hs.consolidate(db, 1, 3) == 1 and hs.count_values(db, young) == 10
    db.close()


def test_with_a_forwarding_target_retention_waits_for_the_values_it_does_not_have(tmp_path: Path) -> None:
    """Values consolidated before the target had them (history, an outage) are not folded away by retention
    until forwarded (the landed ones never were); the others are, and a fold keeps the mark of what it leaves."""
    from connectors import historian_store as hs
    from connectors.historian_pg import configure

    db = hs.connect(tmp_path / "pv.sqlite")
    series = hs.series_id(db, {}, "E", "t")
    now = 1_796_000_000_000_000
    db.execute("BEGIN")
    hs.append(db, series, [(now + i, float(i), None, "good", None) for i in range(100)])  # kept with no target
    hs.append(db, series, [(now + 100 + i, float(i), None, "good", None) for i in range(100)], forwarded=True)
    db.execute("COMMIT")
    configure(db)
    db.execute("BEGIN")
    assert hs.fold_oldest(db, series, at_most=150) == 100  # the forwarded ones only, though older ones wait
    db.execute("COMMIT")
    assert hs.unforwarded_values(db) == 100 and hs.count_values(db, series) == 100
    db.execute("BEGIN")
    hs.append(db, series, [(now + 200 + i, float(i), None, "good", None) for i in range(100)], forwarded=True)
    assert hs.fold_oldest(db, series, at_most=30) == 30  # a part of a chunk: what is left keeps its mark
    db.execute("COMMIT")
    assert db.execute("SELECT count, forwarded FROM process_values ORDER BY first_at").fetchall() == [
        (100, None), (70, 1)]
    db.execute("BEGIN")
    assert hs.reland_unforwarded(db, 10) == 1  # forwarded from the landing table, then consolidated, marked
    db.execute("COMMIT")
    assert hs.unforwarded_values(db) == 0 and hs.count_values(db, series) == 70
    db.close()
