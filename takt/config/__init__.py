"""Site configuration: the YAML file that says which node this is, who may use it and the master data it starts with.

``load_config(path)`` reads the file, validates it with the pydantic models below and resolves the
secrets (tokens and PINs from environment variables or files). Anything wrong raises
:class:`ConfigError`, whose message names the file, the path inside it (``users[2].roles[0]``), the
line, and the reason. Unknown keys are errors, so a typo never passes silently.

Master data in the file (items, bins, equipment, released work orders, dispatch lists, inspection
plans, opening stock) is not written to the store here: :mod:`takt.runtime` turns it into commands
and sends them through the one write path, as if the ERP had sent them.
"""
from __future__ import annotations

import contextlib
import difflib
import os
import types
import typing
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.config import ConnectivitySection
from edge.domain.model import Role
from edge.domain.oee import WEEKDAYS, Shift, parse_days
from edge.fields import Code, Count, Gtin, Quantity, Text
from edge.store.store import sqlite_url
from erp_sync.config import B2mmlSection, SyncSection

Language = Literal["en", "nl"]


MIN_TOKEN_LENGTH = 16
DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


# --- errors ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration file: where (path inside the file, line) and why."""

    path: str
    reason: str
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        return f" (line {self.line}, column {self.column})" if self.line is not None else ""


class ConfigError(Exception):
    """A configuration file that cannot be used. ``str()`` names the file, the path inside it and the reason."""

    def __init__(self, file: str | os.PathLike[str], problems: Sequence[Problem]) -> None:
        self.file = str(file)
        self.problems = list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        lines = []
        for p in self.problems:
            path = f" {p.path}:" if p.path else ""
            lines.append(f"{self.file}:{path} {p.reason}{p.where()}")
        if len(lines) > 1:
            lines.insert(0, f"{self.file}: {len(lines)} problems")
        return "\n".join(lines)

    @classmethod
    def single(cls, file: str | os.PathLike[str], path: str, reason: str) -> ConfigError:
        return cls(file, [Problem(path, reason)])


