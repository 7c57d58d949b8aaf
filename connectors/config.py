"""Configuration of machine connectivity (pydantic): OPC UA servers, Modbus devices, and signal mapping rules.

These models validate the ``connectivity`` part of a site file; an invalid file fails with the path inside it
and the reason, as the rest of the site configuration does.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_source(model: BaseModel, what: str) -> bool:
    """Whether the secret ``what`` is given (literally, by ``<what>_env`` or by ``<what>_file``); refuses more
    than one of the three. The site file's loader (``takt.config``) reads the variable or file into ``what``."""
    given = [k for k in (what, f"{what}_env", f"{what}_file") if getattr(model, k) is not None]
    if len(given) > 1:
        raise ValueError(f"give at most one of {what}_env, {what}_file or {what}; got {', '.join(given)}")
    return bool(given)


SECRET_ENV = "environment variable holding it (keeps the secret out of the file)"
SECRET_FILE = "file holding it, readable only by the node's user (relative to the site file)"
SECRET_LITERAL = "in clear in the file: warned about; prefer the _env or _file form"


# --- OPC UA ------------------------------------------------------------------------------------------


class Deadband(_Model):
    """A data-change filter: ``absolute`` in the value's unit, or ``percent`` of the node's EURange span (which only
    analog items have; a node without one is refused, as OPC UA servers refuse it)."""

    kind: Literal["absolute", "percent"] = "absolute"
    value: float = Field(gt=0)

    @model_validator(mode="after")
    def _percent_at_most_100(self) -> Deadband:
        if self.kind == "percent" and self.value > 100:
            raise ValueError(f"a percent deadband is at most 100 (of the EURange span), not {self.value}")
        return self


class OpcUaTag(_Model):
    name: str = Field(min_length=1)
    node_id: str = Field(min_length=1, description="e.g. ns=2;s=M-ASSY.GoodCount")
    sampling_interval_ms: float = Field(default=100, ge=0)
    queue_size: int = Field(default=10, ge=1, description="never 0: asyncua's server then queues without bound")
    deadband: Deadband | None = None
    mode: Literal["subscribe", "poll"] = "subscribe"


class OpcUaSecurity(_Model):
    """A secure channel: Basic256Sha256, signed or signed and encrypted, with the node's application certificate.

    The server must trust ``certificate``. The node checks the server's certificate before it opens the channel
    (``connectors.opcua_trust``): against ``server_certificate`` when given (pinned), else against its trust list,
    the folder ``trusted_server_certificates`` (default ``<data_dir>/opcua-pki/trusted``); a certificate in neither
    is refused, unless ``trust_on_first_use`` is on: then the first one the server presents is recorded in the
    data dir and trusted from then on, and a different one later is refused."""

    policy: Literal["Basic256Sha256"] = "Basic256Sha256"
    mode: Literal["Sign", "SignAndEncrypt"] = "SignAndEncrypt"
    certificate: Path = Field(description="the node's application certificate, DER or PEM")
    private_key: Path = Field(description="its private key, PEM or DER")
    private_key_password: str | None = Field(default=None, repr=False, description=SECRET_LITERAL)
    private_key_password_env: str | None = Field(default=None, description=SECRET_ENV)
    private_key_password_file: Path | None = Field(default=None, description=SECRET_FILE)
    server_certificate: Path | None = Field(default=None, description="the server's certificate, pinned")
    trusted_server_certificates: Path | None = Field(default=None, description=(
        "folder of trusted server certificates (DER or PEM), read on every connection attempt; default "
        "<data_dir>/opcua-pki/trusted. Refused ones are kept in <data_dir>/opcua-pki/rejected"))
    trust_on_first_use: bool = Field(default=False, description=(
        "trust the first certificate the server presents when it is not in the trust list: recorded in "
        "<data_dir>/opcua-pki/first-use, logged, shown in /health; a different one later is refused"))

    @field_validator("certificate", "private_key", "server_certificate")
    @classmethod
    def _readable(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"no such file: {path}")
        return path

    @field_validator("trusted_server_certificates")
    @classmethod
    def _folder(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_dir():
            raise ValueError(f"no such folder: {path}")
        return path

    @model_validator(mode="after")
    def _key_password(self) -> OpcUaSecurity:
        _one_source(self, "private_key_password")
        if self.server_certificate is not None and self.trust_on_first_use:
            raise ValueError("server_certificate pins the server's certificate: trust_on_first_use would never apply")
        return self


class OpcUaServer(_Model):
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^opc\.tcp://")
    publishing_interval_ms: float = Field(default=100, gt=0)
    poll_interval_ms: float = Field(default=1000, gt=0, description="for tags with mode: poll")
    timeout_s: float = Field(default=4, gt=0)
    watchdog_s: float = Field(default=5, gt=0, description=(
        "how often a quiet link is probed, and how long the probe may take (asyncua uses one number for both): "
        "a closed link is noticed at once; this bounds finding a half-open one. Too short a value takes a busy "
        "server's slow answer for a dead link (seen with 10,000 tags on a loaded machine at 1 s)"))
    username: str | None = None
    password: str | None = Field(default=None, repr=False, description=SECRET_LITERAL)
    password_env: str | None = Field(default=None, description=SECRET_ENV)
    password_file: Path | None = Field(default=None, description=SECRET_FILE)
    security: OpcUaSecurity | None = Field(default=None, description="absent: no security (policy None)")
    tags: list[OpcUaTag] = Field(min_length=1)

    @model_validator(mode="after")
    def _credentials(self) -> OpcUaServer:
        if (self.username is None) == _one_source(self, "password"):
            raise ValueError("username and password (or password_env / password_file) go together")
        return self

    @field_validator("tags")
    @classmethod
    def _unique(cls, tags: list[OpcUaTag]) -> list[OpcUaTag]:
        _no_duplicates([t.name for t in tags])
        return tags


# --- Modbus ------------------------------------------------------------------------------------------

ModbusType = Literal["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "bool", "bit",
                     "string"]
REGISTERS_PER_TYPE: dict[str, int] = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "int64": 4, "uint64": 4,
                                      "float32": 2, "float64": 4, "bool": 1, "bit": 1}


