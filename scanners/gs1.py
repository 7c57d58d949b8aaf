"""GS1 label parsing: element strings (raw with GS or bracketed), AIM symbology identifiers and Digital Link URIs.

biip splits the text into element strings; the GS1 Barcode Syntax Dictionary then checks every one of them (check
digits, dates, lengths, character sets) and the pairs (required and exclusive AIs), because biip alone accepts some
wrong labels. With the dictionary the split runs through scanners.gs1_biip (biip's AI table and patterns, without
biip's enriched result objects, whose checks the dictionary replaces; biip's own parser where it cannot follow).
Without the dictionary file the parser falls back to biip's own parse and checks (with a warning at load).

Around biip, the rules of GS1's Syntax Engine (docs/gs1.md lists them, and where Takt differs on purpose):
scan data's lengths per AIM symbology identifier (]E0 13 digits, ]E4 8, with an optional "|]e0" composite),
FNC1 (GS) placement in element strings, no empty values in bracketed input, and Digital Link URIs' structure
(scanners.gs1_digital_link).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from biip import BiipException, ParseConfig
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message

from edge.domain.gs1 import check_digit, gtin14
from scanners.gs1_biip import BiipSplitter, Pair
from scanners.gs1_digital_link import digital_link_pairs
from scanners.gs1_syntax import SyntaxDictionary, SyntaxViolation, gs1_date, load_syntax_dictionary

GS = "\x1d"
MAX_LENGTH = 4096  # longer than any GS1 symbol can carry
Form = Literal["auto", "element_string", "hri", "digital_link"]

#: AIM symbology identifiers whose data are GS1 AI element strings.
AI_SYMBOLOGIES = frozenset({"]C1", "]e0", "]e1", "]e2", "]d2", "]Q3", "]J1"})
#: AIM symbology identifiers whose data are a bare GTIN (EAN/UPC, ITF-14).
GTIN_SYMBOLOGIES = frozenset({"]E0", "]E3", "]E4", "]I0", "]I1"})
#: EAN/UPC scan data as GS1's Syntax Engine reads it: ]E0 is EAN-13, UPC-A and UPC-E (as 13 digits), ]E4 EAN-8.
EAN_UPC_LENGTHS = {"]E0": 13, "]E4": 8}
#: What follows EAN/UPC scan data when the symbol has a GS1 Composite component (its AI element strings).
COMPOSITE_MARK = "|]e0"
#: AIM symbology identifiers of plain (non-AI) data: they may carry a GS1 Digital Link URI.
PLAIN_DATA_SYMBOLOGIES = frozenset({"]Q1", "]d1"})
_SCHEMES = ("http://", "https://")
_EMPTY_BRACKETED = re.compile(r"\((\d+)\)(?=\(|$)")


class GS1Error(ValueError):
    """A text that is not an acceptable GS1 label. `ai` names the element string at fault (None if not one)."""

    def __init__(self, reason: str, ai: str | None = None) -> None:
        self.ai = ai
        self.reason = reason
        super().__init__(f"AI ({ai}): {reason}" if ai else reason)

    def to_json(self) -> dict[str, Any]:
        return {"error": "GS1_INVALID", "ai": self.ai, "reason": self.reason, "message": str(self)}


#: Element strings as (AI, value, title), and biip's nested finding when there is no dictionary (a refusal).
_Split = tuple[list[Pair], GS1Error | None]


@dataclass(frozen=True, slots=True)
class ElementString:
    ai: str
    value: str
    title: str


@dataclass(frozen=True, slots=True)
class GS1Label:
    """A validated GS1 label: the element strings in scan order plus the fields the plant uses."""

    element_strings: tuple[ElementString, ...]
    form: str  # element_string | hri | digital_link | gtin
    symbology_identifier: str | None = None
    validated_by: str = "syntax-dictionary"
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    production_date: date | None = None
    quantity: int | None = None
    net_weight_kg: Decimal | None = None
    ais: dict[str, str] = field(default_factory=dict)

    def hri(self) -> str:
        return "".join(f"({e.ai}){e.value}" for e in self.element_strings)

    def digital_link_uri(self) -> str:
        """The label as a GS1 Digital Link URI on id.gs1.org (biip's rendering)."""
        return GS1Message.parse_hri(self.hri()).as_gs1_digital_link_uri().as_uri()

    def element_string(self) -> str:
        """The raw element string as a scanner sends it (GS after every variable-length AI but the last)."""
        out: list[str] = []
        for i, e in enumerate(self.element_strings):
            out.append(e.ai + e.value)
            if i < len(self.element_strings) - 1 and not _predefined_length(e.ai):
                out.append(GS)
        return "".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "hri": self.hri(),
            "form": self.form,
            "symbology_identifier": self.symbology_identifier,
            "validated_by": self.validated_by,
            "gtin": self.gtin,
            "lot": self.lot,
            "serial": self.serial,
            "sscc": self.sscc,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "best_before": self.best_before.isoformat() if self.best_before else None,
            "production_date": self.production_date.isoformat() if self.production_date else None,
            "quantity": self.quantity,
            "net_weight_kg": str(self.net_weight_kg) if self.net_weight_kg is not None else None,
            "ais": self.ais,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)