def format_path(loc: Sequence[str | int]) -> str:
    """``("users", 2, "roles", 0)`` → ``users[2].roles[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --- the models ------------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class NodeSection(_Section):
    """This edge node: its id (fixed at first start, it keys the ERP sync) and where it keeps its data."""

    id: Code
    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, description="PostgreSQL (postgresql+psycopg://...) or SQLite URL; "
                                     "default: SQLite in data_dir")
    database_url_env: str | None = Field(default=None, description="environment variable holding database_url "
                                         "(keeps the password out of the file)")

    @model_validator(mode="after")
    def _one_database(self) -> NodeSection:
        if self.database_url and self.database_url_env:
            raise ValueError("give database_url or database_url_env, not both")
        if self.database_url is not None:
            _check_database_url(self.database_url)
        return self

    def url(self) -> str:
        """The database URL this node uses: the configured one or SQLite in ``data_dir``."""
        return self.database_url or sqlite_url(self.data_dir)


def _check_database_url(url: str) -> None:
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ValueError(f"database_url must be a sqlite:/// or postgresql+psycopg:// URL, got {url.split(':')[0]}:...")


class Workstation(_Section):
    workstation: Code
    description: Text = ""
    # A machine here stopped longer than this without a reason: the terminal asks the operator for one.
    downtime_prompt_s: int = Field(default=120, ge=10, le=86_400)


class ShiftEntry(_Section):
    """A shift of the shift calendar (OEE is reported per shift): local start and end time (an end at or before
    the start runs past midnight; the same time is a 24-hour shift) and the weekdays it starts on."""

    name: Code
    start: dt_time
    end: dt_time
    days: list[str] = list(WEEKDAYS)

    @model_validator(mode="after")
    def _valid_days(self) -> ShiftEntry:
        parse_days(self.days)
        return self

    def shift(self) -> Shift:
        return Shift(self.name, self.start, self.end, parse_days(self.days))


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (e.g. Europe/Amsterdam)") from None
    return name


class SiteSection(_Section):
    """Where the node stands in the ISA-95 hierarchy: enterprise / site / area / line / workstations."""

    enterprise: Code
    site: Code
    area: Code
    line: Code
    workstations: list[Workstation] = []
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"  # the shift calendar's local time
    shifts: list[ShiftEntry] = []


class ApiSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, gt=0, description="largest request body accepted")


class UserEntry(_Section):
    """A person or a device account. The token comes from ``token_env`` or ``token_file``; a literal
    ``token`` is accepted for the demo only. A PIN (for shared terminals) likewise."""

    user: Code
    name: Text
    roles: list[Role] = Field(min_length=1)
    language: Language = "en"
    active: bool = True
    token: str | None = Field(default=None, repr=False)
    token_env: str | None = None
    token_file: Path | None = None
    pin: str | None = Field(default=None, repr=False)
    pin_env: str | None = None
    pin_file: Path | None = None

    @model_validator(mode="after")
    def _one_source_each(self) -> UserEntry:
        tokens = [k for k in ("token", "token_env", "token_file") if getattr(self, k) is not None]
        if len(tokens) != 1:
            raise ValueError("give exactly one of token_env, token_file or (demo only) token"
                             + (f"; got {', '.join(tokens)}" if tokens else ""))
        pins = [k for k in ("pin", "pin_env", "pin_file") if getattr(self, k) is not None]
        if len(pins) > 1:
            raise ValueError(f"give at most one of pin_env, pin_file or pin; got {', '.join(pins)}")
        return self


class ItemEntry(_Section):
    item: Code
    description: Text = ""
    unit: Code = "pcs"
    revision: Code
    lot_controlled: bool = True
    gtin: Gtin | None = None


class BinEntry(_Section):
    bin: Code
    zone: Code
    capacity: Quantity | None = None
    allowed_items: list[Code] = []
    walk_sequence: int | None = Field(default=None, ge=0, le=999_999_999)  # a picker's walk order, low first
    max_per_item: Quantity | None = None  # hard putaway rule: at most this much of any one item (edge.domain.putaway)
    lot_policy: Literal["mixed", "one_item", "one_lot"] = "mixed"  # hard putaway rule: what may share the bin


class EquipmentEntry(_Section):
    equipment: Code
    workstation: Code
    description: Text = ""


class OperationEntry(_Section):
    operation: int = Field(gt=0)
    description: Text = ""
    workstation: Code
    standard_minutes: Count = Decimal(0)
    instruction_url: str | None = Field(default=None, pattern=r"^https?://", max_length=200)


class BomLineEntry(_Section):
    line: int = Field(gt=0)
    item: Code
    item_revision: Code
    quantity_per: Quantity


class WorkOrderEntry(_Section):
    """A released work order as the ERP/MRP sends it, with its routing and BOM at a fixed revision."""

    work_order: Code
    item: Code
    item_revision: Code
    bom_revision: Code
    quantity: Quantity
    due: date | None = None
    overproduction_tolerance_pct: Count = Decimal(0)
    customer_order: Code | None = None
    operations: list[OperationEntry] = Field(min_length=1)
    bom: list[BomLineEntry] = []


class DispatchSlotEntry(_Section):
    work_order: Code
    operation: int = Field(gt=0)


class DispatchListEntry(_Section):
    """The APS sequence for one workstation."""

    workstation: Code
    sequence: list[DispatchSlotEntry]


class CharacteristicEntry(_Section):
    characteristic: Code
    kind: Literal["numeric", "attribute"]
    nominal: Decimal | None = None
    lsl: Decimal | None = None
    usl: Decimal | None = None
    unit: Text = ""

    @model_validator(mode="after")
    def _limits(self) -> CharacteristicEntry:
        if self.kind == "numeric":
            if self.lsl is None and self.usl is None:
                raise ValueError("a numeric characteristic needs lsl, usl or both")
            if self.lsl is not None and self.usl is not None and self.lsl > self.usl:
                raise ValueError(f"lsl {self.lsl} is above usl {self.usl}")
        elif any(v is not None for v in (self.nominal, self.lsl, self.usl)):
            raise ValueError("an attribute (pass/fail) characteristic has no nominal, lsl or usl")
        return self


class InspectionPlanEntry(_Section):
    plan: Code
    description: Text = ""
    item: Code | None = None
    operation: int | None = Field(default=None, gt=0)
    hold_on_fail: bool = True
    spc_nonconformance: bool = False  # an SPC rule violation (Western Electric) raises a nonconformance
    characteristics: list[CharacteristicEntry] = Field(min_length=1)
    # sampling (edge.domain.sampling): incoming / in_process / final inspection
    kind: Literal["general", "incoming", "in_process", "final"] = "general"
    supplier: Code | None = None
    sample_size: int | None = Field(default=None, ge=1)
    sample_by_lot_size: bool = False
    accept_number: int = Field(default=0, ge=0)
    every_n_parts: int | None = Field(default=None, ge=1)
    every_minutes: int | None = Field(default=None, ge=1)
    flag_overdue: bool = False
    overdue_grace_parts: Decimal = Field(default=Decimal(0), ge=0)


class LotEntry(_Section):
    """A lot in stock when the node starts (opening stock). ``received`` dates the receipt, which
    lets a lot that has expired since be loaded (and then refused at the line, FEFO)."""

    lot: Code
    item: Code
    item_revision: Code | None = None
    quantity: Quantity
    bin: Code
    expiry: date | None = None
    supplier_lot: Code | None = None
    received: datetime | date | None = None
    quarantine: bool = False

    def received_at(self) -> datetime | None:
        if self.received is None:
            return None
        if isinstance(self.received, datetime):
            return self.received if self.received.tzinfo else self.received.replace(tzinfo=UTC)
        return datetime(self.received.year, self.received.month, self.received.day, tzinfo=UTC)


class MasterData(_Section):
    items: list[ItemEntry] = []
    bins: list[BinEntry] = []
    equipment: list[EquipmentEntry] = []
    work_orders: list[WorkOrderEntry] = []
    dispatch_lists: list[DispatchListEntry] = []
    inspection_plans: list[InspectionPlanEntry] = []
    opening_stock: list[LotEntry] = []


class SerialPortEntry(_Section):
    """A serial barcode scanner (USB CDC or RS-232) and its framing."""

    port: str = Field(min_length=1, description="e.g. /dev/ttyACM0 or a /dev/serial/by-id/... link")
    baudrate: int = Field(default=9600, gt=0)
    suffix: Literal["CR", "LF", "CRLF", "TAB"] = "CR"
    prefix: str = ""
    max_length: int = Field(default=1024, gt=0, le=65536)
    double_read_window_s: float = Field(default=1.0, ge=0)
    good_feedback: str | None = Field(default=None, description="sent to the scanner after a booked scan")
    bad_feedback: str | None = Field(default=None, description="sent to the scanner after a refused scan")


class CameraEntry(_Section):
    """A camera that reads barcodes: device index, RTSP/HTTP URL or video file."""

    source: int | str
    decoder: Literal["zxing", "pyzbar"] = "zxing"
    formats: list[str] = Field(default=[], description="what the station expects (zxing: DataMatrix, Code128, ...)")
    roi: tuple[int, int, int, int] | None = Field(default=None, description="x, y, width, height")
    gap_frames: int = Field(default=2, ge=0)


class ScanDeviceEntry(_Section):
    """A scanning device bound to a workstation: what its scans mean there."""

    device: Code
    workstation: Code | None = None
    task: Literal["consume", "receive", "putaway", "move", "pick", "idle"] = "consume"
    bin: Code | None = Field(default=None, description="where material is taken from or put away from (a bin "
                                                        "label changes it)")
    default_quantity: Quantity | None = Field(default=None, description="per lot scan, when the label has none")
    serial: SerialPortEntry | None = None
    camera: CameraEntry | None = None


class ScanningSection(_Section):
    """Barcode scanning: in-house label patterns (regex per kind) and the scanning devices."""

    label_patterns: dict[Literal["badge", "work_order", "bin", "lot"], str] = {}
    devices: list[ScanDeviceEntry] = []

    @model_validator(mode="after")
    def _patterns_compile(self) -> ScanningSection:
        import re

        for kind, pattern in self.label_patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"label_patterns.{kind}: invalid regular expression: {exc}") from None
        return self


class LabelsSection(_Section):
    """Where GS1 labels (ZPL) go: a network printer's raw port, or a folder (a spool or a shared folder)."""

    printer_host: str | None = None
    printer_port: int = Field(default=9100, ge=1, le=65535)
    folder: Path | None = None

    @model_validator(mode="after")
    def _one_target(self) -> LabelsSection:
        if (self.printer_host is None) == (self.folder is None):
            raise ValueError("give printer_host (a network printer, raw TCP) or folder (ZPL files), one of them")
        return self


