"""Read routes for process values: a machine's temperatures, pressures ... as time series, for quality and
engineers: a range of raw values or per-minute summaries, every series at one moment, and a CSV export."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Moment

if TYPE_CHECKING:
    from connectors.process_values import ProcessValueLog
    from connectors.runtime import Connectivity

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract


def _log(request: Request, equipment: str, name: str | None,
         *times: tuple[str, datetime | None]) -> ProcessValueLog:
    """The node's process-value log, once the machine, the series and the times are known to be right."""
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
    for field, when in times:
        if when is not None and when.tzinfo is None:
            raise HTTPException(422, {"code": "INVALID", "field": field,
                                      "message": f"{field}: give the time with its zone (e.g. ...Z)"})
    return log


def _utc(when: datetime | None) -> datetime | None:
    return when.astimezone(UTC) if when is not None else None


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
    include_raw: bool = Query(False, description="with resolution=minute: also summarise the raw values not yet "
                                                 "folded (min/max/avg per minute over any range)"),
    at: Moment | None = Query(None, description="instead of a range: each series' last value at or before this "
                                                  "time (ISO 8601, with zone)"),
    _: User = Depends(current_user),
) -> dict[str, Any]:
    log = _log(request, equipment, name, ("since", since), ("until", until), ("at", at))
    series: list[str] = log.series(equipment)
    if at is not None:
        return {"equipment": equipment, "series": series, "resolution": "moment",
                "at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "values": log.at_moment(equipment, at.astimezone(UTC), name)}
    if resolution == "minute":
        values = log.minutes(equipment, name, _utc(since), _utc(until), limit, include_raw=include_raw)
    else:
        values = log.query(equipment, name, _utc(since), _utc(until), limit)
    return {"equipment": equipment, "series": series, "resolution": resolution, "values": values}


@router.get("/equipment/{equipment}/process-values/export", tags=["machines"],
            summary="A machine's process values between two times as CSV (name, at, value, quality, detail)",
            response_class=StreamingResponse)
def export_process_values(
    request: Request, equipment: str,
    since: Moment = Query(description="from this time (ISO 8601, with zone)"),
    until: Moment = Query(description="up to this time (ISO 8601, with zone)"),
    name: str | None = Query(None, description="one series; default: all of the machine's"),
    _: User = Depends(current_user),
) -> StreamingResponse:
    log = _log(request, equipment, name, ("since", since), ("until", until))
    names = [name] if name is not None else log.series(equipment)

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "at", "value", "quality", "detail"])
        for one in names:
            for at, number, text, quality, detail in log.rows(equipment, one, _utc(since), _utc(until), 10**9):
                writer.writerow([one, _iso(at), repr(number) if text is None and number is not None else text or "",
                                 quality, detail or ""])
                if out.tell() > 64_000:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    stamp = f"{since.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return StreamingResponse(lines(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{equipment}-process-values-{stamp}.csv"'})


def _iso(at_us: int) -> str:
    return datetime.fromtimestamp(at_us // 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{at_us % 1_000_000:06d}Z"
