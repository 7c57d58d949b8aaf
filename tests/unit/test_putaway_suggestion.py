"""Putaway rules (edge.domain.putaway): the ranked suggestion with its reason; the hard rules of a bin (capacity, per
item max, lot policy) refuse a move naming the bin and the rule; a putaway elsewhere than suggested needs an override
reason, which the move event keeps."""
from __future__ import annotations

from datetime import date

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.putaway import PutawayRule, suggest
from edge.store.codec import fingerprint
from tests.unit.plant_helpers import D, Plant

ADMIN = frozenset({"admin"})
RULES = (PutawayRule(item="FROZEN-*", zones=("cold", "overflow")), PutawayRule(item="*", zones=("storage",)))


@pytest.fixture
def store() -> Plant:
    p = Plant()
    for item in ("HOUSING", "SEAL", "FROZEN-PEAS"):
        p.do(c.DefineItem, item=item, description=item.title(), unit="pcs", revision="A", roles=ADMIN)
    for code, zone, extra in (
            ("REC", "receiving", {}), ("B-FREE", "storage", {"capacity": D(100)}),
            ("B-SAME", "storage", {"capacity": D(100)}), ("B-DED", "storage", {"capacity": D(100),
                                                                              "allowed_items": ("HOUSING",)}),
            ("B-OTHER", "storage", {"allowed_items": ("SEAL",)}), ("LS-1", "line-side", {}),
            ("B-ONELOT", "storage", {"lot_policy": "one_lot"}), ("B-ONEITEM", "storage", {"lot_policy": "one_item"}),
            ("B-MAX", "storage", {"max_per_item": D(40)}),
            ("C-1", "cold", {"capacity": D(50)}), ("O-1", "overflow", {})):
        p.do(c.DefineBin, bin=code, zone=zone, roles=ADMIN, **extra)
    return p


def receive(p: Plant, lot: str, item: str, quantity: int, bin_code: str = "REC") -> None:
    p.do(c.ReceiveLot, lot=lot, item=item, item_revision=None, quantity=D(quantity), bin=bin_code,
         expiry=date(2027, 1, 1))


def ranked(p: Plant, item: str, quantity: int, lot: str | None = None) -> list[tuple[str, str]]:
    return [(s.bin, s.why) for s in suggest(p.state, item, D(quantity), RULES, lot=lot, exclude="REC")]


def test_a_dedicated_bin_first_then_the_same_lot_same_item_empty_and_free_ones_each_with_its_reason(
        store: Plant) -> None:
    receive(store, "H-0", "HOUSING", 10, "B-SAME")
    receive(store, "S-0", "SEAL", 90, "B-FREE")
    receive(store, "H-1", "HOUSING", 30)
    found = suggest(store.state, "HOUSING", D(30), RULES, lot="H-1", exclude="REC")
    # B-OTHER takes only seals; B-FREE has 10 left; LS-1 and C-1 are not in the storage zone.
    assert [(s.bin, s.why) for s in found] == [
        ("B-DED", "dedicated"), ("B-SAME", "same_item"), ("B-MAX", "empty"), ("B-ONEITEM", "empty"),
        ("B-ONELOT", "empty")]
    assert found[0].reason == "dedicated to HOUSING; zone storage (putaway rule 2 (*)); 70 free after"
    assert found[0].free == D(70) and found[2].free is None


def test_the_zones_of_the_first_matching_rule_in_their_order(store: Plant) -> None:
    receive(store, "F-1", "FROZEN-PEAS", 30)
    assert ranked(store, "FROZEN-PEAS", 30, "F-1") == [("C-1", "empty"), ("O-1", "empty")]
    assert "zone cold (putaway rule 1 (FROZEN-*), choice 1)" in suggest(
        store.state, "FROZEN-PEAS", D(30), RULES)[0].reason
    assert ranked(store, "FROZEN-PEAS", 60, "F-1") == [("O-1", "empty")]  # C-1 holds 50 at most
    # No rule at all: the storage zone.
    assert [s.bin for s in suggest(store.state, "FROZEN-PEAS", D(1), ())][:1] == ["B-FREE"]  # empty, the fullest fit


def test_hard_rules_keep_bins_out_of_the_suggestion(store: Plant) -> None:
    receive(store, "H-1", "HOUSING", 30, "B-ONELOT")
    receive(store, "S-1", "SEAL", 5, "B-ONEITEM")
    receive(store, "S-2", "SEAL", 30, "B-MAX")
    receive(store, "S-3", "SEAL", 20)
    bins = [b for b, _ in ranked(store, "SEAL", 20, "S-3")]
    assert "B-ONELOT" not in bins  # holds another lot
    assert "B-MAX" not in bins  # 30 + 20 seals > 40 of one item
    assert "B-ONEITEM" in bins  # holds seals only


