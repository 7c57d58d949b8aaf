"""Request and response models of the HTTP API (pydantic): what a client may send, and what it gets."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from edge import fields
from edge.fields import Code, Gtin, LineNumber, OperationNumber, Reason, Text

# A request is held to the form its schema states (strict where the schema is strict): a decimal is a whole JSON
# number or its text ("12.5"), never a fraction in binary floating point nor an exponent (edge.fields.DecimalForm);
# a flag is true or false, not 0 or "yes"; a time or a day is ISO 8601 text, not a number of seconds.
Quantity = Annotated[fields.Quantity, BeforeValidator(fields.QUANTITY_FORM.check)]
Count = Annotated[fields.Count, BeforeValidator(fields.COUNT_FORM.check)]
Measure = Annotated[fields.Measure, BeforeValidator(fields.MEASURE_FORM.check)]
PlausibleBands = Annotated[fields.PlausibleBands, BeforeValidator(fields.BANDS_FORM.check)]
Flag = Annotated[bool, Strict()]


def _whole_number(value: Any) -> Any:
    # Python counts a bool as an int and pydantic's lax mode reads "5" as 5: neither is a JSON Schema integer.
    # 5.0 is one (a number without a fraction), and pydantic takes it as 5; 5.5 it refuses.
    if isinstance(value, bool | str):
        raise ValueError("a whole number is a JSON number (e.g. 5), not true/false or text")
    return value


Whole = Annotated[int, BeforeValidator(_whole_number)]  # a JSON Schema integer in a request body

_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _time_as_text(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _TIME.match(value)):
        return value
    raise ValueError("a time is ISO 8601 text with a date and a time (e.g. 2026-11-25T08:00:00Z)")


def _day_as_text(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _DAY.fullmatch(value)):
        return value
    raise ValueError("a day is ISO 8601 text (e.g. 2026-11-25)")


# A time (format date-time) and a day (format date) as the schema states them, in a body or a query.
Moment = Annotated[datetime, BeforeValidator(_time_as_text)]
Day = Annotated[date, BeforeValidator(_day_as_text)]

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


# What a model's strip takes off the ends of a text (Unicode White_Space, as pydantic-core trims; not Python's
# str.strip(), which takes U+001C..U+001F too), spelled out so that JSON Schema reads it the same.
_BLANKS = r"\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def text_pattern(multi_line: bool, stripped: bool, some: bool = False) -> str:
    """The pattern of a text without control characters (a MULTI_LINE one keeps tab and line breaks), as JSON Schema
    states it. Where the text is stripped first, blanks and line breaks at its ends are taken off, not refused, and a
    text that must not be empty (``some``) has a character besides them."""
    allowed = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f" if multi_line else r"\x00-\x1f\x7f"
    middle = f"[^{allowed}]*"
    if not stripped:
        return f"^{middle}$"
    if some:
        middle = f"{middle}[^{allowed}{_BLANKS}]{middle}"
    return f"^[{_BLANKS}]*{middle}[{_BLANKS}]*$"


def _state_text_pattern(schema: dict[str, Any], multi_line: bool, stripped: bool) -> None:
    """Give every plain text in ``schema`` (a property's, inside anyOf and arrays) its pattern, unless its type says
    more already (a pattern of its own, a choice, a format); a nested model ($ref) states its own."""
    if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
        schema["pattern"] = text_pattern(multi_line, stripped, schema.get("minLength", 0) > 0)
    for member in schema.get("anyOf", []):
        _state_text_pattern(member, multi_line, stripped)
    if isinstance(schema.get("items"), dict):
        _state_text_pattern(schema["items"], multi_line, stripped)


def at_least_one(*names: str, form: dict[str, Any]) -> JsonDict:
    """JSON schema saying that one of ``names`` at least is given, as ``form`` (not null, not zero)."""
    return {"anyOf": [{"required": [name], "properties": {name: form}} for name in names]}


class Part(BaseModel):
    """A part of a request (a line, an operation, a measurement): no control characters in its text. Its JSON schema
    says so: a text without a pattern of its own gets one that leaves out the control characters."""

    model_config = ConfigDict(extra="forbid")
    _multi_line: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._multi_line = frozenset(name for name, f in cls.model_fields.items()
                                    if any(isinstance(meta, MultiLine) for meta in f.metadata))

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode != "validation":
            return schema
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            info = cls.model_fields.get(name)
            if info is None:
                continue
            stripped = bool(cls.model_config.get("str_strip_whitespace")) or any(
                getattr(meta, "strip_whitespace", False) for meta in info.metadata)
            _state_text_pattern(prop, name in cls._multi_line, stripped)
        return schema

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

    occurred_at: Annotated[Moment | None, AfterValidator(_aware)] = Field(
        None, description="When it happened on the floor, if not now (a handheld resending after an outage); "
                         "with a time zone, at most the site's api.max_backdate_days (default 90) in the past.")


# --- master data ---------------------------------------------------------------------------------


class ItemRequest(Request):
    item: Code
    description: Text = ""
    unit: Code
    revision: Code
    lot_controlled: Flag = True
    gtin: Gtin | None = Field(default=None, description="GS1 GTIN-8/12/13/14 with check digit: labels name the "
                                                          "item by it (AI 01)")
    serialised: Flag = Field(default=False, description="each unit gets its own serial at the first operation")


class BinRequest(Request):
    bin: Code
    zone: Code
    capacity: Quantity | None = None
    allowed_items: list[Code] = Field(default_factory=list, max_length=500)
    walk_sequence: Whole | None = Field(None, ge=0, le=999_999_999, description="where the bin comes on a picker's "
                                                                               "walk (kitting pick lists follow it)")
    max_per_item: Quantity | None = Field(None, description="hard putaway rule: at most this much of any one item")
    lot_policy: Literal["mixed", "one_item", "one_lot"] = Field(
        "mixed", description="hard putaway rule: mixed, one item (any lots of it) or one lot only")


class EquipmentRequest(Request):
    equipment: Code
    workstation: Code
    description: Text = ""


# A production parameter (a setpoint of the operation): its ID (no "=", no control characters or blanks at its ends)
# and its value, as B2MML's ProductionParameter and the sync protocol carry them.
ParameterId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^=\x00-\x20\x7f]([^=\x00-\x1f\x7f]*[^=\x00-\x20\x7f])?$")]
ParameterValue = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class OperationModel(Part):
    model_config = ConfigDict(extra="forbid")
    operation: OperationNumber
    description: Text = ""
    workstation: Code
    standard_minutes: Count = Decimal(0)
    instruction_url: str | None = Field(None, pattern=r"^https?://[^\x00-\x1f\x7f]*$", max_length=200,
                                        description="PLM's work instruction for the operation")
    parameters: dict[ParameterId, ParameterValue] = Field(default_factory=dict, max_length=200, description=(
        "production parameters (setpoints) of the operation, ID → value: downloaded to its machine where the site "
        "maps them (connectivity.machines[].setpoints), over the site's recipe"),
        json_schema_extra={"additionalProperties": False})  # an ID outside the pattern is refused, not ignored


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
    due: Day | None = None
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
    hold_on_fail: Flag = True
    spc_nonconformance: Flag = Field(False, description="an SPC rule violation raises a nonconformance")
    kind: Literal["general", "incoming", "in_process", "final"] = Field(default="general", description="incoming: lots received on a purchase order await it; in_process: every n parts or "
                               "minutes on the operation; final: a work order completes after it passed")
    supplier: Code | None = Field(default=None, description="incoming: only lots of this supplier")
    sample_size: Whole | None = Field(default=None, ge=1, le=1_000_000, description="fixed sample size n")
    sample_by_lot_size: Flag = Field(default=False, description="n by lot size (ISO 2859-1 general inspection level II)")
    accept_number: Whole = Field(default=0, ge=0, le=1_000_000, description="pass with at most this many failed samples")
    every_n_parts: Whole | None = Field(default=None, ge=1, le=1_000_000, description="in_process: due after n parts")
    every_minutes: Whole | None = Field(default=None, ge=1, le=1_000_000, description="in_process: due after n minutes")
    flag_overdue: Flag = Field(default=False, description="in_process: flag production beyond the grace while due")
    overdue_grace_parts: Count = Decimal(0)
    plausible_bands: PlausibleBands = Field(default=Decimal(10), description="a measurement more than this many "
                                            "tolerance bands beyond the limits is refused as implausible")
    signed: Flag = Field(default=False, description="its verdicts are electronically signed: the inspection that "
                                               "gives one carries the inspector's PIN (X-Takt-Pin)")


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


# Parts are reported when there are some: good or scrap (or both) is more than 0 (INVALID_QUANTITY otherwise).
_SOME_PARTS = at_least_one("good", "scrap", form=TypeAdapter(Quantity).json_schema())
# Scrap reported on an operation says why: no scrap (0, or left out), or a scrap_reason (MISSING_REASON otherwise).
_NONE: JsonDict = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 0},
                   {"type": "string", "pattern": rf"^0+(\.0{{1,{fields.DECIMAL_PLACES}}})?$"}]}
_SCRAP_SAYS_WHY: JsonDict = {"anyOf": [{"properties": {"scrap": _NONE}},
                             {"required": ["scrap_reason"], "properties": {"scrap_reason": TypeAdapter(Reason).json_schema()}}]}


class ProductionRequest(Request):
    model_config = ConfigDict(json_schema_extra={"allOf": [_SOME_PARTS, _SCRAP_SAYS_WHY]})
    good: Count = Decimal(0)
    scrap: Count = Decimal(0)
    scrap_reason: Reason | None = None


class AssignProductionRequest(Request):
    model_config = ConfigDict(json_schema_extra=_SOME_PARTS)
    work_order: Code
    operation: OperationNumber
    good: Count = Decimal(0)
    scrap: Count = Decimal(0)


class WriteOffProductionRequest(Request):
    model_config = ConfigDict(json_schema_extra=_SOME_PARTS)
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
    expiry: Day | None = None
    supplier_lot: Code | None = None
    quarantine: Flag = False


class CountDecisionRequest(Request):
    lot: Code
    bin: Code
    approve: Flag
    note: Annotated[str, MULTI_LINE] = Field("", max_length=500)


class ProducedLotRequest(Request):
    lot: Code
    quantity: Quantity
    bin: Code
    expiry: Day | None = None


class PurchaseOrderReceiptRequest(Request):
    line: LineNumber | None = Field(None, description="the order's line; default: the open line of the item")
    lot: Code
    item: Code | None = None
    gtin: str | None = Field(None, max_length=14, description="the GTIN on the supplier's label, naming the item")
    quantity: Quantity
    bin: Code
    expiry: Day | None = None
    supplier_lot: Code | None = None
    quarantine: Flag = False


class MoveRequest(Request):
    lot: Code
    from_bin: Code
    to_bin: Code
    quantity: Quantity
    putaway: Flag = False
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
    kind: Literal["pallet", "parcel"] = Field("pallet", description="a pallet or a parcel (both get an SSCC)")
    gross_weight: Quantity | None = Field(None, description="gross weight in kg as weighed (GS1 AI 3301 on its "
                                                           "label: up to 99999.9)")


class AddToPalletRequest(Request):
    lot: Code
    quantity: Quantity


class AddUnitsToPalletRequest(Request):
    serials: list[Code] = Field(min_length=1, max_length=500,
                                description="the serials of completed units in stock in the pallet's bin")
    item: Code | None = Field(default=None, description="the units' item, where serials of several items are alike")


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
    passed: Flag | None = None


class InspectionRequest(Request):
    inspection: Code
    plan: Code
    measurements: list[MeasurementModel] = Field(min_length=1, max_length=200)
    lot: Code | None = None
    work_order: Code | None = None
    operation: OperationNumber | None = None


class NonconformanceRequest(Request):
    # a nonconformance is about a lot or a work order (or both): MISSING_VALUE otherwise
    model_config = ConfigDict(json_schema_extra=at_least_one("lot", "work_order", form=TypeAdapter(Code).json_schema()))
    ncr: Code
    description: Reason
    lot: Code | None = None
    work_order: Code | None = None
    hold_lot: Flag = True


class ReworkOperationModel(Part):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    description: Code
    workstation: Code
    standard_minutes: Count = Decimal(0)


class ReworkModel(Part):
    """The rework a rework disposition creates (edge.domain.contexts.capa)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    operations: list[ReworkOperationModel] = Field(min_length=1, max_length=50,
                                                   description="the rework operations (the rework's routing)")
    plan: Code = Field(description="the inspection plan of the re-inspection that releases the subjects")
    mode: Literal["operations", "order"] | None = Field(
        None, description="operations: added to the NCR's work order; order: a rework order with its own routing; "
                          "default: the site's policy.rework_mode")
    rework_order: Code | None = Field(None, description="the rework order's number (mode order; default RW-<ncr>)")
    subjects: list[Annotated[str, StringConstraints(pattern=r"^(lot|unit):[^\x00-\x1f\x7f]{1,100}$")]] = Field(
        default_factory=list, max_length=500,
        description="what stays held until the re-inspection passes: lot:<lot> or unit:<serial> (default: the NCR's "
                    "lot)")


class DispositionRequest(Request):
    disposition: Literal["scrap", "rework", "use_as_is", "return_to_supplier"]
    comment: Annotated[Text, MULTI_LINE] = Field(
        "", description="why; use as is: the justification, signed (X-Takt-Pin) and required")
    rework: ReworkModel | None = Field(None, description="rework: the rework it creates (none: the NCR just closes)")


class OpenCapaRequest(Request):
    capa: Code
    problem: Reason
    ncrs: list[Code] = Field(default_factory=list, max_length=100, description="the NCRs this CAPA answers")
    containment: Text = ""


class RootCauseRequest(Request):
    root_cause: Reason
    whys: list[Reason] = Field(
        default_factory=list, max_length=5, description="the 5-why chain, first why first")
    fishbone: Literal["man", "machine", "method", "material", "measurement", "environment"] | None = Field(
        None, description="the fishbone (Ishikawa) category of the root cause: the 6M")
    containment: Text | None = None


class CapaActionRequest(Request):
    kind: Literal["corrective", "preventive"]
    description: Reason
    owner: Code
    due: Day


class CompleteCapaActionRequest(Request):
    result: Text = ""


class EffectivenessRequest(Request):
    effective: Flag
    comment: Reason


class SubLotModel(Part):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lot: Code
    quantity: Quantity
    verdict: Literal["accepted", "rejected"]
    samples: Whole = Field(0, ge=0, le=1_000_000)
    failed: Whole = Field(0, ge=0, le=1_000_000)


class SplitLotRequest(Request):
    parts: list[SubLotModel] = Field(min_length=2, max_length=100,
                                     description="the sub-lots: together the whole lot, each accepted or rejected")


class MachineStateRequest(Request):
    state: Literal["running", "idle", "down", "setup", "offline"]
    reason: Code | None = None
    since: Annotated[Moment | None, AfterValidator(_aware)] = None


# --- maintenance ---------------------------------------------------------------------------------

# A photo from the terminal's camera: a data URL of a JPEG, PNG or WebP image (edge.domain.contexts.maintenance).
Photo = Annotated[str, StringConstraints(max_length=600_000,
                                         pattern=r"^data:image/(jpeg|png|webp);base64,[A-Za-z0-9+/]*={0,2}$")]


class MaintenanceRequestRequest(Request):
    reason: Code | None = None
    note: Annotated[Text, MULTI_LINE] = ""
    photo: Photo | None = None


class MaintenanceNoteRequest(Request):
    note: Annotated[Text, MULTI_LINE] = ""
    photo: Photo | None = None


class MaintenanceActionRequest(Request):
    pass


class MaintenancePartsRequest(Request):
    lot: Code
    bin: Code
    quantity: Quantity


class MaintenanceCloseRequest(Request):
    released: Flag = Field(description="whether the machine is released for production (idle) or stays down")
    note: Annotated[Text, MULTI_LINE] = ""


class MaintenancePlanRequest(Request):
    plan: Code
    equipment: Code
    kind: Literal["calendar", "cycles", "parts", "run_hours"]
    interval: Quantity = Field(description="days (calendar), cycles, good parts or run hours")
    description: Text = ""
    blocks_start: Flag = False
    overdue_after_pct: Count = Decimal(10)
    active: Flag = True
    restart: Flag = False


class PreventiveStartRequest(Request):
    note: Annotated[Text, MULTI_LINE] = ""
class StopReasonRequest(Request):
    """Why a machine stopped: a leaf of its reason tree, for the stop that started at ``stop_start`` (absent: the
    stop the machine is in now)."""

    stop_start: Annotated[Moment | None, AfterValidator(_aware)] = None
    reason: Code
    note: Annotated[Text, MULTI_LINE] | None = None


class ReclassifyStopRequest(Request):
    """A supervisor books a stop to another leaf of its reason tree, and says why (``stop_start`` absent: the stop
    the machine is in now)."""

    stop_start: Annotated[Moment | None, AfterValidator(_aware)] = None
    reason: Code
    why: Annotated[Text, MULTI_LINE] = Field(min_length=1)


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


# --- electronic signatures -------------------------------------------------------------------------

SignatureId = Annotated[str, StringConstraints(pattern=r"^SIG-[0-9A-F]{16}$")]


class SignedEventRequest(Part):
    seq: Annotated[fields.JournalSeq, Strict()] = Field(description="the event's sequence number in this node's "
                                                        "journal")
    hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None, description="the event's chain hash as the signer saw it: refused (RECORD_CHANGED) if the "
                                  "journal holds another")


