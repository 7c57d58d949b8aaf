"""Reads of rework and CAPA (edge.domain.contexts.capa) for the API and the line view: the CAPA records with their
actions, and the open actions past their due date (one indexed query on ``capa_actions (status, due)``)."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from edge.store import schema

T = schema.ENTITY_TABLES


def overdue_actions(conn: Connection, today: date, limit: int = 200) -> list[dict[str, Any]]:
    """Open CAPA actions due before ``today``, oldest due first, with their CAPA's problem."""
    a, t = T["capa_actions"].table, T["capas"].table
    query = (select(a, t.c.problem).join(t, t.c.capa == a.c.capa)
             .where(a.c.status == "open", a.c.due < today).order_by(a.c.due, a.c.capa, a.c.action).limit(limit))
    return [dict(r._mapping) for r in conn.execute(query)]


def capas(conn: Connection, status: str | None = None, capa: str | None = None,
          limit: int = 500) -> list[dict[str, Any]]:
    """CAPA records, newest first, each with its ``actions`` (by number)."""
    t, a = T["capas"].table, T["capa_actions"].table
    query = select(t).order_by(t.c.opened_at.desc(), t.c.capa).limit(limit)
    if status is not None:
        query = query.where(t.c.status == status)
    if capa is not None:
        query = query.where(t.c.capa == capa)
    found = [dict(r._mapping) for r in conn.execute(query)]
    names = [c["capa"] for c in found]
    by_capa: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(names), 500):
        for r in conn.execute(select(a).where(a.c.capa.in_(names[start:start + 500])).order_by(a.c.capa, a.c.action)):
            by_capa.setdefault(r.capa, []).append(dict(r._mapping))
    for c in found:
        c["actions"] = by_capa.get(c["capa"], [])
    return found