# GS1 General Specifications figure 5.10.1-2: AIs (by first two digits) with a predefined length, no FNC1 after them.
_PREDEFINED = {"00": 20, "01": 16, "02": 16, "03": 16, "04": 18, "11": 8, "12": 8, "13": 8, "14": 8, "15": 8, "16": 8,
               "17": 8, "18": 8, "19": 8, "20": 4, "31": 10, "32": 10, "33": 10, "34": 10, "35": 10, "36": 10, "41": 16}


def _predefined_length(ai: str) -> bool:
    return ai[:2] in _PREDEFINED


def split_symbology_identifier(text: str) -> tuple[str | None, str]:
    """(']C1', rest) when the text starts with an AIM symbology identifier, else (None, text)."""
    if len(text) >= 3 and text[0] == "]" and text[1].isascii() and text[1].isalpha() and text[2].isalnum():
        return text[:3], text[3:]
    return None, text


class GS1Parser:
    """Parses and validates GS1 labels. One instance per configuration; `parse` is pure and thread-safe."""

    def __init__(self, dictionary: SyntaxDictionary | None, *, separators: str = GS, associations: bool = True,
                 today: date | None = None, allow_zero_suppressed_gtin: bool = False) -> None:
        self.dictionary = dictionary
        self.separators = separators
        self.associations = associations
        self.today = today
        #: Accept GTIN-8/12/13 in a Digital Link path (GS1 refuses them; some old labels carry them).
        self.allow_zero_suppressed_gtin = allow_zero_suppressed_gtin
        # With the dictionary, dates are checked by its rules (biip refuses valid ones, e.g. a (7007) date range).
        self._config = ParseConfig(separator_chars=tuple(separators),
                                   gs1_element_strings_verify_date=dictionary is None)
        #: biip's split without its result objects, whose checks the dictionary replaces (scanners.gs1_biip).
        self._splitter = BiipSplitter(dictionary.entries, self._config) if dictionary is not None else None
        self._titles = {ai: entry.title for ai, entry in dictionary.entries.items()} if dictionary is not None else {}

    def parse(self, text: str, *, form: Form = "auto") -> GS1Label:
        if not isinstance(text, str):
            raise GS1Error("a GS1 label must be text")
        if len(text) > MAX_LENGTH:
            raise GS1Error(f"{len(text)} characters is longer than any GS1 symbol ({MAX_LENGTH})")
        symbology, data = split_symbology_identifier(text)
        if symbology is not None and form == "auto" and symbology in EAN_UPC_LENGTHS:
            return self._ean_upc(data, symbology)
        if symbology is not None and form == "auto" and symbology in GTIN_SYMBOLOGIES:
            return self._gtin_only(data, symbology)
        if form == "digital_link" or (form == "auto" and data.strip(self.separators)[:8].lower().startswith(_SCHEMES)):
            if symbology is not None and symbology not in PLAIN_DATA_SYMBOLOGIES:
                raise GS1Error(f"symbology identifier {symbology} announces GS1 element strings, not a URI (a "
                               f"Digital Link URI comes as plain data: {', '.join(sorted(PLAIN_DATA_SYMBOLOGIES))})")
            return self._digital_link(data.strip(self.separators), symbology)
        if symbology is not None and symbology not in AI_SYMBOLOGIES:
            raise GS1Error(f"symbology identifier {symbology} is not a GS1 symbology (expected one of "
                           f"{', '.join(sorted(AI_SYMBOLOGIES | GTIN_SYMBOLOGIES))})")
        if form == "hri" or (form == "auto" and data.strip(self.separators).startswith("(")):
            stripped = data.strip(self.separators)
            if not stripped:
                raise GS1Error("empty label")
            empty = _EMPTY_BRACKETED.search(stripped)
            if empty:
                raise GS1Error("no value after the AI", empty.group(1))
            elements = self._split(
                self._splitter.hri(stripped) if self._splitter is not None else None,
                lambda: GS1Message.parse_hri(stripped, config=self._config).element_strings)
            return self._label(elements, "hri", symbology)
        body = self._element_string_body(data, symbology)
        elements = self._element_strings(body)
        self._check_separators(body, elements[0], strict=symbology is not None)
        return self._label(elements, "element_string", symbology)

    def _element_strings(self, body: str) -> _Split:
        return self._split(self._splitter.element_strings(body) if self._splitter is not None else None,
                           lambda: GS1Message.parse(body, config=self._config).element_strings)

    def _element_string_body(self, data: str, symbology: str | None) -> str:
        """The element strings without FNC1 in first and one trailing GS. After an AIM symbology identifier the
        identifier stands for FNC1 in first, so a GS right after it is refused (as GS1's Syntax Engine does);
        without one, a leading GS is the scanner's FNC1 in first."""
        body = data
        if body[:1] and body[0] in self.separators:
            if symbology is not None:
                raise GS1Error(f"a GS (FNC1) right after the symbology identifier {symbology}: the identifier "
                               "already stands for FNC1 in first")
            body = body[1:]
        if body[-1:] and body[-1] in self.separators:
            body = body[:-1]
        if not body:
            raise GS1Error("empty label")
        return body

    def _check_separators(self, body: str, elements: Sequence[Pair], *, strict: bool) -> None:
        """FNC1 placement as GS1 reads it: a variable-length AI ends with a GS unless it is the last one; a GS after a
        predefined-length AI is allowed; in scan data (`strict`: after an AIM symbology identifier) two GS in a row
        (an empty element string) are refused, in text without an identifier redundant GS are skipped."""
        position, end = 0, len(body)
        if strict and body[-1:] and body[-1] in self.separators:
            raise GS1Error("two GS (FNC1) at the end of the label")
        for ai, value, _ in elements:
            if not strict:
                while position < end and body[position] in self.separators:
                    position += 1
            if not body.startswith(ai + value, position):
                raise GS1Error("misplaced GS (FNC1): an empty element string or a GS inside a value", ai)
            position += len(ai) + len(value)
            if position < end and body[position] in self.separators:
                position += 1
            elif position < end and not self._predefined(ai):
                raise GS1Error(f"variable-length value {value!r} is not followed by a GS (FNC1) before the next AI "
                               f"({body[position:position + 4]}...): the value is too long", ai)
        if position != end and (strict or body[position:].strip(self.separators)):
            raise GS1Error("misplaced GS (FNC1) at the end of the label")

    def _predefined(self, ai: str) -> bool:
        entry = self.dictionary.entry(ai) if self.dictionary is not None else None
        return entry.fixed_length if entry is not None else _predefined_length(ai)

    def _digital_link(self, uri: str, symbology: str | None) -> GS1Label:
        if not uri:
            raise GS1Error("empty label")
        if self.dictionary is None:  # biip-only: its own reading of the URI
            elements = self._split(None, lambda: GS1DigitalLinkURI.parse(uri).element_strings)
            return self._label(elements, "digital_link", symbology)
        try:
            pairs = digital_link_pairs(uri, self.dictionary, allow_zero_suppressed_gtin=self.allow_zero_suppressed_gtin)
        except SyntaxViolation as exc:
            raise GS1Error(exc.reason, exc.ai) from None
        # biip parses each element string (AI + value) of the URI. The URI's structure (key, qualifiers in order,
        # query) was checked above by the dictionary's rules, which accept only what biip's own Digital Link parser
        # accepts (tests/unit/test_gs1_biip.py); when the splitter cannot follow biip, biip parses the URI rebuilt
        # on GS1's canonical stem with only the GS1 data.
        assert self._splitter is not None
        elements_split = [self._splitter.element(ai, value) for ai, value in pairs]
        split = None if None in elements_split else [e for e in elements_split if e is not None]
        dictionary = self.dictionary

        def biip_parse() -> list[GS1ElementString]:
            path, query = _canonical_parts(pairs, dictionary)
            canonical = "https://id.gs1.org" + path + ("?" + query if query else "")
            return GS1DigitalLinkURI.parse(canonical, config=self._config).element_strings

        elements = self._split(split, biip_parse)
        return self._label(elements, "digital_link", symbology)

    def _split(self, split: list[Pair] | None, parse: Any) -> _Split:
        """The element strings as (AI, value, title): `split` when the splitter followed biip, else biip's parse
        (its result, or its refusal in the dictionary's words). Without the dictionary, also biip's first nested
        finding (a GTIN's, SSCC's or GLN's check digit), a refusal once the FNC1 placement has been checked."""
        if split:
            return split, None
        try:
            elements: list[GS1ElementString] = parse()
        except BiipException as exc:
            reason, ai = _biip_reason(exc)
            raise self._clearer(reason, ai) from None
        except (ValueError, IndexError, KeyError, OverflowError) as exc:  # biip on inputs it does not expect
            raise GS1Error(f"not a GS1 label: {exc}") from None
        if not elements:
            raise GS1Error("no GS1 element strings found")
        problem = None
        if self.dictionary is None:  # biip-only: its nested findings are refusals
            problem = next((GS1Error(found, e.ai.ai) for e in elements
                            if (found := e.gtin_error or e.sscc_error or e.gln_error)), None)
        return [(e.ai.ai, e.value, e.ai.data_title) for e in elements], problem

    def _clearer(self, reason: str, ai: str | None) -> GS1Error:
        """biip's refusal, in the dictionary's words when it can say what is wrong with that element string."""
        found = _BIIP_MISMATCH.search(reason)
        if found and self.dictionary is not None and found.group(1).startswith(found.group(2)):
            try:
                self.dictionary.validate_value(found.group(2), found.group(1)[len(found.group(2)):], self.today)
            except SyntaxViolation as exc:
                return GS1Error(exc.reason, exc.ai)
        return GS1Error(reason, ai)

    def _ean_upc(self, data: str, symbology: str) -> GS1Label:
        """EAN/UPC scan data: exactly 13 (]E0) or 8 (]E4) digits with a valid check digit, then optionally the
        composite component's element strings after "|]e0"."""
        length = EAN_UPC_LENGTHS[symbology]
        data = data.strip()
        primary, composite = data[:length], data[length:]
        name = "EAN-13/UPC-A/UPC-E" if symbology == "]E0" else "EAN-8"
        if len(primary) < length or (composite and not composite.startswith(COMPOSITE_MARK)):
            raise GS1Error(f"{symbology} ({name}) scan data are exactly {length} digits, got {len(data)} "
                           f"characters", "01")
        if not primary.isascii() or not primary.isdigit():
            raise GS1Error(f"{symbology} ({name}) scan data are digits only, got {primary!r}", "01")
        expected = check_digit(primary[:-1])
        if int(primary[-1]) != expected:  # also without the dictionary
            raise GS1Error(f"wrong check digit in {primary}: expected {expected}, got {primary[-1]}", "01")
        pairs = [("01", gtin14(primary))]
        titles = {"01": "GTIN"}
        if composite:
            body = self._element_string_body(composite[len(COMPOSITE_MARK):], "]e0")
            elements, problem = self._element_strings(body)
            self._check_separators(body, elements, strict=True)
            if problem is not None:
                raise problem
            pairs += [(ai, value) for ai, value, _ in elements]
            titles.update({ai: title for ai, _, title in elements})
        self._check(pairs, check_associations=self.associations and bool(composite))
        return self._result(pairs, titles, "gtin", symbology)

    def _gtin_only(self, data: str, symbology: str) -> GS1Label:
        digits = data.strip()
        if not digits.isascii() or not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
            raise GS1Error(f"{symbology} carries a GTIN: 8, 12, 13 or 14 digits, got {digits!r}", "01")
        gtin = gtin14(digits)
        pairs = [("01", gtin)]
        self._check(pairs, check_associations=False)
        return self._result(pairs, {"01": "GTIN"}, "gtin", symbology)

    def _label(self, split: _Split, kind: str, symbology: str | None) -> GS1Label:
        elements, problem = split
        if problem is not None:
            raise problem
        pairs = [(ai, value) for ai, value, _ in elements]
        titles = {ai: title for ai, _, title in elements}
        self._check(pairs, check_associations=self.associations)
        return self._result(pairs, titles, kind, symbology)

    def _check(self, pairs: list[tuple[str, str]], *, check_associations: bool) -> None:
        if self.dictionary is None:
            return
        try:
            self.dictionary.validate_message(pairs, associations=check_associations, today=self.today)
        except SyntaxViolation as exc:
            raise GS1Error(exc.reason, exc.ai) from None

    def _result(self, pairs: list[tuple[str, str]], titles: dict[str, str], kind: str,
                symbology: str | None) -> GS1Label:
        ais: dict[str, str] = {}
        for ai, value in pairs:
            ais.setdefault(ai, value)
        if self._titles:
            titles = {ai: self._titles.get(ai, t) for ai, t in titles.items()}
        weight = next(((ai, v) for ai, v in ais.items() if ai.startswith("310")), None)
        quantity = ais.get("30") or ais.get("37")
        return GS1Label(
            element_strings=tuple(ElementString(ai, value, titles.get(ai, "")) for ai, value in pairs),
            form=kind,
            symbology_identifier=symbology,
            validated_by="syntax-dictionary" if self.dictionary is not None else "biip",
            gtin=ais.get("01") or ais.get("02"),
            lot=ais.get("10"),
            serial=ais.get("21"),
            sscc=ais.get("00"),
            expiry=self._date(ais, "17"),
            best_before=self._date(ais, "15"),
            production_date=self._date(ais, "11"),
            quantity=int(quantity) if quantity is not None and quantity.isdigit() else None,
            net_weight_kg=Decimal(weight[1]).scaleb(-int(weight[0][3])) if weight and weight[1].isdigit() else None,
            ais=ais,
        )

    def _date(self, ais: dict[str, str], ai: str) -> date | None:
        value = ais.get(ai)
        if value is None:
            return None
        try:
            return gs1_date(value, self.today)
        except ValueError as exc:
            raise GS1Error(f"invalid date: {exc}", ai) from None


