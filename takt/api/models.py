"""Request and response models of the HTTP API (pydantic): what a client may send, and what it gets."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from edge.fields import (
    Code,
    Count,
    Gtin,
    LineNumber,
    Measure,
    OperationNumber,
    PlausibleBands,
    Quantity,
    Reason,
    Text,
)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-11-25T08:00:00Z)")
    return value


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    occurred_at: Annotated[datetime | None, AfterValidator(_aware)] = Field(
        None, description="When it happened on the floor, if not now (a handheld resending after an outage).")


# --- master data ---------------------------------------------------------------------------------


class ItemRequest(Request):
    item: Code
    description: Text = ""
    unit: Code
    revision: Code
    lot_controlled: bool = True
    gtin: Gtin | None = Field(default=None, description="GS1 GTIN-8/12/13/14 with check digit: labels name the "
                                                          "item by it (AI 01)")


class BinRequest(Request):
    bin: Code
    zone: Code
    capacity: Quantity | None = None
    allowed_items: list[Code] = Field(default_factory=list, max_length=500)
    walk_sequence: int | None = Field(None, ge=0, le=999_999_999, description="where the bin comes on a picker's "
                                                                               "walk (kitting pick lists follow it)")
    max_per_item: Quantity | None = Field(None, description="hard putaway rule: at most this much of any one item")
    lot_policy: Literal["mixed", "one_item", "one_lot"] = Field(
        "mixed", description="hard putaway rule: mixed, one item (any lots of it) or one lot only")


class EquipmentRequest(Request):
    equipment: Code
    workstation: Code
    description: Text = ""


class OperationModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operation: OperationNumber
    description: Text = ""
    workstation: Code
    standard_minutes: Count = Decimal(0)
    instruction_url: str | None = Field(None, pattern=r"^https?://", max_length=200,
                                        description="PLM's work instruction for the operation")


class BomLineModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line: LineNumber
    item: Code
    item_revision: Code
    quantity_per: Quantity


class WorkOrderRequest(Request):
    work_order: Code
    item: Code
    item_revision: Code
    bom_revision: Code
    quantity: Quantity
    operations: list[OperationModel] = Field(min_length=1, max_length=200)
    bom: list[BomLineModel] = Field(default_factory=list, max_length=500)
    overproduction_tolerance_pct: Count = Decimal(0)
    due: date | None = None
    customer_order: Code | None = None


class DispatchSlotModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_order: Code
    operation: OperationNumber


class DispatchListRequest(Request):
    sequence: list[DispatchSlotModel] = Field(max_length=1000)


class CharacteristicModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    characteristic: Code
    kind: Literal["numeric", "attribute"]
    nominal: Measure | None = None
    lsl: Measure | None = None
    usl: Measure | None = None
    unit: Text = ""


class InspectionPlanRequest(Request):
    plan: Code
    description: Text = ""
    characteristics: list[CharacteristicModel] = Field(min_length=1, max_length=200)
    item: Code | None = None
    operation: OperationNumber | None = None
    hold_on_fail: bool = True
    spc_nonconformance: bool = Field(False, description="an SPC rule violation raises a nonconformance")
    kind: Literal["general", "incoming", "in_process", "final"] = Field(default="general", description="incoming: lots received on a purchase order await it; in_process: every n parts or "
                               "minutes on the operation; final: a work order completes after it passed")
    supplier: Code | None = Field(default=None, description="incoming: only lots of this supplier")
    sample_size: int | None = Field(default=None, ge=1, le=1_000_000, description="fixed sample size n")
    sample_by_lot_size: bool = Field(default=False, description="n by lot size (ISO 2859-1 general inspection level II)")
    accept_number: int = Field(default=0, ge=0, le=1_000_000, description="pass with at most this many failed samples")
    every_n_parts: int | None = Field(default=None, ge=1, le=1_000_000, description="in_process: due after n parts")
    every_minutes: int | None = Field(default=None, ge=1, le=1_000_000, description="in_process: due after n minutes")
    flag_overdue: bool = Field(default=False, description="in_process: flag production beyond the grace while due")
    overdue_grace_parts: Count = Decimal(0)
    plausible_bands: PlausibleBands = Field(default=Decimal(10), description="a measurement more than this many "
                                            "tolerance bands beyond the limits is refused as implausible")


# --- work orders and labour ----------------------------------------------------------------------


class OperationActionRequest(Request):
    pass


class CancelWorkOrderRequest(Request):
    reason: Reason


class ResolveConflictRequest(Request):
    resolution: Literal["accept", "keep"] = Field(
        description="accept: apply the ERP's change (cancel the order, or take its new quantity and due date); "
                    "keep: leave the order as the floor has it")
    note: str = Field("", max_length=500)


class PauseRequest(Request):
    reason: Reason


class ProductionRequest(Request):
    good: Count = Decimal(0)
    scrap: Count = Decimal(0)
    scrap_reason: Reason | None = None


class AssignProductionRequest(Request):
    work_order: Code
    operation: OperationNumber
    good: Count = Decimal(0)
    scrap: Count = Decimal(0)


class WriteOffProductionRequest(Request):
    good: Count = Decimal(0)
    scrap: Count = Decimal(0)
    reason: Reason


class LabourRequest(Request):
    operator: Code | None = Field(None, description="Who clocks on or off; defaults to the signed-in user.")


# --- inventory -----------------------------------------------------------------------------------


class ReceiveRequest(Request):
    lot: Code
    item: Code
    item_revision: Code | None = None
    quantity: Quantity
    bin: Code
    expiry: date | None = None
    supplier_lot: Code | None = None
    quarantine: bool = False


class CountDecisionRequest(Request):
    lot: Code
    bin: Code
    approve: bool
    note: str = Field("", max_length=500)


class ProducedLotRequest(Request):
    lot: Code
    quantity: Quantity
    bin: Code
    expiry: date | None = None


class PurchaseOrderReceiptRequest(Request):
    line: LineNumber | None = Field(None, description="the order's line; default: the open line of the item")
    lot: Code
    item: Code | None = None
    gtin: str | None = Field(None, max_length=14, description="the GTIN on the supplier's label, naming the item")
    quantity: Quantity
    bin: Code
    expiry: date | None = None
    supplier_lot: Code | None = None
    quarantine: bool = False


class MoveRequest(Request):
    lot: Code
    from_bin: Code
    to_bin: Code
    quantity: Quantity
    putaway: bool = False
    reason: Text | None = None
    override_reason: Text | None = Field(None, description="a putaway to another bin than the first suggestion "
                                                           "(GET /api/v1/putaway/suggest): why")


class PalletLineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lot: Code
    quantity: Quantity


class PackPalletRequest(Request):
    bin: Code = Field(description="the bin the pallet is packed in (its lots' stock is there)")
    lines: list[PalletLineRequest] = Field(min_length=1, max_length=500)
    sscc: str | None = Field(None, pattern=r"^[0-9]{18}$", description="a pre-printed SSCC; default: the next of "
                                                                       "the site's sequence")


class AddToPalletRequest(Request):
    lot: Code
    quantity: Quantity


class ShipPalletRequest(Request):
    sales_order: Code


class PickRequest(Request):
    lot: Code
    from_bin: Code
    to_bin: Code = Field(description="the order's staging (line-side) bin")
    quantity: Count = Field(description="what was found and taken: less than asked is a short pick, 0 none")
    asked: Quantity = Field(description="what the pick list asked for")
    short_reason: Text | None = Field(None, description="why less than asked was picked (required then)")
    gtin: Gtin | None = None


class IssueRequest(Request):
    lot: Code
    bin: Code
    quantity: Quantity
    serial: Code | None = Field(None, description="a serialised unit (GS1 AI 21): issued once")


class AdjustRequest(Request):
    lot: Code
    bin: Code
    counted: Count
    reason: Reason


class ScrapRequest(Request):
    lot: Code
    bin: Code
    quantity: Quantity
    reason: Reason


class LotStatusRequest(Request):
    reason: Reason


# --- quality and machines ------------------------------------------------------------------------


class MeasurementModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    characteristic: Code
    value: Measure | None = None
    passed: bool | None = None


class InspectionRequest(Request):
    inspection: Code
    plan: Code
    measurements: list[MeasurementModel] = Field(min_length=1, max_length=200)
    lot: Code | None = None
    work_order: Code | None = None
    operation: OperationNumber | None = None


class NonconformanceRequest(Request):
    ncr: Code
    description: Reason
    lot: Code | None = None
    work_order: Code | None = None
    hold_lot: bool = True


class DispositionRequest(Request):
    disposition: Literal["scrap", "rework", "use_as_is", "return_to_supplier"]
    comment: Text = ""


class MachineStateRequest(Request):
    state: Literal["running", "idle", "down", "setup", "offline"]
    reason: Code | None = None
    since: Annotated[datetime | None, AfterValidator(_aware)] = None


# --- responses -----------------------------------------------------------------------------------


class EventSummary(BaseModel):
    seq: int
    type: str
    subject: str


class CommandAccepted(BaseModel):
    idempotency_key: str
    command: str
    events: list[EventSummary]
    replayed: bool = Field(description="True when this answers a repeated Idempotency-Key: nothing new was recorded.")


class Refusal(BaseModel):
    code: str = Field(description="Stable machine code, e.g. LOT_EXPIRED, INSUFFICIENT_STOCK, INVALID_REQUEST.")
    message: str
    field: str | None = Field(None, description="The input at fault, e.g. quantity or operations[1].workstation.")
    errors: list[dict[str, str]] | None = None