class SignatureRequest(Request):
    events: list[SignedEventRequest] = Field(min_length=1, max_length=100,
                                             description="the recorded events this signature signs")
    meaning: Code = Field(description="what the signature means: one of the site's policy.signature_meanings "
                                             "(reviewed, approved, released, rejected by default)")
    supersedes: SignatureId | None = Field(default=None, description="the signature whose records this one "
                                                                     "supersedes")
    comment: Annotated[Text, MULTI_LINE] = ""


# --- work instructions and serialised units (issue 21) -----------------------------------------------------------

StepText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=2000,
                                            pattern=r"^[a-z]{2}=")]
Medium = Annotated[str, StringConstraints(pattern=r"^(image|pdf):[\w.\-]{1,120}(#[0-9]{1,4})?$")]


class InstructionStepModel(Part):
    model_config = ConfigDict(extra="forbid")
    step: Whole = Field(ge=1, le=200, description="1, 2, 3, ... in order")
    kind: Literal["read", "check", "measure", "scan", "photo", "signoff"]
    texts: list[StepText] = Field(default_factory=list, max_length=20,
                                  description="the step's text per language: 'en=Fit the impeller', 'nl=...'")
    media: list[Medium] = Field(default_factory=list, max_length=20,
                                description="files of the site's instruction folder: 'image:x.png', 'pdf:y.pdf#3'")
    nominal: Measure | None = None
    lsl: Measure | None = None
    usl: Measure | None = None
    unit: Text = ""
    expect: Code | None = Field(None, description="scan: the value that must be scanned (a tool, a program)")
    component: Code | None = Field(None, description="scan: a serial or lot of this component item, issued to the "
                                                     "order, goes into the unit")
    on_fail: Literal["block", "ncr"] = Field("block", description="a failed step blocks the next one, or raises "
                                                                  "a nonconformance that holds the unit")
    plan: Code | None = Field(None, description="measure: also an inspection result of this plan (SPC)")
    characteristic: Code | None = None


