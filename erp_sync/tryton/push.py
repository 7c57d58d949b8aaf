"""The Tryton adapter's push: a batch of the node's events applied to Tryton in sequence order, batched where
Tryton's API allows, and acknowledged with what was booked, what Tryton had already and what has no Tryton
counterpart.

Each event goes to the booking of its kind (:mod:`.production`, :mod:`.stock`, :mod:`.receipts`,
:mod:`.quality`, :mod:`.shipments`, :mod:`.units`). Consecutive bin moves of different lots are booked together, and so are
consecutive inspections; events with no Tryton counterpart between them do not break the run; anything left over
or refused is then taken one by one. A refusal holds the later events of its subject in the batch. Events that
Tryton keeps no record of (machine states, labour, lot status, pallets packed, inspection tasks and verdicts,
shift OEE, unassigned machine production, clock jumps, ...) are acknowledged, so the cursor moves past them, and
counted as ``without_booking`` in the acknowledgement, apart from ``stored`` (booked) and ``duplicates``.
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from edge.store.store import Store
from edge.store.sync import PUSH, SyncLedger
from erp_sync import protocol as p
from erp_sync.tryton.gateway import Refused, TrytonGateway, log
from erp_sync.tryton.journal import EdgeJournal
from erp_sync.tryton.production import ProductionBookings
from erp_sync.tryton.quality import QualityBookings
from erp_sync.tryton.receipts import ReceiptBookings
from erp_sync.tryton.shipments import ShipmentBookings
from erp_sync.tryton.stock import BIN_MOVES, StockBookings
from erp_sync.tryton.units import SerialBookings

# the events that change Tryton
BOOKED = frozenset({"OperationStarted", "OperationCompleted", "StockMoved", "LotReceived", "InspectionRecorded",
                    "NonconformanceDispositioned", "WorkOrderCompleted", "PalletShipped", "UnitSerialised"})
# bin moves (or inspections) booked in one go (with a few hundred at once trytond on SQLite overflows its parser stack)
BULK = 100

# What applying one event came to: True booked now, False there already (a redelivery, a retry after a lost
# answer), None no Tryton counterpart (acknowledged without a booking).
Booked = bool | None


def _is_bin_move(event: p.SyncEvent) -> bool:
    return event.type == "StockMoved" and event.payload.get("kind") in BIN_MOVES


def _by_lot(event: p.SyncEvent) -> str:
    return str(event.payload["lot"])


def _by_subject(event: p.SyncEvent) -> str:
    return event.subject


def _batcher(event: p.SyncEvent) -> tuple[str, Callable[[p.SyncEvent], str]] | None:
    """Which run of events ``event`` may be booked with (consecutive events of the same kind, distinct by the
    returned key), or None."""
    if _is_bin_move(event):
        return "bin moves", _by_lot
    if event.type == "InspectionRecorded":
        return "inspections", _by_subject
    return None


class TrytonPush:
    """Applies the node's event batches to Tryton."""

    def __init__(self, gateway: TrytonGateway, store: Store, *, bulk: bool = True) -> None:
        self.gw = gateway
        self.store = store
        self.bulk = bulk  # False: every event on its own (the benchmark's baseline)
        journal = EdgeJournal(store)
        self.quality = QualityBookings(gateway, journal)
        self.receipts = ReceiptBookings(gateway)
        self.orders = ProductionBookings(gateway, journal, self.quality, self.receipts)
        self.stock = StockBookings(gateway, journal, self.orders)
        self.shipments = ShipmentBookings(gateway)
        self.serials = SerialBookings(gateway)
        self._handlers: dict[str, Callable[[p.SyncEvent], Awaitable[Booked]]] = {
            "OperationStarted": self.orders.operation_started,
            "OperationCompleted": self.orders.operation_completed,
            "StockMoved": self.stock.stock_moved,
            "LotReceived": self.orders.lot_received,
            "InspectionRecorded": self.quality.inspection,
            "NonconformanceDispositioned": self.quality.disposition,
            "WorkOrderCompleted": self.orders.work_order_completed,
            "PalletShipped": self.shipments.pallet_shipped,
            "UnitSerialised": self.serials.unit_serialised,  # a stock.lot per unit (erp_sync.tryton.units)
        }

    async def cursor(self) -> int:
        """Tryton keeps no per-node cursor: what this node holds as acknowledged (every push is idempotent)."""
        return await asyncio.to_thread(SyncLedger(self.store).cursor, PUSH)

    async def push(self, body: bytes) -> p.BatchAck:
        batch = p.EventBatch.model_validate_json(body)
        stored = duplicates = without_booking = 0
        rejected: list[p.Rejection] = []
        held: list[int] = []
        blocked: set[str] = set()
        events = batch.events
        done_in_bulk: dict[int, bool] = {}
        tried: set[int] = set()
        i = 0
        while i < len(events):
            event = events[i]
            batcher = _batcher(event) if self.bulk and event.seq not in tried and event.subject not in blocked \
                else None
            if batcher is not None:
                what, distinct = batcher
                run, keys = [event], {distinct(event)}
                j = i + 1
                while j < len(events) and len(run) < BULK:
                    nxt = events[j]
                    j += 1
                    if nxt.type not in BOOKED:
                        continue  # nothing in Tryton: booking the run past it changes no order Tryton sees
                    if _batcher(nxt) != batcher or nxt.subject in blocked or distinct(nxt) in keys:
                        break
                    run.append(nxt)
                    keys.add(distinct(nxt))
                tried.update(e.seq for e in run)
                if len(run) > 1:
                    book = self.stock.bin_moves if what == "bin moves" else self.quality.inspections
                    try:
                        done_in_bulk.update(await self.gw.again(what, functools.partial(book, run)))
                    except Refused as refusal:  # one of them is wrong: each on its own finds out which
                        log.info("bulk %s refused (%s); applying them one by one", what, refusal.message)
            i += 1
            if event.subject in blocked:
                held.append(event.seq)
                continue
            applied: Booked
            try:
                if event.seq in done_in_bulk:
                    applied = done_in_bulk[event.seq]
                else:
                    applied = await self.gw.again(f"event {event.seq}", functools.partial(self.apply, event))
            except Refused as refusal:
                rejected.append(p.Rejection(seq=event.seq, code=refusal.code, message=refusal.message,
                                            field=refusal.field))
                blocked.add(event.subject)
                log.info("Tryton refused event %s (%s): %s", event.seq, event.type, refusal.message)
                continue
            except (KeyError, ValueError, TypeError, ArithmeticError) as exc:  # an event this adapter cannot read
                log.exception("event %s (%s) could not be applied to Tryton", event.seq, event.type)
                rejected.append(p.Rejection(seq=event.seq, code="ADAPTER_ERROR",
                                            message=f"{type(exc).__name__}: {exc}"))
                blocked.add(event.subject)
                continue
            if applied is None:
                without_booking += 1
            elif applied:
                stored += 1
            else:
                duplicates += 1
        return p.BatchAck(node=batch.node, acknowledged=batch.through, stored=stored, duplicates=duplicates,
                          without_booking=without_booking, rejected=rejected, held=held)

    async def apply(self, event: p.SyncEvent) -> Booked:
        """Apply one event: True when it changed something in Tryton, False when Tryton had it already, None when
        nothing in Tryton stands for it (acknowledged without a booking). Raises Refused."""
        handler = self._handlers.get(event.type)
        if handler is None:
            return None
        return await handler(event)
