"""The Tryton adapter's shipment bookings: an SSCC pallet shipped against a sales order as a customer shipment.

``PalletShipped`` is a delivery to the sale's customer: a customer shipment (``stock.shipment.out``,
``reference`` ``takt:<event id>``) whose inventory moves are the pallet's lots and quantities from the edge's bin
to the warehouse's output, brought through Tryton's flow (waiting, assigned, picked, packed, done). The sale's own
waiting shipment is taken when Tryton made one that covers the pallet's lines; see ``docs/tryton.md``.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from erp_sync import protocol as p
from erp_sync.tryton.gateway import Product, Refused, TrytonGateway, dec, qty


class ShipmentBookings:
    """Customer shipments of pallets."""

    def __init__(self, gateway: TrytonGateway) -> None:
        self.gw = gateway

    async def pallet_shipped(self, event: p.SyncEvent) -> bool:
        """A pallet shipped against a sales order: a customer shipment (``reference`` ``takt:<event id>``) of the
        sale's lines on the pallet, its inventory moves the pallet's lots and quantities from the edge's bin to the
        warehouse's output, brought through Tryton's flow (waiting, assigned, picked, packed, done). It is the
        sale's own waiting shipment when Tryton made one (``shipment_method`` on order) that covers those lines,
        else a new one whose outgoing moves have the sale's lines as origin (see ``docs/tryton.md``)."""
        pl = event.payload
        reference = f"takt:{event.event_id}"
        found = await self.gw.search_read("stock.shipment.out", [["reference", "=", reference]], ["id", "state"])
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
            await self.gw.button("stock.shipment.out", "wait", [shipment])
            state = "waiting"
        if state == "waiting":
            await self._pallet_inventory_moves(shipment, pl, shipped)
            await self.gw.button("stock.shipment.out", "assign_try", [shipment])
            state = str((await self.gw.read("stock.shipment.out", [shipment], ["state"]))[0]["state"])
            if state == "waiting":
                raise Refused("NOT_ASSIGNED", f"Tryton cannot assign pallet {pl['sscc']} from {pl['bin']}: its stock "
                                              "of the pallet's lots there does not cover it", "sscc")
            created = True
        if state == "assigned":
            await self.gw.button("stock.shipment.out", "pick", [shipment])
            state = "picked"
        if state == "picked":
            await self.gw.button("stock.shipment.out", "pack", [shipment])
            state = "packed"
        if state in ("packed", "shipped"):
            await self.gw.button("stock.shipment.out", "do", [shipment])
            return True
        if state != "done":
            raise Refused("WRONG_STATE", f"the customer shipment of pallet {pl['sscc']} is {state} in Tryton", "sscc")
        return created

    async def _shipped_lines(self, pl: dict[str, Any]) -> list[tuple[dict[str, Any], Product, int, Decimal]]:
        """The pallet's lines as (Tryton sale line, product, lot id, quantity). The edge numbers a sales order's
        lines as the pull handed them out (the sale's lines with a product and a quantity, in Tryton's order)."""
        sales = await self.gw.search_read("sale.sale", [["number", "=", pl["sales_order"]]], [
            "id", "state", "party", "party.code", "party.name", "shipment_address", "warehouse", "currency",
            "lines"], limit=1)
        if not sales:
            raise Refused("UNKNOWN_SALES_ORDER", f"Tryton has no sale {pl['sales_order']}", "sales_order")
        sale = sales[0]
        party = sale.get("party.") or {}
        if pl["customer"] not in (party.get("code"), party.get("name")):
            raise Refused("UNKNOWN_CUSTOMER", f"sale {pl['sales_order']} in Tryton is for {party.get('name')} "
                                              f"({party.get('code')}), not customer {pl['customer']}", "customer")
        lines = [ln for ln in await self.gw.read("sale.line", sale["lines"], [
            "type", "product", "product.code", "quantity", "unit", "unit_price"]) if ln["type"] == "line"
            and (ln.get("product.") or {}).get("code") and ln["quantity"]] if sale["lines"] else []
        out = []
        for shipped in pl["lines"]:
            number = int(shipped["line"])
            if not 1 <= number <= len(lines) or lines[number - 1]["product."]["code"] != shipped["item"]:
                raise Refused("UNKNOWN_SALES_ORDER_LINE", f"sale {pl['sales_order']} in Tryton has no line {number} "
                                                          f"of {shipped['item']}", "lines")
            line = {**lines[number - 1], "sale": sale}
            product = await self.gw.product(shipped["item"])
            out.append((line, product, await self.gw.lot(shipped["lot"], product), Decimal(shipped["quantity"])))
        return out

    async def _customer_shipment(self, reference: str, pl: dict[str, Any],
                                 shipped: list[tuple[dict[str, Any], Product, int, Decimal]]) -> tuple[int, str]:
        """The customer shipment for a pallet, referenced: the sale's own shipment, not picked yet and without a
        reference, that has an outgoing move of every sale line on the pallet (set back to waiting first, which
        gives back stock Tryton reserved for it), or else a new draft one. Refused when the sale's lines wait on
        shipments that cannot be taken (picked or packed in Tryton already, or the lines split over several)."""
        origins = sorted({f"sale.line,{line['id']}" for line, *_ in shipped})
        candidates = await self.gw.search_read("stock.shipment.out", [
            ["state", "in", ["draft", "waiting", "assigned"]], ["reference", "=", None],
            ["moves.origin", "in", origins]], ["id", "state", "outgoing_moves"], order=[["id", "ASC"]])
        for candidate in candidates:
            moves = await self.gw.read("stock.move", candidate["outgoing_moves"], ["origin", "state"]) if candidate[
                "outgoing_moves"] else []
            if set(origins) <= {str(m["origin"]) for m in moves if m["state"] not in ("done", "cancelled")}:
                # back to waiting before it is referenced: a lost answer then finds it again as a candidate
                await self.gw.button("stock.shipment.out", "wait", [int(candidate["id"])])
                await self.gw.write("stock.shipment.out", [candidate["id"]], {"reference": reference})
                return int(candidate["id"]), "waiting"
        pending = await self.gw.search_read("stock.move", [["origin", "in", origins],
                                                           ["state", "not in", ["done", "cancelled"]]],
                                            ["shipment"])
        if pending:
            busy = sorted({str(m["shipment"]) for m in pending if m["shipment"]})
            numbers = [str(r["number"]) for r in await self.gw.read("stock.shipment.out", [
                int(b.split(",")[1]) for b in busy if b.startswith("stock.shipment.out,")], ["number"])]
            raise Refused("SALE_SHIPMENT_BUSY", f"sale {pl['sales_order']} awaits its lines on the pallet on customer "
                                                f"shipment(s) {', '.join(numbers) or '?'} in Tryton, picked or packed "
                                                "there already, or split over several: settle them in Tryton (reset "
                                                "to waiting, or cancel what the pallet delivers), then retry", "sscc")
        sale = shipped[0][0]["sale"]
        wh = await self.gw.warehouse()
        customer = (await self.gw.read("party.party", [sale["party"]], ["customer_location"]))[0]["customer_location"]
        company = self.gw.company
        day = datetime.fromisoformat(pl["at"]).date()
        moves = [{"product": product.id, "unit": line["unit"], "quantity": qty(quantity), "lot": lot,
                  "from_location": wh["output"], "to_location": customer, "company": company,
                  "origin": f"sale.line,{line['id']}", "unit_price": line["unit_price"], "currency": sale["currency"],
                  "planned_date": day} for line, product, lot, quantity in shipped]
        shipment = (await self.gw.create("stock.shipment.out", {
            "reference": reference, "customer": sale["party"], "delivery_address": sale["shipment_address"],
            "warehouse": wh["id"], "warehouse_storage": wh["storage"], "warehouse_output": wh["output"],
            "company": company, "planned_date": day,
            "moves": [["create", moves]]}))[0]
        return shipment, "draft"

    async def _pallet_inventory_moves(self, shipment: int, pl: dict[str, Any],
                                      shipped: list[tuple[dict[str, Any], Product, int, Decimal]]) -> None:
        """The waiting shipment's inventory moves become the pallet's: each lot and quantity from the edge's bin
        to the output, for the outgoing move of its sale line (Tryton then syncs the outgoing moves to them at
        ``pick``: by lot, and a line not on the pallet to nothing, which the sale ships later)."""
        rows = await self.gw.read("stock.shipment.out", [shipment], ["inventory_moves", "outgoing_moves"])
        inventory = await self.gw.read("stock.move", rows[0]["inventory_moves"], [
            "state", "lot", "from_location", "origin", "quantity"]) if rows[0]["inventory_moves"] else []
        outgoing = await self.gw.read("stock.move", rows[0]["outgoing_moves"], ["origin", "lot", "state"]) if rows[0][
            "outgoing_moves"] else []
        location, wh = await self.gw.bin(pl["bin"]), await self.gw.warehouse()
        company = self.gw.company
        values = []
        for line, product, lot, quantity in shipped:
            mine = [m for m in outgoing if m["origin"] == f"sale.line,{line['id']}" and m["state"] != "cancelled"]
            mine.sort(key=lambda m: (m["lot"] != lot, m["lot"] is not None))  # its lot's move, else one without
            if not mine:
                raise Refused("UNKNOWN_SALES_ORDER_LINE", f"the customer shipment of pallet {pl['sscc']} has no move "
                                                          f"of sale line {line['id']}", "lines")
            origin = f"stock.move,{mine[0]['id']}"
            # moves an earlier attempt got assigned stay (a draft cannot be told from Tryton's own: they go)
            assigned = sum((dec(m["quantity"]) for m in inventory if m["state"] == "assigned" and m["lot"] == lot
                            and m["from_location"] == location and m["origin"] == origin), Decimal(0))
            if quantity > assigned:
                values.append({"product": product.id, "unit": line["unit"], "quantity": qty(quantity - assigned),
                               "lot": lot, "from_location": location, "to_location": wh["output"],
                               "company": company, "origin": origin})
        drafts = [m["id"] for m in inventory if m["state"] in ("staging", "draft")]
        changes = [*([["delete", drafts]] if drafts else []), *([["create", values]] if values else [])]
        if changes:
            await self.gw.write("stock.shipment.out", [shipment], {"inventory_moves": changes})
