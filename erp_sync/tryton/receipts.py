"""The Tryton adapter's receipt bookings: a lot received from a supplier goes onto the supplier shipment of the
purchase it was received against.

``LotReceived`` with a ``purchase_order`` (ReceiveAgainstPurchaseOrder), of a bought item, or with a supplier lot
is a receipt: a waiting incoming move of that purchase's line for the item (without a purchase order in the event,
the oldest waiting one of any purchase of the item: an inference) gets the lot and the received quantity and goes
on a supplier shipment (``reference`` ``takt:<event id>``) that is received into the edge's bin and done.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from erp_sync import protocol as p
from erp_sync.tryton.gateway import Product, Refused, TrytonGateway, qty


class ReceiptBookings:
    """Goods receipts against Tryton's purchases."""

    def __init__(self, gateway: TrytonGateway) -> None:
        self.gw = gateway

    async def receipt(self, event: p.SyncEvent, product: Product) -> bool:
        """A lot received from a supplier: the oldest waiting incoming move of a purchase of that item is given the
        lot and the received quantity, put on a supplier shipment (``reference`` ``takt:<event id>``) that is
        received into the edge's bin and done."""
        pl = event.payload
        reference = f"takt:{event.event_id}"
        wh = await self.gw.warehouse()
        found = await self.gw.search_read("stock.shipment.in", [["reference", "=", reference]], ["id", "state"])
        lot = await self.gw.lot(pl["lot"], product, create=True, expiry=pl.get("expiry"))
        location = await self.gw.bin(pl["bin"])
        created = False
        if found:
            shipment, state = int(found[0]["id"]), str(found[0]["state"])
        else:
            mine = await self.gw.search_read("stock.move", [["lot", "=", lot], ["from_location.type", "=", "supplier"],
                                                            ["state", "=", "draft"], ["shipment", "=", None]],
                                             ["id", "origin"], limit=1)
            if not mine:
                number = pl.get("purchase_order")  # the edge's own fact (ReceiveAgainstPurchaseOrder)
                if number:
                    lines = await self.gw.search_read("purchase.line", [["purchase.number", "=", number],
                                                                        ["product", "=", product.id]], ["id"])
                    if not lines:
                        raise Refused("UNKNOWN_PURCHASE_ORDER", f"Tryton has no purchase {number} of "
                                                                f"{product.code}", "purchase_order")
                    origin: list[Any] = ["origin", "in", [f"purchase.line,{ln['id']}" for ln in lines]]
                else:  # an inference, for receipts recorded without their order: the oldest waiting purchase
                    origin = ["origin", "like", "purchase.line,%"]
                mine = await self.gw.search_read("stock.move", [
                    ["product", "=", product.id], ["from_location.type", "=", "supplier"], ["state", "=", "draft"],
                    ["shipment", "=", None], origin, ["lot", "=", None]],
                    ["id", "origin"], limit=1, order=[["planned_date", "ASC"], ["id", "ASC"]])
                if not mine:
                    if number:
                        raise Refused("NO_PURCHASE", f"purchase {number} in Tryton awaits no more {product.code}",
                                      "purchase_order")
                    raise Refused("NO_PURCHASE", f"no purchase in Tryton awaits {product.code}: receive it against "
                                                 "a purchase order there first", "item")
                await self.gw.write("stock.move", [mine[0]["id"]], {
                    "lot": lot, "quantity": qty(Decimal(pl["quantity"]))})
            move = int(mine[0]["id"])
            line = int(str(mine[0]["origin"]).split(",")[1])
            purchase = (await self.gw.read("purchase.line", [line], ["purchase.party"]))[0]
            party = (purchase.get("purchase.") or {}).get("party")
            shipment = (await self.gw.create("stock.shipment.in", {
                "reference": reference, "supplier": party, "warehouse": wh["id"], "warehouse_input": wh["input"],
                "warehouse_storage": wh["storage"],
                "company": self.gw.company, "incoming_moves": [["add", [move]]]}))[0]
            state, created = "draft", True
        if state == "draft":
            await self.gw.button("stock.shipment.in", "receive", [shipment])
            state, created = "received", True
        if state == "received":
            inventory = await self.gw.search_read("stock.move", [["shipment", "=", f"stock.shipment.in,{shipment}"],
                                                                 ["from_location", "=", wh.get("input", -1)],
                                                                 ["state", "in", ["draft", "assigned"]]], ["id"])
            if not inventory:
                inventory = await self.gw.search_read("stock.move", [
                    ["shipment", "=", f"stock.shipment.in,{shipment}"], ["to_location.type", "=", "storage"],
                    ["from_location.type", "=", "storage"], ["state", "in", ["draft", "assigned"]]], ["id"])
            if inventory:
                await self.gw.write("stock.move", [m["id"] for m in inventory],
                                    {"to_location": location, "lot": lot})
            await self.gw.button("stock.shipment.in", "do", [shipment])
            created = True
        return created