class PutawayRuleEntry(_Section):
    item: Code = "*"
    zones: list[Code] = Field(min_length=1)


class WarehouseSection(_Section):
    """Warehouse rules of the site."""

    # A count whose variance from the bin's stock is above this share (percent) waits for a supervisor's approval
    # (a supervisor's own count is booked at once). None: every count is booked.
    count_approval_pct: Decimal | None = Field(default=None, ge=0, le=1000)
    # Soft putaway rules: lots of an item matching ``item`` (a code or a pattern with * and ?) go to ``zones``, the
    # first preferred; the first rule that matches counts; an item no rule names goes to the "storage" zone.
    # A putaway elsewhere than the first suggestion needs an override reason (edge.domain.putaway).
    putaway_rules: list[PutawayRuleEntry] = []
    # SSCCs of the pallets packed here: extension digit + GS1 company prefix + a serial reference from a sequence
    # + check digit (18 digits). None: no pallets are packed on this node.
    gs1_company_prefix: str | None = Field(default=None, pattern=r"^[0-9]{6,12}$")
    sscc_extension_digit: int = Field(default=0, ge=0, le=9)


class RetentionSection(_Section):
    """What the node keeps and for how long (a node runs beside a line for years). A timer in the node runs the
    compaction every ``every_minutes`` (or daily at ``at``, site time); ``takt store compact`` runs it by hand.
    Journal events go to gzip archive files only when the ERP has acknowledged them and they are older than
    ``journal_age_days`` (never otherwise; edge.store.retention); process values are folded into per-minute
    summaries after ``samples_raw_age_days`` and those are dropped after ``samples_aggregate_age_days``
    (connectors.process_values). Everything goes in batches of ``batch_size`` with ``pause_ms`` between them."""

    enabled: bool = True
    journal_age_days: float | None = Field(default=None, ge=0, description="archive acknowledged journal events "
                                                                          "older than this; none: keep them all")
    samples_raw_age_days: float = Field(default=7, gt=0, description="process values older than this are folded "
                                                                     "into per-minute summaries")
    samples_aggregate_age_days: float = Field(default=365, gt=0, description="per-minute summaries older than this "
                                                                             "are dropped")
    archive_dir: Path | None = Field(default=None, description="where journal archives go; default: archive/ in "
                                                               "the node's data_dir")
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="rows per archive file and transaction")
    pause_ms: float = Field(default=20, ge=0, le=10_000, description="pause between batches (leaves the store to "
                                                                     "the recording)")
    every_minutes: float = Field(default=60, ge=1, le=7 * 24 * 60, description="how often the timer runs")
    at: dt_time | None = Field(default=None, description="run daily at this site time (HH:MM) instead")

    @model_validator(mode="after")
    def _aggregates_outlive_raw(self) -> RetentionSection:
        if self.samples_aggregate_age_days < self.samples_raw_age_days:
            raise ValueError(f"samples_aggregate_age_days ({self.samples_aggregate_age_days:g}) must be at least "
                             f"samples_raw_age_days ({self.samples_raw_age_days:g}): the summaries are made from "
                             f"the raw values")
        return self

    def archive_folder(self, data_dir: Path) -> Path:
        return self.archive_dir if self.archive_dir is not None else data_dir / "archive"


