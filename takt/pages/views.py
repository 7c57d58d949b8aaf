"""The pages' HTML shells and the read models they load in one call (a workstation, the line, a putaway).

The HTML is rendered from Jinja2 templates in ``templates/`` (one base layout, autoescaped; no build step) with
the pages' texts in every language from ``static/i18n/``; the scripts in ``static/`` fill it from these reads and
the live feed, and change things only through the API's command routes and scans.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, localcontext
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select

from edge.fields import OperationNumber, decimal_text
from edge.store import Store, schema
from edge.store.reads import events_of_subject
from edge.store.users import User
from takt.api.auth import allowed_roles, authorize, current_user
from takt.api.contract import ACTION_RESPONSES, BEARER, READ_RESPONSES
from takt.api.inspections import due_inspections
from takt.api.maintenance import maintenance_requests, plan_statuses
from takt.api.models import Count
from takt.api.reads import _rows
from takt.api.spc import chart as spc_chart
from takt.pages.sessions import label_of

T = schema.ENTITY_TABLES
api = APIRouter(prefix="/api/v1/pages", tags=["pages"], responses=READ_RESPONSES, dependencies=BEARER)
html_pages = APIRouter(prefix="/pages", include_in_schema=False)
SPC_SAMPLES = 25  # results per characteristic on the terminal's individuals chart
DOWNTIME_PROMPT_S = 120  # a machine down longer than this without a reason asks the operator for one


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@cache
def _templates() -> Environment:
    """The pages' templates: everything put into them is escaped unless a template says otherwise (none does)."""
    return Environment(loader=PackageLoader("takt.pages", "templates"), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True)


@cache
def texts() -> dict[str, dict[str, str]]:
    """The pages' texts by language (``static/i18n/<language>.json``, one file a language, the same keys in each)."""
    folder = resources.files("takt.pages").joinpath("static", "i18n")
    return {f.name.removesuffix(".json"): json.loads(f.read_text(encoding="utf-8"))
            for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".json")}


def _site(request: Request) -> Any:
    return getattr(getattr(request.app.state.node, "config", None), "site", None)


def _devices(request: Request) -> dict[str, Any]:
    pipeline = getattr(request.app.state, "scans", None)
    return dict(getattr(pipeline, "contexts", {}) or {})


def _downtime_prompt_s(request: Request, workstation: str) -> int:
    """How long a machine may stand still without a reason before the terminal asks (the site's setting)."""
    site = _site(request)
    for w in getattr(site, "workstations", None) or []:
        if w.workstation == workstation:
            return int(w.downtime_prompt_s)
    return DOWNTIME_PROMPT_S


def _camera(request: Request, workstation: str) -> bool:
    """Whether the workstation's terminal has a camera for a maintenance request's photo (the site's setting)."""
    site = _site(request)
    return any(w.workstation == workstation and w.camera for w in getattr(site, "workstations", None) or [])


def workstations(request: Request, conn: Connection) -> list[dict[str, str]]:
    """The line's workstations: from the site configuration, else those the dispatch lists and machines name."""
    site = _site(request)
    if site is not None and site.workstations:
        return [{"workstation": w.workstation, "description": w.description or ""} for w in site.workstations]
    d, eq = T["dispatch"].table, T["equipment"].table
    names = {r[0] for r in conn.execute(select(d.c.workstation).distinct())}
    names |= {r[0] for r in conn.execute(select(eq.c.workstation).distinct())}
    return [{"workstation": n, "description": ""} for n in sorted(names)]


def terminal_device(request: Request, workstation: str) -> tuple[str | None, str | None]:
    """The scanning device of a workstation's terminal (the first bound to it) and its line-side bin."""
    for name, ctx in sorted(_devices(request).items()):
        if ctx.workstation == workstation and not name.startswith("handheld:"):
            return name, ctx.bin
    return None, None


