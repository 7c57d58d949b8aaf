"""Printing GS1 labels from the API: ``POST /api/v1/lots/{lot}/label`` renders the lot's GS1-128 label in ZPL
(edge.labels) and sends it to the site's label printer (raw TCP) or writes it to the site's label folder.

Printing records nothing in the plant's state: a label is output, not a fact of the plant."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from edge.labels import (
    LabelError,
    LotLabel,
    PalletLabel,
    UnitLabel,
    lot_label_zpl,
    send_to_printer,
    sscc_label_zpl,
    unit_label_zpl,
    write_label,
)
from edge.store import Store, schema
from takt.api.auth import allowed_roles, authorize
from takt.api.contract import ACTION_RESPONSES, BEARER, READ_RESPONSES
from takt.api.models import Quantity, Whole
from takt.api.site import site_config

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES
PRINTING = allowed_roles("operator", "warehouse", "quality", "supervisor")


class LotLabelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Quantity | None = Field(None, description="pieces on the label (AI 30); default: the lot's quantity")
    copies: Whole = Field(1, ge=1, le=100)


def _refuse(status: int, code: str, message: str, field: str | None) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message, "field": field})


@router.post("/lots/{lot}/label", tags=["labels"], status_code=201, responses=ACTION_RESPONSES,
             summary="Print a lot's GS1-128 label (GTIN, lot, expiry, quantity) in ZPL to the site's label printer")
async def print_lot_label(request: Request, lot: str, body: LotLabelRequest | None = None) -> dict[str, Any]:
    await authorize(request, PRINTING)
    asked = body or LotLabelRequest(quantity=None, copies=1)
    store: Store = request.app.state.store
    lots, items = T["lots"].table, T["items"].table
    with store.engine.connect() as conn:
        row = conn.execute(select(lots.c.lot, lots.c.item, lots.c.quantity, lots.c.expiry, items.c.gtin,
                                  items.c.description).select_from(lots.join(items, items.c.item == lots.c.item))
                           .where(lots.c.lot == lot)).first()
    if row is None:
        raise _refuse(404, "UNKNOWN_LOT", f"lot {lot} is not known here", "lot")
    if row.gtin is None:
        raise _refuse(409, "NO_GTIN", f"item {row.item} has no GTIN: a GS1 label names the item by it "
                      "(master data: items[].gtin)", "lot")
    quantity = asked.quantity if asked.quantity is not None else row.quantity
    try:
        zpl = lot_label_zpl(LotLabel(gtin=row.gtin, lot=row.lot, quantity=quantity if quantity else None,
                                     expiry=row.expiry, description=row.description, item=row.item), asked.copies)
    except LabelError as err:
        raise _refuse(422, "LABEL_NOT_POSSIBLE", str(err), err.field) from None
    where = await _print(request, f"lot-{row.lot}", zpl)
    return {"lot": row.lot, "printed_to": where, "copies": asked.copies, "zpl": zpl}


async def _print(request: Request, name: str, zpl: str) -> str:
    """Send ZPL to the site's label printer, or write it to the label folder; where it went."""
    site = site_config(request)
    config = site.labels if site is not None else None
    if config is None:
        raise _refuse(409, "NO_LABEL_PRINTER", "this site has no label printer or folder (site file: labels)", None)
    if config.printer_host is not None:
        where = f"{config.printer_host}:{config.printer_port}"
        try:
            await send_to_printer(config.printer_host, config.printer_port, zpl)
        except (OSError, TimeoutError) as err:
            raise _refuse(503, "PRINTER_UNREACHABLE", f"label printer {where} did not take the label: {err}",
                          None) from None
        return where
    assert config.folder is not None  # a printer or a folder: the labels section gives one (LabelsSection)
    return str(write_label(config.folder, name, zpl))


class PalletLabelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    copies: Whole = Field(1, ge=1, le=100)


@router.post("/pallets/{sscc}/label", tags=["labels"], status_code=201, responses=ACTION_RESPONSES,
             summary="Print a pallet's SSCC label (ZPL): the SSCC, and the content (GTIN, count, lot) when the pallet "
                     "holds one item")
async def print_pallet_label(request: Request, sscc: str, body: PalletLabelRequest | None = None) -> dict[str, Any]:
    await authorize(request, PRINTING)
    asked = body or PalletLabelRequest(copies=1)
    store: Store = request.app.state.store
    p_t, pl_t, items, customers = (T["pallets"].table, T["pallet_lines"].table, T["items"].table,
                                   T["customers"].table)
    with store.engine.connect() as conn:
        pallet = conn.execute(select(p_t).where(p_t.c.sscc == sscc)).first()
        if pallet is None:
            raise _refuse(404, "UNKNOWN_PALLET", f"pallet {sscc} is not known here", "sscc")
        lines = conn.execute(select(pl_t.c.lot, pl_t.c.item, pl_t.c.quantity, items.c.gtin)
                             .select_from(pl_t.join(items, items.c.item == pl_t.c.item))
                             .where(pl_t.c.sscc == sscc).order_by(pl_t.c.lot)).all()
        ship_to = "" if pallet.customer is None else conn.execute(
            select(customers.c.name).where(customers.c.customer == pallet.customer)).scalar_one_or_none() or ""
    one_item = len({ln.item for ln in lines}) == 1 and lines[0].gtin is not None
    count = sum(ln.quantity for ln in lines) if one_item else None
    try:
        zpl = sscc_label_zpl(PalletLabel(
            sscc=sscc, content_gtin=lines[0].gtin if one_item else None,
            count=int(count) if count is not None and count == int(count) else None,
            lot=lines[0].lot if one_item and len(lines) == 1 else None, ship_to=ship_to,
            gross_weight=pallet.gross_weight), asked.copies)
    except LabelError as err:
        raise _refuse(422, "LABEL_NOT_POSSIBLE", str(err), err.field) from None
    where = await _print(request, f"sscc-{sscc}", zpl)
    return {"sscc": sscc, "printed_to": where, "copies": asked.copies, "zpl": zpl}


@router.post("/units/{serial}/label", tags=["labels"], status_code=201, responses=ACTION_RESPONSES,
             summary="Print a serialised unit's GS1-128 label (GTIN and serial, AI 01 and 21) in ZPL")
async def print_unit_label(request: Request, serial: str, body: PalletLabelRequest | None = None) -> dict[str, Any]:
    await authorize(request, PRINTING)
    asked = body or PalletLabelRequest(copies=1)
    store: Store = request.app.state.store
    units, items = T["units"].table, T["items"].table
    with store.engine.connect() as conn:
        row = conn.execute(select(units.c.serial, units.c.item, items.c.gtin, items.c.description)
                           .select_from(units.join(items, items.c.item == units.c.item))
                           .where(units.c.serial == serial).order_by(units.c.item)).first()
    if row is None:
        raise _refuse(404, "UNKNOWN_UNIT", f"unit {serial} is not known here", "serial")
    if row.gtin is None:
        raise _refuse(409, "NO_GTIN", f"item {row.item} has no GTIN: a GS1 label names the item by it "
                      "(master data: items[].gtin)", "serial")
    try:
        zpl = unit_label_zpl(UnitLabel(gtin=row.gtin, serial=row.serial, description=row.description,
                                       item=row.item), asked.copies)
    except LabelError as err:
        raise _refuse(422, "LABEL_NOT_POSSIBLE", str(err), err.field) from None
    where = await _print(request, f"unit-{row.serial}", zpl)
    return {"serial": row.serial, "printed_to": where, "copies": asked.copies, "zpl": zpl}
