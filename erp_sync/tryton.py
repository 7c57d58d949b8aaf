"""The Tryton adapter: a Tryton ERP (trytond 8.2, JSON-RPC) as the central side of the node's sync.

:class:`TrytonCentral` has the methods of :class:`~erp_sync.client.CentralClient` (``push``, ``cursor``,
``changes``, ``close``), so the sync daemon, its backoff, the parking of refused subjects as sync exceptions, the
status and the CLI work unchanged whichever central side a site has (``erp: {kind: tryton, ...}`` in the site
file, :class:`~erp_sync.config.ErpSection`).

**Pull.** Tryton has no change feed; every record has ``create_date``/``write_date`` stamped with its
transaction's start. ``changes(after)`` reads, in dependency order, goods products (items), storage locations
under the warehouse's storage zone (bins), lots of goods (``lot`` changes: the node defines a lot it does not
know, without stock, and takes a changed expiry for one it knows; the expiry is the earlier of stock_lot_sled's
``expiration_date`` and ``shelf_life_expiration_date``), quality controls (inspection plans), confirmed purchases
(purchase orders, SRM), confirmed sales with their customers (CRM) and productions (work orders): waiting /
assigned / running ones are released or changed, cancelled ones cancelled. The cursor is an integer:
**the stamp in microseconds since 1970 (UTC)** of the last change handed out, and each Change's ``cursor`` is its
record's own stamp, so the edge's idempotency key ``erp:<kind>:<key>:<stamp>`` names one version of one record.
Because a long transaction can commit rows stamped before the watermark, a read goes back an overlap window
(``overlap_s``) before ``after``; rows handed out before with the same stamp are skipped (remembered in memory) or,
after a restart, handed out again under the same key, which the edge records as a replay. The pages that follow
a feed saying ``more`` read no overlap (the next read after catching up does): they list only rows stamped after
the cursor, the first ``limit`` or so of each model by stamp, so a backlog of 10,000 changes costs ten short
listings rather than ten full ones. (A production first
released and re-read after a restart becomes a ChangeWorkOrder under its ReleaseWorkOrder's key: the puller
counts that as a replay.) Pages split between rows of one stamp: the cursor then stays just below that stamp.

**Push.** Each edge event of a batch is applied in sequence order:

- ``OperationStarted`` brings the production to running (assign, then run: Tryton only starts works of a
  running production); the input and output moves Tryton planned from the BOM without lots are deleted first,
  because the edge books what was really consumed and made, by lot; ``OperationCompleted`` books the operation's run time (started to completed, pauses left
  out, read from the node's journal) as a done work cycle of the production's work for that routing step
  (Takt's operation number is the step's sequence), so Tryton costs it at the work centre's rate.
- ``StockMoved`` of kind ``issue`` (consumption by lot) adds an input move with that lot from that bin: Tryton
  only takes inputs while a production waits, so a running production is set back to waiting, given the move,
  assigned and run again (which does the move). A ``return`` to a bin is an output move of that lot back to it. ``move``/``putaway``/``pick`` (kitting into a staging bin) becomes an internal shipment between the two
  bins (created, waited, assigned, done); ``scrap`` becomes a one-line inventory of the bin whose
  confirmation moves the scrapped quantity to the warehouse's lost-and-found location (Tryton's way of booking a
  loss).
- ``LotReceived`` with a ``work_order`` (ReceiveProducedLot) is good output by lot: an output move of that
  production, done at once so Tryton's stock by location follows the edge's. Only a lot recorded without its
  order (a plain receipt of a made item without a supplier lot) falls back to an inference: the production that
  was making that item at the edge then (the latest started, not completed work order of that item in the
  journal).
- Consecutive bin moves of different lots in a batch are booked together (one create, one wait, one assign,
  one do for all their shipments), and so are consecutive inspections (one search, one create, one process, one
  fail or pass for all), which is what Tryton's API allows to batch; events with no Tryton counterpart between
  them (a nonconformance a failed inspection raised, a lot status) do not break the run. Anything left over or
  refused is then taken one by one.
- ``LotReceived`` with a ``purchase_order`` (ReceiveAgainstPurchaseOrder), of a bought item, or with a supplier
  lot is a receipt: a waiting incoming move of that purchase's line for the item (without a purchase order in
  the event, the oldest waiting one of any purchase of the item: an inference) gets the lot and the received
  quantity and goes on a supplier shipment (reference ``takt:<event id>``) that is received into the edge's bin
  and done. A lot the edge received with an expiry that Tryton's lot lacks gets it.
- ``InspectionRecorded`` becomes a quality inspection of the control named as the plan, with the measured points,
  processed, and passed or failed as the edge decided; its origin is the work order's production, or, for an
  inspection of a lot, the production whose output that lot is (so it counts for that production's
  ``production:do`` control). A failed one raises Tryton's quality alert.
- ``NonconformanceDispositioned`` of a nonconformance a failed inspection raised resolves that inspection's alert
  (processed, resolved, the disposition written as its description).
- ``WorkOrderCompleted`` does the production (every work must be finished). Tryton refuses while a failed
  inspection's alert is open (``INSPECTION_FAILED``: the message names the inspection and the nonconformance to
  disposition at the edge, or the alert to settle in Tryton) and while a ``production:do`` control has no
  inspection of the production (Tryton's inspection wizard; ``INSPECTION_REQUIRED``: record one at the edge).
  Either waits as a sync exception; once settled, a supervisor's retry does the production.

- ``PalletShipped`` (ShipPallet: an SSCC pallet shipped against a sales order) is a delivery to the sale's
  customer: a customer shipment (``stock.shipment.out``, ``reference`` ``takt:<event id>``) whose inventory moves
  are the pallet's lots and quantities from the edge's bin to the warehouse's output, brought through Tryton's
  flow (waiting, assigned, picked, packed, done; at ``pick`` Tryton splits the outgoing moves by lot). It is
  booked on ``PalletShipped`` and not on the ``StockMoved`` events of kind ``ship`` recorded just before it (one
  per lot, acknowledged without a booking of their own), because the pallet event carries the sale, the
  customer and the sale line of each quantity: each shipped quantity is booked once. The sale is linked through
  its lines: the edge numbers a sale's lines as the pull handed them out, and each pallet line becomes a move
  whose origin is that ``sale.line``. Where Tryton made the sale's shipment itself (``shipment_method`` on
  order) and one of them, not picked yet and without a reference, has a move of every sale line on the
  pallet, that shipment is the one taken (set back to waiting, which frees what Tryton reserved for it,
  referenced, its inventory moves replaced by the pallet's): a line or
  quantity not on the pallet ends at nothing at ``pack`` and the sale, processed when the shipment is done,
  ships the rest on a new shipment, which a later pallet takes; the sale is ``sent`` when all left. A sale
  with nothing awaited on its lines (one shipped by hand) gets a new customer shipment with outgoing moves of
  those lots whose origin is the sale's line, so the sale counts them too. One whose lines wait on a shipment
  that cannot be taken (picked or packed in Tryton already, or the pallet's lines split over two shipments) is
  refused (``SALE_SHIPMENT_BUSY``) rather than delivered twice. A sale Tryton
  does not have, a customer other than the sale's, a sale line that does not match, an unknown lot or a bin
  whose stock does not cover the pallet (``NOT_ASSIGNED``) is refused. (Inventory moves come from the edge's bin,
  which must lie under the shipment's storage location: a warehouse with a separate picking location needs its
  bins under it.)

Scrap reported on an operation (``ProductionReported.scrap``) needs no document of its own: the material the edge
issued is booked as input and only good output by lot as output, so Tryton costs the scrapped units into the good
ones. Other events have no Tryton counterpart and are acknowledged: machine states, labour, lot status, pallets
packed or changed before they ship (``PalletPacked``, ``PalletLotAdded``, ``PalletLotRemoved``: the stock stays
in its bin), inspection tasks and their verdicts (``InspectionTaskOpened``, ``SupplierLotVerdict``,
``FinalInspectionVerdict``, ``InspectionOverdueFlagged``: the measured inspections behind them are pushed as
``InspectionRecorded``), shift OEE (``ShiftOeeClosed``: Tryton keeps no performance figures), machine production
not assigned to an order (``UnassignedProduction*``: an assignment books its parts through the
``ProductionReported`` that follows, itself no Tryton document) and clock jumps (``ClockJumped``). Other
``StockMoved`` kinds than the ones above are refused as ``NOT_SUPPORTED``: a count that found more than the bin held
(Tryton's moves from lost-and-found also carry go-live stock and its own counts, so a lost answer could not be told
from a booked one: count the bin in Tryton and set the exception aside), a return to a supplier, an issue without
a work order. A kitting pick is a bin move (above); a count that found less is booked as scrap is.

**Exactly once.** A call whose answer was lost may have been committed, so nothing is created blindly. Shipments
(internal, supplier and customer) and inspections carry ``takt:<event id>`` in their ``reference`` and are searched for before being created. Moves
and work cycles have no free field; for them the adapter reconciles instead of appending: the production's input
quantity per (lot, bin), its output per lot and a work's booked run time are brought up to what the node's
journal says they were *as of this event*, never more, so sending an event again books nothing twice and a
retried supervisor exception books what is missing. This is why the adapter needs the node's store (read only).

**Errors.** A Tryton user or validation error (a wrong state, a missing lot, a domain violation), or an event that
names something Tryton does not know, becomes a :class:`~erp_sync.protocol.Rejection` with Tryton's message; later
events of the same subject in the batch are held. Tryton unreachable, or answering 503 (a row lock) after the
client's quick retries, is retried ``retries`` times with backoff inside the push, then raised as
:class:`~erp_sync.client.CentralUnavailable`: nothing of the batch is acknowledged, and the next round sends it
again (harmlessly, as above). Only a 503 repeats the same call (Tryton rolled it back); after a lost answer the
whole event is tried again, reading first what Tryton already has, because the lost call may have committed.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select

from edge.store import schema
from edge.store.store import Store
from edge.store.sync import PUSH, SyncLedger
from erp_sync import protocol as p
from erp_sync.client import CentralRefused, CentralUnavailable
from erp_sync.config import ErpSection
from erp_sync.tryton_rpc import TrytonBusy, TrytonError, TrytonForbidden, TrytonRPC, TrytonUnreachable, TrytonUserError

log = logging.getLogger("takt.sync.tryton")

RELEASED_STATES = ("waiting", "assigned", "running")
EPOCH = datetime(1970, 1, 1)
NO_WARNINGS = {"_skip_warnings": True}
REVISION = "1"  # Tryton keeps no item revisions
BOOKED = frozenset({"OperationStarted", "OperationCompleted", "StockMoved", "LotReceived", "InspectionRecorded",
                    "NonconformanceDispositioned", "WorkOrderCompleted", "PalletShipped"})  # the events that change Tryton
# bin moves (or inspections) booked in one go (with a few hundred at once trytond on SQLite overflows its parser stack)
BULK = 100


_T = TypeVar("_T")


class _Lost(Exception):
    """A call whose answer never came: Tryton is down, or the answer was lost after Tryton committed it."""


class Refused(Exception):
    """An event Tryton cannot take (as opposed to Tryton being unreachable)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def stamp_us(value: datetime) -> int:
    """A Tryton timestamp (naive UTC) as microseconds since 1970."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_stamp_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)).normalize() if value is not None else Decimal(0)


def _qty(value: Decimal) -> float:
    return float(value)


@dataclass
class _Product:
    id: int
    code: str
    unit: int
    producible: bool


@dataclass
class _Production:
    id: int
    number: str
    state: str
    product: int
    location: int


class TrytonCentral:
    """The central side of the sync when it is a Tryton database."""

    def __init__(self, rpc: TrytonRPC, node: str, store: Store, *, warehouse: str = "WH", overlap_s: float = 120.0,
                 retries: int = 4, retry_delay_s: float = 0.5, bulk: bool = True) -> None:
        self.rpc = rpc
        self.bulk = bulk  # False: every event on its own (the benchmark's baseline)
        self.node = node
        self.store = store
        self.warehouse_code = warehouse
        self.overlap_us = int(overlap_s * 1_000_000)
        self.retries = retries
        self.retry_delay_s = retry_delay_s
        self._seen: dict[tuple[str, int], int] = {}  # (model, id) -> stamp handed out
        self._paging: int | None = None  # the cursor of a feed that said more: its next page reads no overlap
        self._warehouse: dict[str, int] | None = None
        self._products: dict[str, _Product] = {}
        self._bins: dict[str, int] = {}
        self._currency: int | None = None

    async def close(self) -> None:
        await self.rpc.close()

    async def __aenter__(self) -> TrytonCentral:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- calls ----------------------------------------------------------------------------------------

    async def _call(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """One call. A 503 (Tryton rolled the transaction back) is retried here with backoff; a lost answer is
        not (the call may have been committed): it raises :class:`_Lost` and the whole event is tried again,
        reading first what is there. A user error is raised as :class:`Refused`."""
        delay = self.retry_delay_s
        for attempt in range(self.retries + 1):
            try:
                return await self.rpc.call(f"model.{model}.{method}", *args, context=context)
            except TrytonUserError as err:
                raise Refused(f"TRYTON_{err.kind.upper()}", err.message) from None
            except TrytonForbidden as err:
                raise CentralRefused(403, "TRYTON_FORBIDDEN", f"{model}.{method}: {err}") from None
            except TrytonBusy as err:
                if attempt == self.retries:
                    raise CentralUnavailable(f"Tryton stays locked: {err}") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)
            except TrytonUnreachable as err:
                raise _Lost(f"{model}.{method}: {err}") from None
            except TrytonError as err:  # a server-side failure on this call: refuse the event, keep going
                raise Refused("TRYTON_ERROR", str(err)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _again(self, what: str, attempt: Callable[[], Awaitable[_T]]) -> _T:
        """``attempt()`` until it gets through Tryton, ``retries`` more times with backoff, then
        CentralUnavailable. ``attempt`` must read before it writes (every handler here does)."""
        delay = self.retry_delay_s
        for n in range(self.retries + 1):
            try:
                return await attempt()
            except _Lost as lost:
                if n == self.retries:
                    raise CentralUnavailable(f"Tryton unreachable ({what}): {lost}") from None
                log.info("Tryton unreachable (%s): %s; trying again in %.1f s", what, lost, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _search_read(self, model: str, domain: list[Any], fields: list[str], *, limit: int | None = None,
                           order: list[list[str]] | None = None, context: dict[str, Any] | None = None
                           ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call(model, "search_read", domain, 0, limit, order, fields,
                                                      context=context)
        return rows

    async def _read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call(model, "read", ids, fields)
        return rows

    async def _create(self, model: str, *values: dict[str, Any]) -> list[int]:
        ids: list[int] = await self._call(model, "create", list(values), context=NO_WARNINGS)
        return ids

    async def _button(self, model: str, method: str, ids: list[int]) -> Any:
        return await self._call(model, method, ids, context=NO_WARNINGS)

    # --- master data lookups ----------------------------------------------------------------------------

    async def warehouse(self) -> dict[str, int]:
        if self._warehouse is None:
            rows = await self._search_read("stock.location", [["type", "=", "warehouse"],
                                                              ["code", "=", self.warehouse_code]],
                                           ["id", "storage_location", "production_location", "lost_found_location",
                                            "input_location", "output_location"])
            if not rows:
                raise CentralRefused(404, "UNKNOWN_WAREHOUSE", f"Tryton has no warehouse with code "
                                                               f"{self.warehouse_code}")
            r = rows[0]
            self._warehouse = {"id": r["id"], "storage": r["storage_location"], "input": r["input_location"],
                               "output": r["output_location"], "production": r["production_location"],
                               "lost_found": r["lost_found_location"]}
        return self._warehouse

    async def currency(self) -> int:
        if self._currency is None:
            company = self.rpc.context.get("company")
            if company is None:
                await self.rpc.login()
                company = self.rpc.context.get("company")
            rows = await self._read("company.company", [int(company)], ["currency"]) if company else []
            if not rows:
                raise CentralRefused(409, "NO_COMPANY", "the Tryton user has no company")
            self._currency = int(rows[0]["currency"])
        return self._currency

    async def product(self, code: str) -> _Product:
        found = self._products.get(code)
        if found is None:
            rows = await self._search_read("product.product", [["code", "=", code]],
                                           ["id", "default_uom", "producible"], limit=1)
            if not rows:
                raise Refused("UNKNOWN_ITEM", f"Tryton has no product with code {code}", "item")
            r = rows[0]
            found = self._products[code] = _Product(r["id"], code, r["default_uom"], bool(r["producible"]))
        return found

    async def bin(self, code: str) -> int:
        found = self._bins.get(code)
        if found is None:
            wh = await self.warehouse()
            rows = await self._search_read("stock.location", [["code", "=", code], ["type", "=", "storage"],
                                                              ["parent", "child_of", [wh["storage"]]]], ["id"],
                                           limit=1)
            if not rows:
                raise Refused("UNKNOWN_BIN", f"Tryton has no storage location {code} in warehouse "
                                             f"{self.warehouse_code}", "bin")
            found = self._bins[code] = int(rows[0]["id"])
        return found

    async def lot(self, number: str, product: _Product, *, create: bool = False,
                  expiry: str | None = None) -> int:
        rows = await self._search_read("stock.lot", [["number", "=", number], ["product", "=", product.id]],
                                       ["id", "expiration_date"], limit=1)
        if rows:
            if create and expiry and rows[0].get("expiration_date") is None:  # the edge read it off the label
                await self._call("stock.lot", "write", [rows[0]["id"]], {
                    "expiration_date": datetime.fromisoformat(expiry).date()}, context=NO_WARNINGS)
            return int(rows[0]["id"])
        if not create:
            raise Refused("UNKNOWN_LOT", f"Tryton has no lot {number} of {product.code}", "lot")
        values: dict[str, Any] = {"number": number, "product": product.id}
        if expiry:
            values["expiration_date"] = datetime.fromisoformat(expiry).date()
        return (await self._create("stock.lot", values))[0]

    async def production(self, number: str) -> _Production:
        rows = await self._search_read("production", [["number", "=", number]],
                                       ["id", "state", "product", "location"], limit=1)
        if not rows:
            raise Refused("UNKNOWN_ORDER", f"Tryton has no production {number}", "work_order")
        r = rows[0]
        return _Production(r["id"], number, r["state"], r["product"], r["location"])

    # --- the node's journal (read only) ------------------------------------------------------------------

    def _journal(self, subject: str, types: tuple[str, ...], upto: int) -> list[tuple[int, str, dict[str, Any]]]:
        j = schema.journal
        query = (select(j.c.seq, j.c.type, j.c.payload).where(j.c.subject == subject, j.c.type.in_(types),
                                                             j.c.seq <= upto).order_by(j.c.seq))
        with self.store.engine.connect() as conn:
            return [(r.seq, r.type, json.loads(r.payload)) for r in conn.execute(query)]

    def run_time(self, work_order: str, operation: int, upto: int) -> timedelta:
        """How long ``operation`` ran at the edge up to journal sequence ``upto``, pauses left out."""
        total = timedelta()
        since: datetime | None = None
        for _, kind, payload in self._journal(f"work_order:{work_order}", (
                "OperationStarted", "OperationPaused", "OperationResumed", "OperationCompleted"), upto):
            if payload.get("operation") != operation:
                continue
            at = datetime.fromisoformat(payload["at"])
            if kind in ("OperationStarted", "OperationResumed"):
                since = since or at
            elif since is not None:
                total += at - since
                since = None
        return total

    def issued(self, work_order: str, lot: str, bin_code: str, upto: int, kind: str = "issue") -> Decimal:
        """The quantity of ``lot`` issued from ``bin_code`` to ``work_order`` up to ``upto`` (``kind`` return:
        returned from it to the bin)."""
        side = "from_bin" if kind == "issue" else "to_bin"
        return sum((Decimal(pl["quantity"]) for _, _, pl in self._journal(f"lot:{lot}", ("StockMoved",), upto)
                    if pl.get("work_order") == work_order and pl.get("kind") == kind and pl.get(side) == bin_code),
                   Decimal(0))

    def inspection_behind(self, ncr: str, upto: int) -> str | None:
        """The event id of the inspection that raised nonconformance ``ncr`` (recorded by the same command)."""
        j = schema.journal
        with self.store.engine.connect() as conn:
            key = conn.execute(select(j.c.idempotency_key).where(
                j.c.subject == f"ncr:{ncr}", j.c.type == "NonconformanceRaised", j.c.seq <= upto)).scalar()
            if key is None:
                return None
            found = conn.execute(select(j.c.event_id).where(j.c.idempotency_key == key,
                                                            j.c.type == "InspectionRecorded")).scalar()
        return None if found is None else str(found)

    def edge_inspection(self, reference: str) -> str | None:
        """The edge's inspection id behind a Tryton reference ``takt:<event id>``."""
        if not reference.startswith("takt:"):
            return None
        j = schema.journal
        with self.store.engine.connect() as conn:
            payload = conn.execute(select(j.c.payload).where(j.c.event_id == reference.removeprefix("takt:"),
                                                             j.c.type == "InspectionRecorded")).scalar()
        return None if payload is None else str(json.loads(payload)["inspection"])

    def known_here(self, work_order: str) -> bool:
        j = schema.journal
        with self.store.engine.connect() as conn:
            return conn.execute(select(j.c.seq).where(j.c.subject == f"work_order:{work_order}").limit(1)).first() \
                is not None

    def lost(self, lot: str, bin_code: str, upto: int) -> Decimal:
        """The quantity of ``lot`` that left ``bin_code`` by scrap or by a count that found less, up to ``upto``:
        what Tryton books as moves to its lost-and-found location."""
        return sum((Decimal(pl["quantity"]) for _, _, pl in self._journal(f"lot:{lot}", ("StockMoved",), upto)
                    if pl.get("kind") in ("scrap", "adjust") and pl.get("from_bin") == bin_code), Decimal(0))

    def maker(self, item: str, upto: int) -> str | None:
        """The work order making ``item`` at the edge at journal sequence ``upto``: the latest started one of that
        item not yet completed."""
        j = schema.journal
        with self.store.engine.connect() as conn:
            released = {json.loads(r.payload)["work_order"] for r in conn.execute(
                select(j.c.payload).where(j.c.type == "WorkOrderReleased", j.c.seq <= upto))
                if json.loads(r.payload).get("item") == item}
            rows = conn.execute(select(j.c.seq, j.c.type, j.c.subject).where(
                j.c.type.in_(("OperationStarted", "WorkOrderCompleted", "WorkOrderCancelled")),
                j.c.seq <= upto).order_by(j.c.seq)).all()
        open_orders: dict[str, int] = {}
        for row in rows:
            wo = row.subject.removeprefix("work_order:")
            if wo not in released:
                continue
            if row.type == "OperationStarted":
                open_orders.setdefault(wo, row.seq)
                open_orders[wo] = row.seq
            else:
                open_orders.pop(wo, None)
        if not open_orders:
            return None
        return max(open_orders, key=lambda wo: open_orders[wo])

    # --- push ---------------------------------------------------------------------------------------------

    async def cursor(self) -> int:
        """Tryton keeps no per-node cursor: what this node holds as acknowledged (every push is idempotent)."""
        return await asyncio.to_thread(SyncLedger(self.store).cursor, PUSH)

    async def push(self, body: bytes) -> p.BatchAck:
        batch = p.EventBatch.model_validate_json(body)
        stored = duplicates = 0
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
                    book = self._bin_moves if what == "bin moves" else self._inspections
                    try:
                        done_in_bulk.update(await self._again(what, functools.partial(book, run)))
                    except Refused as refusal:  # one of them is wrong: each on its own finds out which
                        log.info("bulk %s refused (%s); applying them one by one", what, refusal.message)
            i += 1
            if event.subject in blocked:
                held.append(event.seq)
                continue
            try:
                if event.seq in done_in_bulk:
                    applied = done_in_bulk[event.seq]
                else:
                    applied = await self._again(f"event {event.seq}", functools.partial(self.apply, event))
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
            if applied:
                stored += 1
            else:
                duplicates += 1
        return p.BatchAck(node=batch.node, acknowledged=batch.through, stored=stored, duplicates=duplicates,
                          rejected=rejected, held=held)

    async def _bin_moves(self, run: list[p.SyncEvent]) -> dict[int, bool]:
        """Bin moves of different lots in a handful of calls whatever their number: the shipments are searched,
        created, waited, assigned and done together. Returns seq -> created for the ones that are done; the
        others (not assignable yet) are left to the one-by-one path."""
        refs = {f"takt:{e.event_id}": e for e in run}
        found = {r["reference"]: (int(r["id"]), str(r["state"])) for r in await self._search_read(
            "stock.shipment.internal", [["reference", "in", list(refs)]], ["id", "reference", "state"])}
        missing = [e for ref, e in refs.items() if ref not in found]
        if missing:
            numbers = sorted({e.payload["lot"] for e in missing})
            lot_ids = {(r["number"], r["product"]): int(r["id"]) for r in await self._search_read(
                "stock.lot", [["number", "in", numbers]], ["id", "number", "product"])}
            company = self.rpc.context.get("company")
            values = []
            taken = []
            for e in missing:
                pl = e.payload
                try:  # what Tryton does not know is left to the one-by-one path, which refuses it
                    product = await self.product(pl["item"])
                    source, target = await self.bin(pl["from_bin"]), await self.bin(pl["to_bin"])
                except Refused:
                    continue
                lot = lot_ids.get((pl["lot"], product.id))
                if lot is None:
                    continue
                taken.append(e)
                day = datetime.fromisoformat(pl["at"]).date()
                values.append({
                    "reference": f"takt:{e.event_id}", "from_location": source, "to_location": target,
                    "planned_date": day, "planned_start_date": day, "company": company,
                    "moves": [["create", [{"product": product.id, "unit": product.unit,
                                           "quantity": _qty(Decimal(pl["quantity"])), "lot": lot,
                                           "from_location": source, "to_location": target, "company": company}]]]})
            if values:
                for e, sid in zip(taken, await self._create("stock.shipment.internal", *values), strict=True):
                    found[f"takt:{e.event_id}"] = (sid, "draft")
            missing = taken
        created = {f"takt:{e.event_id}" for e in missing}
        draft = [sid for sid, state in found.values() if state == "draft"]
        if draft:
            await self._button("stock.shipment.internal", "wait", draft)
        waiting = [sid for sid, state in found.values() if state in ("draft", "waiting")]
        if waiting:
            await self._button("stock.shipment.internal", "assign_try", waiting)
        ids = [sid for sid, _ in found.values()]
        if not ids:
            return {}
        states = {int(r["id"]): str(r["state"]) for r in await self._read("stock.shipment.internal", ids, ["state"])}
        assigned = [sid for sid in ids if states[sid] in ("assigned", "packed", "shipped")]
        if assigned:
            await self._button("stock.shipment.internal", "do", assigned)
        by_id = {sid: ref for ref, (sid, _) in found.items()}
        return {refs[by_id[sid]].seq: (by_id[sid] in created or sid in assigned) for sid in ids
                if sid in assigned or states[sid] == "done"}

    async def apply(self, event: p.SyncEvent) -> bool:
        """Apply one event; True when it changed something in Tryton, False when it was there already (or has
        no Tryton counterpart). Raises Refused."""
        if event.type not in BOOKED:
            return True
        handler: Callable[[p.SyncEvent], Awaitable[bool]] | None = {
            "OperationStarted": self._operation_started,
            "OperationCompleted": self._operation_completed,
            "StockMoved": self._stock_moved,
            "LotReceived": self._lot_received,
            "InspectionRecorded": self._inspection,
            "NonconformanceDispositioned": self._disposition,
            "WorkOrderCompleted": self._work_order_completed,
            "PalletShipped": self._pallet_shipped,
        }.get(event.type)
        if handler is None:
            return True
        return await handler(event)

    async def _state(self, production: _Production) -> str:
        rows = await self._read("production", [production.id], ["state"])
        production.state = str(rows[0]["state"])
        return production.state

    async def _running(self, production: _Production) -> None:
        """Bring a released production to running: assign its inputs, then run (which does them)."""
        if production.state not in RELEASED_STATES:
            raise Refused("WRONG_STATE", f"production {production.number} is {production.state} in Tryton",
                          "work_order")
        if production.state in ("waiting", "assigned"):
            await self._drop_planned(production)
        if production.state == "waiting":
            await self._button("production", "assign_try", [production.id])
            if await self._state(production) != "assigned":
                raise Refused("NOT_ASSIGNED", f"Tryton cannot assign the inputs of production {production.number}:"
                                              " its stock by location does not cover them", "work_order")
        if production.state == "assigned":
            await self._button("production", "run", [production.id])
            await self._state(production)

    async def _drop_planned(self, production: _Production) -> None:
        """The moves Tryton planned from the BOM (no lot yet) give way to what the edge books by lot: they are
        deleted before the production runs (Tryton would otherwise do them at ``run`` and ``do``)."""
        rows = await self._read("production", [production.id], ["inputs", "outputs"])
        planned: dict[str, list[int]] = {}
        for field in ("inputs", "outputs"):
            if rows[0][field]:
                planned[field] = [m["id"] for m in await self._read("stock.move", rows[0][field], ["lot", "state"])
                                  if m["lot"] is None and m["state"] in ("staging", "draft", "assigned")]
        if not any(planned.values()):
            return
        if production.state == "assigned":
            await self._button("production", "wait", [production.id])  # unassigns the moves
            await self._state(production)
        await self._call("production", "write", [production.id], {
            field: [["delete", ids]] for field, ids in planned.items() if ids}, context=NO_WARNINGS)

    async def _operation_started(self, event: p.SyncEvent) -> bool:
        production = await self.production(event.payload["work_order"])
        if production.state in ("running", "done"):
            return False
        await self._running(production)
        return True

    async def _operation_completed(self, event: p.SyncEvent) -> bool:
        work_order, operation = event.payload["work_order"], int(event.payload["operation"])
        production = await self.production(work_order)
        works = await self._search_read("production.work", [["production", "=", production.id],
                                                            ["sequence", "=", operation]], ["id", "state"])
        if not works:
            raise Refused("UNKNOWN_OPERATION", f"production {work_order} has no work for routing step {operation}",
                          "operation")
        work = works[0]["id"]
        target = await asyncio.to_thread(self.run_time, work_order, operation, event.seq)
        cycles = await self._search_read("production.work.cycle", [["work", "=", work]], ["id", "state", "duration"])
        booked = sum((c["duration"] or timedelta() for c in cycles if c["state"] == "done"), timedelta())
        open_cycles = [c for c in cycles if c["state"] in ("draft", "running")]
        missing = target - booked
        if missing <= timedelta(0) and not open_cycles:
            return False
        await self._running(production)
        if not open_cycles:
            await self._call("production", "write", [production.id], {"works": [["write", [work], {
                "cycles": [["create", [{}]]]}]]}, context=NO_WARNINGS)
            open_cycles = await self._search_read("production.work.cycle", [["work", "=", work],
                                                                            ["state", "in", ["draft", "running"]]],
                                                  ["id", "state", "duration"])
        for i, cycle in enumerate(open_cycles):
            if cycle["state"] == "draft":
                await self._button("production.work.cycle", "run", [cycle["id"]])
            duration = max(missing, timedelta(0)) if i == 0 else timedelta(0)
            await self._call("production.work.cycle", "write", [cycle["id"]], {"duration": duration})
            await self._button("production.work.cycle", "do", [cycle["id"]])
        return True

    async def _stock_moved(self, event: p.SyncEvent) -> bool:
        kind = event.payload["kind"]
        if kind in ("issue", "return") and event.payload.get("work_order"):
            return await self._consumption(event)
        if kind in BIN_MOVES:
            return await self._bin_move(event)
        if kind == "scrap" or (kind == "adjust" and event.payload.get("from_bin")):
            return await self._scrap(event)
        if kind == "adjust":
            # Found more than the bin held: Tryton's moves from lost-and-found into a bin also carry go-live stock
            # and counts made in Tryton, so the edge could not tell a lost answer from a booked one.
            raise Refused("NOT_SUPPORTED", f"a count that found {event.payload['quantity']} more of lot "
                          f"{event.payload['lot']} in bin {event.payload['to_bin']} is not booked in Tryton by this "
                          "adapter: count the bin in Tryton (an inventory), then set this exception aside", "kind")
        if kind == "ship":  # its lot left on a pallet: the PalletShipped recorded right after books the delivery
            return True
        raise Refused("NOT_SUPPORTED", f"a {kind} stock movement is not booked in Tryton by this adapter", "kind")

    async def _consumption(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        work_order, lot_code = pl["work_order"], pl["lot"]
        bin_code = pl["from_bin"] if pl["kind"] == "issue" else pl["to_bin"]
        production = await self.production(work_order)
        product = await self.product(pl["item"])
        lot = await self.lot(lot_code, product)
        location = await self.bin(bin_code)
        target = await asyncio.to_thread(self.issued, work_order, lot_code, bin_code, event.seq, pl["kind"])
        if pl["kind"] == "return":
            return await self._material_return(production, product, lot, location, target)
        moves = await self._search_read("stock.move", [["production_input", "=", production.id], ["lot", "=", lot],
                                                       ["from_location", "=", location],
                                                       ["state", "!=", "cancelled"]], ["id", "quantity"])
        booked = sum((_dec(m["quantity"]) for m in moves), Decimal(0))
        missing = target - booked
        if missing <= 0:
            if production.state in ("waiting", "assigned"):
                await self._running(production)  # a move added before a failed run: run now
            return False
        if production.state in ("running", "assigned"):
            await self._button("production", "wait", [production.id])
            await self._state(production)
        if production.state != "waiting":
            raise Refused("WRONG_STATE", f"production {work_order} is {production.state} in Tryton: it takes no "
                                         "more material", "work_order")
        await self._call("production", "write", [production.id], {"inputs": [["create", [{
            "product": product.id, "unit": product.unit, "quantity": _qty(missing), "lot": lot,
            "from_location": location, "to_location": production.location,
            "company": self.rpc.context.get("company")}]]]}, context=NO_WARNINGS)
        await self._running(production)
        return True

    async def _material_return(self, production: _Production, product: _Product, lot: int, location: int,
                               target: Decimal) -> bool:
        """Material returned from the order to a bin: an output move of that lot from the production back to the
        bin (Tryton's inputs are done once the production runs), done at once. Reconciled like consumption."""
        moves = await self._search_read("stock.move", [["production_output", "=", production.id], ["lot", "=", lot],
                                                       ["to_location", "=", location], ["product", "=", product.id],
                                                       ["state", "!=", "cancelled"]], ["id", "quantity", "state"])
        missing = target - sum((_dec(m["quantity"]) for m in moves), Decimal(0))
        if missing > 0:
            if production.state not in RELEASED_STATES:
                raise Refused("WRONG_STATE", f"production {production.number} is {production.state} in Tryton",
                              "work_order")
            await self._call("production", "write", [production.id], {"outputs": [["create", [{
                "product": product.id, "unit": product.unit, "quantity": _qty(missing), "lot": lot,
                "from_location": production.location, "to_location": location,
                "company": self.rpc.context.get("company"), "unit_price": Decimal(0),
                "currency": await self.currency()}]]]}, context=NO_WARNINGS)
            moves = await self._search_read("stock.move", [
                ["production_output", "=", production.id], ["lot", "=", lot], ["to_location", "=", location],
                ["product", "=", product.id], ["state", "!=", "cancelled"]], ["id", "quantity", "state"])
        draft = [m["id"] for m in moves if m["state"] in ("draft", "assigned")]
        if draft:
            await self._button("stock.move", "do", draft)
        return missing > 0 or bool(draft)

    async def _bin_move(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        reference = f"takt:{event.event_id}"
        found = await self._search_read("stock.shipment.internal", [["reference", "=", reference]], ["id", "state"])
        if found:
            shipment, state = int(found[0]["id"]), str(found[0]["state"])
            created = False
        else:
            product = await self.product(pl["item"])
            lot = await self.lot(pl["lot"], product)
            source, target = await self.bin(pl["from_bin"]), await self.bin(pl["to_bin"])
            day = datetime.fromisoformat(pl["at"]).date()
            shipment = (await self._create("stock.shipment.internal", {
                "reference": reference, "from_location": source, "to_location": target, "planned_date": day,
                "planned_start_date": day, "company": self.rpc.context.get("company"),
                "moves": [["create", [{"product": product.id, "unit": product.unit, "quantity": _qty(
                    Decimal(pl["quantity"])), "lot": lot, "from_location": source, "to_location": target,
                    "company": self.rpc.context.get("company")}]]]}))[0]
            state, created = "draft", True
        if state == "draft":
            await self._button("stock.shipment.internal", "wait", [shipment])
            state = "waiting"
        if state == "waiting":
            await self._button("stock.shipment.internal", "assign_try", [shipment])
            state = str((await self._read("stock.shipment.internal", [shipment], ["state"]))[0]["state"])
            if state == "waiting":
                raise Refused("NOT_ASSIGNED", f"Tryton cannot assign lot {pl['lot']} in {pl['from_bin']}: its "
                                              "stock there does not cover the move", "lot")
        if state in ("assigned", "packed", "shipped"):
            await self._button("stock.shipment.internal", "do", [shipment])
            return True
        return created

    async def _scrap(self, event: p.SyncEvent) -> bool:
        """Scrap from a bin, or a count that found less than the bin held: Tryton books losses by inventory, so a
        one-line inventory of the bin counts the lot at what Tryton has there less what is still to leave, and its
        confirmation moves the difference to the warehouse's lost-and-found location. Reconciled: the lot's moves
        from the bin to lost-and-found are brought up to what the edge scrapped and found short there as of this
        event."""
        pl = event.payload
        product = await self.product(pl["item"])
        lot = await self.lot(pl["lot"], product)
        location = await self.bin(pl["from_bin"])
        wh = await self.warehouse()
        target = await asyncio.to_thread(self.lost, pl["lot"], pl["from_bin"], event.seq)
        moves = await self._search_read("stock.move", [["lot", "=", lot], ["from_location", "=", location],
                                                       ["to_location", "=", wh["lost_found"]],
                                                       ["state", "=", "done"]], ["quantity"])
        missing = target - sum((_dec(m["quantity"]) for m in moves), Decimal(0))
        if missing <= 0:
            return False
        rows = await self._search_read("stock.lot", [["id", "=", lot]], ["quantity"],
                                       context={"locations": [location]})
        counted = _dec(rows[0]["quantity"]) - missing if rows else -missing
        if counted < 0:
            raise Refused("NOT_ENOUGH_STOCK", f"Tryton has {counted + missing} of lot {pl['lot']} in {pl['from_bin']}"
                                              f", less than the {missing} to book out of it", "quantity")
        drafts = await self._search_read("stock.inventory", [["location", "=", location], ["state", "=", "draft"],
                                                             ["lines.lot", "=", lot]], ["id", "lines"])
        if drafts:  # left by an attempt whose answer was lost: count it again and confirm it
            inventory = int(drafts[0]["id"])
            await self._call("stock.inventory.line", "write", drafts[0]["lines"], {"quantity": _qty(counted)},
                             context=NO_WARNINGS)
        else:
            inventory = (await self._create("stock.inventory", {
                "location": location, "date": datetime.fromisoformat(pl["at"]).date(),
                "company": self.rpc.context.get("company"), "empty_quantity": "keep",
                "lines": [["create", [{"product": product.id, "lot": lot, "quantity": _qty(counted)}]]]}))[0]
        await self._button("stock.inventory", "confirm", [inventory])
        return True

    async def _lot_received(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        product = await self.product(pl["item"])
        work_order = pl.get("work_order")  # the edge's own fact (ReceiveProducedLot), when it has it
        if work_order is None:
            if pl.get("purchase_order") or pl.get("supplier_lot") or not product.producible:
                return await self._receipt(event, product)
            # a plain receipt of a made item: the order that was making it then (an inference, for events
            # recorded without their order)
            work_order = await asyncio.to_thread(self.maker, pl["item"], event.seq)
        if work_order is None:
            raise Refused("NO_WORK_ORDER", f"no work order was making {pl['item']} when lot {pl['lot']} was "
                                           "recorded", "lot")
        production = await self.production(work_order)
        lot = await self.lot(pl["lot"], product, create=True, expiry=pl.get("expiry"))
        location = await self.bin(pl["bin"])
        moves = await self._search_read("stock.move", [["production_output", "=", production.id], ["lot", "=", lot],
                                                       ["state", "!=", "cancelled"]], ["id", "state"])
        created = False
        if not moves:
            if production.state in ("done", "cancelled"):
                raise Refused("WRONG_STATE", f"production {work_order} is {production.state} in Tryton", "lot")
            await self._call("production", "write", [production.id], {"outputs": [["create", [{
                "product": product.id, "unit": product.unit, "quantity": _qty(Decimal(pl["quantity"])), "lot": lot,
                "from_location": production.location, "to_location": location,
                "company": self.rpc.context.get("company"), "unit_price": Decimal(0),
                "currency": await self.currency()}]]]}, context=NO_WARNINGS)
            moves = await self._search_read("stock.move", [["production_output", "=", production.id],
                                                           ["lot", "=", lot], ["state", "!=", "cancelled"]],
                                            ["id", "state"])
            created = True
        draft = [m["id"] for m in moves if m["state"] in ("draft", "assigned")]
        if draft:
            await self._button("stock.move", "do", draft)
            created = True
        return created

    async def _receipt(self, event: p.SyncEvent, product: _Product) -> bool:
        """A lot received from a supplier: the oldest waiting incoming move of a purchase of that item is given the
        lot and the received quantity, put on a supplier shipment (``reference`` ``takt:<event id>``) that is
        received into the edge's bin and done."""
        pl = event.payload
        reference = f"takt:{event.event_id}"
        wh = await self.warehouse()
        found = await self._search_read("stock.shipment.in", [["reference", "=", reference]], ["id", "state"])
        lot = await self.lot(pl["lot"], product, create=True, expiry=pl.get("expiry"))
        location = await self.bin(pl["bin"])
        created = False
        if found:
            shipment, state = int(found[0]["id"]), str(found[0]["state"])
        else:
            mine = await self._search_read("stock.move", [["lot", "=", lot], ["from_location.type", "=", "supplier"],
                                                          ["state", "=", "draft"], ["shipment", "=", None]],
                                           ["id", "origin"], limit=1)
            if not mine:
                number = pl.get("purchase_order")  # the edge's own fact (ReceiveAgainstPurchaseOrder)
                if number:
                    lines = await self._search_read("purchase.line", [["purchase.number", "=", number],
                                                                      ["product", "=", product.id]], ["id"])
                    if not lines:
                        raise Refused("UNKNOWN_PURCHASE_ORDER", f"Tryton has no purchase {number} of "
                                                                f"{product.code}", "purchase_order")
                    origin: list[Any] = ["origin", "in", [f"purchase.line,{ln['id']}" for ln in lines]]
                else:  # an inference, for receipts recorded without their order: the oldest waiting purchase
                    origin = ["origin", "like", "purchase.line,%"]
                mine = await self._search_read("stock.move", [
                    ["product", "=", product.id], ["from_location.type", "=", "supplier"], ["state", "=", "draft"],
                    ["shipment", "=", None], origin, ["lot", "=", None]],
                    ["id", "origin"], limit=1, order=[["planned_date", "ASC"], ["id", "ASC"]])
                if not mine:
                    if number:
                        raise Refused("NO_PURCHASE", f"purchase {number} in Tryton awaits no more {product.code}",
                                      "purchase_order")
                    raise Refused("NO_PURCHASE", f"no purchase in Tryton awaits {product.code}: receive it against "
                                                 "a purchase order there first", "item")
                await self._call("stock.move", "write", [mine[0]["id"]], {
                    "lot": lot, "quantity": _qty(Decimal(pl["quantity"]))}, context=NO_WARNINGS)
            move = int(mine[0]["id"])
            line = int(str(mine[0]["origin"]).split(",")[1])
            purchase = (await self._read("purchase.line", [line], ["purchase.party"]))[0]
            party = (purchase.get("purchase.") or {}).get("party")
            shipment = (await self._create("stock.shipment.in", {
                "reference": reference, "supplier": party, "warehouse": wh["id"], "warehouse_input": wh["input"],
                "warehouse_storage": wh["storage"],
                "company": self.rpc.context.get("company"), "incoming_moves": [["add", [move]]]}))[0]
            state, created = "draft", True
        if state == "draft":
            await self._button("stock.shipment.in", "receive", [shipment])
            state, created = "received", True
        if state == "received":
            inventory = await self._search_read("stock.move", [["shipment", "=", f"stock.shipment.in,{shipment}"],
                                                               ["from_location", "=", wh.get("input", -1)],
                                                               ["state", "in", ["draft", "assigned"]]], ["id"])
            if not inventory:
                inventory = await self._search_read("stock.move", [
                    ["shipment", "=", f"stock.shipment.in,{shipment}"], ["to_location.type", "=", "storage"],
                    ["from_location.type", "=", "storage"], ["state", "in", ["draft", "assigned"]]], ["id"])
            if inventory:
                await self._call("stock.move", "write", [m["id"] for m in inventory],
                                 {"to_location": location, "lot": lot}, context=NO_WARNINGS)
            await self._button("stock.shipment.in", "do", [shipment])
            created = True
        return created

    async def _pallet_shipped(self, event: p.SyncEvent) -> bool:
        """A pallet shipped against a sales order: a customer shipment (``reference`` ``takt:<event id>``) of the
        sale's lines on the pallet, its inventory moves the pallet's lots and quantities from the edge's bin to the
        warehouse's output, brought through Tryton's flow (waiting, assigned, picked, packed, done). It is the
        sale's own waiting shipment when Tryton made one (``shipment_method`` on order) that covers those lines,
        else a new one whose outgoing moves have the sale's lines as origin (see the module's docstring)."""
        pl = event.payload
        reference = f"takt:{event.event_id}"
        found = await self._search_read("stock.shipment.out", [["reference", "=", reference]], ["id", "state"])
        if found and found[0]["state"] == "done":
            return False
        shipped = await self._shipped_lines(pl)
        created = False
        if found:
            shipment, state = int(found[0]["id"]), str(found[0]["state"])
        else:
            shipment, state = await self._customer_shipment(reference, pl, shipped)
            created = True
        if state == "draft":
            await self._button("stock.shipment.out", "wait", [shipment])
            state = "waiting"
        if state == "waiting":
            await self._pallet_inventory_moves(shipment, pl, shipped)
            await self._button("stock.shipment.out", "assign_try", [shipment])
            state = str((await self._read("stock.shipment.out", [shipment], ["state"]))[0]["state"])
            if state == "waiting":
                raise Refused("NOT_ASSIGNED", f"Tryton cannot assign pallet {pl['sscc']} from {pl['bin']}: its stock "
                                              "of the pallet's lots there does not cover it", "sscc")
            created = True
        if state == "assigned":
            await self._button("stock.shipment.out", "pick", [shipment])
            state = "picked"
        if state == "picked":
            await self._button("stock.shipment.out", "pack", [shipment])
            state = "packed"
        if state in ("packed", "shipped"):
            await self._button("stock.shipment.out", "do", [shipment])
            return True
        if state != "done":
            raise Refused("WRONG_STATE", f"the customer shipment of pallet {pl['sscc']} is {state} in Tryton", "sscc")
        return created

    async def _shipped_lines(self, pl: dict[str, Any]) -> list[tuple[dict[str, Any], _Product, int, Decimal]]:
        """The pallet's lines as (Tryton sale line, product, lot id, quantity). The edge numbers a sales order's
        lines as the pull handed them out (the sale's lines with a product and a quantity, in Tryton's order)."""
        sales = await self._search_read("sale.sale", [["number", "=", pl["sales_order"]]], [
            "id", "state", "party", "party.code", "party.name", "shipment_address", "warehouse", "currency",
            "lines"], limit=1)
        if not sales:
            raise Refused("UNKNOWN_SALES_ORDER", f"Tryton has no sale {pl['sales_order']}", "sales_order")
        sale = sales[0]
        party = sale.get("party.") or {}
        if pl["customer"] not in (party.get("code"), party.get("name")):
            raise Refused("UNKNOWN_CUSTOMER", f"sale {pl['sales_order']} in Tryton is for {party.get('name')} "
                                              f"({party.get('code')}), not customer {pl['customer']}", "customer")
        lines = [ln for ln in await self._read("sale.line", sale["lines"], [
            "type", "product", "product.code", "quantity", "unit", "unit_price"]) if ln["type"] == "line"
            and (ln.get("product.") or {}).get("code") and ln["quantity"]] if sale["lines"] else []
        out = []
        for shipped in pl["lines"]:
            number = int(shipped["line"])
            if not 1 <= number <= len(lines) or lines[number - 1]["product."]["code"] != shipped["item"]:
                raise Refused("UNKNOWN_SALES_ORDER_LINE", f"sale {pl['sales_order']} in Tryton has no line {number} "
                                                          f"of {shipped['item']}", "lines")
            line = {**lines[number - 1], "sale": sale}
            product = await self.product(shipped["item"])
            out.append((line, product, await self.lot(shipped["lot"], product), Decimal(shipped["quantity"])))
        return out

    async def _customer_shipment(self, reference: str, pl: dict[str, Any],
                                 shipped: list[tuple[dict[str, Any], _Product, int, Decimal]]) -> tuple[int, str]:
        """The customer shipment for a pallet, referenced: the sale's own shipment, not picked yet and without a
        reference, that has an outgoing move of every sale line on the pallet (set back to waiting first, which
        gives back stock Tryton reserved for it), or else a new draft one. Refused when the sale's lines wait on
        shipments that cannot be taken (picked or packed in Tryton already, or the lines split over several)."""
        origins = sorted({f"sale.line,{line['id']}" for line, *_ in shipped})
        candidates = await self._search_read("stock.shipment.out", [
            ["state", "in", ["draft", "waiting", "assigned"]], ["reference", "=", None],
            ["moves.origin", "in", origins]], ["id", "state", "outgoing_moves"], order=[["id", "ASC"]])
        for candidate in candidates:
            moves = await self._read("stock.move", candidate["outgoing_moves"], ["origin", "state"]) if candidate[
                "outgoing_moves"] else []
            if set(origins) <= {str(m["origin"]) for m in moves if m["state"] not in ("done", "cancelled")}:
                # back to waiting before it is referenced: a lost answer then finds it again as a candidate
                await self._button("stock.shipment.out", "wait", [int(candidate["id"])])
                await self._call("stock.shipment.out", "write", [candidate["id"]], {"reference": reference},
                                 context=NO_WARNINGS)
                return int(candidate["id"]), "waiting"
        pending = await self._search_read("stock.move", [["origin", "in", origins],
                                                         ["state", "not in", ["done", "cancelled"]]],
                                          ["shipment"])
        if pending:
            busy = sorted({str(m["shipment"]) for m in pending if m["shipment"]})
            numbers = [str(r["number"]) for r in await self._read("stock.shipment.out", [
                int(b.split(",")[1]) for b in busy if b.startswith("stock.shipment.out,")], ["number"])]
            raise Refused("SALE_SHIPMENT_BUSY", f"sale {pl['sales_order']} awaits its lines on the pallet on customer "
                                                f"shipment(s) {', '.join(numbers) or '?'} in Tryton, picked or packed "
                                                "there already, or split over several: settle them in Tryton (reset "
                                                "to waiting, or cancel what the pallet delivers), then retry", "sscc")
        sale = shipped[0][0]["sale"]
        wh = await self.warehouse()
        customer = (await self._read("party.party", [sale["party"]], ["customer_location"]))[0]["customer_location"]
        company = self.rpc.context.get("company")
        day = datetime.fromisoformat(pl["at"]).date()
        moves = [{"product": product.id, "unit": line["unit"], "quantity": _qty(quantity), "lot": lot,
                  "from_location": wh["output"], "to_location": customer, "company": company,
                  "origin": f"sale.line,{line['id']}", "unit_price": line["unit_price"], "currency": sale["currency"],
                  "planned_date": day} for line, product, lot, quantity in shipped]
        shipment = (await self._create("stock.shipment.out", {
            "reference": reference, "customer": sale["party"], "delivery_address": sale["shipment_address"],
            "warehouse": wh["id"], "warehouse_storage": wh["storage"], "warehouse_output": wh["output"],
            "company": company, "planned_date": day,
            "moves": [["create", moves]]}))[0]
        return shipment, "draft"

    async def _pallet_inventory_moves(self, shipment: int, pl: dict[str, Any],
                                      shipped: list[tuple[dict[str, Any], _Product, int, Decimal]]) -> None:
        """The waiting shipment's inventory moves become the pallet's: each lot and quantity from the edge's bin
        to the output, for the outgoing move of its sale line (Tryton then syncs the outgoing moves to them at
        ``pick``: by lot, and a line not on the pallet to nothing, which the sale ships later)."""
        rows = await self._read("stock.shipment.out", [shipment], ["inventory_moves", "outgoing_moves"])
        inventory = await self._read("stock.move", rows[0]["inventory_moves"], [
            "state", "lot", "from_location", "origin", "quantity"]) if rows[0]["inventory_moves"] else []
        outgoing = await self._read("stock.move", rows[0]["outgoing_moves"], ["origin", "lot", "state"]) if rows[0][
            "outgoing_moves"] else []
        location, wh = await self.bin(pl["bin"]), await self.warehouse()
        company = self.rpc.context.get("company")
        values = []
        for line, product, lot, quantity in shipped:
            mine = [m for m in outgoing if m["origin"] == f"sale.line,{line['id']}" and m["state"] != "cancelled"]
            mine.sort(key=lambda m: (m["lot"] != lot, m["lot"] is not None))  # its lot's move, else one without
            if not mine:
                raise Refused("UNKNOWN_SALES_ORDER_LINE", f"the customer shipment of pallet {pl['sscc']} has no move "
                                                          f"of sale line {line['id']}", "lines")
            origin = f"stock.move,{mine[0]['id']}"
            # moves an earlier attempt got assigned stay (a draft cannot be told from Tryton's own: they go)
            assigned = sum((_dec(m["quantity"]) for m in inventory if m["state"] == "assigned" and m["lot"] == lot
                            and m["from_location"] == location and m["origin"] == origin), Decimal(0))
            if quantity > assigned:
                values.append({"product": product.id, "unit": line["unit"], "quantity": _qty(quantity - assigned),
                               "lot": lot, "from_location": location, "to_location": wh["output"],
                               "company": company, "origin": origin})
        drafts = [m["id"] for m in inventory if m["state"] in ("staging", "draft")]
        changes = [*([["delete", drafts]] if drafts else []), *([["create", values]] if values else [])]
        if changes:
            await self._call("stock.shipment.out", "write", [shipment], {"inventory_moves": changes},
                             context=NO_WARNINGS)

    async def _inspection(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        reference = f"takt:{event.event_id}"
        found = await self._search_read("quality.inspection", [["reference", "=", reference]], ["id", "state"])
        passed = bool(pl["passed"])
        if found:
            inspection, state, created = int(found[0]["id"]), str(found[0]["state"]), False
        else:
            controls = await self._controls([pl["plan"]])
            if pl["plan"] not in controls:
                raise Refused("UNKNOWN_INSPECTION_PLAN", f"Tryton has no quality control {pl['plan']}", "plan")
            row = _inspection_row(event, *controls[pl["plan"]], self.rpc.context.get("company"))
            if pl.get("work_order"):
                row["origin"] = f"production,{(await self.production(pl['work_order'])).id}"
            elif pl.get("lot"):  # an inspection of a made lot is one of the production that made it
                made = await self._makers([pl["lot"]])
                if pl["lot"] in made:
                    row["origin"] = f"production,{made[pl['lot']]}"
            inspection = (await self._create("quality.inspection", row))[0]
            state, created = "pending", True
        if state == "pending":
            await self._button("quality.inspection", "process", [inspection])
            state = str((await self._read("quality.inspection", [inspection], ["state"]))[0]["state"])
            created = True
        if state == "passed" and not passed:
            await self._button("quality.inspection", "fail", [inspection])
            created = True
        elif state == "failed" and passed:
            await self._button("quality.inspection", "pass_", [inspection])
            created = True
        return created

    async def _controls(self, plans: list[str]) -> dict[str, tuple[int, dict[str, str]]]:
        """Quality controls by name: id and the type of each point."""
        controls = await self._search_read("quality.control", [["name", "in", plans]], ["id", "name", "points"])
        ids = [pt for ctl in controls for pt in ctl["points"]]
        points = {int(pt["id"]): pt for pt in await self._read("quality.control.point", ids, ["name", "type_"])
                  } if ids else {}
        return {str(ctl["name"]): (int(ctl["id"]), {str(points[pt]["name"]): str(points[pt]["type_"])
                                                    for pt in ctl["points"]}) for ctl in controls}

    async def _makers(self, lots: list[str]) -> dict[str, int]:
        """The production whose output each of ``lots`` is in Tryton (for the lots that are one's output)."""
        rows = await self._search_read("stock.move", [["lot.number", "in", lots], ["production_output", "!=", None],
                                                      ["state", "!=", "cancelled"]],
                                       ["production_output", "lot.number"])
        return {str(r["lot."]["number"]): int(r["production_output"]) for r in rows}

    async def _inspections(self, run: list[p.SyncEvent]) -> dict[int, bool]:
        """Inspections in a handful of calls whatever their number: searched, created, processed, and passed or
        failed as the edge decided, together. Returns seq -> changed for the ones booked; one Tryton cannot take
        (an unknown plan, point or order) is left to the one-by-one path, which refuses it."""
        refs = {f"takt:{e.event_id}": e for e in run}
        found = {str(r["reference"]): (int(r["id"]), str(r["state"])) for r in await self._search_read(
            "quality.inspection", [["reference", "in", list(refs)]], ["id", "reference", "state"])}
        created: set[str] = set()
        missing = [e for ref, e in refs.items() if ref not in found]
        if missing:
            controls = await self._controls(sorted({str(e.payload["plan"]) for e in missing}))
            numbers = sorted({str(e.payload["work_order"]) for e in missing if e.payload.get("work_order")})
            productions = {str(r["number"]): int(r["id"]) for r in await self._search_read(
                "production", [["number", "in", numbers]], ["id", "number"])} if numbers else {}
            lots = sorted({str(e.payload["lot"]) for e in missing if e.payload.get("lot")
                           and not e.payload.get("work_order")})
            makers = await self._makers(lots) if lots else {}
            rows, taken = [], []
            for e in missing:
                pl = e.payload
                if pl["plan"] not in controls or (pl.get("work_order") and pl["work_order"] not in productions):
                    continue
                try:
                    row = _inspection_row(e, *controls[pl["plan"]], self.rpc.context.get("company"))
                except Refused:
                    continue
                if pl.get("work_order"):
                    row["origin"] = f"production,{productions[pl['work_order']]}"
                elif pl.get("lot") in makers:
                    row["origin"] = f"production,{makers[pl['lot']]}"
                rows.append(row)
                taken.append(f"takt:{e.event_id}")
            if rows:
                for ref, iid in zip(taken, await self._create("quality.inspection", *rows), strict=True):
                    found[ref] = (iid, "pending")
                    created.add(ref)
        pending = [iid for iid, state in found.values() if state == "pending"]
        if pending:
            await self._button("quality.inspection", "process", pending)
        states = {int(r["id"]): str(r["state"]) for r in await self._read(
            "quality.inspection", [iid for iid, _ in found.values()], ["state"])} if found else {}
        verdicts = {iid: (states[iid], bool(refs[ref].payload["passed"])) for ref, (iid, _) in found.items()}
        to_fail = [iid for iid, (state, passed) in verdicts.items() if state == "passed" and not passed]
        to_pass = [iid for iid, (state, passed) in verdicts.items() if state == "failed" and passed]
        if to_fail:
            await self._button("quality.inspection", "fail", to_fail)
        if to_pass:
            await self._button("quality.inspection", "pass_", to_pass)
        changed = set(to_fail) | set(to_pass) | set(pending)
        return {refs[ref].seq: ref in created or iid in changed for ref, (iid, _) in found.items()}

    async def _work_order_completed(self, event: p.SyncEvent) -> bool:
        production = await self.production(event.payload["work_order"])
        if production.state == "done":
            return False
        await self._running(production)
        works = await self._search_read("production.work", [["production", "=", production.id]],
                                        ["sequence", "state"])
        unfinished = [str(w["sequence"]) for w in works if w["state"] != "finished"]
        if unfinished:
            raise Refused("OPERATIONS_OPEN", f"production {production.number} has works not finished in Tryton: "
                                             f"steps {', '.join(unfinished)}", "work_order")
        await self._inspections_settled(production)
        answer = await self._button("production", "do", [production.id])
        if await self._state(production) != "done":
            if answer:  # Tryton's inspection wizard: a quality control of production:do has no inspection yet
                controls = await self._search_read("quality.control", [["operations", "in", "production:do"]],
                                                   ["name"])
                names = ", ".join(sorted({str(c["name"]) for c in controls})) or "?"
                raise Refused("INSPECTION_REQUIRED", f"Tryton requires an inspection ({names}) of production "
                                                     f"{production.number} before it is done: record it at the "
                                                     "edge for the work order, then retry", "work_order")
            raise Refused("NOT_DONE", f"Tryton did not do production {production.number}", "work_order")
        return True

    async def _inspections_settled(self, production: _Production) -> None:
        """Tryton does not finish a production while one of its inspections failed and the alert it raised is
        open: refuse with what settles it (the edge's nonconformance disposition, or the alert in Tryton)."""
        failed = await self._search_read("quality.inspection", [["origin", "=", f"production,{production.id}"],
                                                                ["state", "=", "failed"]],
                                         ["number", "reference", "alerts"])
        blocking: list[str] = []
        for inspection in failed:
            alerts = await self._read("quality.alert", inspection["alerts"], ["number", "state"]) if inspection[
                "alerts"] else []
            if alerts and not any(a["state"] in ("open", "processing") for a in alerts):
                continue
            edge = await asyncio.to_thread(self.edge_inspection, str(inspection.get("reference") or ""))
            blocking.append(f"{inspection['number']}" + (f" (inspection {edge} here, nonconformance NCR-{edge})"
                                                         if edge else "")
                            + (f", alert {', '.join(str(a['number']) for a in alerts)}" if alerts else ""))
        if blocking:
            raise Refused("INSPECTION_FAILED", f"Tryton does not finish production {production.number} while a "
                                               f"failed inspection's alert is open: {'; '.join(blocking)}. "
                                               "Disposition the nonconformance at the edge (or resolve or defer the "
                                               "alert in Tryton), then retry", "work_order")

    async def _disposition(self, event: p.SyncEvent) -> bool:
        """A nonconformance dispositioned at the edge settles the alert Tryton raised for the failed inspection
        behind it: the alert gets the disposition as its description and is processed and resolved. A
        nonconformance raised by hand (no inspection) has no Tryton counterpart."""
        pl = event.payload
        found = await asyncio.to_thread(self.inspection_behind, pl["ncr"], event.seq)
        if found is None:
            return True
        inspections = await self._search_read("quality.inspection", [["reference", "=", f"takt:{found}"]],
                                              ["id", "state", "alerts"])
        if not inspections:
            raise Refused("UNKNOWN_INSPECTION", f"Tryton has no inspection for nonconformance {pl['ncr']} yet",
                          "ncr")
        alerts = await self._read("quality.alert", inspections[0]["alerts"], ["id", "state"]) if inspections[0][
            "alerts"] else []
        changed = False
        for alert in alerts:
            if alert["state"] in ("resolved", "deferred"):
                continue
            if alert["state"] == "open":
                await self._call("quality.alert", "write", [alert["id"]], {
                    "description": f"Takt {pl['ncr']}: {pl['disposition']}"
                                   + (f", {pl['comment']}" if pl.get("comment") else "")
                                   + f" (by {pl['dispositioned_by']})"}, context=NO_WARNINGS)
                await self._button("quality.alert", "process", [alert["id"]])
            await self._button("quality.alert", "resolve", [alert["id"]])
            changed = True
        return changed

    # --- pull ------------------------------------------------------------------------------------------------

    async def changes(self, after: int, limit: int) -> p.ChangeFeed:
        """What changed in Tryton since the stamp ``after`` (see the module's docstring)."""
        try:
            return await self._again("changes", lambda: self._changes(after, limit))
        except Refused as refusal:  # a read Tryton refuses is its failure, not a change this node can refuse
            raise CentralUnavailable(f"Tryton refused to list its changes: {refusal.message}") from None

    async def _changes(self, after: int, limit: int) -> p.ChangeFeed:
        since = from_stamp_us(max(after - self.overlap_us, 0)) if after > 0 else None
        wh = await self.warehouse()
        sources: list[tuple[str, list[Any]]] = [
            ("product.product", [["type", "=", "goods"]]),
            ("stock.location", [["type", "=", "storage"], ["parent", "child_of", [wh["storage"]]]]),
            ("stock.lot", [["product.type", "=", "goods"]]),
            ("quality.control", []),
            ("purchase.purchase", [["warehouse", "=", wh["id"]], ["state", "in", ["processing", "cancelled"]]]),
            ("sale.sale", [["warehouse", "=", wh["id"]], ["state", "in", ["processing", "cancelled"]]]),
            ("production", [["warehouse", "=", wh["id"]], ["state", "in", [*RELEASED_STATES, "cancelled"]]]),
        ]
        candidates: list[tuple[int, int, int, str]] = []  # (stamp, kind order, id, model)
        paging = after > 0 and after == self._paging  # the next page of a run: no overlap to read again
        cutoff: int | None = None  # with paging: the listings are complete below this stamp only
        for order, (model, domain) in enumerate(sources):
            if paging:
                rows, complete_below = await self._list(model, domain, after, limit)
                if complete_below is not None:
                    cutoff = complete_below if cutoff is None else min(cutoff, complete_below)
            else:
                if since is not None:
                    domain = [*domain, ["OR", ["write_date", ">", since], ["create_date", ">", since]]]
                rows = await self._search_read(model, domain, ["id", "write_date", "create_date"],
                                               context={"active_test": False})
            for row in rows:
                stamp = stamp_us(row["write_date"] or row["create_date"])
                if self._seen.get((model, row["id"])) == stamp:
                    continue
                candidates.append((stamp, order, row["id"], model))
        truncated = cutoff is not None
        if cutoff is not None:
            below = [c for c in candidates if c[0] < cutoff]
            if not below:  # one stamp has more rows than a page: that stamp's rows make the page, all of them
                at = from_stamp_us(cutoff)
                for order, (model, domain) in enumerate(sources):
                    for row in await self._search_read(model, [*domain, ["OR", ["write_date", "=", at], [
                            ["write_date", "=", None], ["create_date", "=", at]]]], ["id"],
                            context={"active_test": False}):
                        if self._seen.get((model, row["id"])) != cutoff:
                            below.append((cutoff, order, row["id"], model))
                below = sorted(set(below))
                limit = max(limit, len(below))
            candidates = below
        candidates.sort()
        page = candidates[:limit]
        more = len(candidates) > limit or truncated
        if len(candidates) > limit and page and candidates[limit][0] == page[-1][0]:
            cursor = page[-1][0] - 1  # a stamp split between pages: read it again from just below
        else:
            cursor = page[-1][0] if page else after
        if not page and cutoff is not None:
            cursor = cutoff  # every row of that stamp was handed out already: go past it
        cursor = max(cursor, after)  # re-read rows of the overlap never move the cursor back
        changes: list[p.Change] = []
        for model in ("product.product", "stock.location", "stock.lot", "quality.control", "purchase.purchase",
                      "sale.sale", "production"):
            ids = [c[2] for c in page if c[3] == model]
            if ids:
                stamps = {c[2]: c[0] for c in page if c[3] == model}
                changes += await self._changes_of(model, ids, stamps)
        changes.sort(key=lambda ch: (ch.cursor, _KIND_ORDER[ch.kind]))
        for stamp, _, rid, model in page:
            self._seen[(model, rid)] = stamp
        horizon = cursor - self.overlap_us
        if len(self._seen) > 200_000:
            self._seen = {k: v for k, v in self._seen.items() if v > horizon}
        self._paging = cursor if more else None
        return p.ChangeFeed(node=self.node, changes=changes, cursor=max(cursor, 0), more=more)

    async def _list(self, model: str, domain: list[Any], after: int, limit: int
                    ) -> tuple[list[dict[str, Any]], int | None]:
        """Rows of ``model`` stamped after ``after``, about the first ``limit`` of them by stamp, and the stamp
        below which that list is complete (None: it is complete)."""
        since = from_stamp_us(after)
        complete_below: int | None = None
        rows: list[dict[str, Any]] = []
        for stamp_field, extra in (("write_date", [["write_date", ">", since]]),
                                   ("create_date", [["write_date", "=", None], ["create_date", ">", since]])):
            found = await self._search_read(model, [*domain, *extra], ["id", "write_date", "create_date"],
                                            limit=limit + 1, order=[[stamp_field, "ASC"], ["id", "ASC"]],
                                            context={"active_test": False})
            if len(found) > limit:
                last = stamp_us(found[-1][stamp_field])
                complete_below = last if complete_below is None else min(complete_below, last)
            rows += found
        return rows, complete_below

    async def _changes_of(self, model: str, ids: list[int], stamps: dict[int, int]) -> list[p.Change]:
        out: list[p.Change] = []

        def change(rid: int, kind: str, key: str, payload: p._Message) -> None:
            out.append(p.Change(cursor=stamps[rid], kind=kind, key=key, source="ERP",  # type: ignore[arg-type]
                                at=from_stamp_us(stamps[rid]).replace(tzinfo=UTC),
                                payload=payload.model_dump(mode="json")))

        if model == "product.product":
            rows = await self._read(model, ids, ["code", "name", "default_uom.symbol", "template.lot_required",
                                                 "active"])
            for r in rows:
                if not r.get("code"):
                    continue
                unit = (r.get("default_uom.") or {}).get("symbol") or "u"
                lot_required = bool((r.get("template.") or {}).get("lot_required"))
                change(r["id"], "item", r["code"], p.ItemChange(item=r["code"], description=r["name"] or r["code"],
                                                                unit=unit, revision=REVISION,
                                                                lot_controlled=lot_required))
        elif model == "stock.location":
            for r in await self._read(model, ids, ["code", "name", "parent.code"]):
                code = r.get("code") or r["name"]
                zone = (r.get("parent.") or {}).get("code") or self.warehouse_code
                change(r["id"], "bin", code, p.BinChange(bin=code, zone=zone))
        elif model == "stock.lot":
            for r in await self._read(model, ids, ["number", "product.code", "expiration_date",
                                                   "shelf_life_expiration_date"]):
                item = (r.get("product.") or {}).get("code")
                if not r.get("number") or not item:
                    continue
                dates = [d for d in (r.get("expiration_date"), r.get("shelf_life_expiration_date")) if d]
                change(r["id"], "lot", r["number"], p.LotChange(lot=r["number"], item=item,
                                                                expiry=min(dates) if dates else None))
        elif model == "quality.control":
            for r in await self._read(model, ids, ["name", "product.code", "points"]):
                points = await self._read("quality.control.point", r["points"], [
                    "name", "string", "type_", "tolerance_lower", "tolerance_upper"]) if r[
                    "points"] else []
                if not points:
                    continue
                characteristics = [p.CharacteristicChange(
                    characteristic=pt["name"], kind="attribute" if pt["type_"] == "boolean" else "numeric",
                    lsl=_opt_dec(pt.get("tolerance_lower")), usl=_opt_dec(pt.get("tolerance_upper")))
                    for pt in points]
                change(r["id"], "inspection_plan", r["name"], p.InspectionPlanChange(
                    plan=r["name"], description=r["name"], characteristics=characteristics,
                    item=(r.get("product.") or {}).get("code")))
        elif model == "purchase.purchase":
            for r in await self._read(model, ids, ["number", "state", "party.code", "party.name", "lines"]):
                lines = [ln for ln in await self._read("purchase.line", r["lines"], [
                    "type", "product.code", "quantity", "delivery_date"]) if ln["type"] == "line"
                    and (ln.get("product.") or {}).get("code") and ln["quantity"]]
                if not r.get("number") or not lines:
                    continue
                party = r.get("party.") or {}
                change(r["id"], "purchase_order", r["number"], p.PurchaseOrderChange(
                    purchase_order=r["number"], supplier=party.get("code") or party.get("name") or "?",
                    status="cancelled" if r["state"] == "cancelled" else "open",
                    lines=[p.PurchaseOrderLineChange(line=i, item=ln["product."]["code"], quantity=_dec(ln["quantity"]),
                                                     due=ln.get("delivery_date"))
                           for i, ln in enumerate(lines, start=1)]))
        elif model == "sale.sale":
            for r in await self._read(model, ids, ["number", "state", "party.code", "party.name", "lines"]):
                lines = [ln for ln in await self._read("sale.line", r["lines"], [
                    "type", "product.code", "quantity", "shipping_date"]) if ln["type"] == "line"
                    and (ln.get("product.") or {}).get("code") and ln["quantity"]]
                party = r.get("party.") or {}
                customer = party.get("code") or party.get("name")
                if not r.get("number") or not lines or not customer:
                    continue
                change(r["id"], "customer", customer, p.CustomerChange(customer=customer,
                                                                       name=party.get("name") or customer))
                change(r["id"], "sales_order", r["number"], p.SalesOrderChange(
                    sales_order=r["number"], customer=customer,
                    status="cancelled" if r["state"] == "cancelled" else "open",
                    lines=[p.SalesOrderLineChange(line=i, item=ln["product."]["code"], quantity=_dec(ln["quantity"]),
                                                  due=ln.get("shipping_date"))
                           for i, ln in enumerate(lines, start=1)]))
        elif model == "production":
            for r in await self._read(model, ids, ["number", "state", "product", "product.code", "quantity", "bom",
                                                   "bom.name",
                                                   "routing", "planned_date", "works"]):
                if not r.get("number") or not (r.get("product.") or {}).get("code"):
                    continue
                if r["state"] == "cancelled":
                    if not await asyncio.to_thread(self.known_here, r["number"]):
                        continue  # cancelled before it ever reached this node: nothing to say
                    continue_payload = p.WorkOrderChange(
                        work_order=r["number"], status="cancelled", item=r["product."]["code"],
                        item_revision=REVISION, bom_revision="-", quantity=_dec(r["quantity"]) or Decimal(1))
                    change(r["id"], "work_order", r["number"], continue_payload)
                    continue
                operations, bom = await self._order_content(r)
                change(r["id"], "work_order", r["number"], p.WorkOrderChange(
                    work_order=r["number"], status="released", item=r["product."]["code"], item_revision=REVISION,
                    bom_revision=(r.get("bom.") or {}).get("name") or "-", quantity=_dec(r["quantity"]),
                    operations=operations, bom=bom, due=r.get("planned_date")))
        return out

    async def _order_content(self, production: dict[str, Any]
                             ) -> tuple[list[p.OperationChange], list[p.BomLineChange]]:
        operations: list[p.OperationChange] = []
        if production.get("works"):
            for w in await self._read("production.work", production["works"], [
                    "sequence", "operation.name", "work_center.name"]):
                operations.append(p.OperationChange(
                    operation=int(w["sequence"] or len(operations) + 1),
                    description=(w.get("operation.") or {}).get("name") or "",
                    workstation=(w.get("work_center.") or {}).get("name") or "-"))
        elif production.get("routing"):
            routing = await self._read("production.routing", [production["routing"]], ["steps"])
            steps = await self._read("production.routing.step", routing[0]["steps"], [
                "sequence", "operation.name", "operation.work_center_category.name"])
            for s in steps:
                op = s.get("operation.") or {}
                operations.append(p.OperationChange(
                    operation=int(s["sequence"] or len(operations) + 1), description=op.get("name") or "",
                    workstation=(op.get("work_center_category.") or {}).get("name") or "-"))
        operations.sort(key=lambda o: o.operation)
        bom: list[p.BomLineChange] = []
        if production.get("bom"):
            boms = await self._read("production.bom", [production["bom"]], ["inputs", "outputs"])
            outputs = await self._read("production.bom.output", boms[0]["outputs"], ["product", "quantity"])
            made = sum((_dec(o["quantity"]) for o in outputs if o["product"] == production.get("product")),
                       Decimal(0)) or sum((_dec(o["quantity"]) for o in outputs), Decimal(0)) or Decimal(1)
            for i, line in enumerate(await self._read("production.bom.input", boms[0]["inputs"], [
                    "product.code", "quantity"]), start=1):
                code = (line.get("product.") or {}).get("code")
                if code:
                    bom.append(p.BomLineChange(line=i, item=code, item_revision=REVISION,
                                               quantity_per=(_dec(line["quantity"]) / made).normalize()))
        return operations, bom


BIN_MOVES = ("move", "putaway", "pick")  # between two bins: an internal shipment (a kitting pick goes to staging)


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


def _inspection_row(event: p.SyncEvent, control: int, kinds: dict[str, str], company: Any) -> dict[str, Any]:
    """The quality.inspection an InspectionRecorded becomes (without its origin): the measured points as the
    control's point types want them."""
    pl = event.payload
    values: dict[str, Any] = {}
    for result in pl["results"]:
        name = result["characteristic"]
        if name not in kinds:
            raise Refused("UNKNOWN_CHARACTERISTIC", f"quality control {pl['plan']} has no point {name}", "results")
        if kinds[name] == "boolean":
            values[name] = bool(result["passed"])
        elif kinds[name] == "integer":
            values[name] = int(Decimal(result["value"]))
        elif kinds[name] == "numeric":
            values[name] = Decimal(result["value"])
        else:
            values[name] = float(result["value"])
    return {"reference": f"takt:{event.event_id}", "control": control, "points": values, "company": company}


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else _dec(value)


_KIND_ORDER = {"item": 0, "bin": 1, "lot": 2, "inspection_plan": 3, "purchase_order": 4, "customer": 5,
               "sales_order": 6, "work_order": 7}


def tryton_central(section: ErpSection, node: str, store: Store, *, timeout_s: float = 30.0) -> TrytonCentral:
    """The adapter a site's ``sync.erp`` section names (the password read from its file now)."""
    try:
        password = section.password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"sync.erp.password_file: cannot read {section.password_file}: {exc.strerror or exc}"
                         ) from None
    rpc = TrytonRPC(section.url, section.database, section.user, password, timeout_s=timeout_s)
    return TrytonCentral(rpc, node, store, warehouse=section.warehouse, overlap_s=section.overlap_s,
                         retries=section.retries)