class ModbusTag(_Model):
    name: str = Field(min_length=1)
    table: Literal["holding", "input", "coil", "discrete"] = "holding"
    address: int = Field(ge=0, le=65535, description="0-based protocol address")
    type: ModbusType = "uint16"
    byte_order: Literal["big", "little"] = "big"
    word_order: Literal["big", "little"] = "big"
    bit: int | None = Field(default=None, ge=0, le=15, description="for type bit: the bit in the register")
    length: int | None = Field(default=None, ge=1, le=125, description="for type string: registers")
    scale: float = 1.0
    offset: float = 0.0

    @model_validator(mode="after")
    def _shape(self) -> ModbusTag:
        if self.table in ("coil", "discrete") and self.type != "bool":
            raise ValueError(f"{self.table} tags are bool, not {self.type}")
        if self.type == "bit" and self.bit is None:
            raise ValueError("a bit tag needs bit: 0..15")
        if self.type == "string" and self.length is None:
            raise ValueError("a string tag needs length: the number of registers")
        return self

    @property
    def count(self) -> int:
        """Registers (or bits, for coils and discrete inputs) this tag occupies."""
        if self.table in ("coil", "discrete"):
            return 1
        if self.type == "string":
            assert self.length is not None
            return self.length
        return REGISTERS_PER_TYPE[self.type]


class PollGroup(_Model):
    interval_ms: float = Field(default=1000, ge=10)
    tags: list[ModbusTag] = Field(min_length=1)


class SerialLine(_Model):
    """An RS-485/RS-232 line for Modbus RTU: the serial port and its settings (every device on it shares them)."""

    port: str = Field(min_length=1, description="e.g. /dev/ttyUSB0")
    baudrate: int = Field(default=19200, ge=300, le=4_000_000)
    parity: Literal["N", "E", "O"] = "N"
    bytesize: Literal[7, 8] = 8
    stopbits: Literal[1, 2] = 1


