"""Push: the node's edge-origin journal events to the central side, exactly once and in order per subject.

The journal is the outbox. One round reads the events after the acknowledged sequence, in pages bounded by
count and bytes, sends each page as an :class:`~erp_sync.protocol.EventBatch` and, once the central side
answers that the batch is durable, moves the acknowledged sequence (``sync_cursors.push``) in the node's store.
A crash anywhere in between only means the same batch is sent again; the central side deduplicates on
(node, seq). ERP-origin events (what the central side itself decided) are never sent back: a batch's
``through`` covers them without carrying them.

An event the central side refuses for a business reason becomes a sync exception (``edge.store.sync``); it and
every later event of its subject wait, parked, while the rest of the journal flows. A supervisor's retry sends
the parked events again in order.

Batches are built as JSON text directly from the journal rows: the stored payload is already JSON, so it is
spliced in, not parsed and dumped again. Each batch carries the journal's chain head (the hashes through ``after``
and ``through``, :mod:`edge.store.chain`), so the central side finds a node whose journal was rewritten. While a batch is on its way the next one is read and built in a
worker thread, so reading the store and waiting on the network overlap.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _encode_text
from typing import Any

from edge.retry import RetryPolicy
from edge.store.chain import GENESIS
from edge.store.reads import journal_after, journal_rows
from edge.store.store import Store
from edge.store.sync import PUSH, Refusal, SyncLedger
from erp_sync.client import Central, CentralBusy, SequenceGap
from erp_sync.protocol import PROTOCOL, BatchAck, isa95_message

log = logging.getLogger("takt.sync")


@dataclass
class Batch:
    after: int
    through: int
    body: bytes
    seqs: list[int]  # the events in it
    subjects: dict[int, str]  # seq -> subject, for refusals
    parked: list[tuple[int, str, int]]  # kept back behind an open exception: (seq, subject, exception id)
    redelivery: bool = False

    @property
    def size(self) -> int:
        return len(self.seqs)


@dataclass
class PushReport:
    batches: int = 0
    sent: int = 0
    stored: int = 0
    duplicates: int = 0
    without_booking: int = 0  # acknowledged, but the central side keeps no record of them (no counterpart there)
    refused: int = 0
    parked: int = 0
    acknowledged: int = 0
    gaps: int = 0
    busy: int = 0  # answers "busy, come back later" (429/503 + Retry-After), each waited out and sent again
    seconds: float = 0.0
    exceptions_created: list[int] = field(default_factory=list)


def _text(value: str | None) -> str:
    """A JSON string (or null), exactly as ``json.dumps`` writes it, by the json module's own C encoder without
    ``dumps``'s per-call set-up: five of them per event, a plant's backlog is millions of events."""
    return "null" if value is None else _encode_text(value)


def _event_json(row: Any) -> str:
    return (f'{{"seq":{row.seq},"event_id":"{row.event_id}","message":"{isa95_message(row.type)}",'
            f'"type":"{row.type}","subject":{_text(row.subject)},'
            f'"occurred_at":"{row.occurred_at.isoformat()}","recorded_at":"{row.recorded_at.isoformat()}",'
            f'"actor":{_text(row.actor)},"device":{_text(row.source_device)},'
            f'"recorded_by":{_text(row.recorded_by)},"on_behalf_of":{_text(row.on_behalf_of)},'
            f'"payload":{row.payload}}}')


def _batch_json(node: str, after: int, through: int, events: Sequence[str], redelivery: bool,
                chain: tuple[str, str] | None = None, journal_head: int | None = None) -> bytes:
    reported = "" if journal_head is None else f'"journal_head":{journal_head},'
    head = (f'{{"protocol":"{PROTOCOL}","node":{json.dumps(node)},"after":{after},"through":{through},{reported}'
            f'"redelivery":{"true" if redelivery else "false"},"events":[')
    tail = f',"chain":{{"after_hash":"{chain[0]}","through_hash":"{chain[1]}"}}}}' if chain else "}"
    return (head + ",".join(events) + "]" + tail).encode()


def _chain_hashes(store: Store, after: int, through: int) -> tuple[tuple[str, str] | None, int]:
    """The journal's chain hashes through ``after`` and ``through`` (None when either is not chained: a store
    from before the chain whose rows are archived), and the journal's head (the backlog the central side sees)."""
    with store.engine.connect() as conn:
        hashes = store.chain_hash_at(conn, after), store.chain_hash_at(conn, through)
        head = store.last_seq(conn)
    return None if through > 0 and hashes[1] == GENESIS else hashes, head


