"""GS1 Barcode Syntax Dictionary: loads GS1's AI table and validates element strings against it (formats, linters, pairs)."""

from __future__ import annotations

import calendar
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from edge import reference
from edge.domain import gs1

log = logging.getLogger(__name__)

#: Where the dictionary was found when this module was imported (edge.reference), else where `takt reference fetch`
#: installs it for this user; :func:`default_path` looks again each time.
DEFAULT_PATH = reference.gs1_syntax_dictionary() or reference.user_dir() / reference.GS1_DICTIONARY
ENV_VAR = "TAKT_GS1_SYNTAX_DICTIONARY"

_CSET = {
    "N": re.compile(r"[0-9]*"),
    # CSET 82: the GS1 "file-safe" subset of ISO 646.
    "X": re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*"),
    # CSET 39
    "Y": re.compile(r"[#\-/0-9A-Z]*"),
    # CSET 64 (base64url, with the padding character)
    "Z": re.compile(r"[\-0-9A-Z_a-z=]*"),
}
_CSET_NAME = {"N": "digits", "X": "GS1 CSET 82 characters", "Y": "GS1 CSET 39 characters", "Z": "base64url characters"}


class SyntaxViolation(ValueError):
    """An element string (or a combination of them) breaks a rule of the syntax dictionary."""

    def __init__(self, ai: str | None, reason: str) -> None:
        self.ai = ai
        self.reason = reason
        super().__init__(f"AI ({ai}): {reason}" if ai else reason)


@dataclass(frozen=True, slots=True)
class Component:
    """One part of an AI's data field: character set, length range, optional or not, and its linters."""

    cset: str
    min_length: int
    max_length: int
    optional: bool
    linters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AIEntry:
    """One AI as the dictionary defines it."""

    ai: str
    fixed_length: bool  # the "*" flag: predefined length, no FNC1 separator needed
    digital_link_attribute: bool  # the "?" flag
    components: tuple[Component, ...]
    requires: tuple[tuple[tuple[str, ...], ...], ...]  # each req=: alternatives, each a group of AI patterns (all needed)
    excludes: tuple[str, ...]  # AI patterns this AI may not be paired with
    title: str
    #: As a GS1 Digital Link primary key ("dlpkey"): its alternative ordered lists of qualifier AIs (one empty list
    #: for a key without qualifiers); None when the AI is not a primary key.
    dl_qualifiers: tuple[tuple[str, ...], ...] | None = None

    @property
    def min_length(self) -> int:
        """The shortest value: the mandatory components at their minimum length."""
        return sum(c.min_length for c in self.components if not c.optional)

    @property
    def max_length(self) -> int:
        return sum(c.max_length for c in self.components)


_COMPONENT = re.compile(r"^(\[?)([NXYZ])(\d+)?(?:\.\.(\d+))?(\]?)((?:,[A-Za-z0-9]+)*)$")


def _parse_component(token: str) -> Component:
    m = _COMPONENT.match(token)
    if not m:
        raise ValueError(f"unreadable component {token!r}")
    opened, cset, fixed, upto, closed, linters = m.groups()
    if upto is not None:
        low, high = 1, int(upto)
    elif fixed is not None:
        low = high = int(fixed)
    else:
        raise ValueError(f"component {token!r} has no length")
    return Component(cset, low, high, bool(opened and closed), tuple(x for x in linters.split(",") if x))


def _expand(ais: str) -> list[str]:
    if "-" not in ais:
        return [ais]
    first, last = ais.split("-")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


