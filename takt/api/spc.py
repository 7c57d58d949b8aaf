"""SPC over the API: a characteristic's control chart (individuals / moving range, or X̄-R by subgroups) with
control limits from its baseline, the Western Electric rules each point breaks, and Cp / Cpk.

Read from the recorded inspection results, with the same functions (``edge.domain.spc``) the write path uses to
raise its alerts, so a chart and the alerts it explains always agree.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Connection, select

from edge.domain import spc
from edge.store import schema
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.reads import _store

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract


def _values(rows: Sequence[Any], characteristic: str) -> list[tuple[Any, float]]:
    out = []
    for row in rows:
        results = row.results if isinstance(row.results, list) else json.loads(row.results)
        for r in results:
            if r["characteristic"] == characteristic and r["value"] is not None:
                value = float(r["value"])
                if math.isfinite(value):  # a value beyond a float (a record from before numbers were bounded) is
                    out.append((row, value))  # no point on a chart
    return out


def _finite(value: Any) -> Any:
    """A limit, Cp or centre that is not a finite number (from a record before numbers were bounded) as None,
    so that the chart still answers in JSON."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _limits_dict(limits: spc.Limits | None) -> dict[str, Any] | None:
    if limits is None:
        return None
    return {k: (_finite(round(v, 6)) if isinstance(v, float) else v) for k, v in
            (("center", limits.center), ("ucl", limits.ucl), ("lcl", limits.lcl), ("sigma", limits.sigma),
             ("range_center", limits.range_center), ("range_ucl", limits.range_ucl),
             ("range_lcl", limits.range_lcl))}


def chart(conn: Connection, plan: str, characteristic: str, *, last: int = spc.WINDOW,
          subgroup: int = 1) -> dict[str, Any]:
    """The control chart of one characteristic (also used by the terminal's inspection panel)."""
    chars = schema.ENTITY_TABLES["characteristics"].table
    found = conn.execute(select(chars).where(chars.c.plan == plan, chars.c.characteristic == characteristic)).first()
    if found is None:
        raise HTTPException(404, {"code": "UNKNOWN_CHARACTERISTIC", "field": "characteristic",
                                  "message": f"plan {plan} has no characteristic {characteristic}"})
    if found.kind != "numeric":
        raise HTTPException(422, {"code": "NOT_NUMERIC", "field": "characteristic",
                                  "message": f"{characteristic} is a pass/fail characteristic: it has no control chart"})
    ir = schema.inspection_results
    cols = select(ir.c.seq, ir.c.inspection, ir.c.results, ir.c.at, ir.c.work_order, ir.c.operation, ir.c.lot).where(
        ir.c.plan == plan)
    n_base = spc.BASELINE * subgroup
    base = _values(conn.execute(cols.order_by(ir.c.seq).limit(n_base)).all(), characteristic)
    recent = _values(list(reversed(conn.execute(cols.order_by(ir.c.seq.desc()).limit(last * subgroup)).all())),
                     characteristic)
    limits: spc.Limits | None = None
    if len(base) >= n_base:
        values = [v for _, v in base]
        limits = (spc.individuals_limits(values) if subgroup == 1 else
                  spc.xbar_r_limits([values[i:i + subgroup] for i in range(0, n_base, subgroup)]))
    if subgroup == 1:
        points = [{"inspection": row.inspection, "value": v, "at": row.at.isoformat(), "work_order": row.work_order,
                   "operation": row.operation, "lot": row.lot} for row, v in recent]
        plotted = [v for _, v in recent]
    else:
        groups = [recent[i:i + subgroup] for i in range(0, len(recent) - subgroup + 1, subgroup)]
        points = [{"inspections": [row.inspection for row, _ in g], "value": sum(v for _, v in g) / subgroup,
                   "range": max(v for _, v in g) - min(v for _, v in g), "at": g[-1][0].at.isoformat()} for g in groups]
        plotted = [p["value"] for p in points]
    for p in points:
        p["violations"] = []
    if limits is not None:
        for v in spc.western_electric(plotted, limits):
            points[v.index]["violations"].append({"rule": v.rule, "side": v.side, "message": v.message})
    lsl, usl = _finite(found.lsl), _finite(found.usl)
    cap = spc.capability(limits, lsl, usl) if limits is not None else None
    return {"plan": plan, "characteristic": characteristic, "unit": found.unit, "lsl": lsl, "usl": usl,
            "nominal": _finite(found.nominal),
            "chart": "individuals" if subgroup == 1 else "xbar_r", "subgroup": subgroup,
            "baseline": {"needed": n_base, "have": len(base)}, "limits": _limits_dict(limits),
            "capability": None if cap is None else {"cp": None if cap.cp is None else _finite(round(cap.cp, 3)),
                                                    "cpk": None if cap.cpk is None else _finite(round(cap.cpk, 3))},
            "points": points}


@router.get("/spc/{plan}/{characteristic}", tags=["quality"],
            summary="A characteristic's control chart: limits from its baseline, rule violations, Cp and Cpk")
def get_chart(request: Request, plan: str, characteristic: str,
              last: int = Query(spc.WINDOW, ge=1, le=1000, description="points to show"),
              subgroup: int = Query(1, ge=1, le=10, description="1: individuals chart; 2..10: X-bar R"),
              _: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        return chart(conn, plan, characteristic, last=last, subgroup=subgroup)
