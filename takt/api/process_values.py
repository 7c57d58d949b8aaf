"""Read route for process values: a machine's temperatures, pressures ... as time series, for quality."""
from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Moment

if TYPE_CHECKING:
    from connectors.process_values import ProcessValueLog
    from connectors.runtime import Connectivity

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract


@router.get("/equipment/{equipment}/process-values", tags=["machines"],
            summary="A machine's process values (time series with deadband and retention), oldest first")
def get_process_values(
    request: Request, equipment: str,
    name: str | None = Query(None, description="one series (e.g. temperature); default: all of the machine's"),
    since: Moment | None = Query(None, description="from this time (ISO 8601, with zone)"),
    until: Moment | None = Query(None, description="up to this time (ISO 8601, with zone)"),
    limit: int = Query(1000, ge=1, le=100_000, description="at most this many, the newest ones"),
    resolution: Literal["raw", "minute"] = Query("raw", description="raw values, or the per-minute summaries "
                                                                    "(samples, min, max, avg) older values were "
                                                                    "folded into by retention"),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    connectivity: Connectivity | None = getattr(request.app.state.node, "connectivity", None)  # None: a bare node
    log: ProcessValueLog | None = connectivity.process_values if connectivity is not None else None
    series: list[str] = log.series(equipment) if log is not None else []
    if log is None or not series:
        raise HTTPException(404, {"code": "UNKNOWN_PROCESS_VALUES", "field": "equipment",
                                  "message": f"no process values are kept for equipment {equipment}"})
    if name is not None and name not in series:
        raise HTTPException(404, {"code": "UNKNOWN_PROCESS_VALUES", "field": "name",
                                  "message": f"equipment {equipment} has no process value {name}; "
                                             f"it has {', '.join(series)}"})
    for field, when in (("since", since), ("until", until)):
        if when is not None and when.tzinfo is None:
            raise HTTPException(422, {"code": "INVALID", "field": field,
                                      "message": f"{field}: give the time with its zone (e.g. ...Z)"})
    read = log.minutes if resolution == "minute" else log.query
    values = read(equipment, name, since.astimezone(UTC) if since else None,
                  until.astimezone(UTC) if until else None, limit)
    return {"equipment": equipment, "series": series, "resolution": resolution, "values": values}