class SyntaxDictionary:
    """The AI table. `entry(ai)` looks one up; `validate(pairs)` checks a whole message."""

    def __init__(self, entries: Mapping[str, AIEntry], source: str) -> None:
        self.entries = dict(entries)
        self.source = source
        #: Each AI's components compiled once (character-set matcher, lengths, linter functions): `_Plan`.
        self._plans = {ai: _plan(entry) for ai, entry in self.entries.items()}
        #: The req/ex verdict per combination of AIs (in message order): it depends on which AIs a message holds,
        #: never on their values; a plant scans few combinations. Bounded; see `_association_verdict`.
        self._verdicts: dict[tuple[str, ...], tuple[str, str] | None] = {}
        self._dl_qualifier_ais = {ai: frozenset(q for alternative in entry.dl_qualifiers for q in alternative)
                                  for ai, entry in self.entries.items() if entry.dl_qualifiers is not None}

    @classmethod
    def parse(cls, text: str, source: str = "<text>") -> SyntaxDictionary:
        entries: dict[str, AIEntry] = {}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            body, _, title = line.partition("#")
            tokens = body.split()
            try:
                ais = tokens.pop(0)
                flags = tokens.pop(0) if tokens and not re.match(r"^\[?[NXYZ]", tokens[0]) else ""
                components: list[Component] = []
                while tokens and re.match(r"^\[?[NXYZ]", tokens[0]):
                    components.append(_parse_component(tokens.pop(0)))
                if not components:
                    raise ValueError(f"AI {ais}: no data format (N, X, Y or Z component)")
                requires: list[tuple[tuple[str, ...], ...]] = []
                excludes: list[str] = []
                dl_qualifiers: tuple[tuple[str, ...], ...] | None = None
                for attribute in tokens:
                    key, _, value = attribute.partition("=")
                    if key == "req":
                        requires.append(tuple(tuple(alt.split("+")) for alt in value.split(",")))
                    elif key == "ex":
                        excludes.extend(value.split(","))
                    elif key == "dlpkey":
                        dl_qualifiers = tuple(tuple(q for q in alt.split(",") if q) for alt in value.split("|"))
            except (IndexError, ValueError) as exc:
                raise ValueError(f"{source}:{number}: {exc}") from exc
            for ai in _expand(ais):
                entries[ai] = AIEntry(
                    ai=ai,
                    fixed_length="*" in flags,
                    digital_link_attribute="?" in flags,
                    components=tuple(components),
                    requires=tuple(requires),
                    excludes=tuple(excludes),
                    title=title.strip(),
                    dl_qualifiers=dl_qualifiers,
                )
        if not entries:
            raise ValueError(f"{source}: no AI entries")
        return cls(entries, source)

    @classmethod
    def load(cls, path: Path) -> SyntaxDictionary:
        return cls.parse(path.read_text(encoding="utf-8"), str(path))

    def entry(self, ai: str) -> AIEntry | None:
        return self.entries.get(ai)

    def is_dl_key(self, ai: str) -> bool:
        """True when `ai` is a GS1 Digital Link primary key (the root of a Digital Link URI's path)."""
        entry = self.entries.get(ai)
        return entry is not None and entry.dl_qualifiers is not None

    def dl_qualifier_ais(self, key: str) -> frozenset[str]:
        """Every AI that may qualify the primary key `key` in a Digital Link path (any alternative); empty if none."""
        return self._dl_qualifier_ais.get(key, frozenset())

    def is_dl_path(self, ais: Sequence[str]) -> bool:
        """True when the AIs, in this order, make a valid Digital Link path: a primary key followed by qualifiers
        taken in their order from one of the key's alternatives (e.g. 01, 01/10, 01/22/21 or 01/235; not 01/21/10)."""
        entry = self.entries.get(ais[0]) if ais else None
        if entry is None or entry.dl_qualifiers is None:
            return False
        return any(_in_order(ais[1:], alternative) for alternative in entry.dl_qualifiers)

    def validate_value(self, ai: str, value: str, today: date | None = None) -> None:
        """Check one element string's data against its AI's format and linters; raises SyntaxViolation."""
        plan = self._plans.get(ai)
        if plan is None:
            raise SyntaxViolation(ai, "not an AI in the GS1 syntax dictionary")
        length = len(value)
        position = 0
        for match, min_length, max_length, optional, variable, linters, charset in plan:
            remaining = length - position
            if remaining == 0 and optional:
                break
            if remaining < min_length:
                raise SyntaxViolation(ai, f"wrong length: {length} characters, the format is "
                                          f"{_describe(self.entries[ai])}")
            take = (remaining if remaining < max_length else max_length) if variable else min_length
            part = value[position : position + take]
            position += take
            if match(part) is None:
                raise SyntaxViolation(ai, f"{part!r} must be {charset} only")
            for linter in linters:
                problem = linter(part, today)
                if problem:
                    raise SyntaxViolation(ai, problem)
        if position != length:
            raise SyntaxViolation(ai, f"wrong length: {length} characters, the format is {_describe(self.entries[ai])}")

    def validate_message(self, pairs: Iterable[tuple[str, str]], *, associations: bool = True,
                         today: date | None = None) -> None:
        """Check every element string, repeated AIs, and (unless `associations` is off) the req/ex pairs."""
        seen: dict[str, str] = {}
        for ai, value in pairs:
            self.validate_value(ai, value, today)
            if ai in seen and seen[ai] != value:
                raise SyntaxViolation(ai, f"appears twice with different values ({seen[ai]!r} and {value!r})")
            seen[ai] = value
        if not associations:
            return
        if "8030" in seen:
            # A digital signature signs a serialised key: (253), (255) and (8003) must carry their serial component.
            for key in _SIGNED_KEYS:
                if key in seen and len(seen[key]) <= self.entries[key].min_length:
                    raise SyntaxViolation(key, "must carry its serial component when a digital signature (8030) "
                                               "is present")
        verdict = self._association_verdict(tuple(seen))
        if verdict is not None:
            raise SyntaxViolation(*verdict)

    def _association_verdict(self, ais: tuple[str, ...]) -> tuple[str, str] | None:
        """The first req/ex rule that this combination of AIs (in message order) breaks, as (AI, reason), or None."""
        verdicts = self._verdicts
        try:
            return verdicts[ais]
        except KeyError:
            pass
        verdict = self._associations(ais)
        if len(verdicts) >= _MAX_VERDICTS:  # a flood of odd combinations: start again rather than grow
            verdicts.clear()
        verdicts[ais] = verdict
        return verdict

    def _associations(self, ais: tuple[str, ...]) -> tuple[str, str] | None:
        present = frozenset(ais)
        for ai in ais:
            entry = self.entries[ai]
            for pattern in entry.excludes:
                other = _other_present(pattern, ai, present, ais)
                if other is not None:
                    return ai, f"may not be combined with AI ({other})"
            for alternatives in entry.requires:
                if not any(all(_other_present(p, ai, present, ais) for p in group) for group in alternatives):
                    wanted = " or ".join("+".join(f"({p})" for p in group) for group in alternatives)
                    return ai, f"requires {wanted} in the same message"
        return None