class ModbusDevice(_Model):
    """A Modbus device: over TCP (``host``, ``port``) or over RTU on a serial line (``serial``) with its unit id.

    Several devices may share one serial line (one unit id each): requests then go one at a time, and a device
    that does not answer holds the line for at most its ``timeout_s`` per try."""

    name: str = Field(min_length=1)
    host: str | None = None
    port: int = Field(default=502, ge=1, le=65535)
    serial: SerialLine | None = None
    unit: int = Field(default=1, ge=0, le=255)
    timeout_s: float = Field(default=1.0, gt=0)
    retries: int = Field(default=1, ge=0, le=10, description="per request, before its tags turn bad")
    max_gap: int = Field(default=0, ge=0, le=100, description="unused registers a merged read may span")
    groups: list[PollGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ModbusDevice:
        if (self.host is None) == (self.serial is None):
            raise ValueError("a Modbus device has either host (TCP) or serial (RTU), not both and not neither")
        if self.serial is not None and not 1 <= self.unit <= 247:
            raise ValueError(f"unit: {self.unit} is not an RTU device address 1..247")
        _no_duplicates([t.name for g in self.groups for t in g.tags])
        return self

    @property
    def address(self) -> str:
        """Where the device is, for messages: host:port, or serial port and unit."""
        if self.serial is not None:
            return f"{self.serial.port} unit {self.unit}"
        return f"{self.host}:{self.port}"


# --- Siemens S7 ----------------------------------------------------------------------------------------

S7Type = Literal["BOOL", "BYTE", "WORD", "DWORD", "INT", "UINT", "DINT", "UDINT", "REAL", "LREAL", "STRING",
                 "DATE_AND_TIME", "DTL"]
#: Bytes a value of each type takes in the PLC (STRING: 2 header bytes plus its declared length).
S7_SIZES: dict[str, int] = {"BOOL": 1, "BYTE": 1, "WORD": 2, "DWORD": 4, "INT": 2, "UINT": 2, "DINT": 4, "UDINT": 4,
                            "REAL": 4, "LREAL": 8, "DATE_AND_TIME": 8, "DTL": 12}


class S7Tag(_Model):
    """One variable by absolute address: ``area`` DB (with ``db``), M (markers), I (inputs) or Q (outputs), the
    byte ``offset`` and, for BOOL, the ``bit``: DB1.DBX24.0 is area DB, db 1, offset 24, type BOOL, bit 0."""

    name: str = Field(min_length=1)
    area: Literal["DB", "M", "I", "Q"] = "DB"
    db: int | None = Field(default=None, ge=1, le=65535, description="the data block's number (area DB)")
    offset: int = Field(ge=0, le=65535, description="byte offset in the area")
    type: S7Type = "INT"
    bit: int | None = Field(default=None, ge=0, le=7, description="for BOOL: the bit in the byte")
    length: int | None = Field(default=None, ge=1, le=254, description="for STRING: its declared length")

    @model_validator(mode="after")
    def _shape(self) -> S7Tag:
        if (self.area == "DB") != (self.db is not None):
            raise ValueError("db: a DB tag needs its data block number, and only DB tags have one")
        if (self.type == "BOOL") != (self.bit is not None):
            raise ValueError("bit: a BOOL needs bit 0..7, and only a BOOL has one")
        if (self.type == "STRING") != (self.length is not None):
            raise ValueError("length: a STRING needs its declared length 1..254, and only a STRING has one")
        return self

    @property
    def size(self) -> int:
        """Bytes this tag occupies."""
        if self.type == "STRING":
            assert self.length is not None
            return self.length + 2
        return S7_SIZES[self.type]

    @property
    def address(self) -> str:
        """Siemens notation, for messages: DB1.DBD4, MW2, I0.0."""
        width = {"BOOL": "X", 2: "W", 4: "D"}.get(self.type, {2: "W", 4: "D"}.get(self.size, "B"))
        bit = f".{self.bit}" if self.bit is not None else ""
        if self.area == "DB":
            return f"DB{self.db}.DB{width}{self.offset}{bit}"
        return f"{self.area}{'' if width == 'X' else width}{self.offset}{bit}"


class S7PollGroup(_Model):
    interval_ms: float = Field(default=1000, ge=10)
    tags: list[S7Tag] = Field(min_length=1)


class S7Plc(_Model):
    """A Siemens S7 PLC (300/400/1200/1500, or a LOGO!) read over PUT/GET (ISO-on-TCP, port 102).

    The CPU is addressed by ``rack`` and ``slot`` (S7-300: 0/2; S7-1200/1500: 0/1) or, for a LOGO! or a CP
    that wants them, by ``local_tsap`` and ``remote_tsap``. S7-1200/1500 need "Permit access with PUT/GET"
    on, and only DBs without optimised block access have absolute addresses."""

    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=102, ge=1, le=65535)
    rack: int = Field(default=0, ge=0, le=7)
    slot: int = Field(default=1, ge=0, le=31)
    local_tsap: int | None = Field(default=None, ge=0, le=0xFFFF, description="e.g. 0x0100; with remote_tsap")
    remote_tsap: int | None = Field(default=None, ge=0, le=0xFFFF, description="e.g. 0x0200 (LOGO!)")
    pdu_size: int = Field(default=480, ge=240, le=960, description="asked for; the PLC may grant less")
    timeout_s: float = Field(default=2.0, gt=0)
    max_gap: int = Field(default=16, ge=0, le=200, description="unused bytes a merged read may span")
    groups: list[S7PollGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> S7Plc:
        if (self.local_tsap is None) != (self.remote_tsap is None):
            raise ValueError("local_tsap and remote_tsap go together")
        _no_duplicates([t.name for g in self.groups for t in g.tags])
        return self

    @property
    def address(self) -> str:
        if self.remote_tsap is not None:
            return f"{self.host}:{self.port} TSAP {self.remote_tsap:04X}"
        return f"{self.host}:{self.port} rack {self.rack} slot {self.slot}"


# --- Rockwell Logix ------------------------------------------------------------------------------------

# A Logix tag path: controller or program scope, members by dots, array elements by [i] or [i,j,k], a bit by .n.
LOGIX_TAG = r"^(Program:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*(\[\d+(,\d+){0,2}\])?(\.([A-Za-z_][A-Za-z0-9_]*|\d+)(\[\d+(,\d+){0,2}\])?)*$"


class LogixTag(_Model):
    """One tag by its symbolic name: ``GoodCount``, ``Program:MainProgram.Step`` (program scope),
    ``Line.Station1.Good`` (a UDT member), ``Recent[3]`` (an array element); ``elements`` > 1 reads that many
    array elements from there, as one value (a list)."""

    name: str = Field(min_length=1)
    tag: str = Field(min_length=1, max_length=200, pattern=LOGIX_TAG)
    elements: int = Field(default=1, ge=1, le=1000)


class LogixPollGroup(_Model):
    interval_ms: float = Field(default=1000, ge=10)
    tags: list[LogixTag] = Field(min_length=1)


class LogixController(_Model):
    """A Rockwell ControlLogix/CompactLogix (or a Micro800) over EtherNet/IP CIP, tags read by name.

    A poll group's tags are read with multi-service requests as many as the connection's size holds
    (``connection_size``: default the largest the controller accepts, 4002 bytes, else 508); a Micro800 has no
    multi-service request and no routing: each tag is one request."""

    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=44818, ge=1, le=65535)
    slot: int = Field(default=0, ge=0, le=31, description="the controller's slot in its chassis")
    micro800: bool = Field(default=False, description="a Micro800: no slot, one tag a request")
    timeout_s: float = Field(default=2.0, gt=0)
    connection_size: int | None = Field(default=None, ge=500, le=4002, description="bytes a request may carry")
    groups: list[LogixPollGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> LogixController:
        _no_duplicates([t.name for g in self.groups for t in g.tags])
        return self

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" + ("" if self.micro800 else f" slot {self.slot}")


def _no_duplicates(names: list[str], what: str = "tag") -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"{what} {n} is defined twice")
        seen.add(n)


