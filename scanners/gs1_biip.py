"""biip's reading of GS1 element strings, without building biip's result objects.

biip stays the parser: it decides where each element string ends. For every element string biip's own parser
(`GS1Message.parse`, `parse_hri`, `GS1ElementString.parse`) takes the AI from biip's AI table, matches biip's pattern
for that AI and then builds a `GS1ElementString` enriched with a `Gtin`/`Sscc`/`Gln` object (GS1 prefix and company
prefix lookups), a date and a decimal, through five `dataclasses.replace` copies. With the GS1 syntax dictionary
Takt discards all of that enrichment (the dictionary checks check digits, dates and numbers itself, more strictly),
and it cost more than half of a label's parse. `BiipSplitter` runs the same steps as biip's parser (the same AI
table, the same patterns, the same separator handling, in the same order) and keeps only what Takt uses: each
element string's AI, value and data title.

It returns None whenever it cannot follow biip exactly (an AI its table does not know, a pattern that does not
match, anything unusual): the caller then runs biip's own parser, which gives the result or biip's own refusal.
So every label is read as biip reads it; `tests/unit/test_gs1_biip.py` compares both on every test vector.

Used only with the syntax dictionary: without it biip's enrichment (its check digits, dates) is the only check,
and biip's full parse runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from biip import ParseConfig
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import have_moneyed

# biip.gs1_messages.GS1Message.parse_hri's pattern.
_HRI = re.compile(r"\((\d+)\)([^(]+)")
#: AIs whose biip enrichment can refuse a value that matched the AI's pattern: an amount with an ISO 4217
#: currency (py-moneyed, when installed, refuses an unknown currency). These always go through biip's own parse.
_MONEY_PREFIXES = ("391", "393")


@dataclass(frozen=True, slots=True)
class _AI:
    ai: str
    title: str
    prefix_pattern: re.Pattern[str]  # as biip's extract() matches: the pattern without its "$"
    full_pattern: re.Pattern[str]  # as biip's parse() matches: the whole pattern


Pair = tuple[str, str, str]  # (AI, value, biip's data title)

#: biip's definition of each AI, compiled on first use (the same for every splitter in the process).
_COMPILED: dict[str, _AI] = {}


@lru_cache(maxsize=16)
def _followable(codes: frozenset[str]) -> frozenset[str]:
    """The AIs of `codes` the splitter reads itself: biip knows each as such, no AI of `codes` is the prefix of
    another (biip takes the first AI of its table that the text starts with; looking up the text's first 2, 3 and 4
    characters finds that same AI only then: true of GS1's AIs), and biip's enrichment cannot refuse its values."""
    prefixes = {code[:k] for code in codes for k in range(2, len(code))}
    out = set()
    for code in codes:
        if code in prefixes or any(code[:k] in codes for k in range(2, len(code))):
            continue
        if have_moneyed and code.startswith(_MONEY_PREFIXES):
            continue
        try:
            known = GS1ApplicationIdentifier.extract(code).ai == code
        except ValueError:  # biip does not know this AI: its own parser refuses it
            known = False
        if known:
            out.add(code)
    return frozenset(out)


def _compiled(code: str) -> _AI:
    ai = _COMPILED.get(code)
    if ai is None:
        definition = GS1ApplicationIdentifier.extract(code)
        ai = _AI(code, definition.data_title, re.compile(definition.pattern.removesuffix("$")),
                 re.compile(definition.pattern))
        _COMPILED[code] = ai
    return ai


class BiipSplitter:
    """Splits element strings as biip's parser does, for the AIs in `ais` (biip's definitions of them)."""

    def __init__(self, ais: Iterable[str], config: ParseConfig) -> None:
        self._ais = _followable(frozenset(ais))
        self._separators = tuple(config.separator_chars)
        if any(len(char) != 1 for char in self._separators):  # biip raises ValueError for these: let it
            self._ais = frozenset()

    def _lookup(self, text: str) -> _AI | None:
        ais = self._ais
        for code in (text[:2], text[:3], text[:4]):
            if code in ais:
                return _COMPILED.get(code) or _compiled(code)
        return None

    def element_strings(self, value: str) -> list[Pair] | None:
        """As `GS1Message.parse(value).element_strings`, or None (then run biip's parse)."""
        separators = self._separators
        rest = value.strip()
        out: list[Pair] = []
        while rest:
            ai = self._lookup(rest)
            if ai is None:
                return None
            segment = rest
            for separator in separators:
                cut = segment.find(separator)
                if cut >= 0:
                    segment = segment[:cut]
            match = ai.prefix_pattern.match(segment)
            if match is None:
                return None
            data = "".join(group for group in match.groups() if group is not None)
            out.append((ai.ai, data, ai.title))
            rest = rest[len(ai.ai) + len(data):]
            while rest.startswith(separators):
                rest = rest[1:]
        return out

    def hri(self, value: str) -> list[Pair] | None:
        """As `GS1Message.parse_hri(value).element_strings`, or None (then run biip's parse_hri)."""
        hri = "".join(value.split())
        if not hri.startswith("("):
            return None
        out: list[Pair] = []
        for code, data in _HRI.findall(hri):
            pair = self.element(code, data)
            if pair is None:
                return None
            out.append(pair)
        return out or None

    def element(self, code: str, data: str) -> Pair | None:
        """As `GS1ElementString.parse(code + data)` for a known AI `code`, or None (then run biip's parse)."""
        if code not in self._ais:
            return None
        ai = _COMPILED.get(code) or _compiled(code)
        match = ai.full_pattern.fullmatch(code + data)
        if match is None:
            return None
        return code, "".join(group for group in match.groups() if group is not None), ai.title
