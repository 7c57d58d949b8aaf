"""GS1 numbers: the mod-10 check digit, GTINs as 14 digits, and SSCCs (built and checked).

The one place these rules are written: the domain (items' GTINs, pallets' SSCCs), the labels it prints
(edge.labels) and the scanners' GS1 parsing (scanners.gs1, scanners.gs1_syntax) all use it. Pure functions.
"""
from __future__ import annotations

GTIN_LENGTHS: tuple[int, ...] = (8, 12, 13, 14)
SSCC_LENGTH = 18


class GS1NumberError(ValueError):
    """A GS1 number cannot be built from these values: ``field`` names the value and the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (the number without its check digit): from the right, the digits
    weigh 3, 1, 3, 1 ...; the check digit brings their sum up to a multiple of ten. ValueError if not all digits."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{digits!r} is not all digits")
    # The sums of the ASCII codes less 48 ("0") per digit: the same sum as int() of each digit, without the calls.
    reversed_digits = digits[::-1].encode()
    weighted_3, weighted_1 = reversed_digits[0::2], reversed_digits[1::2]
    return -(3 * (sum(weighted_3) - 48 * len(weighted_3)) + sum(weighted_1) - 48 * len(weighted_1)) % 10


def gtin14(gtin: str) -> str:
    """A GTIN-8/12/13 as the 14 digits of GS1 AI 01 (left-padded with zeros), so all forms compare equal."""
    return gtin.zfill(14)


def gtin_problem(gtin: str) -> str | None:
    """Why ``gtin`` is not a GTIN-8, -12, -13 or -14 (digits, length, GS1 mod-10 check digit), or None."""
    if not gtin.isascii() or not gtin.isdigit():
        return f"a GTIN is digits only, got {gtin!r}"
    if len(gtin) not in GTIN_LENGTHS:
        return f"a GTIN has 8, 12, 13 or 14 digits, {gtin} has {len(gtin)}"
    expected = check_digit(gtin[:-1])
    if expected != int(gtin[-1]):
        return f"GTIN {gtin} has check digit {gtin[-1]}, expected {expected}"
    return None


def sscc_problem(value: str) -> str | None:
    """Why ``value`` is not an SSCC (18 digits ending in their check digit), or None."""
    if not (value.isascii() and value.isdigit() and len(value) == SSCC_LENGTH):
        return f"an SSCC is 18 digits, not {value!r}"
    expected = check_digit(value[:-1])
    if expected != int(value[-1]):
        return f"SSCC {value} has check digit {value[-1]}, expected {expected}"
    return None


def serial_reference_digits(company_prefix: str) -> int:
    """How many digits the serial reference of an SSCC has after this company prefix (and the extension digit)."""
    return SSCC_LENGTH - 2 - len(company_prefix)


def sscc(extension_digit: int, company_prefix: str, serial_reference: int) -> str:
    """The 18-digit SSCC: extension digit, GS1 company prefix, serial reference (zero-padded), check digit.
    Raises :class:`GS1NumberError` naming ``company_prefix``, ``extension`` or ``serial_reference``."""
    if not (company_prefix.isascii() and company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise GS1NumberError("company_prefix", f"a GS1 company prefix is 6 to 12 digits, not {company_prefix!r}")
    if not 0 <= extension_digit <= 9:
        raise GS1NumberError("extension", f"the SSCC extension digit is 0 to 9, not {extension_digit}")
    width = serial_reference_digits(company_prefix)
    if not 0 <= serial_reference < 10 ** width:
        raise GS1NumberError("serial_reference", f"with company prefix {company_prefix} the serial reference has "
                             f"{width} digits: {serial_reference} does not fit")
    body = f"{extension_digit}{company_prefix}{serial_reference:0{width}d}"
    return body + str(check_digit(body))