class WorkInstructionRequest(Request):
    item: Code
    operation: OperationNumber
    revision: Code
    item_revision: Code = Field(description="the item revision it is written for")
    title: Text = ""
    steps: list[InstructionStepModel] = Field(min_length=1, max_length=200)


class SerialiseUnitRequest(Request):
    serial: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        None, description="scanned from a pre-printed label (plain, or a GS1 element string with AI 21); left out: "
                          "the next serial of the site's pattern")


class StepRequest(Request):
    instruction_revision: Code
    step: Whole = Field(ge=1, le=200)
    serial: Code | None = Field(None, description="the unit (serialised items)")
    result: Literal["done", "not_ok"] | None = None
    value: Measure | None = None
    scanned: Code | None = None
    photo: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}\.(jpg|png)$")] | None = Field(
        None, description="the id POST /api/v1/photos gave the picture")
    started_at: Annotated[Moment | None, AfterValidator(_aware)] = Field(None, description="when the step was shown")


class UnitActionRequest(Request):
    pass
# --- outbound: waves, picks, corrections, line-side replenishment ----------------------------------------------


class OrderLineRequest(Part):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sales_order: Code
    line: Annotated[LineNumber, Field(description="the sales order's line number")]


class ReleaseWavesRequest(Request):
    to_bin: Code = Field(description="where the picks go: the packing bin")
    lines: list[OrderLineRequest] = Field(default_factory=list, max_length=500,
                                          description="the order lines to release (none: every open line; a body "
                                                      "stays under the site's api.max_body_bytes)")
    group_by: Literal["zone", "due", "priority", "cutoff", "none"] = Field(
        "none", description="a wave per storage zone, per due date, per order priority (most urgent first), per "
                            "carrier and cut-off (earliest first; orders without a carrier by due date), or one wave")
    mode: Literal["cluster", "zone"] = Field("cluster", description="cluster: one walk, a tote per order; zone: "
                                                                    "the order's tote is handed over between zones")


