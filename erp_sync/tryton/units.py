"""The Tryton adapter's serials: a unit serialised at the edge (``UnitSerialised``) becomes a ``stock.lot`` of its
product in Tryton, numbered by the serial, where the product is lot-tracked there (``lot_required`` on its
template: Tryton's lots are its only trace of a serial; a product Tryton does not track by lot keeps no record of
it, and the event is acknowledged without a booking). A redelivery finds the lot and books nothing twice."""
from __future__ import annotations

from erp_sync import protocol as p
from erp_sync.tryton.gateway import TrytonGateway


class SerialBookings:
    def __init__(self, gateway: TrytonGateway) -> None:
        self.gw = gateway
        self._tracked: dict[int, bool] = {}

    async def tracked(self, product: int) -> bool:
        """Whether Tryton tracks the product by lot (its template requires a lot somewhere)."""
        found = self._tracked.get(product)
        if found is None:
            rows = await self.gw.read("product.product", [product], ["template.lot_required"])
            found = self._tracked[product] = bool(((rows[0].get("template.") or {}) if rows else {}).get(
                "lot_required"))
        return found

    async def unit_serialised(self, event: p.SyncEvent) -> bool | None:
        pl = event.payload
        product = await self.gw.product(str(pl["item"]))
        if not await self.tracked(product.id):
            return None
        serial = str(pl["serial"])
        rows = await self.gw.search_read("stock.lot", [["number", "=", serial], ["product", "=", product.id]], ["id"],
                                         limit=1)
        if rows:
            return False
        await self.gw.lot(serial, product, create=True)
        return True
