"""GS1 parsing benchmark: labels parsed and validated per second on one core, against biip's parse alone.
``python -m bench.gs1 [--labels N] [--rounds N] [--json FILE]``.

The labels are a plant's mix, each one different (serials, lots, dates): DataMatrix/GS1-128 scan data with AIM
symbology identifiers (GTIN + expiry + lot + serial; SSCC + content + count), bracketed (HRI) text from a keyboard,
GS1 Digital Link URIs from QR codes (key, qualifiers, query attributes), EAN-13 scan data, and two labels in ten
refused: an SSCC with a count (37) but no content (02), and a wrong label (wrong check digit, empty value, key
qualifier in the query, GS missing after a variable-length value).

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``gs1_parse_per_s``: labels parsed and validated by Takt's parser (biip + the GS1 syntax dictionary + the Syntax
  Engine's rules) per CPU second of one thread (process time, so a shared machine's other load does not count);
  goal >= 20,000.
- ``gs1_biip_parse_per_s``: the baseline, the same labels through biip's parse alone (no dictionary, no rules; the
  AIM identifier stripped as biip expects; refusals counted like parses).
- ``gs1_validation_cost_ratio``: baseline rate / Takt's rate.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

FIGURES: list[tuple[str, float, str]] = []
GS = "\x1d"


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, value, unit))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _with_check(digits: str) -> str:
    from edge.domain.gs1 import check_digit

    return digits + str(check_digit(digits))


def labels(count: int) -> list[str]:
    """``count`` different labels of a plant's mix (two in ten are refused)."""
    out: list[str] = []
    for i in range(count):
        gtin = _with_check(f"0950110{i % 100_000:05d}0"[:13])
        sscc = _with_check(f"0950110{i % 10_000_000_000:010d}")
        expiry = f"27{1 + i % 12:02d}{1 + i % 28:02d}"
        kind = i % 10
        if kind in (0, 1, 2):
            out.append(f"]d201{gtin}17{expiry}10L{i % 997}{GS}21S{i}")
        elif kind == 3:
            out.append(f"]C100{sscc}02{gtin}37{1 + i % 48}{GS}10L{i % 997}")
        elif kind == 4:
            out.append(f"(01){gtin}(17){expiry}(10)L{i % 997}(21)S{i}")
        elif kind in (5, 6):
            out.append(f"https://id.gs1.org/01/{gtin}/10/L{i % 997}/21/S{i}?17={expiry}")
        elif kind == 7:
            out.append(f"]E0{gtin[1:]}")
        elif kind == 8:
            out.append(f"]C100{sscc}37{1 + i % 48}")  # (37) without (02): refused by the association rules
        else:
            wrong = (f"]d201{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}10L{i}",  # wrong check digit
                     f"(01){gtin}(10)L{i}(21)",  # empty value at the end
                     f"https://id.gs1.org/01/{gtin}?10=L{i}",  # key qualifier in the query
                     f"]d201{gtin}7007261101261105" + f"10L{i}")[i // 10 % 4]  # no GS after a variable length
            out.append(wrong)
    return out


def biip_alone() -> Callable[[str], object]:
    """biip's parse, the way a plain integration would call it."""
    import biip
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI
    from biip.gs1_messages import GS1Message

    def parse(text: str) -> object:
        try:
            if text.startswith("http"):
                return GS1DigitalLinkURI.parse(text)
            if text.startswith("("):
                return GS1Message.parse_hri(text)
            if text.startswith("]E0"):
                return biip.parse(text)
            return GS1Message.parse(text[3:])
        except biip.BiipException as exc:
            return exc

    return parse


def takt_parser() -> Callable[[str], object]:
    from scanners.gs1 import GS1Error, GS1Parser
    from scanners.gs1_syntax import load_syntax_dictionary

    dictionary = load_syntax_dictionary()
    if dictionary is None:
        raise SystemExit("the GS1 syntax dictionary is missing: the figure needs it")
    parser = GS1Parser(dictionary, today=date(2026, 12, 1))

    def parse(text: str) -> object:
        try:
            return parser.parse(text)
        except GS1Error as exc:
            return exc

    return parse


def rate(parse: Callable[[str], object], texts: list[str]) -> tuple[float, int]:
    """One pass over the labels: labels per CPU second of this (single-threaded) process, so that other work on a
    shared machine does not count, and how many were refused."""
    started = time.process_time()
    results = [parse(t) for t in texts]
    return len(texts) / (time.process_time() - started), sum(isinstance(r, Exception) for r in results)


def bench(count: int, rounds: int) -> None:
    texts = labels(count)
    takt = takt_parser()
    baseline = biip_alone()
    for text in texts[:200]:  # warm up both (imports, regex caches)
        takt(text)
        baseline(text)
    takt_rate = biip_rate = 0.0
    takt_refused = biip_refused = 0
    for _ in range(rounds):  # alternate, best of each: both see the same machine
        current, takt_refused = rate(takt, texts)
        takt_rate = max(takt_rate, current)
        current, biip_refused = rate(baseline, texts)
        biip_rate = max(biip_rate, current)
    say(f"{count} labels, best of {rounds}: Takt refused {takt_refused}, biip alone refused {biip_refused}")
    figure("gs1_parse_per_s", round(takt_rate), "labels/s")
    figure("gs1_biip_parse_per_s", round(biip_rate), "labels/s")
    figure("gs1_validation_cost_ratio", round(biip_rate / takt_rate, 2), "x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gs1", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--labels", type=int, default=20_000, help="labels per pass (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="passes of each parser, the best counts (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    bench(args.labels, args.rounds)
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({"figures": {n: {"value": v, "unit": u} for n, v, u in FIGURES}}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
