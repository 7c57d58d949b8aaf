"""OEE by shift over the API: the site's shift calendar over the store's machine state history, production reports
and the operations' standard minutes, computed by edge.domain.oee. ``GET /api/v1/oee``."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Connection, and_, select

from edge.domain.oee import Produced, Shift, ShiftOee, StateChange, loss_tree, oee_by_shift, shift_windows
from edge.store import Store, schema
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.reads import quantity_text

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
ALL_DAY = Shift("day", time(0), time(0))  # without a shift calendar: one 24-hour shift a day
LONGEST = timedelta(days=93)


def machines_of(conn: Connection, workstations: Sequence[str]) -> dict[str, list[str]]:
    eq = schema.ENTITY_TABLES["equipment"].table
    found: dict[str, list[str]] = {ws: [] for ws in workstations}
    for name, ws in conn.execute(select(eq.c.equipment, eq.c.workstation).where(eq.c.workstation.in_(workstations))):
        found[ws].append(name)
    return found


def state_changes(conn: Connection, equipment: Sequence[str], start: datetime, end: datetime) -> list[StateChange]:
    """The machines' state changes in ``[start, end)`` and the one in effect at ``start``."""
    h = schema.machine_state_history
    out: list[StateChange] = []
    for name in equipment:
        before = conn.execute(select(h.c.state, h.c.reason, h.c.since).where(h.c.equipment == name, h.c.since < start)
                              .order_by(h.c.since.desc(), h.c.seq.desc()).limit(1)).first()
        if before is not None:
            out.append(StateChange(name, before.state, before.reason, before.since))
        rows = conn.execute(select(h.c.state, h.c.reason, h.c.since).where(
            h.c.equipment == name, h.c.since >= start, h.c.since < end).order_by(h.c.since, h.c.seq))
        out.extend(StateChange(name, r.state, r.reason, r.since) for r in rows)
    return out


def production(conn: Connection, workstation: str, start: datetime, end: datetime) -> list[Produced]:
    pr, ops = schema.production_reports, schema.ENTITY_TABLES["operations"].table
    query = (select(pr.c.at, pr.c.good, pr.c.scrap, ops.c.standard_minutes)
             .select_from(pr.outerjoin(ops, and_(ops.c.work_order == pr.c.work_order,
                                                 ops.c.operation == pr.c.operation)))
             .where(pr.c.workstation == workstation, pr.c.at >= start, pr.c.at < end))
    return [Produced(r.at, r.good, r.scrap, r.standard_minutes if r.standard_minutes is not None else Decimal(0))
            for r in conn.execute(query)]


def oee_report(conn: Connection, workstations: Sequence[str], shifts: Sequence[Shift], zone: tzinfo,
               start: datetime, end: datetime) -> dict[str, list[ShiftOee]]:
    """OEE per shift of each workstation in ``[start, end)``."""
    windows = shift_windows(shifts or [ALL_DAY], start, end, zone)
    machines = machines_of(conn, workstations)
    return {ws: oee_by_shift(ws, windows, state_changes(conn, machines[ws], start, end),
                             production(conn, ws, start, end)) for ws in workstations}


def shift_json(r: ShiftOee) -> dict[str, Any]:
    return {
        "shift": r.window.shift, "day": r.window.day.isoformat(), "start": r.window.start.isoformat(),
        "end": r.window.end.isoformat(), "planned_minutes": round(r.planned_minutes, 3),
        "run_minutes": round(r.run_minutes, 3), "ideal_minutes": round(r.ideal_minutes, 3),
        "good": quantity_text(r.good), "scrap": quantity_text(r.scrap),
        "availability": round(r.availability, 4), "performance": round(r.performance, 4),
        "quality": round(r.quality, 4), "oee": round(r.oee, 4),
        "losses": [{"state": x.state, "reason": x.reason, "minutes": x.minutes} for x in r.losses],
    }


def _known_workstations(request: Request, conn: Connection) -> list[str]:
    from takt.shift_close import workstations

    return workstations(conn, getattr(request.app.state.node, "config", None))


def _refuse(field: str, message: str) -> HTTPException:
    return HTTPException(422, {"code": "INVALID_PERIOD", "message": message, "field": field})


@router.get("/oee", tags=["machines"],
            summary="OEE per workstation per shift: availability, performance, quality and the losses by reason")
def get_oee(request: Request, workstation: str | None = None,
            start: datetime | None = Query(None, alias="from", description="period start (default: 24 h ago)"),
            end: datetime | None = Query(None, alias="to", description="period end (default: now)"),
            _: User = Depends(current_user)) -> dict[str, Any]:
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise _refuse(name, f"{name} needs a time zone (e.g. 2026-11-25T06:00:00Z)")
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = (start or end - timedelta(days=1)).astimezone(UTC)
    if start >= end:
        raise _refuse("from", "from must be before to")
    if end - start > LONGEST:
        raise _refuse("from", f"at most {LONGEST.days} days at a time")
    site = getattr(getattr(request.app.state.node, "config", None), "site", None)
    zone_name = site.timezone if site is not None else "UTC"
    shifts = [s.shift() for s in site.shifts] if site is not None else []
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        known = _known_workstations(request, conn)
        if workstation is not None and workstation not in known:
            raise HTTPException(404, {"code": "UNKNOWN_WORKSTATION", "field": "workstation",
                                      "message": f"workstation {workstation} is not on this line"})
        report = oee_report(conn, [workstation] if workstation else known, shifts, ZoneInfo(zone_name), start, end)
    return {
        "from": start.isoformat(), "to": end.isoformat(), "timezone": zone_name,
        "workstations": [{"workstation": ws, "shifts": [shift_json(r) for r in results],
                          "loss_tree": loss_tree(results)} for ws, results in report.items()],
    }
