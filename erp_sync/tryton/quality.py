"""The Tryton adapter's quality bookings: inspections as quality inspections, their verdicts, the alerts a failed
one raises, and what keeps a production from being done.

``InspectionRecorded`` becomes a quality inspection (``reference`` ``takt:<event id>``) of the control named as the
plan, with the measured points, processed, and passed or failed as the edge decided; its origin is the work
order's production or, for an inspection of a made lot, the production whose output the lot is. Consecutive
inspections are booked together (:meth:`QualityBookings.inspections`). ``NonconformanceDispositioned`` of a
nonconformance a failed inspection raised resolves that inspection's alert.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from erp_sync import protocol as p
from erp_sync.tryton.gateway import Production, Refused, TrytonGateway
from erp_sync.tryton.journal import EdgeJournal


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


class QualityBookings:
    """Inspections and alerts in Tryton's ``quality`` module."""

    def __init__(self, gateway: TrytonGateway, journal: EdgeJournal) -> None:
        self.gw = gateway
        self.journal = journal

    async def inspection(self, event: p.SyncEvent) -> bool:
        pl = event.payload
        reference = f"takt:{event.event_id}"
        found = await self.gw.search_read("quality.inspection", [["reference", "=", reference]], ["id", "state"])
        passed = bool(pl["passed"])
        if found:
            inspection, state, created = int(found[0]["id"]), str(found[0]["state"]), False
        else:
            controls = await self.controls([pl["plan"]])
            if pl["plan"] not in controls:
                raise Refused("UNKNOWN_INSPECTION_PLAN", f"Tryton has no quality control {pl['plan']}", "plan")
            row = _inspection_row(event, *controls[pl["plan"]], self.gw.company)
            if pl.get("work_order"):
                row["origin"] = f"production,{(await self.gw.production(pl['work_order'])).id}"
            elif pl.get("lot"):  # an inspection of a made lot is one of the production that made it
                made = await self.makers([pl["lot"]])
                if pl["lot"] in made:
                    row["origin"] = f"production,{made[pl['lot']]}"
            inspection = (await self.gw.create("quality.inspection", row))[0]
            state, created = "pending", True
        if state == "pending":
            await self.gw.button("quality.inspection", "process", [inspection])
            state = str((await self.gw.read("quality.inspection", [inspection], ["state"]))[0]["state"])
            created = True
        if state == "passed" and not passed:
            await self.gw.button("quality.inspection", "fail", [inspection])
            created = True
        elif state == "failed" and passed:
            await self.gw.button("quality.inspection", "pass_", [inspection])
            created = True
        return created

    async def controls(self, plans: list[str]) -> dict[str, tuple[int, dict[str, str]]]:
        """Quality controls by name: id and the type of each point."""
        controls = await self.gw.search_read("quality.control", [["name", "in", plans]], ["id", "name", "points"])
        ids = [pt for ctl in controls for pt in ctl["points"]]
        points = {int(pt["id"]): pt for pt in await self.gw.read("quality.control.point", ids, ["name", "type_"])
                  } if ids else {}
        return {str(ctl["name"]): (int(ctl["id"]), {str(points[pt]["name"]): str(points[pt]["type_"])
                                                    for pt in ctl["points"]}) for ctl in controls}

    async def makers(self, lots: list[str]) -> dict[str, int]:
        """The production whose output each of ``lots`` is in Tryton (for the lots that are one's output)."""
        rows = await self.gw.search_read("stock.move", [["lot.number", "in", lots], ["production_output", "!=", None],
                                                        ["state", "!=", "cancelled"]],
                                         ["production_output", "lot.number"])
        return {str(r["lot."]["number"]): int(r["production_output"]) for r in rows}

    async def inspections(self, run: list[p.SyncEvent]) -> dict[int, bool]:
        """Inspections in a handful of calls whatever their number: searched, created, processed, and passed or
        failed as the edge decided, together. Returns seq -> changed for the ones booked; one Tryton cannot take
        (an unknown plan, point or order) is left to the one-by-one path, which refuses it."""
        refs = {f"takt:{e.event_id}": e for e in run}
        found = {str(r["reference"]): (int(r["id"]), str(r["state"])) for r in await self.gw.search_read(
            "quality.inspection", [["reference", "in", list(refs)]], ["id", "reference", "state"])}
        created: set[str] = set()
        missing = [e for ref, e in refs.items() if ref not in found]
        if missing:
            controls = await self.controls(sorted({str(e.payload["plan"]) for e in missing}))
            numbers = sorted({str(e.payload["work_order"]) for e in missing if e.payload.get("work_order")})
            productions = {str(r["number"]): int(r["id"]) for r in await self.gw.search_read(
                "production", [["number", "in", numbers]], ["id", "number"])} if numbers else {}
            lots = sorted({str(e.payload["lot"]) for e in missing if e.payload.get("lot")
                           and not e.payload.get("work_order")})
            makers = await self.makers(lots) if lots else {}
            rows, taken = [], []
            for e in missing:
                pl = e.payload
                if pl["plan"] not in controls or (pl.get("work_order") and pl["work_order"] not in productions):
                    continue
                try:
                    row = _inspection_row(e, *controls[pl["plan"]], self.gw.company)
                except Refused:
                    continue
                if pl.get("work_order"):
                    row["origin"] = f"production,{productions[pl['work_order']]}"
                elif pl.get("lot") in makers:
                    row["origin"] = f"production,{makers[pl['lot']]}"
                rows.append(row)
                taken.append(f"takt:{e.event_id}")
            if rows:
                for ref, iid in zip(taken, await self.gw.create("quality.inspection", *rows), strict=True):
                    found[ref] = (iid, "pending")
                    created.add(ref)
        pending = [iid for iid, state in found.values() if state == "pending"]
        if pending:
            await self.gw.button("quality.inspection", "process", pending)
        states = {int(r["id"]): str(r["state"]) for r in await self.gw.read(
            "quality.inspection", [iid for iid, _ in found.values()], ["state"])} if found else {}
        verdicts = {iid: (states[iid], bool(refs[ref].payload["passed"])) for ref, (iid, _) in found.items()}
        to_fail = [iid for iid, (state, passed) in verdicts.items() if state == "passed" and not passed]
        to_pass = [iid for iid, (state, passed) in verdicts.items() if state == "failed" and passed]
        if to_fail:
            await self.gw.button("quality.inspection", "fail", to_fail)
        if to_pass:
            await self.gw.button("quality.inspection", "pass_", to_pass)
        changed = set(to_fail) | set(to_pass) | set(pending)
        return {refs[ref].seq: ref in created or iid in changed for ref, (iid, _) in found.items()}

    async def settled(self, production: Production) -> None:
        """Tryton does not finish a production while one of its inspections failed and the alert it raised is
        open: refuse with what settles it (the edge's nonconformance disposition, or the alert in Tryton)."""
        failed = await self.gw.search_read("quality.inspection", [["origin", "=", f"production,{production.id}"],
                                                                  ["state", "=", "failed"]],
                                           ["number", "reference", "alerts"])
        blocking: list[str] = []
        for inspection in failed:
            alerts = await self.gw.read("quality.alert", inspection["alerts"], ["number", "state"]) if inspection[
                "alerts"] else []
            if alerts and not any(a["state"] in ("open", "processing") for a in alerts):
                continue
            edge = await asyncio.to_thread(self.journal.edge_inspection, str(inspection.get("reference") or ""))
            blocking.append(f"{inspection['number']}" + (f" (inspection {edge} here, nonconformance NCR-{edge})"
                                                         if edge else "")
                            + (f", alert {', '.join(str(a['number']) for a in alerts)}" if alerts else ""))
        if blocking:
            raise Refused("INSPECTION_FAILED", f"Tryton does not finish production {production.number} while a "
                                               f"failed inspection's alert is open: {'; '.join(blocking)}. "
                                               "Disposition the nonconformance at the edge (or resolve or defer the "
                                               "alert in Tryton), then retry", "work_order")

    async def disposition(self, event: p.SyncEvent) -> bool | None:
        """A nonconformance dispositioned at the edge settles the alert Tryton raised for the failed inspection
        behind it: the alert gets the disposition as its description and is processed and resolved. A
        nonconformance raised by hand (no inspection) has no Tryton counterpart: None."""
        pl = event.payload
        found = await asyncio.to_thread(self.journal.inspection_behind, pl["ncr"], event.seq)
        if found is None:
            return None
        inspections = await self.gw.search_read("quality.inspection", [["reference", "=", f"takt:{found}"]],
                                                ["id", "state", "alerts"])
        if not inspections:
            raise Refused("UNKNOWN_INSPECTION", f"Tryton has no inspection for nonconformance {pl['ncr']} yet",
                          "ncr")
        alerts = await self.gw.read("quality.alert", inspections[0]["alerts"], ["id", "state"]) if inspections[0][
            "alerts"] else []
        changed = False
        for alert in alerts:
            if alert["state"] in ("resolved", "deferred"):
                continue
            if alert["state"] == "open":
                await self.gw.write("quality.alert", [alert["id"]], {
                    "description": f"Takt {pl['ncr']}: {pl['disposition']}"
                                   + (f", {pl['comment']}" if pl.get("comment") else "")
                                   + f" (by {pl['dispositioned_by']})"})
                await self.gw.button("quality.alert", "process", [alert["id"]])
            await self.gw.button("quality.alert", "resolve", [alert["id"]])
            changed = True
        return changed
