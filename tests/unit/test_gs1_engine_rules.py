"""GS1 labels as GS1's own Syntax Engine reads them: our own vectors, one group per rule (docs/gs1.md lists the rules).

Scan data per AIM symbology identifier (EAN/UPC lengths, composites), FNC1 placement, empty bracketed values,
Digital Link URIs (path order, key qualifiers, query parameters, zero-suppressed GTINs, repeated and unknown AIs)
and AI associations ((7007) date ranges, (8030) with its keys, req/ex pairs).
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.shared_data import require_reference

require_reference("gs1-syntax-dictionary")

from edge.domain.gs1 import check_digit  # noqa: E402
from scanners.gs1 import GS, GS1Error, GS1Label, GS1Parser  # noqa: E402
from scanners.gs1_syntax import DEFAULT_PATH, SyntaxDictionary  # noqa: E402

DICTIONARY = SyntaxDictionary.load(DEFAULT_PATH)
PARSER = GS1Parser(DICTIONARY, today=date(2026, 12, 1))
ZERO_SUPPRESSED_OK = GS1Parser(DICTIONARY, today=date(2026, 12, 1), allow_zero_suppressed_gtin=True)


def _with_check(digits: str) -> str:
    return digits + str(check_digit(digits))


EAN13 = _with_check("400638133393")  # 13 digits
EAN8 = _with_check("7351353")  # 8 digits
UPCA = _with_check("03600029145")  # 12 digits, as ]E0 sends it: "0" + 12 digits
UPCE_AS_UPCA = _with_check("04210000526")  # a UPC-E symbol's data, expanded to UPC-A (]E0 sends 13 digits)
GTIN = _with_check("0950110153000")  # 14 digits
SSCC = _with_check("09501101530000001")  # 18 digits
GLN = _with_check("950110100000")  # 13 digits
GDTI = _with_check("950110100002")  # GDTI without its serial component
GRAI = "0" + _with_check("950110100003")  # (8003): a zero, the GRAI, optional serial


def ok(text: str, parser: GS1Parser = PARSER) -> GS1Label:
    return parser.parse(text)


def refused(text: str, parser: GS1Parser = PARSER) -> GS1Error:
    with pytest.raises(GS1Error) as info:
        parser.parse(text)
    return info.value


# --- Scan data: EAN/UPC lengths per AIM symbology identifier -------------------------------------------------------

@pytest.mark.parametrize("digits", [EAN13, "0" + UPCA, "0" + UPCE_AS_UPCA])
def test_e0_carries_exactly_13_digits(digits: str) -> None:
    assert ok("]E0" + digits).gtin == digits.zfill(14)


@pytest.mark.parametrize("digits", [EAN13[:12], UPCA, EAN13 + "1", EAN8, GTIN])
def test_e0_with_another_length_is_refused(digits: str) -> None:
    assert "13 digits" in refused("]E0" + digits).reason


def test_e4_carries_exactly_8_digits() -> None:
    assert ok("]E4" + EAN8).gtin == EAN8.zfill(14)
    for digits in (EAN8[:7], EAN8 + "0", EAN13):
        assert "8 digits" in refused("]E4" + digits).reason


def test_ean_upc_scan_data_is_digits_with_a_valid_check_digit() -> None:
    assert refused("]E0" + EAN13[:4] + "ABC" + EAN13[7:]).ai == "01"
    wrong = EAN13[:-1] + str((int(EAN13[-1]) + 1) % 10)
    assert "check digit" in refused("]E0" + wrong).reason


def test_ean_upc_with_a_composite_component() -> None:
    label = ok(f"]E0{EAN13}|]e010LOT7{GS}21S1")
    assert (label.gtin, label.lot, label.serial) == (EAN13.zfill(14), "LOT7", "S1")
    assert ok(f"]E4{EAN8}|]e017271231").expiry == date(2027, 12, 31)
    refused(f"]E0{EAN13}|]C110LOT7")  # the composite is announced by ]e0 only
    refused(f"]E0{EAN13}|]e0")  # an empty composite


# --- Element strings: FNC1 (GS) placement ---------------------------------------------------------------------------

def test_variable_length_ai_must_end_with_gs_before_the_next_ai() -> None:
    assert ok(f"]d201{GTIN}7007261101261105{GS}10L1").lot == "L1"
    error = refused(f"]d201{GTIN}7007261101261105" + "10L1")  # (7007) at its maximum, no GS before (10)
    assert error.ai == "7007"
    assert "GS" in error.reason


def test_gs_after_a_predefined_length_ai_is_allowed() -> None:
    assert ok(f"]C101{GTIN}{GS}10L1").lot == "L1"
    assert ok(f"]C101{GTIN}17271231{GS}10L1").lot == "L1"


def test_one_trailing_gs_is_allowed() -> None:
    assert ok(f"]C101{GTIN}10L1{GS}").lot == "L1"


def test_gs_right_after_the_symbology_identifier_is_refused() -> None:
    assert "FNC1 in first" in refused(f"]C1{GS}01{GTIN}").reason
    assert ok(f"{GS}01{GTIN}10L1").lot == "L1"  # without an identifier, a leading GS is the scanner's FNC1 in first


def test_two_gs_in_a_row_are_refused_in_scan_data() -> None:
    refused(f"]C101{GTIN}10L1{GS}{GS}21S1")
    refused(f"]C101{GTIN}10L1{GS}{GS}")


def test_empty_ai_data_after_a_symbology_identifier_is_refused() -> None:
    for identifier in ("]C1", "]e0", "]d2", "]Q3"):
        refused(identifier)


# --- Bracketed input: empty values -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [f"(01){GTIN}(10)", f"(01){GTIN}(10)(21)S1", f"(01){GTIN}(10)L1(21)", "(10)"])
def test_bracketed_ai_without_a_value_is_refused(text: str) -> None:
    error = refused(text)
    assert error.ai in ("10", "21")
    assert "no value" in error.reason


def test_bracketed_unknown_ai_is_refused() -> None:
    refused(f"(01){GTIN}(89)X")


# --- Digital Link: path order and key qualifiers ----------------------------------------------------------------------

def test_digital_link_path_in_gs1_order_with_a_stem() -> None:
    label = ok(f"https://brand.example/some/stem/01/{GTIN}/22/V1/10/L%2F7/21/S9")
    assert [(e.ai, e.value) for e in label.element_strings] == [("01", GTIN), ("22", "V1"), ("10", "L/7"),
                                                                 ("21", "S9")]


@pytest.mark.parametrize("path", [f"/01/{GTIN}/21/S9/10/L1", f"/01/{GTIN}/10/L1/22/V1", f"/01/{GTIN}/22/V1/235/T1",
                                  f"/01/{GTIN}/254/X"])
def test_digital_link_qualifiers_out_of_order_or_mixed_are_refused(path: str) -> None:
    assert "qualifiers" in refused("https://id.gs1.org" + path).reason


def test_digital_link_alternative_qualifier_and_other_keys() -> None:
    assert ok(f"https://id.gs1.org/01/{GTIN}/235/T1").element_strings[1].ai == "235"
    assert ok(f"https://id.gs1.org/414/{GLN}/254/B%2F1").element_strings[1].value == "B/1"
    assert ok(f"HTTPS://ID.GS1.ORG/00/{SSCC}").sscc == SSCC
    assert ok("https://id.gs1.org/8010/ABC123/8011/123").ais == {"8010": "ABC123", "8011": "123"}


def test_digital_link_rightmost_key_starts_the_gs1_path() -> None:
    label = ok(f"https://example.org/00/faux/00/{SSCC}")
    assert label.sscc == SSCC


@pytest.mark.parametrize("uri", [
    f"https://id.gs1.org/01/{GTIN}/",  # ends with a slash
    f"https://id.gs1.org/01/{GTIN}/89/X",  # unknown AI in the path
    f"https://id.gs1.org/01/{GTIN}/10/",  # empty value
    f"https://id.gs1.org/gtin/{GTIN}",  # convenience alphas are not GS1 keys
    "https://id.gs1.org/",
    "https://id.gs1.org",
    f"https:///01/{GTIN}",  # no domain
    f"https://ex_ample.org/01/{GTIN}",  # character a domain may not carry
    f"HtTpS://id.gs1.org/01/{GTIN}",  # mixed-case scheme
    f"https://id.gs1.org/01/{GTIN}/10/A B",  # not a URI character
])
def test_digital_link_malformed_is_refused(uri: str) -> None:
    refused(uri)


def test_digital_link_fragment_is_ignored() -> None:
    assert ok(f"https://id.gs1.org/01/{GTIN}?17=271231#top").expiry == date(2027, 12, 31)


def test_digital_link_only_after_a_plain_data_symbology_identifier() -> None:
    assert ok(f"]Q1https://id.gs1.org/01/{GTIN}").gtin == GTIN
    assert ok(f"]d1https://id.gs1.org/01/{GTIN}").gtin == GTIN
    assert "not a URI" in refused(f"]d2https://id.gs1.org/01/{GTIN}").reason


# --- Digital Link: query parameters ----------------------------------------------------------------------------------

def test_digital_link_query_attributes_and_ignored_parameters() -> None:
    label = ok(f"https://id.gs1.org/00/{SSCC}?&&02={GTIN}&37=12&utm_source=x&flag&10=L1")
    assert label.ais == {"00": SSCC, "02": GTIN, "37": "12", "10": "L1"}


def test_digital_link_query_plus_is_a_space_path_plus_is_a_plus() -> None:
    assert ok(f"https://id.gs1.org/01/{GTIN}/10/A+B").lot == "A+B"
    assert refused(f"https://id.gs1.org/01/{GTIN}?99=A+B").ai == "99"  # a space is not in CSET 82


def test_digital_link_key_qualifier_in_the_query_is_refused() -> None:
    for parameter in ("10=L1", "21=S1", "22=V1", "235=T1"):
        error = refused(f"https://id.gs1.org/01/{GTIN}?{parameter}")
        assert error.ai == parameter.split("=")[0]
    # (10) after the alternative qualifier (235) is a data attribute: it cannot be in that path
    assert ok(f"https://id.gs1.org/01/{GTIN}/235/T1?10=L1").lot == "L1"


def test_digital_link_non_attribute_ai_in_the_query_is_refused() -> None:
    assert "data attribute" in refused(f"https://id.gs1.org/00/{SSCC}?21=S1").reason


def test_digital_link_unknown_numeric_query_ai_is_refused() -> None:
    error = refused(f"https://id.gs1.org/01/{GTIN}?99=X&89=Y")
    assert (error.ai, "unknown AI" in error.reason) == ("89", True)


def test_digital_link_empty_query_value_is_refused() -> None:
    assert "empty value" in refused(f"https://id.gs1.org/01/{GTIN}?99=").reason


@pytest.mark.parametrize("uri", [
    f"https://id.gs1.org/01/{GTIN}/10/L1?99=X&10=L1",  # in the path and the query
    f"https://id.gs1.org/01/{GTIN}?99=X&01={GTIN}",  # the key again
    f"https://id.gs1.org/01/{GTIN}?99=X&99=X",  # twice in the query, same value
])
def test_digital_link_repeated_ai_is_refused(uri: str) -> None:
    assert "twice" in refused(uri).reason


# --- Digital Link: zero-suppressed GTINs -------------------------------------------------------------------------------

@pytest.mark.parametrize("gtin", [EAN13, UPCA, EAN8])
def test_zero_suppressed_gtin_in_the_path_is_refused_unless_the_site_allows_it(gtin: str) -> None:
    error = refused(f"https://id.gs1.org/01/{gtin}")
    assert (error.ai, "zero-suppressed" in error.reason) == ("01", True)
    assert ok(f"https://id.gs1.org/01/{gtin}", ZERO_SUPPRESSED_OK).gtin == gtin.zfill(14)


def test_gtin_in_the_query_is_padded_to_14_digits() -> None:
    label = ok(f"https://id.gs1.org/8004/{_with_check('950110153')}ASSET1?01={EAN13}")
    assert label.gtin == EAN13.zfill(14)


# --- Associations -------------------------------------------------------------------------------------------------------

def test_7007_date_or_date_range() -> None:
    assert ok(f"(01){GTIN}(7007)261101").ais["7007"] == "261101"
    assert ok(f"(01){GTIN}(7007)261101261105").ais["7007"] == "261101261105"
    for value in ("2611012611", "2611012611050", "261100", "261101261100", "261301", "26110126113A"):
        assert refused(f"(01){GTIN}(7007){value}").ai == "7007"
    assert refused("(7007)261101").ai == "7007"  # requires (01) or (02)


def test_8030_requires_one_of_its_keys() -> None:
    assert ok(f"(01){GTIN}(21)S1(8030)QUJD").ais["8030"] == "QUJD"
    assert ok(f"(00){SSCC}(8030)QUJD").sscc == SSCC
    error = refused(f"(01){GTIN}(8030)QUJD")  # a GTIN needs its serial (21) to be signed
    assert (error.ai, "requires" in error.reason) == ("8030", True)
    refused("(8030)QUJD")


@pytest.mark.parametrize(("key", "serial"), [("253", GDTI), ("8003", GRAI)])
def test_8030_with_a_key_without_its_serial_component_is_refused(key: str, serial: str) -> None:
    error = refused(f"({key}){serial}(8030)QUJD")
    assert (error.ai, "serial" in error.reason) == (key, True)
    assert ok(f"({key}){serial}S1(8030)QUJD").ais[key] == serial + "S1"


def test_mutually_exclusive_and_required_pairs() -> None:
    assert "may not be combined" in refused(f"(01){GTIN}(02){GTIN}(37)1").reason  # (02) may not come with (01)
    assert refused(f"(01){GTIN}(37)5").ai in ("01", "37")  # (37) counts trade items of a logistic unit, not a GTIN
    assert refused("(10)L1").ai == "10"  # a lot needs a GTIN
    assert refused(f"(01){GTIN}(10)L1(10)L2").ai == "10"  # repeated with different values
    assert ok(f"(01){GTIN}(10)L1(10)L1").lot == "L1"  # repeated with the same value: two carriers of one label


# --- The site setting -----------------------------------------------------------------------------------------------------

def test_site_setting_allows_zero_suppressed_gtins_in_digital_link() -> None:
    from typing import cast

    from edge.service import Service
    from scanners.config import ScanningSection
    from scanners.pipeline import from_config

    assert ScanningSection().allow_zero_suppressed_gtin is False
    strict = from_config(cast(Service, None), ScanningSection())
    lenient = from_config(cast(Service, None), ScanningSection(allow_zero_suppressed_gtin=True))
    uri = f"https://id.gs1.org/01/{EAN13}"
    with pytest.raises(GS1Error):
        strict.gs1.parse(uri)
    assert lenient.gs1.parse(uri).gtin == EAN13.zfill(14)


def test_ean_upc_check_digit_is_checked_without_the_dictionary_too() -> None:
    wrong = EAN13[:-1] + str((int(EAN13[-1]) + 1) % 10)
    assert refused("]E0" + wrong, GS1Parser(None)).ai == "01"
    assert ok("]E0" + EAN13, GS1Parser(None)).gtin == EAN13.zfill(14)
