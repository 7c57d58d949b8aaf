"""GS1 Digital Link URIs as GS1's Syntax Engine reads them: path order, key qualifiers, query parameters.

`digital_link_pairs` checks a URI's structure against the GS1 Barcode Syntax Dictionary and returns its element
strings (AI, value) in URI order, path first. It does not check the values themselves (check digits, dates,
associations): the caller validates the whole message with the dictionary. The rules, as the Syntax Engine applies
them:

- the scheme is ``http://`` or ``https://`` in lower or upper case (not mixed), then a non-empty domain; only URI
  characters anywhere; a fragment (``#...``) is ignored;
- the path's GS1 part starts at the rightmost primary key (a "dlpkey" AI) that is followed only by ``/AI/value``
  pairs of known AIs; whatever comes before it is the site's stem; its AIs must be the key followed by qualifiers
  in the dictionary's order (``/01/../22/../10/../21/..`` or ``/01/../235/..``); no empty values;
- query parameters: empty ones (``&&``) and ones without ``=`` are ignored, as are non-numeric keys; a numeric key
  must be a known AI that is a Digital Link data attribute, with a value, not already in the path or the query, and
  not one that belongs in the path as a qualifier of the key;
- values are percent-decoded (``+`` is a space in the query, a plus in the path); (01) in the query is padded to
  14 digits; a zero-suppressed GTIN (8, 12 or 13 digits) in the path is refused unless the site allows it.
"""

from __future__ import annotations

import re

from scanners.gs1_syntax import SyntaxDictionary, SyntaxViolation

#: Characters a URI may carry (RFC 3986 unreserved and reserved characters, and "%").
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
#: URI characters a domain (host and port) may not carry.
_BAD_DOMAIN = re.compile(r"[_~?#@!$&'()*+,;=%]")
_SCHEMES = ("https://", "HTTPS://", "http://", "HTTP://")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_ZERO_SUPPRESSED = (8, 12, 13)


def digital_link_pairs(uri: str, dictionary: SyntaxDictionary, *,
                       allow_zero_suppressed_gtin: bool = False) -> list[tuple[str, str]]:
    """The element strings of a GS1 Digital Link URI, path then query; raises SyntaxViolation naming the rule."""
    if not _URI_CHARACTERS.fullmatch(uri):
        raise SyntaxViolation(None, "the Digital Link URI has characters a URI may not carry (percent-encode them)")
    scheme = next((s for s in _SCHEMES if uri.startswith(s)), None)
    if scheme is None:
        raise SyntaxViolation(None, "a Digital Link URI starts with http:// or https:// (all lower or all upper case)")
    rest = uri[len(scheme):].split("#", 1)[0]
    domain, slash, after = rest.partition("/")
    if not domain or not slash:
        raise SyntaxViolation(None, "the Digital Link URI has no domain or no path")
    if _BAD_DOMAIN.search(domain):
        raise SyntaxViolation(None, f"the domain {domain!r} has characters a domain may not carry")
    path, _, query = after.partition("?")
    segments = ("/" + path).split("/")  # ["", AI, value, ...]
    start = _key_position(segments, dictionary)
    pairs: list[tuple[str, str]] = []
    for index in range(start, len(segments), 2):
        ai, raw = segments[index], segments[index + 1]
        if not raw:
            raise SyntaxViolation(ai, "empty value in the Digital Link path")
        value = _unescape(raw, ai, query=False)
        if ai == "01" and len(value) in _ZERO_SUPPRESSED and value.isdigit():
            if not allow_zero_suppressed_gtin:
                raise SyntaxViolation("01", f"zero-suppressed GTIN ({len(value)} digits) in the Digital Link path: "
                                            "GS1 Digital Link carries the GTIN as 14 digits (a site may allow "
                                            "zero-suppressed GTINs: scanning.allow_zero_suppressed_gtin)")
            value = value.zfill(14)
        pairs.append((ai, value))
    path_ais = [ai for ai, _ in pairs]
    if not dictionary.is_dl_path(path_ais):
        raise SyntaxViolation(path_ais[0], f"the path's AIs {'/'.join(f'({a})' for a in path_ais)} are not the key "
                                           "followed by its qualifiers in GS1's order")
    for ai, value in _query_pairs(query, dictionary):
        if any(ai == seen for seen, _ in pairs):
            raise SyntaxViolation(ai, "appears twice in the Digital Link URI")
        entry = dictionary.entry(ai)
        if entry is None or not entry.digital_link_attribute:
            raise SyntaxViolation(ai, "is not a GS1 Digital Link data attribute (it may not be a query parameter)")
        qualifiers = dictionary.dl_qualifier_ais(path_ais[0])
        for position in range(1, len(path_ais) + 1) if ai in qualifiers else ():
            if dictionary.is_dl_path([*path_ais[:position], ai, *path_ais[position:]]):
                raise SyntaxViolation(ai, f"is a key qualifier of ({path_ais[0]}): it belongs in the path, "
                                          "not in the query")
        pairs.append((ai, value))
    return pairs


def _key_position(segments: list[str], dictionary: SyntaxDictionary) -> int:
    """Index of the rightmost primary key that only /AI/value pairs of known AIs follow (segments[0] is "")."""
    index = len(segments) - 2
    while index >= 1:
        ai = segments[index]
        if not (ai.isascii() and ai.isdigit()) or dictionary.entry(ai) is None:
            break
        if dictionary.is_dl_key(ai):
            return index
        index -= 2
    raise SyntaxViolation(None, "no GS1 primary key (e.g. /01/<GTIN>) ends the Digital Link path")


def _query_pairs(query: str, dictionary: SyntaxDictionary) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for parameter in query.split("&"):
        key, equals, raw = parameter.partition("=")
        if not equals or not (key.isascii() and key.isdigit()):
            continue  # singletons and non-numeric parameters are not GS1 data
        if dictionary.entry(key) is None:
            raise SyntaxViolation(key, "unknown AI in the Digital Link query")
        if not raw:
            raise SyntaxViolation(key, "empty value in the Digital Link query")
        value = _unescape(raw, key, query=True)
        if key == "01" and len(value) in _ZERO_SUPPRESSED and value.isdigit():
            value = value.zfill(14)
        pairs.append((key, value))
    return pairs


def _unescape(raw: str, ai: str, *, query: bool) -> str:
    if query:
        raw = raw.replace("+", " ")
    value = _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), raw) if "%" in raw else raw
    if "\x00" in value:
        raise SyntaxViolation(ai, "percent-encoded NUL in a Digital Link value")
    return value