_BIIP_AI = re.compile(r"GS1 AI \((\d{2,4})\)")
_BIIP_MISMATCH = re.compile(r"Failed to match '(.*)' with GS1 AI \((\d{2,4})\)", re.DOTALL)


def _canonical_parts(pairs: list[tuple[str, str]], dictionary: SyntaxDictionary) -> tuple[str, str]:
    """The path (key and qualifiers) and the query (data attributes) of a Digital Link URI holding `pairs`."""
    path: list[str] = []
    query: list[str] = []
    for index, (ai, value) in enumerate(pairs):
        in_path = index == 0 or (not query and dictionary.is_dl_path([a for a, _ in pairs[: index + 1]]))
        if in_path:
            path.append(f"/{ai}/{quote(value, safe='')}")
        else:
            query.append(f"{ai}={quote(value, safe='')}")
    return "".join(path), "&".join(query)


def _biip_reason(exc: BiipException) -> tuple[str, str | None]:
    """biip's message, and the AI it names (if any)."""
    text = str(exc).strip() or type(exc).__name__
    found = _BIIP_AI.search(text)
    return text, found.group(1) if found else None


_default: GS1Parser | None = None


def default_parser() -> GS1Parser:
    """The parser with the syntax dictionary from its default place (biip-only if the file is missing)."""
    global _default
    if _default is None:
        _default = GS1Parser(load_syntax_dictionary())
    return _default


def parse(text: str, *, form: Form = "auto") -> GS1Label:
    """Parse and validate one scanned GS1 label with the default parser; raises GS1Error naming the AI and reason."""
    return default_parser().parse(text, form=form)


def is_gs1(text: str) -> bool:
    symbology, _ = split_symbology_identifier(text)
    return symbology in AI_SYMBOLOGIES or symbology in GTIN_SYMBOLOGIES


def parse_many(texts: Iterable[str]) -> list[GS1Label | GS1Error]:
    out: list[GS1Label | GS1Error] = []
    for text in texts:
        try:
            out.append(parse(text))
        except GS1Error as exc:
            out.append(exc)
    return out
