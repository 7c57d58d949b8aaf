"""Downtime over the API: the reason tree of a machine (frequent reasons first), its stops classified from the state
history, people's decisions on stops (a reason given, a re-classification), reliability figures (MTBF, MTTR,
availability per machine and reason) and the Pareto of reasons (edge.store.downtime over edge.domain.downtime).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Connection, func, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from edge.domain.downtime import KINDS, ReasonNode, ReasonTree, Stop, classified_changes, frequent_first, slow_cycles
from edge.domain.reliability import Figures
from edge.store import Store, schema
from edge.store.downtime import DowntimeSetup, classified
from edge.store.oee import production
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Moment
from takt.api.oee import oee_period
from takt.api.site import site_config
from takt.config.site_file import TaktConfig
from takt.downtime import setup_of as node_setup
from takt.shift_close import workstations

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
FREQUENT_DAYS = 30


def setup_of(conn: Connection, config: TaktConfig | None) -> DowntimeSetup:
    return node_setup(conn, config, workstations(conn, config))


def _unknown(equipment: str) -> HTTPException:
    return HTTPException(404, {"code": "UNKNOWN_EQUIPMENT", "field": "equipment",
                               "message": f"equipment {equipment} is not on this line"})


def _node_json(node: ReasonNode, language: str) -> dict[str, Any]:
    out: dict[str, Any] = {"code": node.code, "text": node.label(language), "texts": dict(node.labels)}
    if node.leaf:
        out.update(planned=node.planned, loss=node.loss, maintenance=node.maintenance, plc_codes=list(node.plc_codes))
    else:
        out["children"] = [_node_json(child, language) for child in node.children]
    return out


def _given_counts(conn: Connection, equipment: str, since: datetime) -> dict[str, int]:
    t = schema.stop_reasons
    rows = conn.execute(select(t.c.reason, func.count()).where(t.c.equipment == equipment, t.c.at >= since)
                        .group_by(t.c.reason))
    return {r[0]: int(r[1]) for r in rows}


def tree_json(tree: ReasonTree | None, counts: dict[str, int], language: str) -> dict[str, Any]:
    if tree is None:
        return {"name": None, "reasons": [], "frequent": []}
    return {"name": tree.name, "reasons": [_node_json(n, language) for n in tree.roots],
            "frequent": [{"code": x.code, "text": x.label(language), "path": list(tree.path(x.code))}
                         for x in frequent_first(tree, counts)]}


@router.get("/equipment/{equipment}/reason-tree", tags=["machines"],
            summary="A machine's downtime reason tree (per language), its most often given reasons first")
def get_reason_tree(request: Request, equipment: str, lang: str = Query("en", pattern="^(en|nl)$"),
                    _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        setup = setup_of(conn, site_config(request))
        if equipment not in setup.line.machines:
            raise _unknown(equipment)
        counts = _given_counts(conn, equipment, datetime.now(UTC) - timedelta(days=FREQUENT_DAYS))
    settings = setup.settings.get(equipment, setup.default)
    return {"equipment": equipment, "micro_stop_s": settings.micro_stop_s,
            **tree_json(setup.trees.get(equipment), counts, lang)}


def stop_json(s: Stop) -> dict[str, Any]:
    return {"equipment": s.equipment, "start": s.start.isoformat(), "end": None if s.open else s.end.isoformat(),
            "seconds": round(s.seconds, 3), "state": s.state, "kind": s.kind, "recorded_reason": s.reason,
            "reason": s.leaf, "loss": s.loss, "planned": s.planned, "maintenance": s.maintenance,
            "work_order": s.work_order}


def _machines(conn: Connection, setup: DowntimeSetup, config: TaktConfig | None, equipment: str | None,
              workstation: str | None) -> list[str]:
    if equipment is not None:
        if equipment not in setup.line.machines:
            raise _unknown(equipment)
        return [equipment]
    if workstation is not None:
        if workstation not in workstations(conn, config):
            raise HTTPException(404, {"code": "UNKNOWN_WORKSTATION", "field": "workstation",
                                      "message": f"workstation {workstation} is not on this line"})
        return sorted(m for m, ws in setup.line.machines.items() if ws == workstation)
    return sorted(setup.line.machines)


PERIOD_FROM = Query(None, alias="from", description="period start (default: 24 h ago)")
PERIOD_TO = Query(None, alias="to", description="period end (default: now)")


@router.get("/downtime/stops", tags=["machines"],
            summary="Stops of the line's machines, classified: stop, micro-stop, no data, changeover, starved, "
                    "blocked; each booked to a reason and an OEE loss")
def get_stops(request: Request, equipment: str | None = None, workstation: str | None = None,
              kind: str | None = Query(None, pattern="^(" + "|".join(KINDS[1:]) + ")$"),
              start: Moment | None = PERIOD_FROM, end: Moment | None = PERIOD_TO,
              _: User = Depends(current_user)) -> dict[str, Any]:
    start, end = oee_period(start, end)
    config = site_config(request)
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        setup = setup_of(conn, config)
        machines = _machines(conn, setup, config, equipment, workstation)
        stops = classified(conn, machines, setup, start, end).stops(setup, [kind] if kind else None)
    return {"from": start.isoformat(), "to": end.isoformat(), "stops": [stop_json(s) for s in stops]}


def figures_json(f: Figures) -> dict[str, Any]:
    def rounded(x: float | None, n: int = 3) -> float | None:
        return None if x is None else round(x, n)
    return {"reason": f.reason, "failures": f.failures, "downtime_s": rounded(f.downtime_s),
            "uptime_s": rounded(f.uptime_s), "mtbf_s": rounded(f.mtbf_s), "mttr_s": rounded(f.mttr_s),
            "availability": rounded(f.availability, 5)}


@router.get("/downtime/reliability", tags=["machines"],
            summary="MTBF, MTTR and availability per machine and per reason over a period, and the Pareto of "
                    "reasons, from the same state history as OEE")
def get_reliability(request: Request, equipment: str | None = None, workstation: str | None = None,
                    start: Moment | None = PERIOD_FROM, end: Moment | None = PERIOD_TO,
                    lang: str = Query("en", pattern="^(en|nl)$", description="the language of the reasons' texts"),
                    _: User = Depends(current_user)) -> dict[str, Any]:
    start, end = oee_period(start, end)
    config = site_config(request)
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        setup = setup_of(conn, config)
        machines = _machines(conn, setup, config, equipment, workstation)
        found = classified(conn, machines, setup, start, end)
        changes = classified_changes(found.changes, found.stops(setup))
        slow = {}
        for ws in sorted({setup.line.machines[m] for m in machines}):
            mine = [ch for ch in changes if setup.line.machines.get(ch.equipment) == ws]
            slow[ws] = slow_cycles(mine, production(conn, ws, start, end))
    figures = found.reliability()
    out = []
    for name in machines:
        total, per_reason = figures.get(name) or (None, [])
        if total is None:
            continue
        out.append({"equipment": name, **figures_json(total), "planned_s": round(total.planned_s, 3),
                    "no_data_s": round(total.no_data_s, 3), "unknown_s": round(total.unknown_s, 3),
                    "reasons": [figures_json(f) for f in per_reason]})
    def text(reason: str) -> str | None:  # a leaf's text from the first tree that has it (kinds: the page's)
        for tree in setup.trees.values():
            leaf = tree.leaf(reason) if tree is not None else None
            if leaf is not None:
                return leaf.label(lang)
        return None

    return {"from": start.isoformat(), "to": end.isoformat(), "machines": out,
            "slow_cycles": [{"workstation": ws, "reports": x.reports, "slow": x.slow, "lost_minutes": x.lost_minutes}
                            for ws, x in slow.items()],
            "pareto": [{"reason": b.reason, "text": text(b.reason), "stops": b.stops, "minutes": b.minutes,
                        "cumulative_percent": b.cumulative_percent} for b in found.pareto()]}


# --- the commands' look-ups (takt.api.commands: resolve) -------------------------------------------------


def _stop_to_book(store: Store, config: TaktConfig | None, equipment: str, stop_start: datetime | None
                  ) -> tuple[DowntimeSetup, Stop | None]:
    with store.engine.connect() as conn:
        setup = setup_of(conn, config)
        if equipment not in setup.line.machines:
            return setup, None
        if stop_start is None:  # the stop the machine is in now
            ms = schema.ENTITY_TABLES["machine_states"].table
            now_in = conn.execute(select(ms.c.state, ms.c.since).where(ms.c.equipment == equipment)).first()
            if now_in is None or now_in.state == "running":
                return setup, None
            stop_start = now_in.since
        now = datetime.now(UTC)
        found = classified(conn, [equipment], setup, stop_start - timedelta(seconds=1), max(now, stop_start))
        want = round(stop_start.timestamp() * 1000)  # the classification's clock: epoch milliseconds
        stop = next((s for s in found.stops(setup) if round(s.start.timestamp() * 1000) == want), None)
    if stop is not None:
        stop = replace(stop, start=stop_start)  # booked under the time the history recorded, to the microsecond
    return setup, stop


async def stop_leaves(request: Request, values: dict[str, Any]) -> dict[str, Any] | JSONResponse:
    """Fill in a stop command's leaves (the machine's tree) and the stop's reason before; 404 when the machine has
    no stop that started then."""
    equipment, stop_start = values["equipment"], values["stop_start"]
    setup, stop = await run_in_threadpool(_stop_to_book, request.app.state.store, site_config(request), equipment,
                                          stop_start)
    if stop is None:
        when = f"that started at {stop_start.isoformat()}" if stop_start is not None else "now"
        return JSONResponse({"code": "UNKNOWN_STOP", "field": "stop_start",
                             "message": f"{equipment} has no stop {when}"}, status_code=404)
    tree = setup.trees.get(equipment)
    leaves = frozenset(x.code for x in tree.leaves()) if tree is not None else frozenset()
    out = {**values, "leaves": leaves, "stop_start": stop.start}
    if "why" in values:
        out["previous"] = stop.leaf or stop.kind
    elif tree is not None:
        out["maintenance_leaves"] = frozenset(x.code for x in tree.leaves() if x.maintenance)
    return out
