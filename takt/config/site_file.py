"""The whole site file (:class:`TaktConfig`, every section together) and the checks across its sections."""
from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from connectors.config import ConnectivitySection
from edge.store.users import PRIVILEGED_ROLES
from erp_sync.config import B2mmlSection, SyncSection
from scanners.config import ScanningSection
from takt.config.downtime import DowntimeSection
from takt.config.errors import Problem
from takt.config.historian import HistorianSection
from takt.config.identity import IdentitySection
from takt.config.instructions import InstructionsSection
from takt.config.journal import JournalSection
from takt.config.master_data import MasterData
from takt.config.node import ApiSection, LogonSection, NodeSection, SiteSection, UserEntry
from takt.config.policy import PolicySection
from takt.config.retention import RetentionSection
from takt.config.section import Section
from takt.config.warehouse import LabelsSection, WarehouseSection


class TaktConfig(Section):
    """A whole site configuration file."""

    node: NodeSection
    site: SiteSection
    api: ApiSection = ApiSection()
    users: list[UserEntry] = []
    logon: LogonSection = LogonSection()
    identity: IdentitySection | None = None  # people from the plant's directory (LDAP/AD), besides ``users``
    master_data: MasterData = MasterData()
    scanning: ScanningSection = ScanningSection()
    connectivity: ConnectivitySection = ConnectivitySection()
    sync: SyncSection | None = None
    b2mml: B2mmlSection | None = None
    labels: LabelsSection | None = None
    warehouse: WarehouseSection = WarehouseSection()
    retention: RetentionSection = RetentionSection()
    policy: PolicySection = PolicySection()
    # A folder holding the pinned reference data (GS1 dictionary, B2MML schemas, ...), looked in first (edge.reference)
    reference: Path | None = None
    journal: JournalSection = JournalSection()
    historian: HistorianSection = HistorianSection()
    instructions: InstructionsSection = InstructionsSection()  # work instructions, serials (issue 21)
    downtime: DowntimeSection = DowntimeSection()

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
    badges = Counter(u.badge for u in cfg.users if u.badge)
    for i, u in enumerate(cfg.users):
        if u.token and tokens[u.token] > 1:
            yield Problem(f"users[{i}]", f"user {u.user} has the same token as another user; tokens must differ")
        if u.badge and badges[u.badge] > 1:
            yield Problem(f"users[{i}]", f"user {u.user} has the same badge as another user; badges must differ")
        if set(u.roles) == {"service"} and u.has_badge:
            yield Problem(f"users[{i}]", f"user {u.user} is a device account (role service): it never logs on at a "
                          "page, so it has no badge")
        privileged = sorted(set(u.roles) & PRIVILEGED_ROLES)
        if privileged and u.has_badge and not u.has_pin:
            yield Problem(f"users[{i}]", f"user {u.user} has role {', '.join(privileged)} and a badge: a badge logon "
                          "of a role that changes records of others needs a PIN too (pin_env or pin_file)")

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
