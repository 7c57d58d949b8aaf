"""scanners.gs1_biip reads element strings exactly as biip's own parser does, or steps aside.

For every text (biip's own test vectors, the plant's kinds of labels, and seeded random mutations of them) the
splitter's result is biip's (AI, value, title) list, or None, and it is never a result where biip refuses. And every
Digital Link path the GS1 syntax dictionary accepts is accepted by biip's own Digital Link parser, so that Takt's
parser may check a URI's structure with the dictionary alone and let biip parse its element strings one by one.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from biip import BiipException, ParseConfig
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message

from tests.shared_data import require_mirror, require_reference

require_reference("gs1-syntax-dictionary")

from edge.domain.gs1 import check_digit  # noqa: E402
from scanners.gs1 import GS  # noqa: E402
from scanners.gs1_biip import BiipSplitter, Pair  # noqa: E402
from scanners.gs1_syntax import DEFAULT_PATH, SyntaxDictionary  # noqa: E402

DICTIONARY = SyntaxDictionary.load(DEFAULT_PATH)
CONFIGS = [ParseConfig(separator_chars=(GS,), gs1_element_strings_verify_date=False),
           ParseConfig(separator_chars=(GS, "|"), gs1_element_strings_verify_date=False)]


def _with_check(digits: str) -> str:
    return digits + str(check_digit(digits))


GTIN = _with_check("0950110153000")
SSCC = _with_check("09501101530000001")


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def _corpus() -> list[str]:
    vectors = json.loads(Path(require_mirror("gs1/biip-test-vectors.json")).read_text(encoding="utf-8"))
    texts = {s for test in vectors["tests"] for s in _strings(test["cases"] + test["inputs_with_object_expectation"])}
    texts |= {
        f"01{GTIN}17270101" + f"10L1{GS}21S1", f"00{SSCC}02{GTIN}3712{GS}10L1", f"01{GTIN}7007261101261105" + "10L1",
        f"01{GTIN}3103000125{GS}", f"{GS}01{GTIN}", f"01{GTIN}{GS}{GS}10L1", f" 01{GTIN}10L1 ", f"01{GTIN}10L1|21S",
        f"(01){GTIN}(17)270101(10)L1(21)S1", f"(01){GTIN}(10)", f"(01){GTIN} (10)L 1", f"(999){GTIN}", "(01)",
        f"(01){GTIN}(3103)000125(8030)AbC-_1", "x(01)12", f"(01){GTIN}((10)L1", f"(01){GTIN}(10)L1)(21)S",
        "8004950110100003X1", f"4230{GTIN}", "", GS, "01", "011234", "999", f"01{GTIN}٣",
    }
    rng = random.Random(18)
    alphabet = "0123456789" * 3 + "()ABCxyz-_/%." + GS + " |"
    base = sorted(texts)
    for _ in range(3000):
        text = list(rng.choice(base))
        for _ in range(rng.randint(1, 3)):
            position = rng.randint(0, len(text))
            choice = rng.random()
            if choice < 0.4:
                text.insert(position, rng.choice(alphabet))
            elif choice < 0.8 and text:
                del text[min(position, len(text) - 1)]
            elif text:
                text[min(position, len(text) - 1)] = rng.choice(alphabet)
        texts.add("".join(text))
    return sorted(texts)


CORPUS = _corpus()


def _biip(parse: Any) -> list[Pair] | None:
    try:
        return [(e.ai.ai, e.value, e.ai.data_title) for e in parse()]
    except (BiipException, ValueError):
        return None


@pytest.mark.parametrize("config", CONFIGS, ids=["gs", "gs-and-bar"])
def test_element_strings_and_hri_are_split_as_biip_splits_them(config: ParseConfig) -> None:
    splitter = BiipSplitter(DICTIONARY.entries, config)
    parsed = 0
    for text in CORPUS:
        # biip and the dictionary know the same AIs, so the splitter never has to step aside here: its result is
        # biip's, and None exactly where biip refuses.
        expected = _biip(lambda: GS1Message.parse(text, config=config).element_strings)  # noqa: B023
        assert splitter.element_strings(text) == expected, text
        expected_hri = _biip(lambda: GS1Message.parse_hri(text, config=config).element_strings)  # noqa: B023
        assert splitter.hri(text) == (expected_hri or None), text
        parsed += expected is not None
    assert parsed > 400  # the mutations leave enough labels that biip reads


def test_one_element_string_is_parsed_as_biip_parses_it() -> None:
    splitter = BiipSplitter(DICTIONARY.entries, CONFIGS[0])
    cases = [("01", GTIN), ("01", GTIN[:-1]), ("10", "L1"), ("10", ""), ("10", "L" * 21), ("7007", "261101261105"),
             ("17", "271301"), ("8030", "AbC-_1"), ("3103", "000125"), ("999", "1"), ("21", "S 1"), ("22", "é")]
    for ai, value in cases:
        expected = _biip(lambda: [GS1Message.parse_hri(f"({ai}){value}", config=CONFIGS[0])  # noqa: B023
                                  .element_strings[0]])
        got = splitter.element(ai, value)
        if got is not None:
            assert [got] == expected, (ai, value)
    assert splitter.element("01", GTIN) == ("01", GTIN, "GTIN")
    assert splitter.element("01", GTIN[:-1]) is None
    assert splitter.element("999", "1") is None


_SAMPLES = {
    "00": SSCC, "01": GTIN, "22": "V1", "10": "L1", "21": "S1", "235": "T1", "253": _with_check("950110100002"),
    "255": _with_check("950110100000"), "401": "9501101A", "402": _with_check("9501101000000000"),
    "414": _with_check("950110100000"), "415": _with_check("950110100000"), "417": _with_check("950110100000"),
    "254": "X1", "7040": "1A2B", "8003": "0" + _with_check("950110100003"), "8004": "9501101X1",
    "8006": GTIN + "0102", "8010": "9501101X", "8011": "1", "8013": "9501101X", "8017": _with_check("95011010000000000"),
    "8018": _with_check("95011010000000000"), "8019": "1", "8020": "R1",
}


def test_every_digital_link_path_of_the_dictionary_is_one_biip_accepts() -> None:
    checked = 0
    for key, entry in DICTIONARY.entries.items():
        if entry.dl_qualifiers is None:
            continue
        for alternative in entry.dl_qualifiers:
            for size in range(len(alternative) + 1):
                for qualifiers in itertools.combinations(alternative, size):
                    ais = [key, *qualifiers]
                    assert DICTIONARY.is_dl_path(ais)
                    uri = "https://id.gs1.org" + "".join(f"/{ai}/{_SAMPLES[ai]}" for ai in ais) + "?17=270101"
                    parsed = GS1DigitalLinkURI.parse(uri, config=CONFIGS[0])
                    assert [(e.ai.ai, e.value) for e in parsed.element_strings] == \
                        [*((ai, _SAMPLES[ai]) for ai in ais), ("17", "270101")]
                    checked += 1
    assert checked >= 16


def test_a_digital_link_value_is_checked_by_the_dictionary_not_by_biips_date_reading() -> None:
    from scanners.gs1 import GS1Error, GS1Parser

    parser = GS1Parser(DICTIONARY)
    # A (7007) harvest date range: biip's date reading refused it in a URI (not in the other forms).
    assert parser.parse(f"https://id.gs1.org/01/{GTIN}?7007=261101261105").ais["7007"] == "261101261105"
    with pytest.raises(GS1Error) as error:
        parser.parse(f"https://id.gs1.org/01/{GTIN}?7007=261101261305")
    assert error.value.ai == "7007" and "month 13" in error.value.reason
