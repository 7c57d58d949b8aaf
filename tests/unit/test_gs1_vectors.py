"""Every case of ../shared/data/gs1/biip-test-vectors.json: GS1 messages, element strings and Digital Link URIs go
through Takt's parser (biip + the syntax dictionary); the library-level cases (GTIN/UPC/RCN/SSCC/prefix encoders)
pin the biip behaviour the parser is built on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import biip
import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from biip.gs1_prefixes import GS1CompanyPrefix, GS1Prefix, GS18Prefix
from biip.gtin import Gtin
from biip.rcn import Rcn
from biip.sscc import Sscc
from biip.symbology import SymbologyIdentifier
from biip.upc import Upc

from edge.domain.gs1 import check_digit as gs1_check_digit
from scanners.gs1 import GS1Error, GS1Parser
from scanners.gs1_syntax import DEFAULT_PATH, SyntaxDictionary
from tests.shared_data import require_mirror, require_reference

require_reference("gs1-syntax-dictionary")
VECTORS = require_mirror("gs1/biip-test-vectors.json")
DICTIONARY = SyntaxDictionary.load(DEFAULT_PATH)
# biip's vectors are single element strings, not whole labels; its Digital Link URIs carry zero-suppressed GTINs,
# which GS1 refuses unless a site allows them (scanning.allow_zero_suppressed_gtin).
LOOSE = GS1Parser(DICTIONARY, associations=False, allow_zero_suppressed_gtin=True)


def _load() -> list[tuple[str, str, dict[str, Any]]]:
    data = json.loads(Path(VECTORS).read_text(encoding="utf-8"))
    out = []
    for test in data["tests"]:
        name = f"{test['source_file'].removeprefix('tests/')}::{test['test']}"
        for case in test["cases"]:
            out.append((name, "literal", case))
        for case in test["inputs_with_object_expectation"]:
            out.append((name, "object", case))
    return out


CASES = _load()


def _refused(text: str, **kwargs: Any) -> GS1Error:
    with pytest.raises(GS1Error) as info:
        LOOSE.parse(text, **kwargs)
    assert str(info.value)
    return info.value


def _by_ai(text: str, ai: str, separators: str = "\x1d") -> list[str]:
    label = GS1Parser(DICTIONARY, separators=separators, associations=False, allow_zero_suppressed_gtin=True).parse(text)
    return [e.value for e in label.element_strings if e.ai.startswith(ai)]


# Takt-parser checks for the literal cases, by test name.
def _literal(name: str, c: dict[str, Any]) -> None:
    test = name.split("::")[1]
    if name.startswith("test_gs1_messages.py") or name.startswith("test_gs1_element_strings.py"):
        if test in ("test_parse_with_separator_char",):
            parser = GS1Parser(DICTIONARY, separators="".join(c["separator_chars"]), associations=False)
            assert parser.parse(c["value"]).hri() == c["expected_hri"]
        elif test == "test_parse_ignores_redundant_separator_chars":
            assert LOOSE.parse(c["value"]).hri() == c["expected_hri"]
        elif test == "test_parse_fails_if_unparsed_data_left":
            _refused(c["value"])
        elif test.startswith("test_parse_hri_fails"):
            _refused(c["value"], form="hri")
        elif test == "test_as_hri":
            assert LOOSE.parse(c["value"]).hri() == c["expected"]
        elif test == "test_as_gs1_digital_link_uri":
            assert LOOSE.parse(c["value"]).digital_link_uri() == c["expected"]
        elif test == "test_filter_element_strings_by_ai":
            assert _by_ai(c["value"], c["ai"]) == c["expected"]
        elif test == "test_get_element_string_by_ai":
            assert next(iter(_by_ai(c["value"], c["ai"])), None) == c["expected"]
        elif test == "test_filter_element_strings_by_data_title":  # biip's own title matching
            found = GS1Message.parse(c["value"]).element_strings.filter(data_title=c["data_title"])
            assert [e.value for e in found] == c["expected"]
        elif test == "test_get_element_string_by_data_title":
            got = GS1Message.parse(c["value"]).element_strings.get(data_title=c["data_title"])
            assert (got.value if got else None) == c["expected"]
        elif test in ("test_extract_fails_when_not_matching_pattern", "test_extract_fails_with_invalid_date"):
            value = c["bad_value"] if c["bad_value"].startswith(c["ai_code"]) else c["ai_code"] + c["bad_value"]
            error = _refused(value)
            assert error.ai == c["ai_code"] or c["ai_code"] in error.reason
        else:
            raise AssertionError(f"unhandled vector group {name}")
    elif name.startswith("test_gs1_digital_link_uris.py"):
        if test == "test_parse_error":
            _refused(c["value"], form="digital_link")
        elif test == "test_as_gs1_message":
            assert LOOSE.parse(c["value"]).hri() == c["expected"]
        elif test == "test_filter_element_strings_by_ai":
            assert _by_ai(c["value"], c["ai"]) == c["expected"]
        elif test == "test_get_element_strings_by_ai":
            assert next(iter(_by_ai(c["value"], c["ai"])), None) == c["expected"]
        elif test == "test_as_uri":
            kwargs = {k: c[k] for k in ("domain", "prefix") if c[k] is not None}
            assert GS1DigitalLinkURI.parse(c["value"]).as_uri(**kwargs) == c["expected"]
        elif test == "test_as_canonical_uri":
            assert GS1DigitalLinkURI.parse(c["value"]).as_canonical_uri() == c["expected"]
        elif test == "test_filter_element_strings_by_data_title":
            found = GS1DigitalLinkURI.parse(c["value"]).element_strings.filter(data_title=c["data_title"])
            assert [e.value for e in found] == c["expected"]
        elif test == "test_get_element_strings_by_data_title":
            got = GS1DigitalLinkURI.parse(c["value"]).element_strings.get(data_title=c["data_title"])
            assert (got.value if got else None) == c["expected"]
        else:
            raise AssertionError(f"unhandled vector group {name}")
    elif name == "test_gs1_application_identifiers.py::test_extract_unknown_gs1_ai":
        _refused(c["unknown_ai"])
    elif name.startswith("test_checksums.py"):
        if test == "test_gs1_standard_check_digit":
            assert gs1_check_digit(c["value"]) == c["expected"]
        elif test == "test_gs1_standard_check_digit_with_nonnumeric_value":
            with pytest.raises(ValueError):
                gs1_check_digit(c["value"])
        elif test == "test_gs1_price_weight_check_digit":
            assert biip.checksums.gs1_price_weight_check_digit(c["value"]) == c["expected"]
        else:
            with pytest.raises(ValueError):
                biip.checksums.gs1_price_weight_check_digit(c["value"])
    else:
        _library_literal(name, test, c)


def _library_literal(name: str, test: str, c: dict[str, Any]) -> None:
    """GTIN/UPC/RCN/SSCC/prefix/symbology cases: biip's behaviour that the scan pipeline relies on."""
    kind = name.split("/")[0].split(".")[0]
    if test == "test_parse_nonnumeric_value" or test.startswith("test_invalid_"):
        value = str(c.get("value", c.get("bad_value")))
        parser: Callable[[str], object] = {
            "gtin": Gtin.parse, "upc": Upc.parse, "test_sscc": Sscc.parse,
            "test_gln": biip.gln.Gln.parse, "test_gs1_prefixes": _prefix_parser(test),
        }[kind]
        with pytest.raises(biip.ParseError):
            parser(value)
    elif "fails_for_too_long" in test:
        with pytest.raises(biip.EncodeError):
            getattr(Gtin.parse(c["value"]), test.removeprefix("test_").removesuffix("_fails_for_too_long_values"))()
    elif test.startswith("test_as_") and kind in ("gtin", "upc"):
        obj = Gtin.parse(c["value"]) if kind == "gtin" else Upc.parse(c["value"])
        assert getattr(obj, test.removeprefix("test_"))() == c["expected"]
    elif test.startswith("test_parse_gtin"):
        assert Gtin.parse(c["value"]).as_gtin_14().endswith(c["value"].lstrip("0"))
    elif test == "test_without_variable_measure_keeps_gtin_unchanged":
        gtin = Gtin.parse(c["value"])
        assert gtin.without_variable_measure() == gtin
    elif test.startswith("test_region_"):
        region = {"denmark": "dk", "finland": "fi", "germany": "de", "great_britain": "gb", "norway": "no",
                  "sweden": "se"}[test.removeprefix("test_region_")]
        rcn = Gtin.parse(c["value"], config=biip.ParseConfig(rcn_region=region))
        assert isinstance(rcn, Rcn)
        assert rcn.weight == c["weight"] and rcn.price == c["price"] and rcn.money == c["money"]
        if "count" in c:
            assert rcn.count == c["count"]
    elif test == "test_as_hri" and kind == "test_sscc":
        assert Sscc.parse(c["value"]).as_hri() == c["expected"]
    elif kind == "test_gs1_prefixes":
        assert _prefix_parser(test)(c["value"]) == c["expected"]
    elif kind == "test_symbology":
        assert len(SymbologyIdentifier.extract(c["value"] + "payload")) == len(c["value"])
        assert str(SymbologyIdentifier.extract(c["value"])) == c["value"]
    else:
        raise AssertionError(f"unhandled vector group {name}")


