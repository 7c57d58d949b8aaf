"""Retention of process values and the retention settings: old values are folded into per-minute summaries in
batches while recording goes on, old summaries go, the site file's `retention:` drives the node's timer and
`takt store compact`, and a broken setting names its field."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from connectors.base import Quality, Sample
from connectors.config import MachineSignals, ProcessValueRule
from connectors.process_values import ProcessValueLog, compact_sample_file
from edge.domain import commands as c
from edge.store.retention import archived_entries
from edge.store.sync import SyncLedger
from takt.cli import app
from takt.config import ConfigError, RetentionSection, load_config
from takt.runtime import Node
from takt.upkeep import RetentionTimer, seconds_to_next_run

T0 = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
DAY = 86400.0
ROLES = frozenset({"admin"})


def machines() -> list[MachineSignals]:
    return [MachineSignals(equipment="OVEN-1", device="PLC-1", process_values=[
        ProcessValueRule(tag="temp", name="temperature", retention_s=365 * DAY, max_points=10_000_000),
        ProcessValueRule(tag="mode", retention_s=365 * DAY, max_points=10_000_000)])]


def sample(seconds: float, value: Any, quality: Quality = "good", tag: str = "temp") -> Sample:
    return Sample("PLC-1", tag, value, quality, T0 + timedelta(seconds=seconds), None if quality == "good" else "x")


def raw_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT coalesce(sum(count), 0) FROM process_values").fetchone()[0])  # values in chunks


def test_old_values_are_folded_into_minutes_and_old_minutes_go(tmp_path: Path) -> None:
    log = ProcessValueLog(tmp_path / "pv.sqlite", machines())
    # Day 0: 3 minutes of a temperature every 10 s (values alternate, so each leaves the deadband of 0), one bad
    # read, and a text mode; day 20: one more minute. Day 30: the newest values, which stay raw.
    temps = [(m * 60 + s, 100.0 + 10 * m + (s % 20) / 10) for m in range(3) for s in range(0, 60, 10)]
    log.keep([sample(t, v) for t, v in temps])
    log.keep([sample(185, None, "bad"), sample(5, "auto", tag="mode"), sample(65, "manual", tag="mode")])
    log.keep([sample(20 * DAY + 30, 7.0), sample(20 * DAY + 31, 9.0)])
    log.keep([sample(30 * DAY + s, float(s)) for s in range(5)])
    now = (T0 + timedelta(days=31)).timestamp()

    done = log.compact(7 * DAY, 25 * DAY, batch=4, now=now)  # batches smaller than a minute: they merge

    assert done.folded == len(temps) + 3 + 2 and done.batches > 5  # the day-30 values stay raw
    assert [r["value"] for r in log.query("OVEN-1", "temperature")] == [0.0, 1.0, 2.0, 3.0, 4.0]
    minutes = log.minutes("OVEN-1", "temperature")
    # the day-0 minutes are older than 25 days at day 31: dropped; the day-20 minute stays
    assert done.minutes_dropped == 4 + 2  # 3 temperature minutes + the bad read's, 2 mode minutes
    assert minutes == [{"name": "temperature", "minute": (T0 + timedelta(days=20)).isoformat().replace("+00:00", "Z"),
                        "samples": 2, "numbers": 2, "bad": 0, "min": 7.0, "max": 9.0, "avg": 8.0}]


def test_the_summaries_are_what_the_raw_values_were(tmp_path: Path) -> None:
    log = ProcessValueLog(tmp_path / "pv.sqlite", machines())
    temps = [(m * 60 + s, 100.0 + 10 * m + (s % 20) / 10) for m in range(3) for s in range(0, 60, 10)]
    log.keep([sample(t, v) for t, v in temps] + [sample(185, None, "bad"), sample(5, "auto", tag="mode")])
    log.compact(1 * DAY, 300 * DAY, batch=5, now=(T0 + timedelta(days=2)).timestamp())
    got = {r["minute"]: r for r in log.minutes("OVEN-1", "temperature")}
    for m in range(3):
        mine = [v for t, v in temps if t // 60 == m]
        row = got[(T0 + timedelta(minutes=m)).isoformat().replace("+00:00", "Z")]
        assert (row["min"], row["max"], row["numbers"]) == (min(mine), max(mine), len(mine))
        assert row["avg"] == pytest.approx(sum(mine) / len(mine))
    bad_minute = got[(T0 + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")]
    assert (bad_minute["samples"], bad_minute["numbers"], bad_minute["bad"], bad_minute["min"]) == (1, 0, 1, None)
    mode = log.minutes("OVEN-1", "mode")
    assert [(r["samples"], r["numbers"], r["min"]) for r in mode] == [(1, 0, None)]
    assert raw_count(tmp_path / "pv.sqlite") == 0


def test_recording_goes_on_while_old_values_are_compacted(tmp_path: Path) -> None:
    path = tmp_path / "pv.sqlite"
    log = ProcessValueLog(path, machines())
    old = 60_000
    for start in range(0, old, 10_000):
        log.keep([sample(i * 0.5, float(i % 997) + (i % 2) / 2) for i in range(start, start + 10_000)])
    failures: list[BaseException] = []
    kept_during: list[int] = []
    stop = threading.Event()

    def record() -> None:  # the connector sink, on the log's own connection, at full speed
        t = 10 * DAY
        try:
            while not stop.is_set():
                kept_during.append(log.keep([sample(t, float(len(kept_during) % 2))]))
                t += 1
        except BaseException as exc:  # "database is locked" would land here
            failures.append(exc)

    recorder = threading.Thread(target=record)
    recorder.start()
    try:
        time.sleep(0.2)
        before = len(kept_during)
        done = compact_sample_file(path, 7 * DAY, 365 * DAY, batch=500, now=(T0 + timedelta(days=10)).timestamp())
        during = len(kept_during) - before
    finally:
        stop.set()
        recorder.join(30)
    assert not failures, f"recording failed during the compaction: {failures[0]!r}"
    assert done.folded == old and done.batches >= old // 500
    assert during > 0, "nothing was recorded while the compaction ran"
    with sqlite3.connect(path) as db:
        summarised = db.execute("SELECT sum(samples) FROM process_value_minutes").fetchone()[0]
    assert summarised == old  # nothing lost: every old value is in a minute
    assert raw_count(path) == sum(kept_during)  # and every value recorded meanwhile is still raw


def site(tmp_path: Path, retention: dict[str, Any]) -> Path:
    file = tmp_path / "site.yaml"
    file.write_text(yaml.safe_dump({
        "node": {"id": "ret-node", "data_dir": str(tmp_path / "data")},
        "site": {"enterprise": "acme", "site": "s", "area": "a", "line": "l1", "timezone": "Europe/Amsterdam"},
        "retention": retention}))
    return file


def test_broken_retention_settings_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(site(tmp_path, {"samples_raw_age_days": 0, "batch_size": 10**9, "at": "25:00",
                                    "journal_age_days": -1}))
    message = str(caught.value)
    for path in ("retention.samples_raw_age_days", "retention.batch_size", "retention.at",
                 "retention.journal_age_days"):
        assert path in message
    with pytest.raises(ConfigError, match="samples_aggregate_age_days .* must be at least samples_raw_age_days"):
        load_config(site(tmp_path, {"samples_raw_age_days": 30, "samples_aggregate_age_days": 10}))
    with pytest.raises(ConfigError, match="retention.every_mintues"):  # a typo is an error, not a default
        load_config(site(tmp_path, {"every_mintues": 5}))


def test_the_timer_runs_every_interval_or_daily_at_site_time() -> None:
    assert seconds_to_next_run(RetentionSection(every_minutes=15), "UTC") == 900
    nightly = RetentionSection(at="02:30")  # type: ignore[arg-type]  # pydantic parses the text
    # 23:00 UTC on 26 Nov is 00:00 in Amsterdam: 02:30 there is 2.5 hours later
    assert seconds_to_next_run(nightly, "Europe/Amsterdam", datetime(2026, 11, 26, 23, 0, tzinfo=UTC)) == 2.5 * 3600
    assert seconds_to_next_run(nightly, "Europe/Amsterdam", datetime(2026, 11, 27, 2, 0, tzinfo=UTC)) == 23.5 * 3600


def _record_and_acknowledge(node: Node, n: int, acknowledged: int) -> None:
    for fut in [node.service.submit(c.DefineItem(idempotency_key=f"k{i}", actor="admin1", actor_roles=ROLES,
                                                 item=f"I-{i}", description="x", unit="pcs", revision="A"))
                for i in range(n)]:
        fut.result(60)
    SyncLedger(node.store).set_cursor("push", acknowledged)


def test_the_node_timer_and_takt_store_compact_follow_the_site_file(tmp_path: Path) -> None:
    file = site(tmp_path, {"journal_age_days": 0, "samples_raw_age_days": 1, "batch_size": 50, "pause_ms": 0,
                           "archive_dir": "journal-archive"})
    cfg = load_config(file)
    assert cfg.retention.archive_dir == tmp_path / "journal-archive"  # relative to the site file
    (tmp_path / "data").mkdir()
    samples = ProcessValueLog(tmp_path / "data" / "process-values.sqlite", machines())
    samples.keep([sample(i, float(i % 2)) for i in range(300)])  # T0: long older than a day
    with Node(cfg) as node:
        _record_and_acknowledge(node, 400, acknowledged=250)
        node.connectivity.process_values = samples  # as if the node's connectors kept them
        run = asyncio.run(RetentionTimer(node).run_once())
        assert run.error is None
        assert (run.journal_archived, run.journal_files, run.journal_up_to_seq) == (250, 5, 250)
        assert run.samples_folded == 300
        assert [e.seq for e in archived_entries(node.store)] == list(range(1, 251))
        _record_and_acknowledge(node, 0, acknowledged=300)
    samples.keep([sample(1000 + i, float(i % 2)) for i in range(10)])
    samples.close()
    runner = CliRunner()
    result = runner.invoke(app, ["store", "compact", "--config", str(file)])
    assert result.exit_code == 0, result.output
    assert "archived 50 events up to seq 300" in result.output  # the ERP has 300: 301..400 stay
    assert "10 process values older than 1 days folded" in result.output
    result = runner.invoke(app, ["store", "verify", "--config", str(file)])
    assert result.exit_code == 0, result.output  # the archives are replayed with the journal


def test_the_timer_task_runs_in_the_background_and_outlives_a_failed_run(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import takt.upkeep

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the archive folder should be")
    cfg = load_config(site(tmp_path, {"journal_age_days": 0, "archive_dir": str(blocked)}))
    monkeypatch.setattr(takt.upkeep, "FIRST_RUN_AFTER_S", 0.05)  # minutes in a plant; a moment here
    monkeypatch.setattr(takt.upkeep, "seconds_to_next_run", lambda settings, timezone: 0.05)
    with Node(cfg) as node:
        _record_and_acknowledge(node, 20, acknowledged=20)

        async def run_for_a_while() -> RetentionTimer:
            timer = RetentionTimer(node)
            timer.start()
            await asyncio.sleep(0.6)
            await timer.stop()
            return timer

        timer = asyncio.run(run_for_a_while())
        assert timer.runs >= 2, "the timer stopped after a failed run"
        assert timer.last is not None and timer.last.error is not None and "not-a-folder" in timer.last.error
        assert timer.health()["last"]["error"] == timer.last.error
        assert node.store.last_seq() == 20 and not list(archived_entries(node.store))  # nothing lost