def _render(request: Request, template: str, title: str, **values: Any) -> HTMLResponse:
    """A page from its template (autoescaped), with the line and the node every page names."""
    page = _templates().get_template(template).render(
        title=title, line=_line(request), node=str(request.app.state.node.node_id), texts=texts(), **values)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@html_pages.get("", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    with _store(request).engine.connect() as conn:
        stations = workstations(request, conn)
    return _render(request, "index.html", "Takt", stations=stations)


def _line(request: Request) -> str:
    site = _site(request)
    return str(site.line) if site is not None else ""


@html_pages.get("/", include_in_schema=False)
def index_slash() -> RedirectResponse:
    return RedirectResponse("/pages")


@html_pages.get("/terminal/{workstation}", response_class=HTMLResponse)
def terminal(request: Request, workstation: str) -> HTMLResponse:
    with _store(request).engine.connect() as conn:
        known = {w["workstation"]: w["description"] for w in workstations(request, conn)}
    if workstation not in known:
        raise HTTPException(404, {"code": "UNKNOWN_WORKSTATION",
                                  "message": f"workstation {workstation} is not on this line", "field": None})
    device, bin_ = terminal_device(request, workstation)
    return _render(request, "terminal.html", f"{workstation} · Takt", page=f"terminal-{workstation}",
                   page_class="terminal", script="terminal.js", workstation=workstation,
                   description=known[workstation], device=device or "", bin=bin_ or "",
                   camera="true" if _camera(request, workstation) else "")


@html_pages.get("/maintenance", response_class=HTMLResponse)
def maintenance_page(request: Request) -> HTMLResponse:
    """The maintenance technician's page (handheld or terminal): requests to accept, work and close, with spare
    parts issued from a bin, and the preventive plans due (its script reads GET /api/v1/maintenance-requests and
    /api/v1/maintenance-plans/due)."""
    return _render(request, "maintenance.html", "Takt maintenance", page="maintenance", page_class="maintenance",
                   script="maintenance.js")


@html_pages.get("/handheld", response_class=HTMLResponse)
def handheld(request: Request) -> HTMLResponse:
    return _render(request, "handheld.html", "Takt handheld", page="handheld", page_class="handheld",
                   script="handheld.js", scripts=["handheld-outbound.js"])


@html_pages.get("/line", response_class=HTMLResponse)
def line(request: Request) -> HTMLResponse:
    return _render(request, "line.html", "Takt line", page="line", page_class="line", script="line.js")


@html_pages.get("/signatures", response_class=HTMLResponse)
def signatures_page(request: Request) -> HTMLResponse:
    """The quality role's page of electronic signatures by day (its script reads GET /api/v1/signatures)."""
    return _render(request, "signatures.html", "Takt signatures", page="signatures", page_class="signatures",
                   script="signatures.js")


@html_pages.get("/instructions", response_class=HTMLResponse)
def instructions_page(request: Request) -> HTMLResponse:
    """The operator's work instructions page: a unit (or the order's lots) step by step, each step's capture
    answered at once (its script reads GET .../instruction and records POST .../steps)."""
    return _render(request, "instructions.html", "Takt work instructions", page="instructions",
                   page_class="instructions", script="instructions.js")
@html_pages.get("/capa", response_class=HTMLResponse)
def capa_page(request: Request) -> HTMLResponse:
    """The quality role's CAPA page: open a CAPA for NCRs, record its root cause (5-why, fishbone), plan and close its
    actions, check its effectiveness (its script reads GET /api/v1/capa and books through the command routes)."""
    return _render(request, "capa.html", "Takt CAPA", page="capa", page_class="capa", script="capa.js")


# --- read models ------------------------------------------------------------------------------------------


def _current(sequence: list[dict[str, Any]], work_order: str | None, operation: int | None) -> dict[str, Any] | None:
    if work_order is not None:
        for s in sequence:
            if s["work_order"] == work_order and (operation is None or s["operation"] == operation):
                return s
    for status in ("in_progress", "paused", "released"):
        for s in sequence:
            if s["status"] == status:
                return s
    return None


def _characteristics(conn: Connection, plan: str, work_order: str | None) -> list[dict[str, Any]]:
    ch, res = T["characteristics"].table, schema.inspection_results
    chars = _rows(conn, select(ch).where(ch.c.plan == plan).order_by(ch.c.characteristic))
    recent = conn.execute(select(res.c.results, res.c.inspection, res.c.at).where(res.c.plan == plan)
                          .order_by(res.c.seq.desc()).limit(SPC_SAMPLES)).all()
    for c in chars:
        values = []
        for row in reversed(recent):
            results = row.results if isinstance(row.results, list) else json.loads(row.results)
            for r in results:
                if r.get("characteristic") == c["characteristic"] and r.get("value") is not None:
                    values.append({"inspection": row.inspection, "value": str(r["value"]),
                                   "passed": bool(r.get("passed"))})
        c["recent"] = values
        if c["kind"] == "numeric":  # control limits from the baseline and the SPC rules each point breaks
            control = spc_chart(conn, plan, c["characteristic"], last=SPC_SAMPLES)
            c["control"] = control["limits"]
            c["flagged"] = {p["inspection"]: [v["message"] for v in p["violations"]]
                            for p in control["points"] if p["violations"]}
    return chars


def _stop_reasons(request: Request, conn: Connection, machines: list[dict[str, Any]]) -> None:
    """Each machine's micro-stop threshold (a shorter stop is never asked about) and the reason a person already
    gave for the stop it is in (edge.store.downtime: ``stop_reasons``)."""
    config = getattr(request.app.state.node, "config", None)
    sr = schema.stop_reasons
    for m in machines:
        m["micro_stop_s"] = config.downtime.settings(m["equipment"], None).micro_stop_s if config else 60.0
        m["stop_reason"] = None
        if m.get("state") not in (None, "running") and m.get("since"):
            since = datetime.fromisoformat(m["since"])  # a stop is known to the millisecond
            row = conn.execute(select(sr.c.reason).where(
                sr.c.equipment == m["equipment"], sr.c.stop_start > since - timedelta(milliseconds=1),
                sr.c.stop_start < since + timedelta(milliseconds=1)).order_by(sr.c.seq.desc()).limit(1)).first()
            m["stop_reason"] = row[0] if row is not None else None


def workstation_view(request: Request, conn: Connection, workstation: str, work_order: str | None = None,
                     operation: int | None = None) -> dict[str, Any]:
    d, ops, wo = T["dispatch"].table, T["operations"].table, T["work_orders"].table
    sequence = _rows(conn, select(d.c.position, d.c.work_order, d.c.operation, ops.c.description, ops.c.status,
                                  ops.c.good, ops.c.scrap, ops.c.pause_reason, wo.c.item, wo.c.quantity, wo.c.due)
                     .join(ops, (ops.c.work_order == d.c.work_order) & (ops.c.operation == d.c.operation))
                     .join(wo, wo.c.work_order == d.c.work_order)
                     .where(d.c.workstation == workstation).order_by(d.c.position))
    eq, ms = T["equipment"].table, T["machine_states"].table
    machines = _rows(conn, select(eq.c.equipment, eq.c.description, ms.c.state, ms.c.reason, ms.c.since)
                     .outerjoin(ms, ms.c.equipment == eq.c.equipment)
                     .where(eq.c.workstation == workstation).order_by(eq.c.equipment))
    _stop_reasons(request, conn, machines)
    clock = T["clock_ons"].table
    clocked = _rows(conn, select(clock).join(ops, (ops.c.work_order == clock.c.work_order)
                                             & (ops.c.operation == clock.c.operation))
                    .where(ops.c.workstation == workstation).order_by(clock.c.since))
    current = _current(sequence, work_order, operation)
    view: dict[str, Any] = {"workstation": workstation, "dispatch": sequence, "machines": machines,
                            "clocked_on": clocked, "current": None, "inspections": [], "nonconformances": [],
                            "downtime_prompt_s": _downtime_prompt_s(request, workstation)}
    # the machines' preventive maintenance due (a blocking one refuses a start) and their requests not closed
    here = {m["equipment"] for m in machines}
    view["maintenance_due"] = [p for p in plan_statuses(conn, datetime.now(UTC)) if p["equipment"] in here
                               and p["status"] != "ok"]
    view["maintenance_requests"] = [r for r in maintenance_requests(conn, "active") if r["equipment"] in here]
    device, bin_ = terminal_device(request, workstation)
    view["device"], view["bin"] = device, bin_
    if current is None:
        return view
    order = _rows(conn, select(wo).where(wo.c.work_order == current["work_order"]))[0]
    op = _rows(conn, select(ops).where((ops.c.work_order == current["work_order"])
                                      & (ops.c.operation == current["operation"])))[0]
    bom = T["bom_lines"].table
    lines = _rows(conn, select(bom).where(bom.c.work_order == current["work_order"]).order_by(bom.c.line))
    for ln in lines:
        with localcontext(Context(traps=[])):  # a record from before numbers were bounded must not raise here
            ln["required"] = _text(Decimal(ln["quantity_per"]) * Decimal(order["quantity"]))
    view["current"] = {**order, "operation": op, "bom": lines,
                       "setpoints": setpoints_of(_store(request), order["work_order"], op["operation"])}
    plans = T["inspection_plans"].table
    last = max(o["operation"] for o in _rows(conn, select(ops.c.operation).where(
        ops.c.work_order == order["work_order"])))
    standing = {x["plan"]: x for x in due_inspections(conn, datetime.now(UTC), workstation)
                if (x["work_order"], x["operation"]) == (order["work_order"], op["operation"])}
    tasks = T["inspection_tasks"].table
    for plan in _rows(conn, select(plans).where(
            ((plans.c.item == order["item"]) | plans.c.item.is_(None))
            & ((plans.c.operation == op["operation"]) | plans.c.operation.is_(None))
            & (plans.c.kind != "incoming")).order_by(plans.c.plan)):
        if plan["kind"] == "final" and op["operation"] != last:
            continue  # a final inspection is taken at the order's last operation
        plan["characteristics"] = _characteristics(conn, plan["plan"], order["work_order"])
        plan["due"] = standing.get(plan["plan"])  # in-process: where the count and the clock stand
        # a rework's re-inspection (RWK-<ncr>) open on this order by this plan: recording the plan here takes it
        plan["rework_task"] = next(iter(_rows(conn, select(tasks).where(
            (tasks.c.kind == "rework") & (tasks.c.status == "open") & (tasks.c.plan == plan["plan"])
            & (tasks.c.work_order == order["work_order"])).order_by(tasks.c.task).limit(1))), None)
        if plan["kind"] == "final":
            found = _rows(conn, select(tasks).where(tasks.c.task == f"FIN-{order['work_order']}-{plan['plan']}"))
            plan["task"] = found[0] if found else None
        view["inspections"].append(plan)
    view["inspection_due"] = any(p.get("due") and p["due"]["due"] for p in view["inspections"])
    ncr = T["nonconformances"].table
    view["nonconformances"] = _rows(conn, select(ncr).where((ncr.c.work_order == order["work_order"])
                                                            & (ncr.c.status == "open")).order_by(ncr.c.ncr))
    return view


def _text(value: Decimal) -> str:
    return decimal_text(value)


def setpoints_of(store: Store, work_order: str, operation: int) -> dict[str, Any]:
    """The setpoints last downloaded for an operation (as written and read back) and the last variance seen on the
    machine per parameter (connectors.setpoints), from the journal."""
    downloaded: list[dict[str, Any]] = []
    variances: dict[tuple[str, str], dict[str, Any]] = {}
    for r in events_of_subject(store, f"work_order:{work_order}", ["SetpointsDownloaded", "SetpointVarianceRecorded"],
                               upto=store.last_seq()):
        data = r.data()
        if data.get("operation") != operation:
            continue
        if r.type == "SetpointsDownloaded":
            downloaded = [{**v, "equipment": data["equipment"], "at": data["at"]} for v in data["values"]]
            variances = {k: v for k, v in variances.items() if k[0] != data["equipment"]}  # a new download
        else:
            variances[(data["equipment"], data["parameter"])] = data
    return {"downloaded": downloaded, "variances": list(variances.values())}


@api.get("/workstations/{workstation}", summary="Everything a workstation's terminal shows, in one read")
def get_workstation(request: Request, workstation: str, work_order: str | None = None,
                    operation: OperationNumber | None = None,
                    _: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        return workstation_view(request, conn, workstation, work_order, operation)


@api.get("/line", summary="The line at a glance: each workstation's machines, order, progress and alerts")
def get_line(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    ncr = T["nonconformances"].table
    out = []
    with _store(request).engine.connect() as conn:
        open_ncrs = _rows(conn, select(ncr).where(ncr.c.status == "open"))
        for ws in workstations(request, conn):
            view = workstation_view(request, conn, ws["workstation"])
            current = view["current"]
            alerts: list[dict[str, Any]] = []
            for m in view["machines"]:
                if m["state"] in ("down", "offline"):
                    alerts.append({"kind": "machine", "text": f"{m['equipment']} {m['state']}"
                                                              + (f": {m['reason']}" if m["reason"] else "")})
            if current is not None:
                op = current["operation"]
                if op["status"] == "paused":
                    alerts.append({"kind": "paused", "text": f"{current['work_order']}/{op['operation']} paused: "
                                                             f"{op['pause_reason'] or ''}"})
                for plan in view["inspections"]:
                    due = plan.get("due")
                    if due and due["due"]:
                        what = (f"{due['parts_since']} of {due['every_n_parts']} parts" if due["reason"] == "count"
                                else f"{int(due['minutes_since'])} of {due['every_minutes']} min")
                        alerts.append({"kind": "inspection", "text": f"inspection {plan['plan']} due on "
                                       f"{current['work_order']}/{op['operation']}: {what}"})
                for v in current["setpoints"]["variances"] if op["status"] == "in_progress" else []:
                    words = {"equipment": v["equipment"], "parameter": v["parameter"], "downloaded": v["downloaded"],
                             "observed": v["observed"]}
                    alerts.append({"kind": "setpoint", "key": "setpoint_variance", "vars": words,
                                   "text": f"{v['equipment']}: {v['parameter']} changed on the machine from "
                                           f"{v['downloaded']} to {v['observed']} (who and when unknown)"})
                for n in open_ncrs:
                    if n["work_order"] == current["work_order"]:
                        alerts.append({"kind": "ncr", "text": f"{n['ncr']}: {n['description']}"})
            out.append({**ws, "machines": view["machines"], "clocked_on": view["clocked_on"],
                        "current": None if current is None else {
                            "work_order": current["work_order"], "item": current["item"],
                            "quantity": current["quantity"], "operation": current["operation"]["operation"],
                            "description": current["operation"]["description"],
                            "status": current["operation"]["status"], "good": current["operation"]["good"],
                            "scrap": current["operation"]["scrap"]},
                        "alerts": alerts})
    return {"line": _line(request), "workstations": out}


def incoming_inspection(conn: Connection, task: dict[str, Any]) -> dict[str, Any]:
    """An incoming inspection task as the handheld shows it: the lot (item, quantity, where it is), the plan's
    characteristics with their limits, the samples recorded so far and, after the verdict, the lot's open NCRs."""
    lots, stock, ch, res, ncr = (T["lots"].table, T["stock"].table, T["characteristics"].table,
                                 schema.inspection_results, T["nonconformances"].table)
    plans = T["inspection_plans"].table
    lot = task["lot"]
    found = _rows(conn, select(lots.c.item, lots.c.item_revision, lots.c.quantity, lots.c.status, lots.c.expiry)
                  .where(lots.c.lot == lot))
    plan = _rows(conn, select(plans.c.plan, plans.c.description, plans.c.accept_number)
                 .where(plans.c.plan == task["plan"]))
    samples = _rows(conn, select(res.c.inspection, res.c.passed, res.c.actor, res.c.at)
                    .where((res.c.plan == task["plan"]) & (res.c.lot == lot))
                    .order_by(res.c.seq))
    return {**task, "lot_detail": found[0] if found else None,
            "stock": _rows(conn, select(stock.c.bin, stock.c.quantity).where(stock.c.lot == lot).order_by(stock.c.bin)),
            "plan_detail": {**(plan[0] if plan else {"plan": task["plan"], "description": "", "accept_number": 0}),
                            "characteristics": _rows(conn, select(ch).where(ch.c.plan == task["plan"])
                                                     .order_by(ch.c.characteristic))},
            "recorded": samples[-task["samples"]:] if task["samples"] else [],  # the task's (one task a lot)
            "ncrs": _rows(conn, select(ncr.c.ncr, ncr.c.description, ncr.c.status)
                          .where((ncr.c.lot == lot) & (ncr.c.status == "open")).order_by(ncr.c.ncr))}


@api.get("/incoming-inspections", summary="Lots awaiting incoming inspection, oldest first, with their plans (the "
                                          "handheld's inspect task)")
def get_incoming_inspections(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    from takt.api.inspections import open_tasks

    with _store(request).engine.connect() as conn:
        return {"tasks": [incoming_inspection(conn, task) for task in open_tasks(conn, "incoming")]}


@api.get("/incoming-inspections/{lot}", summary="The incoming inspection of one lot, open or with its verdict")
def get_incoming_inspection(request: Request, lot: str, _: User = Depends(current_user)) -> dict[str, Any]:
    tasks = T["inspection_tasks"].table
    with _store(request).engine.connect() as conn:
        found = _rows(conn, select(tasks).where((tasks.c.kind == "incoming") & (tasks.c.lot == lot))
                      .order_by(tasks.c.opened_at.desc()).limit(1))
        if not found:
            raise HTTPException(404, {"code": "NO_INSPECTION_TASK", "field": "lot",
                                      "message": f"lot {lot} awaits no incoming inspection"})
        return incoming_inspection(conn, found[0])


class LabelQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4096)


@api.post("/labels", responses=ACTION_RESPONSES, summary="What a scanned text is (kind, lot, GTIN, expiry, quantity); books nothing")
async def post_label(request: Request, body: LabelQuery, _: User = Depends(current_user)) -> dict[str, Any]:
    return label_of(request, body.text)


@api.get("/putaway/{lot}", summary="The bin to put a lot away in, by the site's putaway rules (edge.domain.putaway)")
def get_putaway(request: Request, lot: str, from_bin: str | None = None, quantity: Count | None = None,
                _: User = Depends(current_user)) -> dict[str, Any]:
    from edge.domain import putaway
    from takt.api.warehouse import storage_state, suggestion_json

    with _store(request).engine.connect() as conn:
        state = storage_state(conn, lot)
    found = state.lots.get(lot)
    if found is None:
        raise HTTPException(404, {"code": "UNKNOWN_LOT", "message": f"lot {lot} is not known here", "field": "lot"})
    if quantity is None:
        quantity = sum((row.quantity for (lt, b), row in state.stock.items()
                        if lt == lot and (from_bin is None or b == from_bin)), Decimal(0))
    rules = getattr(request.app.state, "putaway_rules", ()) or ()
    ranked = suggestion_json(putaway.suggest(state, found.item, quantity, rules, lot=lot, exclude=from_bin, limit=5))
    return {"lot": lot, "item": found.item, "quantity": _text(quantity),
            "suggestion": ranked[0] if ranked else None, "suggestions": ranked}


class DeviceContext(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_order: str | None = Field(default=None, min_length=1, max_length=200)


FLOOR = allowed_roles("operator", "supervisor")


async def floor_user(request: Request) -> User:
    return await authorize(request, FLOOR)


@api.put("/devices/{device}/work-order", responses=ACTION_RESPONSES,
         summary="The work order a terminal's scans consume for (as scanning its work-order label would)")
async def put_device_work_order(request: Request, device: str, body: DeviceContext,
                                _: User = Depends(floor_user)) -> dict[str, Any]:
    contexts = getattr(getattr(request.app.state, "scans", None), "contexts", None)
    if contexts is None or device not in contexts:
        raise HTTPException(422, {"code": "UNKNOWN_DEVICE", "message": f"device {device} is not a scanning device "
                                                                       "of this node", "field": "device"})
    if body.work_order is not None:
        wo = T["work_orders"].table
        with _store(request).engine.connect() as conn:
            if conn.execute(select(wo.c.work_order).where(wo.c.work_order == body.work_order)).first() is None:
                raise HTTPException(422, {"code": "UNKNOWN_WORK_ORDER", "field": "work_order",
                                          "message": f"work order {body.work_order} is not known here"})
    contexts[device] = replace(contexts[device], work_order=body.work_order)
    ctx = contexts[device]
    return {"device": device, "work_order": ctx.work_order, "operator": ctx.operator, "bin": ctx.bin}


def routes() -> list[Any]:
    """Every route of the pages: the HTML, the static files, the logon and the read models."""
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from takt.pages import sessions

    static = StaticFiles(directory=str(resources.files("takt.pages").joinpath("static")))
    return [*sessions.router.routes, *api.routes, *html_pages.routes,
            Mount("/pages/static", app=static, name="pages-static")]
