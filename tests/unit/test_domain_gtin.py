"""Items carry their GTIN: checked when defined, one item per GTIN, and a scanned label's GTIN must be the lot's item's
(a lot label on the wrong goods is WRONG_ITEM); a lot not known yet can be received by its item's GTIN."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain.gs1 import gtin_problem

from .plant_helpers import D, Plant, build_plant

SCREW_GTIN, GASKET_GTIN = "09501101530003", "4012345000016"
ADMIN = frozenset({"admin"})


def with_gtins() -> Plant:
    plant = build_plant()
    plant.do(c.DefineItem, item="SCREW", description="Screw", unit="pcs", revision="B", gtin=SCREW_GTIN, roles=ADMIN)
    plant.do(c.DefineItem, item="GASKET", description="Gasket", unit="pcs", revision="C", gtin=GASKET_GTIN,
             roles=ADMIN)
    return plant


@pytest.mark.parametrize(("gtin", "reason"), [
    ("12345670", None), ("036000291452", None), ("9501101530003", None), (SCREW_GTIN, None),
    ("09501101530004", "check digit 4, expected 3"), ("0950110153", "8, 12, 13 or 14 digits"),
    ("09501101S30003", "digits only"), ("٠٩٥٠١١٠١٥٣٠٠٠٣", "digits only"),
])
def test_gtin_length_charset_and_check_digit(gtin: str, reason: str | None) -> None:
    problem = gtin_problem(gtin)
    assert problem is None if reason is None else reason in (problem or "")


def test_an_item_gtin_is_checked_and_names_one_item() -> None:
    plant = with_gtins()
    assert plant.state.items["SCREW"].gtin == SCREW_GTIN
    err = plant.refuse(c.DefineItem, "INVALID_GTIN", "gtin", item="NUT", description="Nut", unit="pcs", revision="A",
                       gtin="4012345000017", roles=ADMIN)
    assert "expected 6" in err.message
    err = plant.refuse(c.DefineItem, "DUPLICATE_GTIN", "gtin", item="NUT", description="Nut", unit="pcs",
                       revision="A", gtin="9501101530003", roles=ADMIN)  # the GTIN-13 form of SCREW's
    assert "SCREW" in err.message
    # a new GTIN for GASKET frees its old one
    plant.do(c.DefineItem, item="GASKET", description="Gasket", unit="pcs", revision="C", gtin="8712345678906",
             roles=ADMIN)
    plant.do(c.DefineItem, item="NUT", description="Nut", unit="pcs", revision="A", gtin=GASKET_GTIN, roles=ADMIN)
    assert plant.state.item_of_gtin == {SCREW_GTIN: "SCREW", "08712345678906": "GASKET", "04012345000016": "NUT"}


def test_a_label_gtin_of_another_item_is_wrong_item_for_issue_and_move() -> None:
    plant = with_gtins()
    issue: dict[str, Any] = {"work_order": "WO1", "lot": "L1", "bin": "LINE1", "quantity": D(4)}
    err = plant.refuse(c.IssueToWorkOrder, "WRONG_ITEM", "gtin", gtin=GASKET_GTIN, **issue)
    assert "GTIN 4012345000016 is item GASKET, but lot L1 is item SCREW" in err.message
    err = plant.refuse(c.IssueToWorkOrder, "WRONG_ITEM", "gtin", gtin="8712345678906", **issue)
    assert "not item SCREW's (09501101530003)" in err.message
    plant.refuse(c.IssueToWorkOrder, "INVALID_GTIN", "gtin", gtin="123", **issue)
    plant.do(c.IssueToWorkOrder, gtin="9501101530003", **issue)  # GTIN-13 form of the same number
    move: dict[str, Any] = {"lot": "L1", "from_bin": "LINE1", "to_bin": "A-02-3", "quantity": D(1)}
    plant.refuse(c.MoveStock, "WRONG_ITEM", "gtin", gtin=GASKET_GTIN, **move)
    plant.do(c.MoveStock, gtin=SCREW_GTIN, **move)


def test_a_lot_not_known_yet_is_received_by_its_items_gtin() -> None:
    plant = with_gtins()
    receive: dict[str, Any] = {"lot": "L77", "item_revision": None, "quantity": D(5), "bin": "RECV", "expiry": date(2027, 1, 1)}
    [ev] = plant.do(c.ReceiveLot, item=None, gtin=SCREW_GTIN, **receive)
    assert (ev.item, ev.item_revision) == ("SCREW", "B")
    receive["lot"] = "L78"
    err = plant.refuse(c.ReceiveLot, "UNKNOWN_GTIN", "gtin", item=None, gtin="8712345678906", **receive)
    assert "name the item" in err.message
    plant.refuse(c.ReceiveLot, "WRONG_ITEM", "gtin", item="GASKET", gtin=SCREW_GTIN, **receive)
    plant.refuse(c.ReceiveLot, "MISSING_VALUE", "item", item=None, **receive)
    plant.do(c.ReceiveLot, item="SCREW", gtin=SCREW_GTIN, **receive)
