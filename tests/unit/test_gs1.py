"""GS1 labels as scanners send them: symbology identifiers, GS separators, brackets, Digital Link; refusals name the AI."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from pathlib import Path

import biip
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.shared_data import require_reference

require_reference("gs1-syntax-dictionary")

from scanners.gs1 import GS, GS1Error, GS1Label, GS1Parser  # noqa: E402
from scanners.gs1_syntax import DEFAULT_PATH, SyntaxDictionary, gs1_date, load_syntax_dictionary  # noqa: E402

TODAY = date(2026, 11, 26)
DICTIONARY = SyntaxDictionary.load(DEFAULT_PATH)
PARSER = GS1Parser(DICTIONARY, today=TODAY)


def refused(text: str, parser: GS1Parser = PARSER) -> GS1Error:
    with pytest.raises(GS1Error) as info:
        parser.parse(text)
    return info.value


@pytest.mark.parametrize("symbology", ["]C1", "]d2", "]Q3", "]e0", ""])
def test_raw_element_string_with_symbology_identifier_and_gs(symbology: str) -> None:
    label = PARSER.parse(f"{symbology}01095011015300031727123110LOT-42{GS}21SN0001")
    assert label.gtin == "09501101530003"
    assert label.lot == "LOT-42"
    assert label.serial == "SN0001"
    assert label.expiry == date(2027, 12, 31)
    assert label.symbology_identifier == (symbology or None)
    assert label.ais == {"01": "09501101530003", "17": "271231", "10": "LOT-42", "21": "SN0001"}
    assert label.hri() == "(01)09501101530003(17)271231(10)LOT-42(21)SN0001"
    assert PARSER.parse(label.element_string()).ais == label.ais


def test_bracketed_and_digital_link_give_the_same_label() -> None:
    bracketed = PARSER.parse("(01)09501101530003(10)ABC123(17)270600")
    uri = PARSER.parse("https://id.gs1.org/01/09501101530003/10/ABC123?17=270600")
    assert bracketed.ais == uri.ais
    assert uri.form == "digital_link" and bracketed.form == "hri"
    assert bracketed.expiry == date(2027, 6, 30)  # day 00: the last day of the month


def test_ean13_is_a_gtin() -> None:
    label = PARSER.parse("]E05901234123457")
    assert label.gtin == "05901234123457" and label.form == "gtin"
    assert refused("]E05901234123458").ai == "01"


def test_sscc_quantity_and_net_weight() -> None:
    pallet = PARSER.parse(f"]C100106141412345678908{GS}0209501101530003{GS}3712{GS}3103001250")
    assert pallet.sscc == "106141412345678908"
    assert pallet.quantity == 12
    assert pallet.net_weight_kg == Decimal("1.250")


def test_wrong_check_digit_inside_a_longer_message_is_refused_though_biip_accepts_it() -> None:
    text = f"0109501101530004{GS}10LOT1{GS}17271231"
    biip.parse(text)  # biip alone: no exception, only a nested gtin_error
    error = refused(text)
    assert error.ai == "01" and "check digit" in error.reason and "expected 3" in error.reason


@pytest.mark.parametrize("harvest", ["2601011", "26010126", "2601012601011"])
def test_wrong_7007_length_is_refused(harvest: str) -> None:
    error = refused(f"(01)09501101530003(7007){harvest}")
    assert error.ai == "7007"
    assert DICTIONARY.entry("7007") is not None
    with pytest.raises(ValueError, match="wrong length"):
        DICTIONARY.validate_value("7007", harvest)


def test_7007_with_a_date_range_is_accepted() -> None:
    assert PARSER.parse("(01)09501101530003(7007)260101260131").ais["7007"] == "260101260131"


def test_date_rules() -> None:
    assert refused("(01)09501101530003(17)271301").ai == "17"  # month 13
    assert refused("(01)09501101530003(17)270230").ai == "17"  # 30 February
    assert refused("(01)09501101530003(7003)2702001200").ai == "7003"  # day 00 not allowed in YYMMDD
    assert PARSER.parse("(01)09501101530003(17)280200").expiry == date(2028, 2, 29)  # leap year, day 00
    assert gs1_date("761231", TODAY) == date(2076, 12, 31)  # up to 50 years ahead ...
    assert gs1_date("770101", TODAY) == date(1977, 1, 1)  # ... else back (the GS1 century rule)
    assert gs1_date("991231", date(2080, 1, 1)) == date(2099, 12, 31)
    assert gs1_date("290101", date(2080, 1, 1)) == date(2129, 1, 1)


def test_required_and_exclusive_pairs() -> None:
    lone_lot = refused("(10)LOT1")
    assert lone_lot.ai == "10" and "requires (01) or (02)" in lone_lot.reason
    assert "may not be combined" in refused("(01)09501101530003(02)09501101530003(37)1").reason
    assert refused("(01)09501101530003(21)A(235)B").ai in ("21", "235")
    assert "appears twice" in refused("(01)09501101530003(10)A(10)B").reason
    lenient = GS1Parser(DICTIONARY, associations=False, today=TODAY)
    assert lenient.parse("(10)LOT1").lot == "LOT1"


def test_lengths_and_character_sets() -> None:
    assert refused(f"(01)09501101530003(10){'A' * 21}").ai == "10"
    with pytest.raises(ValueError, match=r"AI \(3103\): wrong length"):
        DICTIONARY.validate_value("3103", "1" * 7)
    assert refused("(01)09501101530003(10)LOT#1").ai == "10"
    assert refused("]C0hello").reason.startswith("symbology identifier ]C0 is not a GS1 symbology")


def test_refusals_are_clear() -> None:
    for text in ["", GS, "hello", "(", "(01)", "]C1", "https://example.com/", "0" * 5000, "01" + "9" * 14 + "\x00"]:
        error = refused(text)
        assert str(error) and error.to_json()["reason"]


def test_without_the_dictionary_biip_checks_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_syntax_dictionary(tmp_path / "missing.txt") is None
    assert "biip only" in caplog.text
    parser = GS1Parser(None)
    label = parser.parse("]C101095011015300031727123110LOT-42")
    assert label.validated_by == "biip" and label.lot == "LOT-42"
    assert refused("0109501101530004", parser).ai == "01"


def test_dictionary_loader_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "dict.txt"
    bad.write_text("# comment\n01 * N14,csum\n99 Q..5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dict.txt:3"):
        SyntaxDictionary.load(bad)


GS1_ALPHABET = st.sampled_from(list("0123456789") * 4 + [GS, "(", ")", "]", "C", "1", "d", "A", "/", "%", "h", "é"])


@settings(max_examples=300, deadline=200)
@given(st.text(GS1_ALPHABET, max_size=80))
def test_fuzz_gs1_like_text_gives_a_label_or_a_clear_refusal(text: str) -> None:
    try:
        label = PARSER.parse(text)
    except GS1Error as error:
        assert error.reason
    else:
        assert isinstance(label, GS1Label) and label.element_strings


@settings(max_examples=200, deadline=200)
@given(st.one_of(st.text(max_size=200), st.builds(lambda a, b: f"https://id.gs1.org/{a}/{b}", st.text(), st.text())))
def test_fuzz_any_text_gives_a_label_or_a_clear_refusal(text: str) -> None:
    try:
        PARSER.parse(text)
    except GS1Error as error:
        assert error.reason
