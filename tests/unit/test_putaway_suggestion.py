"""The suggested putaway bin: dedicated bins first, then bins with the same item, then free ones; never a bin that
does not allow the item or has no room; never the bin the lot comes from."""
from __future__ import annotations

from decimal import Decimal

from edge.pages.putaway import BinSpace, suggest_bin


def space(name: str, *, zone: str = "storage", capacity: int | None = 100, allowed: tuple[str, ...] = (),
          held: int = 0, holds_item: bool = False) -> BinSpace:
    return BinSpace(name, zone, Decimal(capacity) if capacity is not None else None, allowed, Decimal(held),
                    holds_item)


def test_a_dedicated_bin_with_room_wins() -> None:
    bins = [space("B-FREE"), space("B-SAME", holds_item=True), space("B-DED", allowed=("HOUSING",), held=50)]
    found = suggest_bin("HOUSING", Decimal(30), bins)
    assert found is not None and (found.bin, found.why, found.free) == ("B-DED", "dedicated", Decimal(20))


def test_full_or_forbidden_or_other_zone_bins_are_skipped() -> None:
    bins = [space("B-DED", allowed=("HOUSING",), held=90), space("B-OTHER", allowed=("BOLT",)),
            space("LS-1", zone="line-side"), space("B-SAME", holds_item=True, held=10), space("B-FREE")]
    found = suggest_bin("HOUSING", Decimal(30), bins)
    assert found is not None and (found.bin, found.why) == ("B-SAME", "with_same_item")


def test_the_fullest_fitting_free_bin_then_none_when_nothing_fits() -> None:
    bins = [space("B-1", held=10), space("B-2", held=60), space("B-3", capacity=None)]
    found = suggest_bin("SEAL", Decimal(30), bins)
    assert found is not None and found.bin == "B-2"
    assert suggest_bin("SEAL", Decimal(30), bins, exclude="B-2") is not None
    assert suggest_bin("SEAL", Decimal(500), [space("B-1")]) is None
