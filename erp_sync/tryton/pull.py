"""The Tryton adapter's pull: what changed in Tryton since a cursor, as the sync's change feed.

Tryton has no change feed; every record has ``create_date``/``write_date`` stamped with its transaction's start.
A read lists, in dependency order, goods products (items), the warehouse's storage locations (bins), lots of goods,
quality controls (inspection plans), confirmed purchases and sales, and released or cancelled productions (work
orders). The cursor is the stamp in microseconds since 1970 (UTC) of the last change handed out; a read goes back
an overlap window before it (a long transaction can commit rows stamped before the watermark), and the pages that
follow a feed saying ``more`` list only rows stamped after the cursor. ``docs/tryton.md`` tells the whole of it.
"""
from __future__ import annotations

import asyncio
from datetime import UTC
from decimal import Decimal
from typing import Any

from erp_sync import protocol as p
from erp_sync.client import CentralUnavailable
from erp_sync.tryton.gateway import (
    RELEASED_STATES,
    Refused,
    TrytonGateway,
    dec,
    from_stamp_us,
    opt_dec,
    stamp_us,
)
from erp_sync.tryton.journal import EdgeJournal

REVISION = "1"  # Tryton keeps no item revisions
_KIND_ORDER = {"item": 0, "bin": 1, "lot": 2, "inspection_plan": 3, "purchase_order": 4, "customer": 5,
               "sales_order": 6, "work_order": 7}


