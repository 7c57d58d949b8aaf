"""The Tryton adapter's production bookings: a work order's progress on Tryton's production and its works.

``OperationStarted`` brings the production to running (the moves Tryton planned from the BOM without lots are
deleted first: the edge books what was really consumed and made, by lot); ``OperationCompleted`` books the
operation's run time as a done work cycle of the routing step's work; an ``issue`` of a lot is an input move, a
``return`` an output move back to the bin, ``LotReceived`` of made output an output move done at once;
``WorkOrderCompleted`` does the production. Moves and cycles carry no event id, so each booking reconciles with
what the node's journal says as of its event (:mod:`erp_sync.tryton.journal`).
"""
from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from erp_sync import protocol as p
from erp_sync.tryton.gateway import (
    RELEASED_STATES,
    Product,
    Production,
    Refused,
    TrytonGateway,
    dec,
    qty,
)
from erp_sync.tryton.journal import EdgeJournal
from erp_sync.tryton.quality import QualityBookings
from erp_sync.tryton.receipts import ReceiptBookings


class ProductionBookings:
    """Productions, their works and work cycles, their input and output moves."""

    def __init__(self, gateway: TrytonGateway, journal: EdgeJournal, quality: QualityBookings,
                 receipts: ReceiptBookings) -> None:
        self.gw = gateway
        self.journal = journal
        self.quality = quality
        self.receipts = receipts

    async def state(self, production: Production) -> str:
        rows = await self.gw.read("production", [production.id], ["state"])
        production.state = str(rows[0]["state"])
        return production.state

    async def running(self, production: Production) -> None:
        """Bring a released production to running: assign its inputs, then run (which does them)."""
        if production.state not in RELEASED_STATES:
            raise Refused("WRONG_STATE", f"production {production.number} is {production.state} in Tryton",
                          "work_order")
        if production.state in ("waiting", "assigned"):
            await self._drop_planned(production)
        if production.state == "waiting":
            await self.gw.button("production", "assign_try", [production.id])
            if await self.state(production) != "assigned":
                raise Refused("NOT_ASSIGNED", f"Tryton cannot assign the inputs of production {production.number}:"
                                              " its stock by location does not cover them", "work_order")
        if production.state == "assigned":
            await self.gw.button("production", "run", [production.id])
            await self.state(production)

    async def _drop_planned(self, production: Production) -> None:
        """The moves Tryton planned from the BOM (no lot yet) give way to what the edge books by lot: they are
        deleted before the production runs (Tryton would otherwise do them at ``run`` and ``do``)."""
        rows = await self.gw.read("production", [production.id], ["inputs", "outputs"])
        planned: dict[str, list[int]] = {}
        for field in ("inputs", "outputs"):
            if rows[0][field]:
                planned[field] = [m["id"] for m in await self.gw.read("stock.move", rows[0][field], ["lot", "state"])
                                  if m["lot"] is None and m["state"] in ("staging", "draft", "assigned")]
        if not any(planned.values()):
            return
        if production.state == "assigned":
            await self.gw.button("production", "wait", [production.id])  # unassigns the moves
            await self.state(production)
        await self.gw.write("production", [production.id], {
            field: [["delete", ids]] for field, ids in planned.items() if ids})

    async def operation_started(self, event: p.SyncEvent) -> bool:
        production = await self.gw.production(event.payload["work_order"])
        if production.state in ("running", "done"):
            return False
        await self.running(production)
        return True

    async def operation_completed(self, event: p.SyncEvent) -> bool:
        work_order, operation = event.payload["work_order"], int(event.payload["operation"])
        production = await self.gw.production(work_order)
        works = await self.gw.search_read("production.work", [["production", "=", production.id],
                                                              ["sequence", "=", operation]], ["id", "state"])
        if not works:
            raise Refused("UNKNOWN_OPERATION", f"production {work_order} has no work for routing step {operation}",
                          "operation")
        work = works[0]["id"]
        target = await asyncio.to_thread(self.journal.run_time, work_order, operation, event.seq)
        cycles = await self.gw.search_read("production.work.cycle", [["work", "=", work]], ["id", "state", "duration"])
        booked = sum((c["duration"] or timedelta() for c in cycles if c["state"] == "done"), timedelta())
        open_cycles = [c for c in cycles if c["state"] in ("draft", "running")]
        missing = target - booked
        if missing <= timedelta(0) and not open_cycles:
            return False
        await self.running(production)
        if not open_cycles:
            await self.gw.write("production", [production.id], {"works": [["write", [work], {
                "cycles": [["create", [{}]]]}]]})
            open_cycles = await self.gw.search_read("production.work.cycle", [["work", "=", work],
                                                                              ["state", "in", ["draft", "running"]]],
                                                    ["id", "state", "duration"])
        for i, cycle in enumerate(open_cycles):
            if cycle["state"] == "draft":
                await self.gw.button("production.work.cycle", "run", [cycle["id"]])
            duration = max(missing, timedelta(0)) if i == 0 else timedelta(0)
            await self.gw.call("production.work.cycle", "write", [cycle["id"]], {"duration": duration})
            await self.gw.button("production.work.cycle", "do", [cycle["id"]])
        return True

    async def consumption(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        work_order, lot_code = pl["work_order"], pl["lot"]
        bin_code = pl["from_bin"] if pl["kind"] == "issue" else pl["to_bin"]
        production = await self.gw.production(work_order)
        product = await self.gw.product(pl["item"])
        lot = await self.gw.lot(lot_code, product)
        location = await self.gw.bin(bin_code)
        target = await asyncio.to_thread(self.journal.issued, work_order, lot_code, bin_code, event.seq, pl["kind"])
        if pl["kind"] == "return":
            return await self._material_return(production, product, lot, location, target)
        moves = await self.gw.search_read("stock.move", [["production_input", "=", production.id], ["lot", "=", lot],
                                                         ["from_location", "=", location],
                                                         ["state", "!=", "cancelled"]], ["id", "quantity"])
        booked = sum((dec(m["quantity"]) for m in moves), Decimal(0))
        missing = target - booked
        if missing <= 0:
            if production.state in ("waiting", "assigned"):
                await self.running(production)  # a move added before a failed run: run now
            return False
        if production.state in ("running", "assigned"):
            await self.gw.button("production", "wait", [production.id])
            await self.state(production)
        if production.state != "waiting":
            raise Refused("WRONG_STATE", f"production {work_order} is {production.state} in Tryton: it takes no "
                                         "more material", "work_order")
        await self.gw.write("production", [production.id], {"inputs": [["create", [{
            "product": product.id, "unit": product.unit, "quantity": qty(missing), "lot": lot,
            "from_location": location, "to_location": production.location,
            "company": self.gw.company}]]]})
        await self.running(production)
        return True

    async def _material_return(self, production: Production, product: Product, lot: int, location: int,
                               target: Decimal) -> bool:
        """Material returned from the order to a bin: an output move of that lot from the production back to the
        bin (Tryton's inputs are done once the production runs), done at once. Reconciled like consumption."""
        moves = await self.gw.search_read("stock.move", [["production_output", "=", production.id], ["lot", "=", lot],
                                                         ["to_location", "=", location], ["product", "=", product.id],
                                                         ["state", "!=", "cancelled"]], ["id", "quantity", "state"])
        missing = target - sum((dec(m["quantity"]) for m in moves), Decimal(0))
        if missing > 0:
            if production.state not in RELEASED_STATES:
                raise Refused("WRONG_STATE", f"production {production.number} is {production.state} in Tryton",
                              "work_order")
            await self.gw.write("production", [production.id], {"outputs": [["create", [{
                "product": product.id, "unit": product.unit, "quantity": qty(missing), "lot": lot,
                "from_location": production.location, "to_location": location,
                "company": self.gw.company, "unit_price": Decimal(0),
                "currency": await self.gw.currency()}]]]})
            moves = await self.gw.search_read("stock.move", [
                ["production_output", "=", production.id], ["lot", "=", lot], ["to_location", "=", location],
                ["product", "=", product.id], ["state", "!=", "cancelled"]], ["id", "quantity", "state"])
        draft = [m["id"] for m in moves if m["state"] in ("draft", "assigned")]
        if draft:
            await self.gw.button("stock.move", "do", draft)
        return missing > 0 or bool(draft)

    async def lot_received(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        product = await self.gw.product(pl["item"])
        work_order = pl.get("work_order")  # the edge's own fact (ReceiveProducedLot), when it has it
        if work_order is None:
            if pl.get("purchase_order") or pl.get("supplier_lot") or not product.producible:
                return await self.receipts.receipt(event, product)
            # a plain receipt of a made item: the order that was making it then (an inference, for events
            # recorded without their order)
            work_order = await asyncio.to_thread(self.journal.maker, pl["item"], event.seq)
        if work_order is None:
            raise Refused("NO_WORK_ORDER", f"no work order was making {pl['item']} when lot {pl['lot']} was "
                                           "recorded", "lot")
        production = await self.gw.production(work_order)
        lot = await self.gw.lot(pl["lot"], product, create=True, expiry=pl.get("expiry"))
        location = await self.gw.bin(pl["bin"])
        moves = await self.gw.search_read("stock.move", [["production_output", "=", production.id], ["lot", "=", lot],
                                                         ["state", "!=", "cancelled"]], ["id", "state"])
        created = False
        if not moves:
            if production.state in ("done", "cancelled"):
                raise Refused("WRONG_STATE", f"production {work_order} is {production.state} in Tryton", "lot")
            await self.gw.write("production", [production.id], {"outputs": [["create", [{
                "product": product.id, "unit": product.unit, "quantity": qty(Decimal(pl["quantity"])), "lot": lot,
                "from_location": production.location, "to_location": location,
                "company": self.gw.company, "unit_price": Decimal(0),
                "currency": await self.gw.currency()}]]]})
            moves = await self.gw.search_read("stock.move", [["production_output", "=", production.id],
                                                             ["lot", "=", lot], ["state", "!=", "cancelled"]],
                                              ["id", "state"])
            created = True
        draft = [m["id"] for m in moves if m["state"] in ("draft", "assigned")]
        if draft:
            await self.gw.button("stock.move", "do", draft)
            created = True
        return created

    async def work_order_completed(self, event: p.SyncEvent) -> bool:
        production = await self.gw.production(event.payload["work_order"])
        if production.state == "done":
            return False
        await self.running(production)
        works = await self.gw.search_read("production.work", [["production", "=", production.id]],
                                          ["sequence", "state"])
        unfinished = [str(w["sequence"]) for w in works if w["state"] != "finished"]
        if unfinished:
            raise Refused("OPERATIONS_OPEN", f"production {production.number} has works not finished in Tryton: "
                                             f"steps {', '.join(unfinished)}", "work_order")
        await self.quality.settled(production)
        answer = await self.gw.button("production", "do", [production.id])
        if await self.state(production) != "done":
            if answer:  # Tryton's inspection wizard: a quality control of production:do has no inspection yet
                controls = await self.gw.search_read("quality.control", [["operations", "in", "production:do"]],
                                                     ["name"])
                names = ", ".join(sorted({str(c["name"]) for c in controls})) or "?"
                raise Refused("INSPECTION_REQUIRED", f"Tryton requires an inspection ({names}) of production "
                                                     f"{production.number} before it is done: record it at the "
                                                     "edge for the work order, then retry", "work_order")
            raise Refused("NOT_DONE", f"Tryton did not do production {production.number}", "work_order")
        return True
