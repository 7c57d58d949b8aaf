"""OEE by shift over the API: ``GET /api/v1/oee``, the site's shift calendar over the store's machine state history,
production reports and the operations' standard minutes (edge.store.oee, computed by edge.domain.oee)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from edge.domain.oee import ShiftOee, loss_tree
from edge.store import Store
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Moment
from takt.api.reads import quantity_text
from takt.api.site import site_config
from takt.downtime import node_oee
from takt.shift_close import shift_calendar, workstations

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
LONGEST = timedelta(days=93)


def shift_json(r: ShiftOee) -> dict[str, Any]:
    return {
        "shift": r.window.shift, "day": r.window.day.isoformat(), "start": r.window.start.isoformat(),
        "end": r.window.end.isoformat(), "planned_minutes": round(r.planned_minutes, 3),
        "planned_downtime_minutes": round(r.planned_downtime_minutes, 3),  # maintenance: out of the planned time
        "run_minutes": round(r.run_minutes, 3), "ideal_minutes": round(r.ideal_minutes, 3),
        "good": quantity_text(r.good), "scrap": quantity_text(r.scrap),
        "availability": round(r.availability, 4), "performance": round(r.performance, 4),
        "quality": round(r.quality, 4), "oee": round(r.oee, 4),
        # the performance loss split: micro-stops, and cycles slower than the ideal (edge.domain.downtime)
        "micro_stop_minutes": round(r.micro_stop_minutes, 3), "slow_cycle_minutes": round(r.slow_cycle_minutes, 3),
        "losses": [{"state": x.state, "reason": x.reason, "minutes": x.minutes} for x in r.losses],
    }


def _refuse(field: str, message: str) -> HTTPException:
    return HTTPException(422, {"code": "INVALID_PERIOD", "message": message, "field": field})


def oee_period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The period an OEE report covers (default: the last 24 h), in UTC; refused (INVALID_PERIOD) without a time
    zone, backwards, or longer than ``LONGEST``."""
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise _refuse(name, f"{name} needs a time zone (e.g. 2026-11-25T06:00:00Z)")
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = (start or end - timedelta(days=1)).astimezone(UTC)
    if start >= end:
        raise _refuse("from", "from must be before to")
    if end - start > LONGEST:
        raise _refuse("from", f"at most {LONGEST.days} days at a time")
    return start, end


@router.get("/oee", tags=["machines"],
            summary="OEE per workstation per shift: availability, performance, quality and the losses by reason")
def get_oee(request: Request, workstation: str | None = None,
            start: Moment | None = Query(None, alias="from", description="period start (default: 24 h ago)"),
            end: Moment | None = Query(None, alias="to", description="period end (default: now)"),
            _: User = Depends(current_user)) -> dict[str, Any]:
    start, end = oee_period(start, end)
    config = site_config(request)
    zone_name, shifts = shift_calendar(config)
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        known = workstations(conn, config)
        if workstation is not None and workstation not in known:
            raise HTTPException(404, {"code": "UNKNOWN_WORKSTATION", "field": "workstation",
                                      "message": f"workstation {workstation} is not on this line"})
        # stops classified (edge.domain.downtime) before OEE, as the shift close and the B2MML export do
        report = node_oee(conn, config, known, shifts, ZoneInfo(zone_name), start, end, only=workstation)
    return {
        "from": start.isoformat(), "to": end.isoformat(), "timezone": zone_name,
        "workstations": [{"workstation": ws, "shifts": [shift_json(r) for r in results],
                          "loss_tree": loss_tree(results)} for ws, results in report.items()],
    }
