"""Outbound reads: waves and their walks (the handheld leads the picker stop by stop), replenishment tasks by
priority, line-side bins with their stock and what is below minimum, the mis-pick report (per person, zone or item)
and a sales order's delivery note (PDF). Read from the store's tables, never the writer's cache."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from fpdf import FPDF
from sqlalchemy import Connection, func, or_, select

from edge.store import Store, schema
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.reads import quantity_text

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES
ZERO = Decimal(0)


def _refuse(status: int, code: str, message: str, field: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message, "field": field})


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def _pick_json(r: Any) -> dict[str, Any]:
    return {"pick": r.pick, "sales_order": r.sales_order, "line": r.line, "item": r.item, "lot": r.lot, "bin": r.bin,
            "zone": r.zone, "walk_sequence": r.walk_sequence, "quantity": quantity_text(r.quantity), "tote": r.tote,
            "status": r.status, "picked": quantity_text(r.picked), "picked_lot": r.picked_lot,
            "picked_by": r.picked_by, "device": r.device, "picked_at": _iso(r.picked_at),
            "min_expiry": _iso(r.min_expiry), "short_reason": r.short_reason}


def _wave_json(w: Any) -> dict[str, Any]:
    return {"wave": w.wave, "status": w.status, "mode": w.mode, "group": w.group, "to_bin": w.to_bin,
            "released_by": w.released_by, "released_at": _iso(w.released_at)}


@router.get("/waves", tags=["outbound"], summary="The waves: open first, newest first, with their picks to do")
def get_waves(request: Request, status: Literal["open", "picked"] | None = None,
              _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    w_t, p_t = T["waves"].table, T["wave_picks"].table
    with store.engine.connect() as conn:
        query = select(w_t).order_by(w_t.c.status, w_t.c.wave.desc()).limit(200)
        if status is not None:
            query = query.where(w_t.c.status == status)
        waves = list(conn.execute(query))
        left: dict[str, int] = dict(conn.execute(select(p_t.c.wave, func.count()).where(p_t.c.status == "open")
                                 .group_by(p_t.c.wave)).all())
        orders: dict[str, int] = dict(conn.execute(select(p_t.c.wave, func.count(p_t.c.sales_order.distinct()))
                                   .group_by(p_t.c.wave)).all())
    return {"waves": [{**_wave_json(w), "open_picks": left.get(w.wave, 0), "orders": orders.get(w.wave, 0)}
                      for w in waves]}


@router.get("/waves/{wave}", tags=["outbound"],
            summary="A wave's walk: its picks in the bins' sequence, the next stop, and each order's tote")
def get_wave(request: Request, wave: str, _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    w_t, p_t = T["waves"].table, T["wave_picks"].table
    with store.engine.connect() as conn:
        found = conn.execute(select(w_t).where(w_t.c.wave == wave)).first()
        if found is None:
            raise _refuse(404, "UNKNOWN_WAVE", f"wave {wave} is not known here", "wave")
        picks = list(conn.execute(select(p_t).where(p_t.c.wave == wave).order_by(p_t.c.pick)))
        orders = sorted({p.sales_order for p in picks})
        so = T["sales_orders"].table
        substitution = dict(conn.execute(select(so.c.sales_order, so.c.allow_substitution)
                                         .where(so.c.sales_order.in_(orders))).all())
        # an order's tote: bound at its first pick in this wave, or handed over from its other open waves (zones)
        totes = {r.sales_order: r.tote for r in conn.execute(
            select(p_t.c.sales_order, p_t.c.tote).join(w_t, w_t.c.wave == p_t.c.wave)
            .where(p_t.c.sales_order.in_(orders), p_t.c.tote != "",
                   or_(w_t.c.status == "open", w_t.c.released_at == found.released_at)))}
        totes.update({p.sales_order: p.tote for p in picks if p.tote})
    next_pick = next((p.pick for p in picks if p.status == "open"), None)
    return {**_wave_json(found), "next_pick": next_pick, "picks": [_pick_json(p) for p in picks],
            "orders": [{"sales_order": code, "tote": totes.get(code), "allow_substitution": bool(substitution.get(code))}
                       for code in orders]}


@router.get("/replenishment-tasks", tags=["outbound"],
            summary="Replenishment tasks, by priority (an empty line-side bin first), then oldest first")
def get_replenishment_tasks(request: Request, status: Literal["open", "done"] = "open",
                            bin: str | None = Query(None, max_length=200),
                            _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    t = T["replenishment_tasks"].table
    query = select(t).where(t.c.status == status).order_by(t.c.priority, t.c.raised_at, t.c.task).limit(500)
    if bin is not None:
        query = query.where(t.c.bin == bin)
    with store.engine.connect() as conn:
        rows = list(conn.execute(query))
    return {"tasks": [{"task": r.task, "bin": r.bin, "item": r.item, "quantity": quantity_text(r.quantity),
                       "reason": r.reason, "priority": r.priority, "status": r.status, "lot": r.lot,
                       "from_bin": r.from_bin, "work_order": r.work_order, "raised_at": _iso(r.raised_at),
                       "moved": quantity_text(r.moved), "done_by": r.done_by, "done_at": _iso(r.done_at)}
                      for r in rows]}


def line_side_levels(conn: Connection) -> list[dict[str, Any]]:
    ls, st, lots = T["line_side_bins"].table, T["stock"].table, T["lots"].table
    rt = T["replenishment_tasks"].table
    levels: dict[tuple[str, str], Decimal] = {}
    for r in conn.execute(select(st.c.bin, lots.c.item, st.c.quantity).join(lots, lots.c.lot == st.c.lot)
                          .where(st.c.bin.in_(select(ls.c.bin)))):
        levels[(r.bin, r.item)] = levels.get((r.bin, r.item), ZERO) + r.quantity
    coming: dict[tuple[str, str], Decimal] = {}
    for r in conn.execute(select(rt.c.bin, rt.c.item, rt.c.quantity).where(rt.c.status == "open")):
        coming[(r.bin, r.item)] = coming.get((r.bin, r.item), ZERO) + r.quantity
    found = []
    for r in conn.execute(select(ls).order_by(ls.c.bin, ls.c.item)):
        have = levels.get((r.bin, r.item), ZERO)
        found.append({"bin": r.bin, "item": r.item, "level": quantity_text(have),
                      "minimum": quantity_text(r.minimum), "maximum": quantity_text(r.maximum),
                      "pack": None if r.pack is None else quantity_text(r.pack), "kanban_bins": r.kanban_bins,
                      "source_zone": r.source_zone, "below_min": have < r.minimum,
                      "coming": quantity_text(coming.get((r.bin, r.item), ZERO))})
    return found


@router.get("/line-side-bins", tags=["outbound"],
            summary="Line-side bins: their stock of their item against min/max, what is below min, what is coming")
def get_line_side_bins(request: Request, below_min: bool = False, _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        found = line_side_levels(conn)
    return {"bins": [b for b in found if b["below_min"] or not below_min]}


@router.get("/reports/mis-picks", tags=["outbound"],
            summary="Mis-picks (picks corrected later) per person, zone or item, with each correction")
def get_mis_picks(request: Request, by: Literal["picked_by", "zone", "item"] = "picked_by",
                  _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    pc, wp = schema.pick_corrections, T["wave_picks"].table
    with store.engine.connect() as conn:
        rows = list(conn.execute(select(pc).order_by(pc.c.seq)))
        picks: dict[str, int] = dict(conn.execute(select(wp.c.picked_by, func.count()).where(wp.c.status != "open")
                                  .group_by(wp.c.picked_by)).all()) if by == "picked_by" else {}
    counts: dict[str, int] = {}
    for r in rows:
        key = getattr(r, by)
        counts[key] = counts.get(key, 0) + 1
    return {"by": by, "groups": [{"key": k, "mis_picks": n, **({"picks": picks.get(k, 0)} if by == "picked_by" else {})}
                                 for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))],
            "corrections": [{"seq": r.seq, "wave": r.wave, "pick": r.pick, "sales_order": r.sales_order,
                             "item": r.item, "zone": r.zone, "bin": r.bin, "wrong_lot": r.wrong_lot,
                             "right_lot": r.right_lot, "picked_by": r.picked_by, "device": r.device,
                             "picked_at": _iso(r.picked_at), "found_at": r.found_at, "note": r.note,
                             "corrected_by": r.actor, "at": _iso(r.at)} for r in rows]}


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def delivery_note_pdf(sales_order: str, customer: str, lines: list[Any], shipped: list[Any]) -> bytes:
    """A delivery note: the order's lines (ordered, shipped, still open) and what left on which pallet, by lot."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Delivery note - sales order {sales_order}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, _latin1(f"Customer: {customer}    Printed: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    for head, width in (("Line", 15), ("Item", 60), ("Ordered", 35), ("Shipped", 35), ("Open", 35)):
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=10)
    for ln in lines:
        for text, width in ((str(ln.line), 15), (ln.item, 60), (quantity_text(ln.quantity), 35),
                            (quantity_text(ln.shipped), 35), (quantity_text(max(ln.quantity - ln.shipped, ZERO)), 35)):
            pdf.cell(width, 7, _latin1(text), border=1)
        pdf.ln()
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    for head, width in (("Pallet (SSCC)", 50), ("Item", 45), ("Lot", 45), ("Quantity", 30)):
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=10)
    for mv in shipped:
        for text, width in ((mv.sscc or "", 50), (mv.item, 45), (mv.lot, 45), (quantity_text(mv.quantity), 30)):
            pdf.cell(width, 7, _latin1(text), border=1)
        pdf.ln()
    return bytes(pdf.output())


@router.get("/sales-orders/{sales_order}/delivery-note.pdf", tags=["outbound"], response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The delivery note"}},
            summary="A sales order's delivery note (PDF): its lines shipped and still open, pallets and lots")
def get_delivery_note(request: Request, sales_order: str, _: User = Depends(current_user)) -> Response:
    store: Store = request.app.state.store
    so, sol, mv = T["sales_orders"].table, T["sales_order_lines"].table, schema.moves
    with store.engine.connect() as conn:
        order = conn.execute(select(so).where(so.c.sales_order == sales_order)).first()
        if order is None:
            raise _refuse(404, "UNKNOWN_SALES_ORDER", f"sales order {sales_order} is not known here", "sales_order")
        lines = list(conn.execute(select(sol).where(sol.c.sales_order == sales_order).order_by(sol.c.line)))
        shipped = list(conn.execute(select(mv).where(mv.c.sales_order == sales_order, mv.c.kind == "ship")
                                    .order_by(mv.c.seq)))
    body = delivery_note_pdf(sales_order, order.customer, lines, shipped)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="delivery-note-{sales_order}.pdf"'})
