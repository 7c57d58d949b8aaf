"""Site configuration: the YAML file that says which node this is, who may use it and the master data it starts with.

``load_config(path)`` reads the file, validates it with the pydantic models of this package and resolves the
secrets (tokens, badge codes and PINs from environment variables or files). Anything wrong raises
:class:`ConfigError`, whose message names the file, the path inside it (``users[2].roles[0]``), the
line, and the reason. Unknown keys are errors, so a typo never passes silently.

Master data in the file (items, bins, equipment, released work orders, dispatch lists, inspection
plans, opening stock) is not written to the store here: :mod:`takt.runtime` turns it into commands
and sends them through the one write path, as if the ERP had sent them.

The package holds one module per part of the file: :mod:`~takt.config.node` (node, site, shifts, API, users),
:mod:`~takt.config.master_data`, :mod:`scanners.config` (the scanners own their section), :mod:`~takt.config.warehouse`
(labels and warehouse rules), :mod:`~takt.config.retention`, :mod:`~takt.config.policy` (segregation of duties),
:mod:`~takt.config.site_file` (the whole file and its cross checks),
:mod:`~takt.config.errors` and :mod:`~takt.config.loader` (reading, locating problems, secrets).
"""
from __future__ import annotations

from scanners.config import CameraEntry, ScanDeviceEntry, ScanningSection, SerialPortEntry
from takt.config.errors import ConfigError, Problem, format_path
from takt.config.historian import HistorianSection
from takt.config.loader import DEMO_CONFIG, cleartext_secrets, demo_config_path, load_config, parse_config
from takt.config.master_data import (
    BinEntry,
    BomLineEntry,
    CharacteristicEntry,
    DispatchListEntry,
    DispatchSlotEntry,
    EquipmentEntry,
    InspectionPlanEntry,
    ItemEntry,
    LotEntry,
    MasterData,
    OperationEntry,
    WorkOrderEntry,
)
from takt.config.node import (
    MIN_TOKEN_LENGTH,
    ApiSection,
    Language,
    LogonSection,
    NodeSection,
    ShiftEntry,
    SiteSection,
    TlsSection,
    UserEntry,
    Workstation,
)
from takt.config.policy import PolicySection
from takt.config.retention import RetentionSection
from takt.config.site_file import TaktConfig
from takt.config.warehouse import LabelsSection, PutawayRuleEntry, WarehouseSection

__all__ = [
    "DEMO_CONFIG",
    "MIN_TOKEN_LENGTH",
    "ApiSection",
    "BinEntry",
    "BomLineEntry",
    "CameraEntry",
    "CharacteristicEntry",
    "ConfigError",
    "DispatchListEntry",
    "DispatchSlotEntry",
    "EquipmentEntry",
    "HistorianSection",
    "InspectionPlanEntry",
    "ItemEntry",
    "Language",
    "LabelsSection",
    "LogonSection",
    "LotEntry",
    "MasterData",
    "NodeSection",
    "OperationEntry",
    "PolicySection",
    "Problem",
    "PutawayRuleEntry",
    "RetentionSection",
    "ScanDeviceEntry",
    "ScanningSection",
    "SerialPortEntry",
    "ShiftEntry",
    "SiteSection",
    "TaktConfig",
    "TlsSection",
    "UserEntry",
    "WarehouseSection",
    "WorkOrderEntry",
    "Workstation",
    "cleartext_secrets",
    "demo_config_path",
    "format_path",
    "load_config",
    "parse_config",
]
