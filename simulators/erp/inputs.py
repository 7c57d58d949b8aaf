"""The central ERP simulator's request bodies for its own master data and planning routes (items, workstations,
routings, BOMs, work orders, period close, APS runs): what a test or the demo puts into the central side."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from erp_sync.protocol import BomLineChange, Code, OperationChange


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(_In):
    item: Code
    description: str
    unit: Code = "pcs"
    revision: Code = "A"
    lot_controlled: bool = True
    gtin: str | None = None
    family: str = Field(default="", description="changeover family for APS; empty: the item is its own family")
    source: Literal["make", "buy"] = "make"
    lead_time_days: int = Field(default=0, ge=0)
    supplier: str | None = Field(default=None, description="for bought items: whom MRP orders from")


class WorkstationIn(_In):
    workstation: Code
    node: str | None = Field(default=None, description="the edge node that runs this workstation")
    labour_rate: Decimal = Field(default=Decimal(0), ge=0, description="cost per hour of labour")
    machine_rate: Decimal = Field(default=Decimal(0), ge=0, description="cost per hour of machine running time")
    equipment: list[Code] = Field(default=[], description="machines at this workstation (their running time is costed)")


class RoutingIn(_In):
    item: Code
    operations: list[OperationChange] = Field(min_length=1)


class BomLineIn(_In):
    line: int = Field(ge=1)
    item: Code
    item_revision: str | None = Field(default=None, description="default: the component's current revision")
    quantity_per: Decimal = Field(gt=0)


class BomIn(_In):
    item: Code
    bom_revision: Code
    lines: list[BomLineIn] = Field(min_length=1)
    effective: Literal["next_order", "immediately"] = "next_order"


class WorkOrderIn(_In):
    work_order: Code
    item: Code
    quantity: Decimal = Field(gt=0)
    due: date | None = None
    customer_order: str | None = None
    bom_revision: str | None = Field(default=None, description="default: the item's current BOM revision")
    operations: list[OperationChange] | None = Field(default=None, description="default: the item's routing")
    bom: list[BomLineChange] | None = Field(default=None, description="default: the lines of the BOM revision")
    overproduction_tolerance_pct: Decimal = Decimal(0)


class WorkOrderPatch(_In):
    quantity: Decimal | None = Field(default=None, gt=0)
    due: date | None = None


class PeriodCloseIn(_In):
    through: date = Field(description="the last day of the closed period: events that occurred on or before it "
                                      "are refused PERIOD_CLOSED")


class ApsRunIn(_In):
    start: datetime | None = Field(default=None, description="when the sequences start; default now")
    changeover_minutes: Decimal = Field(default=Decimal(30), ge=0)