# --- signal mapping ------------------------------------------------------------------------------------

MachineStateName = Literal["running", "idle", "down", "setup", "offline"]


class StateRule(_Model):
    """Machine state from a tag: a PackML state number (defaults below) or the PLC's own enumeration."""

    tag: str
    kind: Literal["packml", "enum"] = "packml"
    states: dict[int, MachineStateName] = Field(default_factory=dict, description="code → state; overrides PackML")
    reason_tag: str | None = Field(default=None, description="alarm word or reason code tag; 0 means no reason")
    reasons: dict[int, str] = Field(default_factory=dict, description="reason code → reason text")

    @model_validator(mode="after")
    def _enum_needs_states(self) -> StateRule:
        if self.kind == "enum" and not self.states:
            raise ValueError("an enum state rule needs states: {code: running|idle|down|setup|offline}")
        return self


class CounterRule(_Model):
    """A PLC counter of good or scrap parts, booked as deltas."""

    tag: str
    kind: Literal["good", "scrap"]
    modulus: int | None = Field(default=2**32, ge=2, description="the counter wraps to 0 here; null: never wraps")
    rollover_window: int = Field(default=10_000, ge=1, description="most parts between two readings across a wrap")
    resets_on_restart: bool = Field(
        default=False, description="the PLC counts from 0 again after a restart: the first reading after a new "
        "server start time is all new parts, even past the last reading (off: a retained counter is never "
        "booked twice, and a restart is still seen when the counter went down)")
    scrap_reason: str = "machine reject"


