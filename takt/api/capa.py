"""Rework and CAPA over the API (reads): ``GET /api/v1/capa`` (the CAPA records with their actions),
``GET /api/v1/capa/{capa}``, ``GET /api/v1/capa-actions/overdue`` (open actions past their due date: the line view
shows them) and ``GET /api/v1/reworks``. The commands are takt.api.commands' routes."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select

from edge.store import schema
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.reads import _jsonable, _rows, _store

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _with_actions(capas: list[dict[str, Any]], actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    today = _today()
    by_capa: dict[str, list[dict[str, Any]]] = {}
    for a in actions:
        a["overdue"] = a["status"] == "open" and a["due"] < today
        by_capa.setdefault(a["capa"], []).append(a)
    for capa in capas:
        capa["actions"] = by_capa.get(capa["capa"], [])
        capa["overdue"] = sum(1 for a in capa["actions"] if a["overdue"])
    return capas


@router.get("/capa", tags=["quality"], summary="CAPA records (problem, containment, root cause, actions, "
                                                "effectiveness), newest first")
def list_capas(request: Request, status: str | None = Query(None, pattern="^(open|closed)$"),
               _: User = Depends(current_user)) -> dict[str, Any]:
    t, a = T["capas"].table, T["capa_actions"].table
    query = select(t).order_by(t.c.opened_at.desc(), t.c.capa)
    if status is not None:
        query = query.where(t.c.status == status)
    with _store(request).engine.connect() as conn:
        capas = _rows(conn, query)
        names = [c["capa"] for c in capas]
        actions = _rows(conn, select(a).where(a.c.capa.in_(names)).order_by(a.c.capa, a.c.action)) if names else []
    return {"capas": _with_actions(capas, actions), "today": _today()}


@router.get("/capa/{capa}", tags=["quality"], summary="One CAPA record with its actions")
def get_capa(request: Request, capa: str, _: User = Depends(current_user)) -> dict[str, Any]:
    t, a = T["capas"].table, T["capa_actions"].table
    with _store(request).engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.capa == capa)).first()
        if row is None:
            raise HTTPException(404, {"code": "UNKNOWN_CAPA", "message": f"CAPA {capa} is not known here",
                                      "field": None})
        actions = _rows(conn, select(a).where(a.c.capa == capa).order_by(a.c.action))
    return _with_actions([_jsonable(dict(row._mapping))], actions)[0]


@router.get("/capa-actions/overdue", tags=["quality"],
            summary="Open CAPA actions past their due date (the line view shows them), oldest due first")
def overdue_actions(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    a, t = T["capa_actions"].table, T["capas"].table
    today = datetime.now(UTC).date()
    query = (select(a, t.c.problem).join(t, t.c.capa == a.c.capa)
             .where(a.c.status == "open", a.c.due < today).order_by(a.c.due, a.c.capa, a.c.action).limit(200))
    with _store(request).engine.connect() as conn:
        return {"actions": _rows(conn, query), "today": today.isoformat()}


@router.get("/reworks", tags=["quality"], summary="Reworks of NCRs: their operations, subjects held and re-inspection")
def list_reworks(request: Request, status: str | None = Query(None, pattern="^(open|passed|failed)$"),
                 _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["reworks"].table
    query = select(t).order_by(t.c.opened_at.desc(), t.c.rework).limit(500)
    if status is not None:
        query = query.where(t.c.status == status)
    with _store(request).engine.connect() as conn:
        return {"reworks": _rows(conn, query)}