def _busy_wait(failure: BaseException) -> float | None:
    return failure.retry_after_s if isinstance(failure, CentralBusy) else None


# A central side that says "busy, come back in N s" (429/503 + Retry-After: a plant's other nodes hold its slots) is
# honoured: the same batch goes again after that wait, stretched by up to a tenth at random so that the nodes told
# the same do not come back in step (a tenth: the central side staggers its answers itself, and holds a node's slot
# only so long). Bounded by time, not by answers (a busy plant tells a node to come back often): after ten minutes of
# busy answers the round fails like any unavailable central side and the daemon's backoff takes over. A 503 without Retry-After (down) is no busy answer: the round fails at once.
BUSY_RETRY = RetryPolicy(attempts=10_000, initial_s=0.2, maximum_s=30.0, jitter_s=0.5, hint=_busy_wait,
                         hint_spread=0.1, within_s=600.0)


class Pusher:
    """Builds and sends batches for one node. ``store`` is the node's store; ``client`` talks to the central side."""

    def __init__(self, store: Store, node: str, client: Central, *, batch_events: int = 5000,
                 batch_bytes: int = 4_000_000, busy_retry: RetryPolicy = BUSY_RETRY) -> None:
        self.store = store
        self.node = node
        self.client = client
        self.ledger = SyncLedger(store)
        self.batch_events = batch_events
        self.batch_bytes = batch_bytes
        self.busy_retry = busy_retry

    # --- building (in a worker thread) ------------------------------------------------------------

    def build(self, after: int, parked_subjects: dict[str, int]) -> Batch | None:
        """The next batch after ``after``, or None when the journal has nothing after it."""
        rows = journal_after(self.store, after, limit=self.batch_events)
        if not rows:
            return None
        events: list[str] = []
        seqs: list[int] = []
        subjects: dict[int, str] = {}
        parked: list[tuple[int, str, int]] = []
        size = 0
        through = after
        for row in rows:
            if row.origin == "edge":
                exception = parked_subjects.get(row.subject)
                if exception is not None:
                    parked.append((row.seq, row.subject, exception))
                else:
                    text = _event_json(row)
                    if events and size + len(text) > self.batch_bytes:
                        break
                    size += len(text) + 1
                    events.append(text)
                    seqs.append(row.seq)
                    subjects[row.seq] = row.subject
            through = row.seq
        chain, head = _chain_hashes(self.store, after, through)
        return Batch(after, through, _batch_json(self.node, after, through, events, False, chain, head), seqs,
                     subjects, parked)

    def build_redelivery(self, seqs: Sequence[int]) -> Batch:
        rows = journal_rows(self.store, seqs)
        events = [_event_json(r) for r in rows]
        through = rows[-1].seq if rows else 0
        after = rows[0].seq - 1 if rows else 0
        return Batch(after, through, _batch_json(self.node, after, through, events, True),
                     [r.seq for r in rows], {r.seq: r.subject for r in rows}, [], redelivery=True)

    # --- sending ----------------------------------------------------------------------------------

    @staticmethod
    def refusals(batch: Batch, ack: BatchAck) -> list[Refusal]:
        refused = [Refusal(r.seq, batch.subjects.get(r.seq, "?"), r.code, r.message, r.field) for r in ack.rejected]
        refused += [Refusal(s, batch.subjects.get(s, "?"), "HELD", "waits behind a refused event of the same subject")
                    for s in ack.held]
        return refused

    async def _send(self, batch: Batch, report: PushReport) -> BatchAck:
        # A batch of only ERP-origin or parked events is sent too, empty: the central side's acknowledged
        # sequence must move with this node's, or the next batch would look like a gap to it.
        async def attempt() -> BatchAck:
            try:
                return await self.client.push(batch.body)
            except CentralBusy:
                report.busy += 1
                raise

        return await self.busy_retry.call(attempt, CentralBusy)

    async def retry_parked(self, report: PushReport) -> None:
        """Send again what a supervisor asked to retry (or set aside), one exception at a time, at most a batch of
        it per round (a subject parked for days may hold many events; the rest goes in the next rounds)."""
        for exception_id, seqs in await asyncio.to_thread(self.ledger.retries):
            if not seqs:
                await asyncio.to_thread(self.ledger.retried, exception_id, [], [])
                continue
            batch = await asyncio.to_thread(self.build_redelivery, seqs[:self.batch_events])
            ack = await self._send(batch, report)
            refused = self.refusals(batch, ack)
            cleared = await asyncio.to_thread(self.ledger.retried, exception_id, batch.seqs, refused)
            report.batches += 1
            report.sent += batch.size
            report.stored += ack.stored
            report.without_booking += ack.without_booking
            report.refused += len(ack.rejected)
            log.info("sync exception %s retried: %s", exception_id, "cleared" if cleared else "still refused",
                     extra={"exception": exception_id, "events": batch.size})

    async def push(self, *, max_batches: int | None = None,
                   progress: Any = None) -> PushReport:
        """Push until the journal is drained (or ``max_batches`` were sent). ``progress(report)`` is called
        after each batch. Raises CentralUnavailable / CentralRefused; what was acknowledged stays acknowledged."""
        report = PushReport()
        started = time.perf_counter()
        await self.retry_parked(report)
        after = await asyncio.to_thread(self.ledger.cursor, PUSH)
        parked_subjects = await asyncio.to_thread(self.ledger.parked_subjects)
        batch = await asyncio.to_thread(self.build, after, parked_subjects)
        while batch is not None:
            sending = asyncio.ensure_future(self._send(batch, report))
            following = asyncio.ensure_future(asyncio.to_thread(self.build, batch.through, parked_subjects))
            try:
                ack = await sending
            except SequenceGap as gap:
                await asyncio.gather(following, return_exceptions=True)
                log.warning("the central side holds this node's events only up to %s (this node thought %s); "
                            "sending again from there", gap.acknowledged, batch.after)
                await asyncio.to_thread(self.ledger.set_gap_cursor, gap.acknowledged)
                report.gaps += 1
                if report.gaps > 3:
                    raise
                batch = await asyncio.to_thread(self.build, gap.acknowledged, parked_subjects)
                continue
            except BaseException:
                await asyncio.gather(following, return_exceptions=True)
                raise
            through = min(batch.through, ack.acknowledged)
            refused = self.refusals(batch, ack)
            created = await asyncio.to_thread(self.ledger.acknowledge, through, parked=batch.parked, refused=refused)
            report.batches += 1
            report.sent += batch.size
            report.stored += ack.stored
            report.duplicates += ack.duplicates
            report.without_booking += ack.without_booking
            report.refused += len(ack.rejected)
            report.parked += len(batch.parked) + len(ack.held)
            report.acknowledged = through
            report.exceptions_created += created
            for r in refused:
                if r.code != "HELD":
                    log.warning("the central side refused event %s (%s): %s %s; its subject waits for a supervisor",
                                r.seq, r.subject, r.code, r.message, extra={"seq": r.seq, "code": r.code})
            if progress is not None:
                progress(report)
            if refused or through < batch.through:
                await asyncio.gather(following, return_exceptions=True)  # built without knowing: build again
                parked_subjects = await asyncio.to_thread(self.ledger.parked_subjects)
                batch = await asyncio.to_thread(self.build, through, parked_subjects)
            else:
                batch = await following
            if max_batches is not None and report.batches >= max_batches:
                break
        report.seconds = time.perf_counter() - started
        return report