def _prefix_parser(test: str) -> Callable[[str], object]:
    if "company" in test:
        return GS1CompanyPrefix.extract
    return GS18Prefix.extract if "gs1_8" in test else GS1Prefix.extract


# Inputs for which biip returns an object: Takt's parser accepts the GS1 ones (checked as single element strings),
# except where the dictionary knows better than biip's lenient object: these are refused, naming the AI.
REFUSED_BY_DICTIONARY = {
    # biip returns an object with gtin_error / gln_error / sscc_error set: a wrong check digit
    "test_gs1_element_strings.py::test_extract_with_nested_error",
    # (15) 000000: month 00 does not exist
    "test_gs1_messages.py::test_parse_with_invalid_element_values",
    "test_gs1_digital_link_uris.py::test_parse_with_invalid_element_values",
}
# biip's own test data: a GRAI whose check digit is wrong (0 7071324001022: expected 1); biip does not check it.
WRONG_IN_BIIP_DATA = {"800307071324001022085952"}
GS1_GROUPS = ("test_gs1_messages.py", "test_gs1_element_strings.py", "test_gs1_digital_link_uris.py",
              "test_gs1_application_identifiers.py")


def _object(name: str, c: dict[str, Any]) -> None:
    value = c["value"]
    if name in REFUSED_BY_DICTIONARY or value in WRONG_IN_BIIP_DATA:
        error = _refused(value)
        assert error.ai is not None
    elif name.startswith(GS1_GROUPS):
        label = LOOSE.parse(value)
        assert label.element_strings
    elif name.startswith("test_symbology.py"):
        assert value.startswith(SymbologyIdentifier.extract(value).value)
    elif name.startswith("test_gs1_prefixes.py"):
        test = name.split("::")[1]
        assert _prefix_parser(test)(value) is not None
    elif name == "rcn/test_rcn.py::test_rcn_region_can_be_specified_as_string":
        assert biip.ParseConfig(rcn_region=value).rcn_region is not None
    else:  # gtin/upc/rcn/test_parse.py: biip's top-level parse understands them
        result = biip.parse(value)
        assert result.value == value


@pytest.mark.parametrize(("name", "kind", "case"), CASES, ids=[f"{n}[{i}]" for i, (n, _, _) in enumerate(CASES)])
def test_biip_vector(name: str, kind: str, case: dict[str, Any]) -> None:
    if kind == "literal":
        _literal(name, case)
    else:
        _object(name, case)


def test_every_vector_is_exercised() -> None:
    assert len(CASES) > 300
