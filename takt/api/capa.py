"""Rework and CAPA over the API (reads): ``GET /api/v1/capa`` (the CAPA records with their actions),
``GET /api/v1/capa/{capa}``, ``GET /api/v1/capa-actions/overdue`` (open actions past their due date: the line view
shows them) and ``GET /api/v1/reworks``. The commands are takt.api.commands' routes."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select

from edge.store import capa as capa_reads
from edge.store import schema
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.reads import _jsonable, _rows, _store

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES


def _today() -> date:
    return datetime.now(UTC).date()


def _shown(found: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """CAPAs as the page shows them: each action marked overdue (open, due before today), the count per CAPA."""
    out = []
    for capa in found:
        actions = [{**_jsonable(a), "overdue": a["status"] == "open" and a["due"] < today} for a in capa["actions"]]
        out.append({**_jsonable({k: v for k, v in capa.items() if k != "actions"}), "actions": actions,
                    "overdue": sum(1 for a in actions if a["overdue"])})
    return out


@router.get("/capa", tags=["quality"], summary="CAPA records (problem, containment, root cause, actions, "
                                                "effectiveness), newest first")
def list_capas(request: Request, status: str | None = Query(None, pattern="^(open|closed)$"),
               _: User = Depends(current_user)) -> dict[str, Any]:
    today = _today()
    with _store(request).engine.connect() as conn:
        return {"capas": _shown(capa_reads.capas(conn, status), today), "today": today.isoformat()}


@router.get("/capa/{capa}", tags=["quality"], summary="One CAPA record with its actions")
def get_capa(request: Request, capa: str, _: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        found = capa_reads.capas(conn, capa=capa)
    if not found:
        raise HTTPException(404, {"code": "UNKNOWN_CAPA", "message": f"CAPA {capa} is not known here", "field": None})
    return _shown(found, _today())[0]


@router.get("/capa-actions/overdue", tags=["quality"],
            summary="Open CAPA actions past their due date (the line view shows them), oldest due first")
def overdue_actions(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    today = _today()
    with _store(request).engine.connect() as conn:
        return {"actions": [_jsonable(a) for a in capa_reads.overdue_actions(conn, today)], "today": today.isoformat()}


@router.get("/reworks", tags=["quality"], summary="Reworks of NCRs: their operations, subjects held and re-inspection")
def list_reworks(request: Request, status: str | None = Query(None, pattern="^(open|passed|failed)$"),
                 _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["reworks"].table
    query = select(t).order_by(t.c.opened_at.desc(), t.c.rework).limit(500)
    if status is not None:
        query = query.where(t.c.status == status)
    with _store(request).engine.connect() as conn:
        return {"reworks": _rows(conn, query)}