class ProcessValueRule(_Model):
    """A process value (temperature, pressure, torque ...) kept as a time series for quality: a new value is kept
    when it leaves the deadband around the last kept one (or its quality changes), and values older than
    ``retention_s`` or beyond ``max_points`` per series are dropped."""

    tag: str
    name: str | None = Field(default=None, description="the series' name; default: the tag's")
    deadband: float = Field(default=0.0, ge=0, description="absolute: a change this size or smaller is not kept")
    deadband_percent: float | None = Field(default=None, gt=0, le=100,
                                           description="relative to the last kept value, instead of deadband")
    retention_s: float = Field(default=7 * 86400, gt=0)
    max_points: int = Field(default=100_000, ge=10)

    @property
    def series(self) -> str:
        return self.name or self.tag


class MachineInspection(_Model):
    """An inspection plan whose characteristics the machine measures: every ``every_s`` the latest good value of
    each mapped process value is recorded as an inspection of ``plan`` (on the operation in progress at the
    machine's workstation, if any). Every characteristic of the plan must be mapped."""

    plan: str = Field(min_length=1)
    characteristics: dict[str, str] = Field(min_length=1, description="characteristic → process value name")
    every_s: float = Field(default=60, ge=0.1)


class SetpointTag(_Model):
    """One setpoint the node may download to the machine: the production parameter ``parameter`` (its ID in the
    work order's operation or in the recipe) goes to the device's tag ``tag``. Only a tag marked ``writable`` is
    ever written; ``low``/``high`` are the parameter's limits (a value outside them is refused before anything is
    written); a read-back or a value seen later on the machine that differs by more than ``tolerance`` is a
    mismatch (at download) or a variance (while the operation runs)."""

    parameter: str = Field(min_length=1, max_length=100)
    tag: str = Field(min_length=1)
    writable: bool = Field(default=False, description="the site allows the node to write this tag")
    low: Decimal | None = Field(default=None, description="the lowest value allowed")
    high: Decimal | None = Field(default=None, description="the highest value allowed")
    tolerance: Decimal = Field(default=Decimal(0), ge=0, description="read-back and variance: equal within this")
    unit: str | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _limits(self) -> SetpointTag:
        for name in ("low", "high", "tolerance"):
            value = getattr(self, name)
            if value is not None and not value.is_finite():
                raise ValueError(f"{name}: a setpoint limit is a finite number, not {value}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low: {self.low} is above high {self.high}")
        return self


class MachineSetpoints(_Model):
    """Setpoints and recipes down to the machine: which parameters go to which writable tags, who may download
    them, and whether a running machine refuses them."""

    tags: list[SetpointTag] = Field(min_length=1)
    roles: list[str] = Field(default_factory=lambda: ["operator", "supervisor"], min_length=1,
                             description="the roles that may download setpoints (admin always may)")
    refuse_while_running: bool = Field(default=True, description="never write while the machine reports running")
    at_start: bool = Field(default=True, description="download at operation start, unless already downloaded")

    @field_validator("tags")
    @classmethod
    def _one_tag_per_parameter(cls, tags: list[SetpointTag]) -> list[SetpointTag]:
        _no_duplicates([t.parameter for t in tags], "setpoint parameter")
        _no_duplicates([t.tag for t in tags], "setpoint tag")
        return tags


class MachineSignals(_Model):
    """Which device and tags tell the node about one machine (equipment)."""

    equipment: str
    device: str = Field(description="the connector (OPC UA server or Modbus device) name")
    state: StateRule | None = None
    counters: list[CounterRule] = Field(default_factory=list)
    process_values: list[ProcessValueRule] = Field(default_factory=list)
    inspections: list[MachineInspection] = Field(default_factory=list)
    setpoints: MachineSetpoints | None = Field(default=None, description="setpoints the node downloads")

    @field_validator("process_values")
    @classmethod
    def _one_series_per_name(cls, rules: list[ProcessValueRule]) -> list[ProcessValueRule]:
        _no_duplicates([r.series for r in rules], "process value")
        return rules

    @model_validator(mode="after")
    def _inspected_values_are_kept(self) -> MachineSignals:
        series = {r.series for r in self.process_values}
        for rule in self.inspections:
            for characteristic, name in rule.characteristics.items():
                if name not in series:
                    raise ValueError(f"inspection {rule.plan}: {characteristic} is measured by process value "
                                     f"{name}, which machine {self.equipment} does not keep")
        return self


