"""The Tryton adapter's stock bookings: stock moved at the edge as Tryton moves, internal shipments and inventories.

A ``StockMoved`` of kind ``issue`` or ``return`` on a work order is the production's (:mod:`.production`);
``move``/``putaway``/``pick``/``replenish`` between two bins is an internal shipment (``reference`` ``takt:<event id>``:
created, waited, assigned, done; consecutive ones of different lots together, :meth:`StockBookings.bin_moves`);
``scrap``, and a count that found less, a one-line inventory whose confirmation moves the quantity to the
warehouse's lost-and-found location. A count that found more, and other kinds, are refused as ``NOT_SUPPORTED``;
``ship`` has no booking of its own (the ``PalletShipped`` recorded after it books the delivery).
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from erp_sync import protocol as p
from erp_sync.tryton.gateway import Refused, TrytonGateway, dec, qty
from erp_sync.tryton.journal import EdgeJournal
from erp_sync.tryton.production import ProductionBookings

# between two bins: an internal shipment (a kitting pick goes to staging, a wave pick to packing, a replenishment to
# its line-side bin)
BIN_MOVES = ("move", "putaway", "pick", "replenish")


class StockBookings:
    """Stock moves between bins, out of bins, and to and from productions."""

    def __init__(self, gateway: TrytonGateway, journal: EdgeJournal, orders: ProductionBookings) -> None:
        self.gw = gateway
        self.journal = journal
        self.orders = orders

    async def stock_moved(self, event: p.SyncEvent) -> bool | None:
        """True booked now, False there already, None no booking of its own (``ship``)."""
        kind = event.payload["kind"]
        if kind in ("issue", "return") and event.payload.get("work_order"):
            return await self.orders.consumption(event)
        if kind in BIN_MOVES:
            return await self.bin_move(event)
        if kind == "scrap" or (kind == "adjust" and event.payload.get("from_bin")) or kind == "issue":
            # an issue to no work order: spare parts for maintenance (Tryton has no maintenance module), booked out
            # of their bin like a loss: the maintenance request itself is acknowledged without a booking
            return await self.scrap(event)
        if kind == "adjust":
            # Found more than the bin held: Tryton's moves from lost-and-found into a bin also carry go-live stock
            # and counts made in Tryton, so the edge could not tell a lost answer from a booked one.
            raise Refused("NOT_SUPPORTED", f"a count that found {event.payload['quantity']} more of lot "
                          f"{event.payload['lot']} in bin {event.payload['to_bin']} is not booked in Tryton by this "
                          "adapter: count the bin in Tryton (an inventory), then set this exception aside", "kind")
        if kind == "ship":  # its lot left on a pallet: the PalletShipped recorded right after books the delivery
            return None
        raise Refused("NOT_SUPPORTED", f"a {kind} stock movement is not booked in Tryton by this adapter", "kind")

    async def bin_move(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        reference = f"takt:{event.event_id}"
        found = await self.gw.search_read("stock.shipment.internal", [["reference", "=", reference]], ["id", "state"])
        if found:
            shipment, state = int(found[0]["id"]), str(found[0]["state"])
            created = False
        else:
            product = await self.gw.product(pl["item"])
            lot = await self.gw.lot(pl["lot"], product)
            source, target = await self.gw.bin(pl["from_bin"]), await self.gw.bin(pl["to_bin"])
            day = datetime.fromisoformat(pl["at"]).date()
            shipment = (await self.gw.create("stock.shipment.internal", {
                "reference": reference, "from_location": source, "to_location": target, "planned_date": day,
                "planned_start_date": day, "company": self.gw.company,
                "moves": [["create", [{"product": product.id, "unit": product.unit, "quantity": qty(
                    Decimal(pl["quantity"])), "lot": lot, "from_location": source, "to_location": target,
                    "company": self.gw.company}]]]}))[0]
            state, created = "draft", True
        if state == "draft":
            await self.gw.button("stock.shipment.internal", "wait", [shipment])
            state = "waiting"
        if state == "waiting":
            await self.gw.button("stock.shipment.internal", "assign_try", [shipment])
            state = str((await self.gw.read("stock.shipment.internal", [shipment], ["state"]))[0]["state"])
            if state == "waiting":
                raise Refused("NOT_ASSIGNED", f"Tryton cannot assign lot {pl['lot']} in {pl['from_bin']}: its "
                                              "stock there does not cover the move", "lot")
        if state in ("assigned", "packed", "shipped"):
            await self.gw.button("stock.shipment.internal", "do", [shipment])
            return True
        return created

    async def bin_moves(self, run: list[p.SyncEvent]) -> dict[int, bool]:
        """Bin moves of different lots in a handful of calls whatever their number: the shipments are searched,
        created, waited, assigned and done together. Returns seq -> created for the ones that are done; the
        others (not assignable yet) are left to the one-by-one path."""
        refs = {f"takt:{e.event_id}": e for e in run}
        found = {r["reference"]: (int(r["id"]), str(r["state"])) for r in await self.gw.search_read(
            "stock.shipment.internal", [["reference", "in", list(refs)]], ["id", "reference", "state"])}
        missing = [e for ref, e in refs.items() if ref not in found]
        if missing:
            numbers = sorted({e.payload["lot"] for e in missing})
            lot_ids = {(r["number"], r["product"]): int(r["id"]) for r in await self.gw.search_read(
                "stock.lot", [["number", "in", numbers]], ["id", "number", "product"])}
            company = self.gw.company
            values = []
            taken = []
            for e in missing:
                pl = e.payload
                try:  # what Tryton does not know is left to the one-by-one path, which refuses it
                    product = await self.gw.product(pl["item"])
                    source, target = await self.gw.bin(pl["from_bin"]), await self.gw.bin(pl["to_bin"])
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
                                           "quantity": qty(Decimal(pl["quantity"])), "lot": lot,
                                           "from_location": source, "to_location": target, "company": company}]]]})
            if values:
                for e, sid in zip(taken, await self.gw.create("stock.shipment.internal", *values), strict=True):
                    found[f"takt:{e.event_id}"] = (sid, "draft")
            missing = taken
        created = {f"takt:{e.event_id}" for e in missing}
        draft = [sid for sid, state in found.values() if state == "draft"]
        if draft:
            await self.gw.button("stock.shipment.internal", "wait", draft)
        waiting = [sid for sid, state in found.values() if state in ("draft", "waiting")]
        if waiting:
            await self.gw.button("stock.shipment.internal", "assign_try", waiting)
        ids = [sid for sid, _ in found.values()]
        if not ids:
            return {}
        states = {int(r["id"]): str(r["state"]) for r in await self.gw.read("stock.shipment.internal", ids, ["state"])}
        assigned = [sid for sid in ids if states[sid] in ("assigned", "packed", "shipped")]
        if assigned:
            await self.gw.button("stock.shipment.internal", "do", assigned)
        by_id = {sid: ref for ref, (sid, _) in found.items()}
        return {refs[by_id[sid]].seq: (by_id[sid] in created or sid in assigned) for sid in ids
                if sid in assigned or states[sid] == "done"}

    async def scrap(self, event: p.SyncEvent) -> bool:
        """Scrap from a bin, or a count that found less than the bin held: Tryton books losses by inventory, so a
        one-line inventory of the bin counts the lot at what Tryton has there less what is still to leave, and its
        confirmation moves the difference to the warehouse's lost-and-found location. Reconciled: the lot's moves
        from the bin to lost-and-found are brought up to what the edge scrapped and found short there as of this
        event."""
        pl = event.payload
        product = await self.gw.product(pl["item"])
        lot = await self.gw.lot(pl["lot"], product)
        location = await self.gw.bin(pl["from_bin"])
        wh = await self.gw.warehouse()
        target = await asyncio.to_thread(self.journal.lost, pl["lot"], pl["from_bin"], event.seq)
        moves = await self.gw.search_read("stock.move", [["lot", "=", lot], ["from_location", "=", location],
                                                         ["to_location", "=", wh["lost_found"]],
                                                         ["state", "=", "done"]], ["quantity"])
        missing = target - sum((dec(m["quantity"]) for m in moves), Decimal(0))
        if missing <= 0:
            return False
        rows = await self.gw.search_read("stock.lot", [["id", "=", lot]], ["quantity"],
                                         context={"locations": [location]})
        counted = dec(rows[0]["quantity"]) - missing if rows else -missing
        if counted < 0:
            raise Refused("NOT_ENOUGH_STOCK", f"Tryton has {counted + missing} of lot {pl['lot']} in {pl['from_bin']}"
                                              f", less than the {missing} to book out of it", "quantity")
        drafts = await self.gw.search_read("stock.inventory", [["location", "=", location], ["state", "=", "draft"],
                                                               ["lines.lot", "=", lot]], ["id", "lines"])
        if drafts:  # left by an attempt whose answer was lost: count it again and confirm it
            inventory = int(drafts[0]["id"])
            await self.gw.write("stock.inventory.line", drafts[0]["lines"], {"quantity": qty(counted)})
        else:
            inventory = (await self.gw.create("stock.inventory", {
                "location": location, "date": datetime.fromisoformat(pl["at"]).date(),
                "company": self.gw.company, "empty_quantity": "keep",
                "lines": [["create", [{"product": product.id, "lot": lot, "quantity": qty(counted)}]]]}))[0]
        await self.gw.button("stock.inventory", "confirm", [inventory])
        return True