#: Combinations of AIs whose req/ex verdict is kept (a plant scans a few dozen).
_MAX_VERDICTS = 4096
#: One component of an AI compiled: (character-set fullmatch, min length, max length, optional, variable length
#: (takes what remains up to its maximum; a fixed-length component that is not the last takes its length),
#: linter functions, the character set's name).
_Step = tuple[Callable[[str], object], int, int, bool, bool, tuple["_Linter", ...], str]
_Plan = tuple[_Step, ...]


def _plan(entry: AIEntry) -> _Plan:
    steps: list[_Step] = []
    last = len(entry.components) - 1
    for index, c in enumerate(entry.components):
        linters: list[_Linter] = []
        for name in c.linters:
            linter = _LINTERS.get(name)
            if linter is None:  # UNCHECKED_LINTERS: character set and length only
                continue
            if name == "hhmi" and entry.ai in _TIME_OPTIONAL:
                linter = _time_optional(linter)
            linters.append(linter)
        variable = index == last or c.min_length != c.max_length
        steps.append((_CSET[c.cset].fullmatch, c.min_length, c.max_length, c.optional, variable, tuple(linters),
                      _CSET_NAME[c.cset]))
    return tuple(steps)


def _time_optional(linter: _Linter) -> _Linter:
    """The time linter of an AI where "9999" means "no time given"."""
    def lint(part: str, today: date | None) -> str | None:
        return None if part == "9999" else linter(part, today)

    return lint