# --- the site file's connectivity section -----------------------------------------------------------------


class SparkplugSection(_Model):
    """Publish as a Sparkplug B edge node too: ``spBv1.0/<group_id>/.../<edge_node_id>/<equipment>``."""

    group_id: str = Field(min_length=1, pattern=r"^[^/+#]+$")
    edge_node_id: str = Field(min_length=1, pattern=r"^[^/+#]+$")


class MqttSection(_Model):
    host: str
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(default=None, repr=False, description=SECRET_LITERAL)
    password_env: str | None = Field(default=None, description=SECRET_ENV)
    password_file: Path | None = Field(default=None, description=SECRET_FILE)
    ca_certs: str | None = Field(default=None, description="CA file: connect with TLS")
    client_id: str | None = None
    sparkplug: SparkplugSection | None = Field(default=None, description="also publish Sparkplug B")

    @model_validator(mode="after")
    def _password(self) -> MqttSection:
        _one_source(self, "password")
        return self


class MqttTopicTag(_Model):
    """A tag fed by MQTT messages: every message on ``topic`` (``+``/``#`` wildcards allowed) is one value."""

    name: str = Field(min_length=1)
    topic: str = Field(min_length=1)

    @field_validator("topic")
    @classmethod
    def _filter(cls, topic: str) -> str:
        levels = topic.split("/")
        if any(("#" in lv and lv != "#") or ("+" in lv and lv != "+") for lv in levels) or "#" in levels[:-1]:
            raise ValueError(f"{topic!r} is not an MQTT topic filter (+ is a whole level, # the whole last level)")
        return topic


class MqttSource(_Model):
    """A device (a sensor, a PLC with an MQTT client) that publishes its values on a broker: a signal source.

    Payloads are JSON ``{"value": ..., "quality": "good|uncertain|bad", "timestamp": "ISO 8601" or epoch
    milliseconds}``; quality and timestamp may be left out (good, the time of arrival). A bare JSON number,
    string or boolean is the value itself."""

    name: str = Field(min_length=1)
    host: str
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(default=None, repr=False, description=SECRET_LITERAL)
    password_env: str | None = Field(default=None, description=SECRET_ENV)
    password_file: Path | None = Field(default=None, description=SECRET_FILE)
    ca_certs: str | None = Field(default=None, description="CA file: connect with TLS")
    client_id: str | None = None
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    tags: list[MqttTopicTag] = Field(min_length=1)

    @field_validator("tags")
    @classmethod
    def _unique(cls, tags: list[MqttTopicTag]) -> list[MqttTopicTag]:
        _no_duplicates([t.name for t in tags])
        return tags

    @model_validator(mode="after")
    def _password(self) -> MqttSource:
        _one_source(self, "password")
        return self


class SparkplugMetric(_Model):
    """A tag fed by a Sparkplug metric, by the name it has in the birth certificate (``Counters/Good``)."""

    name: str = Field(min_length=1)
    metric: str = Field(min_length=1)


class SparkplugSource(_Model):
    """Another vendor's Sparkplug B edge node (``device_id`` absent: its own metrics) or one of its devices, read
    from a broker as a host application does: births, aliases, seq and bdSeq, rebirth requests."""

    name: str = Field(min_length=1)
    host: str
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(default=None, repr=False, description=SECRET_LITERAL)
    password_env: str | None = Field(default=None, description=SECRET_ENV)
    password_file: Path | None = Field(default=None, description=SECRET_FILE)
    ca_certs: str | None = Field(default=None, description="CA file: connect with TLS")
    client_id: str | None = None
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    group_id: str = Field(min_length=1, pattern=r"^[^/+#]+$")
    edge_node_id: str = Field(min_length=1, pattern=r"^[^/+#]+$")
    device_id: str | None = Field(default=None, pattern=r"^[^/+#]+$")
    tags: list[SparkplugMetric] = Field(min_length=1)

    @field_validator("tags")
    @classmethod
    def _unique(cls, tags: list[SparkplugMetric]) -> list[SparkplugMetric]:
        _no_duplicates([t.name for t in tags])
        return tags

    @model_validator(mode="after")
    def _password(self) -> SparkplugSource:
        _one_source(self, "password")
        return self