@pytest.mark.parametrize(("to_bin", "quantity", "code", "words"), [
    ("B-ONELOT", 5, "BIN_ONE_LOT", "bin B-ONELOT holds one lot only (rule: lot policy one_lot) and holds lot H-1"),
    ("B-ONEITEM", 5, "BIN_ONE_ITEM", "bin B-ONEITEM holds one item only (rule: lot policy one_item) and holds "
                                     "HOUSING"),
    ("B-MAX", 31, "BIN_ITEM_MAX", "bin B-MAX holds 10 of SEAL; at most 40 of one item (rule: max per item)"),
    ("B-FREE", 101, "BIN_FULL", "bin B-FREE holds 0 of 100"),
])
def test_a_move_that_breaks_a_hard_rule_is_refused_naming_the_bin_and_the_rule(
        store: Plant, to_bin: str, quantity: int, code: str, words: str) -> None:
    receive(store, "H-1", "HOUSING", 30, "B-ONELOT")
    receive(store, "H-2", "HOUSING", 5, "B-ONEITEM")
    receive(store, "S-0", "SEAL", 10, "B-MAX")
    receive(store, "S-1", "SEAL", 200)
    err = store.refuse(c.MoveStock, code, "to_bin", lot="S-1", from_bin="REC", to_bin=to_bin, quantity=D(quantity),
                       putaway=True, putaway_rules=RULES, override_reason="the forklift driver wants it there")
    assert err.message.startswith(words)


def test_one_lot_of_a_one_lot_bin_may_come_back_and_more_of_it_may_be_added(store: Plant) -> None:
    receive(store, "H-1", "HOUSING", 30, "B-ONELOT")
    store.do(c.MoveStock, lot="H-1", from_bin="B-ONELOT", to_bin="REC", quantity=D(10))
    store.do(c.MoveStock, lot="H-1", from_bin="REC", to_bin="B-ONELOT", quantity=D(10))
    store.refuse(c.ReceiveLot, "BIN_ONE_LOT", "bin", lot="H-9", item="HOUSING", item_revision=None, quantity=D(1),
                 bin="B-ONELOT")


def test_a_putaway_elsewhere_than_suggested_needs_an_override_reason_which_the_event_keeps(store: Plant) -> None:
    receive(store, "H-1", "HOUSING", 30)
    err = store.refuse(c.MoveStock, "PUTAWAY_OVERRIDE_REASON_REQUIRED", "override_reason", lot="H-1",
                       from_bin="REC", to_bin="B-FREE", quantity=D(10), putaway=True, putaway_rules=RULES)
    assert err.message.startswith("bin B-FREE is not the suggested bin B-DED (dedicated to HOUSING;")
    [moved] = store.do(c.MoveStock, lot="H-1", from_bin="REC", to_bin="B-FREE", quantity=D(10), putaway=True,
                       putaway_rules=RULES, override_reason="B-DED is blocked by a pallet", reason="putaway")
    assert isinstance(moved, e.StockMoved)
    assert (moved.kind, moved.from_bin, moved.to_bin, moved.suggested_bin, moved.override_reason, moved.reason) == (
        "putaway", "REC", "B-FREE", "B-DED", "B-DED is blocked by a pallet", "putaway")
    # To the suggested bin: no reason needed, none kept.
    [moved] = store.do(c.MoveStock, lot="H-1", from_bin="REC", to_bin="B-DED", quantity=D(10), putaway=True,
                       putaway_rules=RULES, override_reason="not needed")
    assert (moved.suggested_bin, moved.override_reason) == (None, None)
    # No bin takes it by the rules (the cold zone holds 50): a putaway anywhere says why, with no suggested bin.
    receive(store, "F-1", "FROZEN-PEAS", 60)
    err = store.refuse(c.MoveStock, "PUTAWAY_OVERRIDE_REASON_REQUIRED", "override_reason", lot="F-1",
                       from_bin="REC", to_bin="B-FREE", quantity=D(60), putaway=True,
                       putaway_rules=(PutawayRule(item="FROZEN-*", zones=("cold",)),))
    assert err.message == ("no bin in zone cold takes 60 of lot F-1 by the putaway rules; give an override reason "
                           "to put the lot away in bin B-FREE")
    [moved] = store.do(c.MoveStock, lot="F-1", from_bin="REC", to_bin="B-FREE", quantity=D(60), putaway=True,
                       putaway_rules=(PutawayRule(item="FROZEN-*", zones=("cold",)),), override_reason="cold is full")
    assert (moved.suggested_bin, moved.override_reason) == (None, "cold is full")
    # A plain move, and a putaway without the site's rules (a device path that cannot ask why), are not checked.
    store.do(c.MoveStock, lot="H-1", from_bin="REC", to_bin="B-SAME", quantity=D(5), putaway_rules=RULES)
    store.do(c.MoveStock, lot="H-1", from_bin="REC", to_bin="B-SAME", quantity=D(5), putaway=True)


def test_a_bins_hard_rules_are_checked_and_kept_out_of_the_fingerprint(store: Plant) -> None:
    store.refuse(c.DefineBin, "INVALID_VALUE", "lot_policy", bin="X", zone="storage", lot_policy="some",
                 roles=ADMIN)
    store.refuse(c.DefineBin, "INVALID_QUANTITY", "max_per_item", bin="X", zone="storage", max_per_item=D(-1),
                 roles=ADMIN)
    plain = c.DefineBin(idempotency_key="k", actor="a", bin="X", zone="storage")
    ruled = c.DefineBin(idempotency_key="k", actor="a", bin="X", zone="storage", lot_policy="one_lot",
                        max_per_item=D(5))
    assert fingerprint(plain) == fingerprint(ruled)
