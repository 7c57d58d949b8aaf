"""GS1 labels in ZPL: the GS1-128 barcodes' data decoded back out of the ZPL (^BC with >; >8 >6 >5) and read by the
project's GS1 parser to the same AIs; SSCC check digits; labels that cannot be made name the field."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.domain.gs1 import check_digit
from edge.labels import (
    LabelError,
    LotLabel,
    PalletLabel,
    barcode_data,
    barcodes_in,
    lot_label_zpl,
    sscc,
    sscc_label_zpl,
    zpl_code128_data,
)
from scanners.gs1 import parse

GREASE = "09501101530003"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def test_a_lot_label_carries_gtin_expiry_lot_and_quantity_in_one_gs1_128_barcode() -> None:
    zpl = lot_label_zpl(LotLabel(gtin=GREASE, lot="L118", quantity=Decimal(40), expiry=date(2028, 3, 31),
                                 description="Bearing grease LT2", item="GREASE-LT2"))
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert "^BCN,180,N,N,N^FD>;>8" in zpl  # start code C and FNC1: GS1-128
    [read] = barcodes_in(zpl)
    assert read == "]C101095011015300031728033110L118\x1d3040"
    label = parse(read)
    assert label.ais == {"01": GREASE, "17": "280331", "10": "L118", "30": "40"}
    assert (label.gtin, label.lot, label.expiry, label.quantity) == (GREASE, "L118", date(2028, 3, 31), 40)
    assert "(01)09501101530003(17)280331(10)L118(30)40" in zpl  # the human-readable line


def test_digits_go_in_code_set_c_and_the_rest_in_b() -> None:
    data = zpl_code128_data([("01", GREASE), ("10", "AB12345678")])
    assert data == ">;>80109501101530003" + "10>6AB>512345678"
    assert barcode_data(data) == "]C10109501101530003" + "10AB12345678"
    # An odd digit before letters, a '>' in a lot (escaped as '><' in set B), a GTIN-13 padded to 14 digits.
    label = LotLabel(gtin="4012345000016", lot="7X>1", quantity=Decimal(5))
    read = barcodes_in(lot_label_zpl(label))[0]
    assert parse(read).ais == {"01": "04012345000016", "10": "7X>1", "30": "5"}


@given(lot=st.text(alphabet=CSET82, min_size=1, max_size=20), quantity=st.integers(1, 99_999_999))
def test_any_lot_and_quantity_read_back_as_written(lot: str, quantity: int) -> None:
    zpl = lot_label_zpl(LotLabel(gtin=GREASE, lot=lot, quantity=Decimal(quantity)))
    assert parse(barcodes_in(zpl)[0]).ais == {"01": GREASE, "10": lot, "30": str(quantity)}


def test_sscc_has_its_check_digit() -> None:
    assert check_digit("10614141234567890") == 8
    assert sscc(1, "0614141", 234567890) == "106141412345678908"
    assert sscc(0, "95011015", 42) == "095011015000000428"[:17] + str(check_digit("09501101500000042"))
    with pytest.raises(LabelError) as caught:
        sscc(0, "0614141", 10 ** 9)
    assert caught.value.field == "serial_reference"


def test_a_pallet_label_carries_the_sscc_and_its_content() -> None:
    code = sscc(3, "0950110", 1234)
    zpl = sscc_label_zpl(PalletLabel(sscc=code, content_gtin=GREASE, count=48, lot="L118", ship_to="ACME Pumps"))
    content, pallet = barcodes_in(zpl)
    assert parse(pallet).ais == {"00": code}
    assert parse(pallet).sscc == code
    # (02) and (37) belong with (00): a scanner that reads the label's barcodes as one message gets them all.
    together = parse(pallet + content.removeprefix("]C1"))
    assert together.ais == {"00": code, "02": GREASE, "37": "48", "10": "L118"}
    assert f"(00){code}" in zpl


@pytest.mark.parametrize(("label", "field"), [
    (LotLabel(gtin="09501101530004", lot="L1"), "gtin"),
    (LotLabel(gtin=GREASE, lot="L^1"), "lot"),
    (LotLabel(gtin=GREASE, lot="L" * 21), "lot"),
    (LotLabel(gtin=GREASE, lot="L1", quantity=Decimal("2.5")), "quantity"),
])
def test_a_lot_label_that_cannot_be_made_names_the_field(label: LotLabel, field: str) -> None:
    with pytest.raises(LabelError) as caught:
        lot_label_zpl(label)
    assert caught.value.field == field and str(caught.value)


def test_a_pallet_label_refuses_a_wrong_sscc_or_content_without_gtin() -> None:
    with pytest.raises(LabelError) as caught:
        sscc_label_zpl(PalletLabel(sscc="106141412345678909"))
    assert caught.value.field == "sscc"
    with pytest.raises(LabelError) as caught:
        sscc_label_zpl(PalletLabel(sscc="106141412345678908", count=4))
    assert caught.value.field == "content_gtin"


def test_data_that_is_not_gs1_128_is_not_read_as_such() -> None:
    with pytest.raises(ValueError, match="not GS1-128"):
        barcode_data(">:ABC")
    with pytest.raises(ValueError, match="pairs of digits"):
        barcode_data(">;>81A")
