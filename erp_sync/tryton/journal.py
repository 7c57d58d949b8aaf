"""What the node's journal says as of an event, for the Tryton bookings that reconcile rather than append.

Tryton's moves and work cycles have no free field to carry the edge's event id, so a booking brings Tryton up to
what the journal says *as of that event* (run time of an operation, quantity issued or lost, ...) and never more:
sending an event again books nothing twice. Read through the store's read API (:mod:`edge.store.reads`), never by
SQL here; every method blocks (call it in a worker thread).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from edge.store import reads
from edge.store.store import Store

OPERATION_EVENTS = ("OperationStarted", "OperationPaused", "OperationResumed", "OperationCompleted")


class EdgeJournal:
    """The node's journal, read only."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run_time(self, work_order: str, operation: int, upto: int) -> timedelta:
        """How long ``operation`` ran at the edge up to journal sequence ``upto``, pauses left out."""
        total = timedelta()
        since: datetime | None = None
        for event in reads.events_of_subject(self.store, f"work_order:{work_order}", OPERATION_EVENTS, upto=upto):
            payload = event.data()
            if payload.get("operation") != operation:
                continue
            at = datetime.fromisoformat(payload["at"])
            if event.type in ("OperationStarted", "OperationResumed"):
                since = since or at
            elif since is not None:
                total += at - since
                since = None
        return total

    def issued(self, work_order: str, lot: str, bin_code: str, upto: int, kind: str = "issue") -> Decimal:
        """The quantity of ``lot`` issued from ``bin_code`` to ``work_order`` up to ``upto`` (``kind`` return:
        returned from it to the bin)."""
        side = "from_bin" if kind == "issue" else "to_bin"
        moves = (e.data() for e in reads.events_of_subject(self.store, f"lot:{lot}", ("StockMoved",), upto=upto))
        return sum((Decimal(pl["quantity"]) for pl in moves
                    if pl.get("work_order") == work_order and pl.get("kind") == kind and pl.get(side) == bin_code),
                   Decimal(0))

    def lost(self, lot: str, bin_code: str, upto: int) -> Decimal:
        """The quantity of ``lot`` that left ``bin_code`` by scrap, by a count that found less or as spare parts issued
        to maintenance (an issue to no work order), up to ``upto``: what Tryton books as moves to its lost-and-found
        location."""
        moves = (e.data() for e in reads.events_of_subject(self.store, f"lot:{lot}", ("StockMoved",), upto=upto))
        return sum((Decimal(pl["quantity"]) for pl in moves
                    if (pl.get("kind") in ("scrap", "adjust") or (pl.get("kind") == "issue" and not pl.get("work_order")))
                    and pl.get("from_bin") == bin_code), Decimal(0))

    def inspection_behind(self, ncr: str, upto: int) -> str | None:
        """The event id of the inspection that raised nonconformance ``ncr`` (recorded by the same command)."""
        found = reads.recorded_with(self.store, f"ncr:{ncr}", "NonconformanceRaised", upto=upto,
                                    other_type="InspectionRecorded")
        return None if found is None else found.event_id

    def edge_inspection(self, reference: str) -> str | None:
        """The edge's inspection id behind a Tryton reference ``takt:<event id>``."""
        if not reference.startswith("takt:"):
            return None
        found = reads.event_by_id(self.store, reference.removeprefix("takt:"))
        if found is None or found.type != "InspectionRecorded":
            return None
        return str(found.data()["inspection"])

    def known_here(self, work_order: str) -> bool:
        """Whether this node ever heard of ``work_order``."""
        return reads.subject_known(self.store, f"work_order:{work_order}")

    def maker(self, item: str, upto: int) -> str | None:
        """The work order making ``item`` at the edge at journal sequence ``upto``: the latest started one of that
        item not yet completed."""
        released = {pl["work_order"] for pl in (e.data() for e in reads.events_of_types(
            self.store, ("WorkOrderReleased",), upto=upto)) if pl.get("item") == item}
        open_orders: dict[str, int] = {}
        for event in reads.events_of_types(self.store, ("OperationStarted", "WorkOrderCompleted",
                                                        "WorkOrderCancelled"), upto=upto):
            wo = event.subject.removeprefix("work_order:")
            if wo not in released:
                continue
            if event.type == "OperationStarted":
                open_orders[wo] = event.seq
            else:
                open_orders.pop(wo, None)
        if not open_orders:
            return None
        return max(open_orders, key=lambda wo: open_orders[wo])