class TrytonPull:
    """Reads Tryton's changes for one node."""

    def __init__(self, gateway: TrytonGateway, journal: EdgeJournal, node: str, *, overlap_s: float = 120.0) -> None:
        self.gw = gateway
        self.journal = journal
        self.node = node
        self.overlap_us = int(overlap_s * 1_000_000)
        self._seen: dict[tuple[str, int], int] = {}  # (model, id) -> stamp handed out
        self._paging: int | None = None  # the cursor of a feed that said more: its next page reads no overlap

    async def changes(self, after: int, limit: int) -> p.ChangeFeed:
        """What changed in Tryton since the stamp ``after`` (see the module's docstring and ``docs/tryton.md``)."""
        try:
            return await self.gw.again("changes", lambda: self._changes(after, limit))
        except Refused as refusal:  # a read Tryton refuses is its failure, not a change this node can refuse
            raise CentralUnavailable(f"Tryton refused to list its changes: {refusal.message}") from None

    async def _changes(self, after: int, limit: int) -> p.ChangeFeed:
        since = from_stamp_us(max(after - self.overlap_us, 0)) if after > 0 else None
        wh = await self.gw.warehouse()
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
                rows = await self.gw.search_read(model, domain, ["id", "write_date", "create_date"],
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
                    for row in await self.gw.search_read(model, [*domain, ["OR", ["write_date", "=", at], [
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
            found = await self.gw.search_read(model, [*domain, *extra], ["id", "write_date", "create_date"],
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
            rows = await self.gw.read(model, ids, ["code", "name", "default_uom.symbol", "template.lot_required",
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
            for r in await self.gw.read(model, ids, ["code", "name", "parent.code"]):
                code = r.get("code") or r["name"]
                zone = (r.get("parent.") or {}).get("code") or self.gw.warehouse_code
                change(r["id"], "bin", code, p.BinChange(bin=code, zone=zone))
        elif model == "stock.lot":
            for r in await self.gw.read(model, ids, ["number", "product.code", "expiration_date",
                                                     "shelf_life_expiration_date"]):
                item = (r.get("product.") or {}).get("code")
                if not r.get("number") or not item:
                    continue
                dates = [d for d in (r.get("expiration_date"), r.get("shelf_life_expiration_date")) if d]
                change(r["id"], "lot", r["number"], p.LotChange(lot=r["number"], item=item,
                                                                expiry=min(dates) if dates else None))
        elif model == "quality.control":
            for r in await self.gw.read(model, ids, ["name", "product.code", "points"]):
                points = await self.gw.read("quality.control.point", r["points"], [
                    "name", "string", "type_", "tolerance_lower", "tolerance_upper"]) if r[
                    "points"] else []
                if not points:
                    continue
                characteristics = [p.CharacteristicChange(
                    characteristic=pt["name"], kind="attribute" if pt["type_"] == "boolean" else "numeric",
                    lsl=opt_dec(pt.get("tolerance_lower")), usl=opt_dec(pt.get("tolerance_upper")))
                    for pt in points]
                change(r["id"], "inspection_plan", r["name"], p.InspectionPlanChange(
                    plan=r["name"], description=r["name"], characteristics=characteristics,
                    item=(r.get("product.") or {}).get("code")))
        elif model == "purchase.purchase":
            for r in await self.gw.read(model, ids, ["number", "state", "party.code", "party.name", "lines"]):
                lines = [ln for ln in await self.gw.read("purchase.line", r["lines"], [
                    "type", "product.code", "quantity", "delivery_date"]) if ln["type"] == "line"
                    and (ln.get("product.") or {}).get("code") and ln["quantity"]]
                if not r.get("number") or not lines:
                    continue
                party = r.get("party.") or {}
                change(r["id"], "purchase_order", r["number"], p.PurchaseOrderChange(
                    purchase_order=r["number"], supplier=party.get("code") or party.get("name") or "?",
                    status="cancelled" if r["state"] == "cancelled" else "open",
                    lines=[p.PurchaseOrderLineChange(line=i, item=ln["product."]["code"], quantity=dec(ln["quantity"]),
                                                     due=ln.get("delivery_date"))
                           for i, ln in enumerate(lines, start=1)]))
        elif model == "sale.sale":
            for r in await self.gw.read(model, ids, ["number", "state", "party.code", "party.name", "lines"]):
                lines = [ln for ln in await self.gw.read("sale.line", r["lines"], [
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
                    lines=[p.SalesOrderLineChange(line=i, item=ln["product."]["code"], quantity=dec(ln["quantity"]),
                                                  due=ln.get("shipping_date"))
                           for i, ln in enumerate(lines, start=1)]))
        elif model == "production":
            for r in await self.gw.read(model, ids, ["number", "state", "product", "product.code", "quantity", "bom",
                                                     "bom.name",
                                                     "routing", "planned_date", "works"]):
                if not r.get("number") or not (r.get("product.") or {}).get("code"):
                    continue
                if r["state"] == "cancelled":
                    if not await asyncio.to_thread(self.journal.known_here, r["number"]):
                        continue  # cancelled before it ever reached this node: nothing to say
                    continue_payload = p.WorkOrderChange(
                        work_order=r["number"], status="cancelled", item=r["product."]["code"],
                        item_revision=REVISION, bom_revision="-", quantity=dec(r["quantity"]) or Decimal(1))
                    change(r["id"], "work_order", r["number"], continue_payload)
                    continue
                operations, bom = await self._order_content(r)
                change(r["id"], "work_order", r["number"], p.WorkOrderChange(
                    work_order=r["number"], status="released", item=r["product."]["code"], item_revision=REVISION,
                    bom_revision=(r.get("bom.") or {}).get("name") or "-", quantity=dec(r["quantity"]),
                    operations=operations, bom=bom, due=r.get("planned_date")))
        return out

    async def _order_content(self, production: dict[str, Any]
                             ) -> tuple[list[p.OperationChange], list[p.BomLineChange]]:
        operations: list[p.OperationChange] = []
        if production.get("works"):
            for w in await self.gw.read("production.work", production["works"], [
                    "sequence", "operation.name", "work_center.name"]):
                operations.append(p.OperationChange(
                    operation=int(w["sequence"] or len(operations) + 1),
                    description=(w.get("operation.") or {}).get("name") or "",
                    workstation=(w.get("work_center.") or {}).get("name") or "-"))
        elif production.get("routing"):
            routing = await self.gw.read("production.routing", [production["routing"]], ["steps"])
            steps = await self.gw.read("production.routing.step", routing[0]["steps"], [
                "sequence", "operation.name", "operation.work_center_category.name"])
            for s in steps:
                op = s.get("operation.") or {}
                operations.append(p.OperationChange(
                    operation=int(s["sequence"] or len(operations) + 1), description=op.get("name") or "",
                    workstation=(op.get("work_center_category.") or {}).get("name") or "-"))
        operations.sort(key=lambda o: o.operation)
        bom: list[p.BomLineChange] = []
        if production.get("bom"):
            boms = await self.gw.read("production.bom", [production["bom"]], ["inputs", "outputs"])
            outputs = await self.gw.read("production.bom.output", boms[0]["outputs"], ["product", "quantity"])
            made = sum((dec(o["quantity"]) for o in outputs if o["product"] == production.get("product")),
                       Decimal(0)) or sum((dec(o["quantity"]) for o in outputs), Decimal(0)) or Decimal(1)
            for i, line in enumerate(await self.gw.read("production.bom.input", boms[0]["inputs"], [
                    "product.code", "quantity"]), start=1):
                code = (line.get("product.") or {}).get("code")
                if code:
                    bom.append(p.BomLineChange(line=i, item=code, item_revision=REVISION,
                                               quantity_per=(dec(line["quantity"]) / made).normalize()))
        return operations, bom