class ConnectivitySection(_Model):
    """Machines the node listens to: OPC UA servers, Modbus devices, what their tags mean, and the MQTT broker
    the node publishes to."""

    opcua: list[OpcUaServer] = Field(default_factory=list)
    modbus: list[ModbusDevice] = Field(default_factory=list)
    s7: list[S7Plc] = Field(default_factory=list, description="Siemens S7 PLCs read over PUT/GET")
    logix: list[LogixController] = Field(default_factory=list, description="Rockwell Logix controllers (EtherNet/IP)")
    machines: list[MachineSignals] = Field(default_factory=list)
    mqtt: MqttSection | None = None
    mqtt_sources: list[MqttSource] = Field(default_factory=list, description="devices that publish on MQTT")
    sparkplug_sources: list[SparkplugSource] = Field(default_factory=list,
                                                     description="Sparkplug B edge nodes or devices read")

    @model_validator(mode="after")
    def _references(self) -> ConnectivitySection:
        names = [d.name for d in self.opcua] + [d.name for d in self.modbus] + [d.name for d in self.mqtt_sources]
        names += [d.name for d in self.s7] + [d.name for d in self.logix] + [d.name for d in self.sparkplug_sources]
        _no_duplicates(names)
        lines: dict[str, ModbusDevice] = {}
        units: dict[tuple[str, int], str] = {}
        for d in self.modbus:
            if d.serial is None:
                continue
            first = lines.setdefault(d.serial.port, d)
            if first.serial != d.serial:
                raise ValueError(f"modbus {d.name}: serial line {d.serial.port} has other settings than for "
                                 f"{first.name} (baudrate, parity, bytesize and stopbits are the line's)")
            other = units.setdefault((d.serial.port, d.unit), d.name)
            if other != d.name:
                raise ValueError(f"modbus {d.name}: unit {d.unit} on {d.serial.port} is already {other}")
        tags = {d.name: {t.name for t in d.tags} for d in self.opcua}
        tags.update({d.name: {t.name for g in d.groups for t in g.tags} for d in self.modbus})
        tags.update({d.name: {t.name for t in d.tags} for d in self.mqtt_sources})
        tags.update({d.name: {t.name for g in d.groups for t in g.tags} for d in self.s7})
        tags.update({d.name: {t.name for g in d.groups for t in g.tags} for d in self.logix})
        tags.update({d.name: {t.name for t in d.tags} for d in self.sparkplug_sources})
        for m in self.machines:
            if m.device not in tags:
                raise ValueError(f"machine {m.equipment}: no OPC UA server, Modbus device or MQTT source is named "
                                 f"{m.device} (nor an S7 PLC, Logix controller or Sparkplug source)")
            used = [r.tag for r in m.counters] + [r.tag for r in m.process_values]
            used += ([m.state.tag] if m.state else []) + ([m.state.reason_tag] if m.state and m.state.reason_tag else [])
            for tag in used:
                if tag not in tags[m.device]:
                    raise ValueError(f"machine {m.equipment}: {m.device} has no tag {tag}")
            for sp in m.setpoints.tags if m.setpoints else []:
                if sp.tag not in tags[m.device]:
                    raise ValueError(f"machine {m.equipment}: setpoints: {m.device} has no tag {sp.tag}")
                why = self._not_writable(m.device, sp.tag) if sp.writable else None
                if why:
                    raise ValueError(f"machine {m.equipment}: setpoints: {sp.parameter}: tag {sp.tag} {why}")
        return self

    def _not_writable(self, device: str, tag: str) -> str | None:
        """Why ``tag`` of ``device`` cannot take a setpoint (its kind or type), or None."""
        for d in self.modbus:
            for t in (t for g in d.groups for t in g.tags if d.name == device and t.name == tag):
                if t.table in ("input", "discrete"):
                    return f"is in the read-only {t.table} table: a setpoint is a holding register or a coil"
                if t.type in ("string", "bit"):
                    return f"is a {t.type}: a setpoint is a number or a bool"
        for p in self.s7:
            for s in (s for g in p.groups for s in g.tags if p.name == device and s.name == tag):
                if s.type in ("STRING", "DATE_AND_TIME", "DTL"):
                    return f"is a {s.type}: a setpoint is a number or a BOOL"
        if any(d.name == device for d in self.mqtt_sources) or any(d.name == device for d in self.sparkplug_sources):
            return "is read from MQTT: the node writes setpoints over OPC UA, Modbus, S7 or Logix only"
        return None
