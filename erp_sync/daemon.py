"""The sync daemon: push and pull rounds with the central side, for as long as the node runs.

Runs as one asyncio task in the node's event loop (``takt run``, ``takt demo``) or on its own (``takt sync
run``). Each round pushes until the journal is drained, then reads the change feed when it is due. A new event
wakes it at once (after ``push_linger_s`` when the round before pushed, so that a busy node pushes in batches);
a quiet node still looks every ``push_interval_s``. When the central side is unreachable or
fails, the daemon waits with exponential backoff and jitter (capped at ``backoff_max_s``) and tries again; the
node keeps recording meanwhile, and nothing is lost: the journal holds everything not yet acknowledged.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from edge.backoff import Backoff
from edge.service import Service
from edge.store.store import Store
from erp_sync.client import (
    Central,
    CentralBusy,
    CentralClient,
    CentralRefused,
    CentralUnavailable,
    SequenceGap,
)
from erp_sync.config import SyncSection
from erp_sync.pull import Puller, PullReport
from erp_sync.push import Pusher, PushReport

log = logging.getLogger("takt.sync")


def central_name(section: SyncSection) -> str:
    if section.erp is not None:
        return f"{section.erp.kind} {section.erp.url}/{section.erp.database}"
    return section.central_url or "?"


def central_for(section: SyncSection, node_id: str, store: Store) -> Central:
    """The central side the section names: the takt-sync/1 client, or an ERP adapter."""
    if section.erp is not None:
        from erp_sync.tryton import tryton_central

        return tryton_central(section.erp, node_id, store, timeout_s=section.timeout_s)
    if section.token is None or section.central_url is None:
        raise ValueError("the sync section's central_url and token were not resolved")
    return CentralClient(section.central_url, section.token, node_id, timeout_s=section.timeout_s,
                         ca_file=section.ca_file)


@dataclass
class SyncHealth:
    central_url: str
    connected: bool = False
    rounds: int = 0
    failures: int = 0
    pushed: int = 0
    pulled: int = 0
    last_push_at: float | None = None  # time.time() of the last acknowledged push round
    last_pull_at: float | None = None
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SyncDaemon:
    def __init__(self, service: Service, section: SyncSection, node_id: str, *, replenish_ahead: bool = False) -> None:
        self.service = service
        self.section = section
        self.client = central_for(section, node_id, service.store)
        self.pusher = Pusher(service.store, node_id, self.client, batch_events=section.batch_events,
                             batch_bytes=section.batch_bytes)
        self.puller = Puller(service, self.client, page=section.pull_page, replenish_ahead=replenish_ahead)
        self.health = SyncHealth(central_name(section))
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._listening = False

    # --- life cycle (inside the node's event loop) --------------------------------------------------

    def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if not self._listening:
            self.service.on_recorded(self._on_recorded)
            self._listening = True
        self._task = asyncio.create_task(self.run(), name="erp-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.close()

    def _on_recorded(self, events: list[dict[str, Any]]) -> None:  # the writer thread
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not wake.is_set() and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # one wake-up per round is enough, however many commits
                loop.call_soon_threadsafe(wake.set)

    def wake(self) -> None:
        """Start the next round now (a supervisor asked for a retry)."""
        if self._wake is not None:
            self._wake.set()

    # --- rounds -------------------------------------------------------------------------------------

    async def push_round(self, **kwargs: Any) -> PushReport:
        report = await self.pusher.push(**kwargs)
        self.health.pushed += report.sent
        self.health.last_push_at = time.time()
        return report

    async def pull_round(self, **kwargs: Any) -> PullReport:
        report = await self.puller.pull(**kwargs)
        self.health.pulled += report.applied
        self.health.last_pull_at = time.time()
        return report

    async def run(self) -> None:
        assert self._wake is not None
        backoff = Backoff(initial=0.5, maximum=self.section.backoff_max_s)
        next_pull = 0.0
        while True:
            self._wake.clear()
            try:
                pushed = await self.push_round()
                if time.monotonic() >= next_pull:
                    await self.pull_round()
                    next_pull = time.monotonic() + self.section.pull_interval_s
                self.health.rounds += 1
                self.health.connected = True
                self.health.last_error = None
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except (CentralUnavailable, CentralRefused, SequenceGap) as exc:
                self._failed(exc, backoff)
                # still busy after the pusher's own tries: the central side's word on when to come back counts too
                asked = exc.retry_after_s if isinstance(exc, CentralBusy) else 0.0
                await asyncio.sleep(max(backoff.next(), min(asked, self.section.backoff_max_s)))
                continue
            except Exception as exc:  # the sync must never take the node down: report, wait, try again
                log.exception("sync round failed")
                self._failed(exc, backoff)
                await asyncio.sleep(backoff.next())
                continue
            if pushed.sent and self.section.push_linger_s > 0:
                # events recorded meanwhile go in the next round together: under load a round (and its
                # acknowledgement, a write that takes the store's write lock from the node's writer) every
                # push_linger_s, not one per commit
                await asyncio.sleep(self.section.push_linger_s)
            wait = max(0.0, min(self.section.push_interval_s, next_pull - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def _failed(self, exc: Exception, backoff: Backoff) -> None:
        self.health.connected = False
        self.health.failures += 1
        error = f"{type(exc).__name__}: {exc}"
        if error != self.health.last_error:
            log.warning("sync with %s failed: %s; trying again with backoff", self.health.central_url, error,
                        extra={"error": error})
        self.health.last_error = error