def _other_present(pattern: str, ai: str, present: frozenset[str], ais: tuple[str, ...]) -> str | None:
    """An AI other than `ai` in `present` that matches `pattern` ("n" stands for any digit), or None; of several,
    the first in message order (`ais`)."""
    if "n" not in pattern:
        return pattern if pattern != ai and pattern in present else None
    return next((other for other in ais if other != ai and _matches(pattern, other)), None)


#: Keys whose serial component is optional but required beside a digital signature (8030).
_SIGNED_KEYS = ("253", "255", "8003")


def _in_order(wanted: Sequence[str], allowed: Sequence[str]) -> bool:
    """True when `wanted` is `allowed` with some items left out (same order, no repeats)."""
    position = 0
    for ai in wanted:
        try:
            position = allowed.index(ai, position) + 1
        except ValueError:
            return False
    return True


# "9999" is GS1's "no time given" in the delivery date-time AIs (GenSpecs 3.8.x): accepted there only.
_TIME_OPTIONAL = frozenset({"4324", "4325"})


def _describe(entry: AIEntry) -> str:
    parts = []
    for c in entry.components:
        size = str(c.min_length) if c.min_length == c.max_length else f"up to {c.max_length}"
        parts.append(f"{'optional ' if c.optional else ''}{size} {_CSET_NAME[c.cset]}")
    return " + ".join(parts)


def _matches(pattern: str, ai: str) -> bool:
    return len(pattern) == len(ai) and all(p == "n" or p == a for p, a in zip(pattern, ai, strict=True))


def gs1_year(yy: int, today: date | None = None) -> int:
    """The full year for a two-digit GS1 year: within 49 years back and 50 years ahead of today (GS1 GenSpecs 7.12)."""
    current = (today or date.today()).year
    century = current - current % 100
    diff = yy - current % 100
    if diff > 50:
        century -= 100
    elif diff < -49:
        century += 100
    return century + yy


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def gs1_date(value: str, today: date | None = None, *, day_zero: bool = True) -> date:
    """YYMMDD to a date; day 00 (where allowed) means the last day of the month. Raises ValueError."""
    if len(value) != 6 or not value.isdigit():
        raise ValueError(f"{value!r} is not YYMMDD")
    year, month, day = gs1_year(int(value[:2]), today), int(value[2:4]), int(value[4:6])
    if not 1 <= month <= 12:
        raise ValueError(f"month {value[2:4]} in {value!r} does not exist")
    last = 29 if month == 2 and calendar.isleap(year) else _DAYS_IN_MONTH[month]
    if day == 0 and day_zero:
        return date(year, month, last)
    if not 1 <= day <= last:
        raise ValueError(f"day {value[4:6]} does not exist in {year}-{month:02d}")
    return date(year, month, day)


def _lint_csum(part: str, today: date | None) -> str | None:
    if not part.isdigit() or len(part) < 2:
        return "check digit needs digits"
    expected = gs1.check_digit(part[:-1])
    return None if int(part[-1]) == expected else f"wrong check digit in {part}: expected {expected}, got {part[-1]}"


def _lint_date(part: str, today: date | None, day_zero: bool) -> str | None:
    try:
        gs1_date(part, today, day_zero=day_zero)
    except ValueError as exc:
        return f"invalid date: {exc}"
    return None


def _lint_yyyymmdd(part: str, today: date | None) -> str | None:
    try:
        date(int(part[:4]), int(part[4:6]), int(part[6:8]))
    except ValueError:
        return f"invalid date {part!r} (YYYYMMDD)"
    return None


def _lint_range(low: int, high: int, what: str) -> Callable[[str, date | None], str | None]:
    def lint(part: str, today: date | None) -> str | None:
        return None if part.isdigit() and low <= int(part) <= high else f"invalid {what} {part!r}"

    return lint


def _lint_hhmi(part: str, today: date | None) -> str | None:
    ok = part.isdigit() and len(part) == 4 and int(part[:2]) <= 23 and int(part[2:]) <= 59
    return None if ok else f"invalid time {part!r} (HHMI)"


