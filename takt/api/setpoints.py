"""Read route for setpoints: what was downloaded to an operation's machine (as written and as read back), and the
variances seen on the machine while it ran (flagged: who and when is not known on the machine side)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from edge.fields import OperationNumber
from edge.store.reads import events_of_subject
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract


@router.get("/work-orders/{work_order}/operations/{operation:int}/setpoints", tags=["work orders"],
            summary="An operation's setpoint downloads (written and read back) and variances seen on its machine")
def get_setpoints(request: Request, work_order: str, operation: OperationNumber,
                  _: User = Depends(current_user)) -> dict[str, Any]:
    service = request.app.state.service
    op = service.state.operations.get((work_order, operation))
    if op is None:
        raise HTTPException(404, {"code": "UNKNOWN_OPERATION", "field": "operation",
                                  "message": f"work order {work_order} has no operation {operation} here"})
    store = request.app.state.node.store
    found = events_of_subject(store, f"work_order:{work_order}", ["SetpointsDownloaded", "SetpointVarianceRecorded"],
                              upto=store.last_seq())
    downloads: list[dict[str, Any]] = []
    variances: list[dict[str, Any]] = []
    for r in found:
        data = r.data()
        if data.get("operation") != operation:
            continue
        row = {"seq": r.seq, **{k: v for k, v in data.items() if k not in ("work_order", "operation")}}
        (downloads if r.type == "SetpointsDownloaded" else variances).append(row)
    return {"work_order": work_order, "operation": operation, "status": op.status, "downloads": downloads,
            "variances": variances}