class WavePickRequest(Request):
    bin: Code = Field(description="the bin scanned at the stop")
    lot: Code = Field(description="the lot scanned")
    quantity: Count = Field(description="what was taken: less than asked is a short pick, 0 none")
    tote: Code = Field(description="the order's tote scanned")
    short_reason: Text | None = Field(None, description="why less than asked was picked (required then)")


class CorrectPickRequest(Request):
    right_lot: Code = Field(description="the lot that should have been picked")
    found_at: Literal["packing", "line", "customer"]
    note: Text = ""


class LineSideBinRequest(Request):
    item: Code
    minimum: Count
    maximum: Quantity
    pack: Quantity | None = Field(None, description="replenish in whole packs of this quantity (a kanban: one "
                                                    "container)")
    kanban_bins: Whole = Field(0, ge=0, le=99, description="a kanban of this many containers (0: min/max)")
    source_zone: Code = Field("storage", description="the storage zone the bin is filled from")


class EmptyBinRequest(Request):
    item: Code = Field(description="the item on the kanban card scanned")


class ReplenishAheadRequest(Request):
    work_orders: list[Code] = Field(min_length=1, max_length=500,
                                    description="work orders released for the next shift")


class CompleteReplenishmentRequest(Request):
    lot: Code
    from_bin: Code
    quantity: Quantity