class TaktConfig(_Section):
    """A whole site configuration file."""

    node: NodeSection
    site: SiteSection
    api: ApiSection = ApiSection()
    users: list[UserEntry] = []
    master_data: MasterData = MasterData()
    scanning: ScanningSection = ScanningSection()
    connectivity: ConnectivitySection = ConnectivitySection()
    sync: SyncSection | None = None
    b2mml: B2mmlSection | None = None
    labels: LabelsSection | None = None
    warehouse: WarehouseSection = WarehouseSection()
    retention: RetentionSection = RetentionSection()

    def cross_check(self, today: date | None = None) -> list[Problem]:
        """References between sections: every code used is defined once, stock fits its bins, ..."""
        return list(_cross_check(self, today or datetime.now(UTC).date()))


def _duplicates(section: str, key: str, values: list[str]) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            yield Problem(f"{section}[{i}].{key}", f"{value} is defined twice")
        seen.add(value)


def _cross_check(cfg: TaktConfig, today: date) -> Iterator[Problem]:
    md = cfg.master_data
    yield from _duplicates("site.workstations", "workstation", [w.workstation for w in cfg.site.workstations])
    yield from _duplicates("users", "user", [u.user for u in cfg.users])
    yield from _duplicates("master_data.items", "item", [i.item for i in md.items])
    yield from _duplicates("master_data.bins", "bin", [b.bin for b in md.bins])
    yield from _duplicates("master_data.equipment", "equipment", [e.equipment for e in md.equipment])
    yield from _duplicates("master_data.work_orders", "work_order", [w.work_order for w in md.work_orders])
    yield from _duplicates("master_data.dispatch_lists", "workstation", [d.workstation for d in md.dispatch_lists])
    yield from _duplicates("master_data.inspection_plans", "plan", [p.plan for p in md.inspection_plans])
    yield from _duplicates("master_data.opening_stock", "lot", [lot.lot for lot in md.opening_stock])

    tokens = Counter(u.token for u in cfg.users if u.token)
    for i, u in enumerate(cfg.users):
        if u.token and tokens[u.token] > 1:
            yield Problem(f"users[{i}]", f"user {u.user} has the same token as another user; tokens must differ")

    items = {i.item: i for i in md.items}
    bins = {b.bin: b for b in md.bins}
    stations = {w.workstation for w in cfg.site.workstations}

    def station(path: str, code: str) -> Iterator[Problem]:
        if stations and code not in stations:
            yield Problem(path, f"workstation {code} is not in site.workstations ({', '.join(sorted(stations))})")

    def item(path: str, code: str) -> Iterator[Problem]:
        if code not in items:
            hint = difflib.get_close_matches(code, items, n=1)
            yield Problem(path, f"item {code} is not in master_data.items" + (f"; did you mean {hint[0]}?" if hint else ""))

    for i, b in enumerate(md.bins):
        for j, code in enumerate(b.allowed_items):
            yield from item(f"master_data.bins[{i}].allowed_items[{j}]", code)
    for i, e in enumerate(md.equipment):
        yield from station(f"master_data.equipment[{i}].workstation", e.workstation)
    operations: dict[tuple[str, int], str] = {}
    for i, wo in enumerate(md.work_orders):
        where = f"master_data.work_orders[{i}]"
        yield from item(f"{where}.item", wo.item)
        yield from _duplicates(f"{where}.operations", "operation", [str(o.operation) for o in wo.operations])
        yield from _duplicates(f"{where}.bom", "line", [str(ln.line) for ln in wo.bom])
        for j, op in enumerate(wo.operations):
            yield from station(f"{where}.operations[{j}].workstation", op.workstation)
            operations[(wo.work_order, op.operation)] = op.workstation
        for j, ln in enumerate(wo.bom):
            yield from item(f"{where}.bom[{j}].item", ln.item)
    for i, dl in enumerate(md.dispatch_lists):
        where = f"master_data.dispatch_lists[{i}]"
        yield from station(f"{where}.workstation", dl.workstation)
        for j, slot in enumerate(dl.sequence):
            runs_on = operations.get((slot.work_order, slot.operation))
            if runs_on is None:
                yield Problem(f"{where}.sequence[{j}]",
                              f"work order {slot.work_order} operation {slot.operation} is not in master_data.work_orders")
            elif runs_on != dl.workstation:
                yield Problem(f"{where}.sequence[{j}]", f"operation {slot.operation} of {slot.work_order} runs on "
                              f"{runs_on}, not {dl.workstation}")
    for i, plan in enumerate(md.inspection_plans):
        if plan.item is not None:
            yield from item(f"master_data.inspection_plans[{i}].item", plan.item)
        yield from _duplicates(f"master_data.inspection_plans[{i}].characteristics", "characteristic",
                               [c.characteristic for c in plan.characteristics])
    filled: dict[str, Decimal] = {}
    for i, lot in enumerate(md.opening_stock):
        where = f"master_data.opening_stock[{i}]"
        yield from item(f"{where}.item", lot.item)
        target = bins.get(lot.bin)
        if target is None:
            yield Problem(f"{where}.bin", f"bin {lot.bin} is not in master_data.bins")
            continue
        if target.allowed_items and lot.item not in target.allowed_items:
            yield Problem(f"{where}.bin", f"bin {lot.bin} may hold only {', '.join(target.allowed_items)}, not {lot.item}")
        filled[lot.bin] = filled.get(lot.bin, Decimal(0)) + lot.quantity
        if target.capacity is not None and filled[lot.bin] > target.capacity:
            yield Problem(f"{where}.quantity", f"bin {lot.bin} holds at most {target.capacity}; the opening stock "
                          f"up to this lot is {filled[lot.bin]}")
        received = lot.received_at()
        if lot.expiry is not None:
            if received is not None and lot.expiry < received.date():
                yield Problem(f"{where}.expiry", f"lot {lot.lot} expired on {lot.expiry} before it was received "
                              f"({received.date()})")
            elif received is None and lot.expiry < today:
                yield Problem(f"{where}.expiry", f"lot {lot.lot} expired on {lot.expiry}; give `received` (the date "
                              "it came in) to load it as opening stock")


