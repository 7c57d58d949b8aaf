"""The node's retention timer: what ``retention:`` in the site file asks, run in the background of a running node
(and by ``takt store compact``).

One run: journal events the ERP acknowledged and older than ``journal_age_days`` go to archive files
(:func:`edge.store.retention.compact`; not-acknowledged events never go), then process values older than
``samples_raw_age_days`` are folded into per-minute summaries and summaries older than
``samples_aggregate_age_days`` are dropped (:mod:`connectors.process_values`). Each step works in small batches
of short transactions with a pause between them, in a worker thread: the node records on while it runs. The
timer is a supervised task: a failed run is logged, shown in ``/health`` and tried again at the next time.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from connectors.process_values import ProcessValueLog, compact_sample_file
from edge.store import Store
from edge.store.retention import compact
from takt.config import RetentionSection

if TYPE_CHECKING:  # the node builds the timer (takt.runtime imports this module)
    from takt.runtime import Node

log = logging.getLogger("takt.retention")

SAMPLE_FILE = "process-values.sqlite"  # in the node's data folder (connectors.runtime)
FIRST_RUN_AFTER_S = 300.0  # the first run of an every_minutes timer: a while after start-up, not at once


@dataclass
class RetentionRun:
    started_at: str
    seconds: float = 0.0
    journal_archived: int = 0
    journal_files: int = 0
    journal_up_to_seq: int = 0
    samples_folded: int = 0
    minutes_dropped: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_retention(store: Store, settings: RetentionSection, data_dir: Path, *, samples: ProcessValueLog | None = None,
                  sample_file: Path | None = None, now: datetime | None = None) -> RetentionRun:
    """One run (see the module). ``samples``: the running node's ``ProcessValueLog``; else ``sample_file``."""
    began = time.perf_counter()
    now = now or datetime.now(UTC)
    run = RetentionRun(started_at=now.isoformat())
    pause_s = settings.pause_ms / 1000
    if settings.journal_age_days is not None:
        report = compact(store, settings.archive_folder(data_dir), timedelta(days=settings.journal_age_days),
                         batch=settings.batch_size, now=now, pause_s=pause_s)
        run.journal_archived, run.journal_files, run.journal_up_to_seq = (report.archived, len(report.files),
                                                                          report.up_to_seq)
    raw_s, minutes_s = settings.samples_raw_age_days * 86400, settings.samples_aggregate_age_days * 86400
    folded = None
    if samples is not None:
        folded = samples.compact(raw_s, minutes_s, batch=settings.batch_size, pause_s=pause_s, now=now.timestamp())
    elif sample_file is not None and sample_file.exists():
        folded = compact_sample_file(sample_file, raw_s, minutes_s, batch=settings.batch_size, pause_s=pause_s,
                                     now=now.timestamp())
    if folded is not None:
        run.samples_folded, run.minutes_dropped = folded.folded, folded.minutes_dropped
    run.seconds = round(time.perf_counter() - began, 3)
    return run


def seconds_to_next_run(settings: RetentionSection, timezone: str, now: datetime | None = None) -> float:
    """Seconds until the next run: ``every_minutes``, or the next ``at`` in the site's time zone."""
    if settings.at is None:
        return settings.every_minutes * 60
    now = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone))
    next_at = now.replace(hour=settings.at.hour, minute=settings.at.minute, second=settings.at.second, microsecond=0)
    if next_at <= now:
        next_at += timedelta(days=1)
    return (next_at - now).total_seconds()


class RetentionTimer:
    """The supervised timer task of a running node; ``last`` is the last run (for /health)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.settings: RetentionSection = node.config.retention
        self.last: RetentionRun | None = None
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.enabled and self._task is None:
            self._task = asyncio.create_task(self._forever(), name="retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    def health(self) -> dict[str, Any]:
        return {"enabled": self.settings.enabled, "runs": self.runs,
                "last": self.last.as_dict() if self.last is not None else None}

    async def run_once(self) -> RetentionRun:
        node = self.node
        samples = node.connectivity.process_values
        try:
            run = await asyncio.to_thread(run_retention, node.store, self.settings, node.data_dir, samples=samples,
                                          sample_file=node.data_dir / SAMPLE_FILE)
        except Exception as exc:  # a failed run (a full disk for the archive) never ends the node
            log.exception("retention run failed; tried again at the next run")
            run = RetentionRun(started_at=datetime.now(UTC).isoformat(), error=f"{type(exc).__name__}: {exc}")
        else:
            log.info("retention: %d journal events archived, %d process values folded into minutes, %d minute "
                     "summaries dropped in %.1f s", run.journal_archived, run.samples_folded, run.minutes_dropped,
                     run.seconds, extra=run.as_dict())
        self.last = run
        self.runs += 1
        return run

    async def _forever(self) -> None:
        timezone = self.node.config.site.timezone
        wait = seconds_to_next_run(self.settings, timezone)
        if self.settings.at is None:  # a node restarted more often than every_minutes still gets its runs
            wait = min(wait, FIRST_RUN_AFTER_S)
        while True:
            await asyncio.sleep(wait)
            await self.run_once()
            wait = seconds_to_next_run(self.settings, timezone)
