"""Request and response models of the HTTP API (pydantic): what a client may send, and what it gets."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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

# Control characters (C0 and DEL) have no place in what a person types: a NUL or an escape sequence stored in a
# reason would reach labels, the ERP and every log. A field marked MULTI_LINE (a note, a comment) keeps tab and
# line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MultiLine:
    """Marks a text field where tab, line feed and carriage return are allowed (``Annotated[str, MULTI_LINE]``)."""


MULTI_LINE = MultiLine()


def control_character_problem(value: str, multi_line: bool = False) -> str | None:
    """Why ``value`` is refused (the first control character and where), or None."""
    found = (_CONTROL_MULTI_LINE if multi_line else _CONTROL).search(value)
    if found is None:
        return None
    allowed = " (only tab and line breaks are allowed here)" if multi_line else ""
    return f"control character U+{ord(found.group()):04X} at position {found.start() + 1} is not allowed{allowed}"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-11-25T08:00:00Z)")
    return value


def backdating_problem(occurred_at: datetime, max_backdate: timedelta, now: datetime | None = None) -> str | None:
    """Why ``occurred_at`` is too far in the past for the site's ``api.max_backdate_days``, or None."""
    now = now or datetime.now(UTC)
    if now - occurred_at <= max_backdate:
        return None
    return (f"{occurred_at.isoformat()} is more than {max_backdate.days} days ago; this site accepts records "
            f"back to {(now - max_backdate).isoformat(timespec='seconds')} (api.max_backdate_days)")


class Part(BaseModel):
    """A part of a request (a line, an operation, a measurement): no control characters in its text."""

    model_config = ConfigDict(extra="forbid")
    _multi_line: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._multi_line = frozenset(name for name, f in cls.model_fields.items()
                                    if any(isinstance(meta, MultiLine) for meta in f.metadata))

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        texts: list[Any] | tuple[Any, ...]
        if isinstance(value, str):
            texts = [value]
        elif isinstance(value, list | tuple):
            texts = value
        else:
            return value
        multi_line = info.field_name in cls._multi_line
        for text in texts:
            if isinstance(text, str) and (problem := control_character_problem(text, multi_line)) is not None:
                raise ValueError(problem)
        return value


class Request(Part):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    occurred_at: Annotated[datetime | None, AfterValidator(_aware)] = Field(
        None, description="When it happened on the floor, if not now (a handheld resending after an outage); "
                         "with a time zone, at most the site's api.max_backdate_days (default 90) in the past.")


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


class OperationModel(Part):
    model_config = ConfigDict(extra="forbid")
    operation: OperationNumber
    description: Text = ""
    workstation: Code
    standard_minutes: Count = Decimal(0)
    instruction_url: str | None = Field(None, pattern=r"^https?://", max_length=200,
                                        description="PLM's work instruction for the operation")


class BomLineModel(Part):
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


class DispatchSlotModel(Part):
    model_config = ConfigDict(extra="forbid")
    work_order: Code
    operation: OperationNumber


class DispatchListRequest(Request):
    sequence: list[DispatchSlotModel] = Field(max_length=1000)


class CharacteristicModel(Part):
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
    note: Annotated[str, MULTI_LINE] = Field("", max_length=500)


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
    note: Annotated[str, MULTI_LINE] = Field("", max_length=500)


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


class PalletLineRequest(Part):
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


class MeasurementModel(Part):
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
    comment: Annotated[Text, MULTI_LINE] = ""


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