# --- reading the file ------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML would keep the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _node_at(root: yaml.Node | None, loc: Sequence[str | int]) -> yaml.Node | None:
    """The YAML node at ``loc`` (or the deepest one on the way), for its line number."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    found = value_node
                    break
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _key_node_at(root: yaml.Node | None, loc: Sequence[str | int]) -> yaml.Node | None:
    parent = _node_at(root, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        for key_node, _ in parent.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(loc[-1]):
                return key_node
    return None


def _data_loc(data: Any, loc: Sequence[str | int], keep_last: bool) -> list[str | int]:
    """Pydantic's error location without its internal tags (union branches, validator names)."""
    out: list[str | int] = []
    for n, part in enumerate(loc):
        if isinstance(data, dict) and part in data:
            data = data[part]
            out.append(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
            out.append(part)
        elif keep_last and n == len(loc) - 1 and isinstance(part, str):
            out.append(part)
    return out


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that the mapping at ``loc`` is validated against (for "allowed keys" hints)."""
    model: Any = TaktConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        model = _unwrap(model.model_fields[part].annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _reason(err: Any, loc: list[str | int], raw_input: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        key = str(loc[-1])
        if model is not None:
            allowed = list(model.model_fields)
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f"did you mean {hint[0]}? " if hint else ""
            return f"unknown key {key!r}: {suggestion}allowed here: {', '.join(allowed)}"
        return f"unknown key {key!r}"
    if kind == "missing":
        return "required but missing"
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind in ("literal_error", "enum"):
        return f"{message}; got {raw_input!r}"
    return message


def _problems_from(exc: ValidationError, data: Any, root: yaml.Node | None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _data_loc(data, err["loc"], keep_last=err["type"] == "missing")
        raw: Any = data
        for part in loc:
            try:
                raw = raw[part]
            except (KeyError, IndexError, TypeError):
                raw = None
                break
        node = _key_node_at(root, loc) if err["type"] == "extra_forbidden" and loc else _node_at(root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        column = node.start_mark.column + 1 if node is not None else None
        problems.append(Problem(format_path(loc), _reason(err, loc, raw), line, column))
    return problems


def _resolve_secret(base: Path, entry: Any, what: str, where: str) -> tuple[str | None, Problem | None]:
    literal = getattr(entry, what)
    env = getattr(entry, f"{what}_env")
    file = getattr(entry, f"{what}_file")
    if literal is not None:
        return str(literal), None
    if env is not None:
        value = os.environ.get(env)
        if not value:
            return None, Problem(f"{where}.{what}_env", f"environment variable {env} is not set")
        return value, None
    if file is not None:
        path = file if file.is_absolute() else base / file
        try:
            return path.read_text(encoding="utf-8").strip(), None
        except OSError as exc:
            return None, Problem(f"{where}.{what}_file", f"cannot read {path}: {exc.strerror or exc}")
    return None, None


def _resolve(cfg: TaktConfig, base: Path, resolve_secrets: bool) -> tuple[TaktConfig, list[Problem]]:
    problems: list[Problem] = []
    users = []
    for i, entry in enumerate(cfg.users):
        if not resolve_secrets:
            users.append(entry)
            continue
        token, problem = _resolve_secret(base, entry, "token", f"users[{i}]")
        if problem:
            problems.append(problem)
        elif token is not None and len(token) < MIN_TOKEN_LENGTH:
            source = "token" if entry.token is not None else ("token_env" if entry.token_env else "token_file")
            problems.append(Problem(f"users[{i}].{source}", f"a token needs at least {MIN_TOKEN_LENGTH} characters"))
        pin, problem = _resolve_secret(base, entry, "pin", f"users[{i}]")
        if problem:
            problems.append(problem)
        users.append(entry.model_copy(update={"token": token, "pin": pin}))
    node = cfg.node
    data_dir = node.data_dir.expanduser()
    if not data_dir.is_absolute():
        data_dir = (base / data_dir).resolve()
    url = node.database_url
    if node.database_url_env is not None:
        url = os.environ.get(node.database_url_env)
        if not url:  # the node cannot open its store without it
            problems.append(Problem("node.database_url_env", f"environment variable {node.database_url_env} is not set"))
        else:
            try:
                _check_database_url(url)
            except ValueError as exc:
                problems.append(Problem("node.database_url_env", f"{node.database_url_env}: {exc}"))
                url = None
    node = node.model_copy(update={"data_dir": data_dir, "database_url": url})
    sync = cfg.sync
    if sync is not None and resolve_secrets:
        token, problem = _resolve_secret(base, sync, "token", "sync")
        if problem:
            problems.append(problem)
        sync = sync.model_copy(update={"token": token})
    if sync is not None and sync.ca_file is not None and not sync.ca_file.is_absolute():
        sync = sync.model_copy(update={"ca_file": (base / sync.ca_file).resolve()})
    if sync is not None and sync.erp is not None and not sync.erp.password_file.is_absolute():
        sync = sync.model_copy(update={"erp": sync.erp.model_copy(
            update={"password_file": (base / sync.erp.password_file).resolve()})})
    connectivity = cfg.connectivity
    if resolve_secrets:
        connectivity, found = _resolve_connectivity(cfg.connectivity, base)
        problems += found
    b2mml = cfg.b2mml
    if b2mml is not None:
        b2mml = b2mml.model_copy(update={
            name: (base / folder).resolve() for name in ("inbox", "outbox")
            if (folder := getattr(b2mml, name)) is not None and not folder.is_absolute()})
    retention = cfg.retention
    if retention.archive_dir is not None and not retention.archive_dir.expanduser().is_absolute():
        retention = retention.model_copy(update={"archive_dir": (base / retention.archive_dir).resolve()})
    return cfg.model_copy(update={"users": users, "node": node, "sync": sync, "b2mml": b2mml,
                                  "connectivity": connectivity, "retention": retention}), problems


def _resolve_connectivity(conn: ConnectivitySection, base: Path) -> tuple[ConnectivitySection, list[Problem]]:
    """The connectors' passwords read from their ``*_env`` variables / ``*_file`` files into ``password``."""
    problems: list[Problem] = []

    def resolved(entry: Any, what: str, where: str) -> Any:
        value, problem = _resolve_secret(base, entry, what, where)
        if problem:
            problems.append(problem)
        return entry.model_copy(update={what: value})

    opcua = []
    for i, server in enumerate(conn.opcua):
        server = resolved(server, "password", f"connectivity.opcua[{i}]")
        if server.security is not None:
            server = server.model_copy(update={"security": resolved(
                server.security, "private_key_password", f"connectivity.opcua[{i}].security")})
        opcua.append(server)
    mqtt = resolved(conn.mqtt, "password", "connectivity.mqtt") if conn.mqtt is not None else None
    sources = [resolved(src, "password", f"connectivity.mqtt_sources[{i}]") for i, src in enumerate(conn.mqtt_sources)]
    return conn.model_copy(update={"opcua": opcua, "mqtt": mqtt, "mqtt_sources": sources}), problems


def cleartext_secrets(cfg: TaktConfig) -> list[str]:
    """Where the site file (loaded with ``resolve_secrets=False``) writes a secret in clear: a token, PIN or
    password itself instead of the environment variable (``*_env``) or file (``*_file``) holding it, or a
    database URL with a password in it. The values are never returned, only where they are.

    The choice: such a file is accepted (the demo's public tokens are written in it) but ``takt config check``
    and ``takt run`` warn and ``takt doctor`` counts it as a problem, naming the places."""
    found = [f"users[{i}].{what}" for i, u in enumerate(cfg.users) for what in ("token", "pin")
             if getattr(u, what) is not None]
    if cfg.sync is not None and cfg.sync.token is not None:
        found.append("sync.token")
    url = cfg.node.database_url
    if url and cfg.node.database_url_env is None:
        from sqlalchemy.engine import make_url

        with contextlib.suppress(Exception):
            if make_url(url).password:
                found.append("node.database_url")
    conn = cfg.connectivity
    for i, server in enumerate(conn.opcua):
        if server.password is not None:
            found.append(f"connectivity.opcua[{i}].password")
        if server.security is not None and server.security.private_key_password is not None:
            found.append(f"connectivity.opcua[{i}].security.private_key_password")
    if conn.mqtt is not None and conn.mqtt.password is not None:
        found.append("connectivity.mqtt.password")
    found += [f"connectivity.mqtt_sources[{i}].password" for i, src in enumerate(conn.mqtt_sources)
              if src.password is not None]
    return found


def parse_config(text: str, file: str | os.PathLike[str] = "<config>", *, base_dir: Path | None = None,
                 resolve_secrets: bool = True, today: date | None = None) -> TaktConfig:
    """Validate configuration ``text``; ``file`` is only used in messages. Raises :class:`ConfigError`."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "not valid YAML"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise ConfigError(file, [Problem("", f"invalid YAML: {reason}", line, column)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, [Problem("", f"invalid YAML: {exc}")]) from None
    if data is None:
        raise ConfigError(file, [Problem("", "the file is empty; it needs at least node and site")])
    if not isinstance(data, dict):
        raise ConfigError(file, [Problem("", f"the file must be a mapping (key: value), not a {type(data).__name__}")])
    try:
        cfg = TaktConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(file, _problems_from(exc, data, root)) from None
    cfg, problems = _resolve(cfg, base_dir or Path.cwd(), resolve_secrets)
    problems += cfg.cross_check(today)
    if problems:
        located = []
        for p in problems:
            loc: list[str | int] = []
            for part in p.path.replace("]", "").replace("[", ".").split("."):
                loc.append(int(part) if part.isdigit() else part)
            node = _node_at(root, loc) if p.path else None
            located.append(Problem(p.path, p.reason, node.start_mark.line + 1 if node else None,
                                   node.start_mark.column + 1 if node else None))
        raise ConfigError(file, located)
    return cfg


def load_config(path: str | os.PathLike[str], *, resolve_secrets: bool = True, today: date | None = None) -> TaktConfig:
    """Read and validate a site configuration file. Relative paths in it (``data_dir``, token files)
    are relative to the file's folder. Raises :class:`ConfigError` naming the file, path and reason."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, [Problem("", f"cannot read the file: {exc.strerror or exc}")]) from None
    return parse_config(text, file, base_dir=file.resolve().parent, resolve_secrets=resolve_secrets, today=today)


def demo_config_path() -> Path:
    """The demo site's configuration: ``config/demo.yaml`` of the checkout, or the copy inside the package."""
    if DEMO_CONFIG.is_file():
        return DEMO_CONFIG
    packaged = Path(__file__).resolve().parent / "demo.yaml"
    if packaged.is_file():
        return packaged
    raise FileNotFoundError(f"the demo configuration is missing: looked for {DEMO_CONFIG} and {packaged}")
