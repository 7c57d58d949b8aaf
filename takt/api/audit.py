"""The audit trail (21 CFR Part 11 §11.10(e), EU GMP Annex 11 §9): who did what to a subject, in order, with the
electronic signatures over each event, and the signatures of a day (the quality role's page reads them)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from edge.store.audit import audit_trail, signatures
from takt.api.auth import allowed_roles, authorize
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Day

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
AUDITORS = allowed_roles("quality", "supervisor")
SUBJECT = r"^[a-z_]+:[^\x00-\x1f\x7f]{1,240}$"


@router.get("/audit", tags=["quality"],
            summary="The audit trail: a subject's events in order (who, for whom, from which device) with the "
                    "signatures that cover each")
async def get_audit(request: Request,
                    subject: Annotated[str, Query(pattern=SUBJECT, description="lot:L118, ncr:NCR-7, "
                                                  "inspection_plan:P1, work_order:WO1, ...")],
                    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
    await authorize(request, AUDITORS)
    entries = await run_in_threadpool(audit_trail, request.app.state.store, subject=subject, limit=limit)
    return {"subject": subject, "events": [entry.as_dict() for entry in entries]}


def signatures_of_day(request: Request, day: date) -> list[dict[str, Any]]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    with request.app.state.store.engine.connect() as conn:
        return [s.as_dict() for s in signatures(conn, since=start, until=start + timedelta(days=1))]


@router.get("/signatures", tags=["quality"], summary="The electronic signatures given on a day (UTC), oldest first")
async def get_signatures(request: Request, day: Annotated[Day | None, Query(description="YYYY-MM-DD (UTC); "
                                                                           "today if left out")] = None
                         ) -> dict[str, Any]:
    await authorize(request, AUDITORS)
    chosen = day or datetime.now(UTC).date()
    found = await run_in_threadpool(signatures_of_day, request, chosen)
    return {"day": chosen.isoformat(), "signatures": found}
