"""The site file's warehouse sections: where labels are printed and the warehouse's rules (counts, putaway, SSCCs)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from edge.fields import Code, Percent
from takt.config.section import Section


class LabelsSection(Section):
    """Where GS1 labels (ZPL) go: a network printer's raw port, or a folder (a spool or a shared folder)."""

    printer_host: str | None = None
    printer_port: int = Field(default=9100, ge=1, le=65535)
    folder: Path | None = None

    @model_validator(mode="after")
    def _one_target(self) -> LabelsSection:
        if (self.printer_host is None) == (self.folder is None):
            raise ValueError("give printer_host (a network printer, raw TCP) or folder (ZPL files), one of them")
        return self


class PutawayRuleEntry(Section):
    item: Code = "*"
    zones: list[Code] = Field(min_length=1)


class WarehouseSection(Section):
    """Warehouse rules of the site."""

    # A count whose variance from the bin's stock is above this share (percent) waits for a supervisor's approval
    # (a supervisor's own count is booked at once). None: every count is booked.
    count_approval_pct: Percent | None = None
    # Soft putaway rules: lots of an item matching ``item`` (a code or a pattern with * and ?) go to ``zones``, the
    # first preferred; the first rule that matches counts; an item no rule names goes to the "storage" zone.
    # A putaway elsewhere than the first suggestion needs an override reason (edge.domain.putaway).
    putaway_rules: list[PutawayRuleEntry] = []
    # SSCCs of the pallets packed here: extension digit + GS1 company prefix + a serial reference from a sequence
    # + check digit (18 digits). None: no pallets are packed on this node.
    gs1_company_prefix: str | None = Field(default=None, pattern=r"^[0-9]{6,12}$")
    sscc_extension_digit: int = Field(default=0, ge=0, le=9)
    # Customer-order picking (edge.domain.picking.plan_waves): the share of an item's shelf life a customer needs
    # left on the lots picked for it (customer -> percent), and each item's shelf life (item -> days). A customer
    # without a share, or an item without a shelf life, has no requirement.
    customer_shelf_life_pct: dict[Code, Percent] = {}
    item_shelf_life_days: dict[Code, int] = {}
    # A work order released here (over the API or from the ERP) raises the replenishment of its BOM lines into their
    # line-side bins ahead of need in the same transaction, as POST /replenishment/ahead does (issue 23).
    replenish_ahead_on_release: bool = False

    @model_validator(mode="after")
    def _positive_shelf_lives(self) -> WarehouseSection:
        for item, days in self.item_shelf_life_days.items():
            if not 0 < days <= 36_500:
                raise ValueError(f"item_shelf_life_days: {item} has {days} days; give 1 to 36500")
        return self