def _lint_piece_of_total(part: str, today: date | None) -> str | None:
    half = len(part) // 2
    piece, total = int(part[:half] or 0), int(part[half:] or 0)
    return None if 1 <= piece <= total else f"piece {piece} of total {total} is impossible"


def _lint_pcenc(part: str, today: date | None) -> str | None:
    return None if re.fullmatch(r"(?:[^%]|%[0-9A-Fa-f]{2})*", part) else f"bad percent-encoding in {part!r}"


def _lint_iban(part: str, today: date | None) -> str | None:
    if len(part) < 5 or not re.fullmatch(r"[A-Z]{2}[0-9]{2}[0-9A-Z]+", part):
        return f"{part!r} is not an IBAN"
    digits = "".join(str(int(c, 36)) for c in part[4:] + part[:4])
    return None if int(digits) % 97 == 1 else f"wrong IBAN check digits in {part!r}"


_Linter = Callable[[str, date | None], str | None]
_LINTERS: dict[str, _Linter] = {
    "csum": _lint_csum,
    "yymmd0": lambda p, t: _lint_date(p, t, True),
    "yymmdd": lambda p, t: _lint_date(p, t, False),
    "yyyymmdd": _lint_yyyymmdd,
    "hh": _lint_range(0, 23, "hour"),
    "mi": _lint_range(0, 59, "minute"),
    "ss": _lint_range(0, 59, "second"),
    "hhmi": _lint_hhmi,
    "nonzero": lambda p, t: None if p.strip("0") else "must not be zero",
    "zero": lambda p, t: None if p == "0" * len(p) else "must be zero",
    "yesno": lambda p, t: None if p in ("0", "1") else f"must be 0 or 1, got {p!r}",
    "winding": lambda p, t: None if p in ("0", "1", "9") else f"winding direction must be 0, 1 or 9, got {p!r}",
    "iso5218": lambda p, t: None if p in ("0", "1", "2", "9") else f"sex code must be 0, 1, 2 or 9, got {p!r}",
    "nozeroprefix": lambda p, t: None if p == "0" or not p.startswith("0") else "must not start with 0",
    "hasnondigit": lambda p, t: None if not p.isdigit() else "must contain a non-digit",
    "pieceoftotal": _lint_piece_of_total,
    "pcenc": _lint_pcenc,
    "iban": _lint_iban,
    "latitude": lambda p, t: None if p.isdigit() and int(p) <= 1800000000 else "latitude out of range",
    "longitude": lambda p, t: None if p.isdigit() and int(p) <= 3600000000 else "longitude out of range",
}
#: Linters named in the dictionary that this module does not check (code lists, company-prefix positions, coupons,
#: the alphanumeric check-character pair): such components are checked for charset and length only.
UNCHECKED_LINTERS = frozenset({
    "csumalpha", "gcppos1", "gcppos2", "iso3166", "iso3166999", "iso3166alpha2", "iso4217", "mediatype",
    "packagetype", "couponcode", "couponposoffer", "importeridx", "hyphen", "posinseqslash",
})


def _lint(name: str, part: str, today: date | None) -> str | None:
    linter = _LINTERS.get(name)
    return linter(part, today) if linter else None


def default_path() -> Path:
    """$TAKT_GS1_SYNTAX_DICTIONARY, else the installed pinned dictionary (edge.reference), else where it would be."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return reference.gs1_syntax_dictionary() or reference.user_dir() / reference.GS1_DICTIONARY


@lru_cache(maxsize=4)
def _load_cached(path: Path) -> SyntaxDictionary | None:
    try:
        return SyntaxDictionary.load(path)
    except FileNotFoundError:
        log.warning("GS1 syntax dictionary not installed (%s; run `takt reference fetch`): GS1 scans are checked by "
                    "biip only", path)
    except (OSError, ValueError) as exc:
        log.warning("GS1 syntax dictionary at %s unusable (%s): GS1 scans are checked by biip only", path, exc)
    return None


def load_syntax_dictionary(path: Path | None = None) -> SyntaxDictionary | None:
    """The dictionary at `path` (default: :func:`default_path`), or None with a warning."""
    return _load_cached((path or default_path()).resolve())
