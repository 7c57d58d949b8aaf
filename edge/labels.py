"""GS1 labels in ZPL: GS1-128 lot labels (GTIN, lot, expiry, quantity) and SSCC pallet labels, and printing them.

The barcodes are Code 128 fields (``^BC``) whose data start with start code C and FNC1 (``>;>8``), which makes
them GS1-128; a variable-length AI that is not the last is ended by FNC1 (``>8``). Runs of digits go in code set C
(two digits a symbol), the rest in code set B (``>6``, back with ``>5``); a ``>`` in set B is written ``><``.
``barcode_data`` reads such a field back into the element string a scanner would send (``]C1``, GS separators).

A label goes to a network printer as raw ZPL on TCP port 9100, or is written to a file.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from edge.domain import gs1
from edge.domain.gs1 import check_digit, gtin14

FNC1 = "\x1d"  # stands for FNC1 in element strings built here (as a scanner sends it: GS)
RAW_PORT = 9100
# GS1 General Specifications figure 5.10.1-2: AIs (by their first two digits) of predefined length: no FNC1 after.
_PREDEFINED = {"00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "31", "32",
               "33", "34", "35", "36", "41"}
# GS1 AI encodable character set 82 (the set allowed in lots and serials); ZPL's own ^ and ~ are not in it.
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")


class LabelError(ValueError):
    """A label cannot be made from these values: ``field`` says which one and the message why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def sscc(extension: int, company_prefix: str, serial_reference: int) -> str:
    """The 18-digit SSCC: extension digit, GS1 company prefix, serial reference (zero-padded), check digit."""
    try:
        return gs1.sscc(extension, company_prefix, serial_reference)
    except gs1.GS1NumberError as refused:
        raise LabelError(refused.field, str(refused)) from None


def _valid_gs1_number(name: str, value: str, length: int) -> str:
    if not (value.isascii() and value.isdigit() and len(value) == length):
        raise LabelError(name, f"{name} must be {length} digits, not {value!r}")
    if check_digit(value[:-1]) != int(value[-1]):
        raise LabelError(name, f"{name} {value} has check digit {value[-1]}, expected {check_digit(value[:-1])}")
    return value


def element_string(elements: Sequence[tuple[str, str]]) -> str:
    """``[("01", "0950...")), ("10", "L1")]`` -> the element string, FNC1 (GS) after variable-length AIs."""
    out: list[str] = []
    for i, (ai, value) in enumerate(elements):
        out.append(ai + value)
        if i < len(elements) - 1 and ai[:2] not in _PREDEFINED:
            out.append(FNC1)
    return "".join(out)


def zpl_code128_data(elements: Sequence[tuple[str, str]]) -> str:
    """The ``^FD`` data of a GS1-128 ``^BC`` field carrying ``elements``."""
    data = element_string(elements)
    out = [">;>8"]  # start code C, FNC1: GS1-128
    subset = "C"
    i = 0
    while i < len(data):
        ch = data[i]
        if ch == FNC1:
            out.append(">8")
            i += 1
            continue
        run = 0
        while i + run < len(data) and data[i + run].isdigit():
            run += 1
        if subset == "C":
            if run >= 2:
                take = run - run % 2
                out.append(data[i:i + take])
                i += take
                continue
            out.append(">6")
            subset = "B"
        elif run >= 4:  # worth switching: each further pair saves a symbol
            out.append(">5")
            subset = "C"
            continue
        out.append("><" if ch == ">" else ch)
        i += 1
    return "".join(out)


def barcode_data(field_data: str) -> str:
    """What a scanner reads from a GS1-128 ``^BC`` field's data: ``]C1`` and the element string with GS."""
    out: list[str] = []
    subset = None
    i = 0
    first = True
    while i < len(field_data):
        ch = field_data[i]
        if ch == ">" and i + 1 < len(field_data):
            code = field_data[i + 1]
            i += 2
            if code in ";5":
                subset = "C"
            elif code in ":6":
                subset = "B"
            elif code in "97":
                subset = "A"
            elif code == "8":
                out.append("]C1" if first else FNC1)
                first = False
            elif code == "<":
                out.append(">")
            else:
                raise ValueError(f"invocation code >{code} is not one a GS1-128 label uses")
            continue
        if subset == "C":
            pair = field_data[i:i + 2]
            if len(pair) != 2 or not pair.isdigit():
                raise ValueError(f"code set C takes pairs of digits, got {pair!r} at {i}")
            out.append(pair)
            i += 2
        else:
            out.append(ch)
            i += 1
    text = "".join(out)
    if not text.startswith("]C1"):
        raise ValueError("no FNC1 in first position: not GS1-128")
    return text


_FIELD = re.compile(r"\^BC[^\^]*\^FD(.*?)\^FS", re.DOTALL)


def barcodes_in(zpl: str) -> list[str]:
    """The data of every ``^BC`` barcode in a ZPL label, as a scanner would read them."""
    return [barcode_data(found) for found in _FIELD.findall(zpl)]


def _text(value: str) -> str:
    """Free text for a ``^FD`` field: ZPL's command prefixes ``^`` and ``~`` would end or change it."""
    return value.replace("^", " ").replace("~", " ")


def _hri(elements: Sequence[tuple[str, str]]) -> str:
    return "".join(f"({ai}){value}" for ai, value in elements)


def _lot_value(lot: str) -> str:
    if not (1 <= len(lot) <= 20 and _CSET82.match(lot)):
        raise LabelError("lot", f"lot {lot!r} cannot go in AI 10: 1 to 20 characters of GS1 set 82")
    return lot


@dataclass(frozen=True, slots=True)
class LotLabel:
    gtin: str
    lot: str
    quantity: Decimal | None = None
    expiry: date | None = None
    description: str = ""
    item: str = ""

    def elements(self) -> list[tuple[str, str]]:
        gtin = _valid_gs1_number("gtin", gtin14(self.gtin), 14)
        found = [("01", gtin)]
        if self.expiry is not None:
            found.append(("17", self.expiry.strftime("%y%m%d")))
        found.append(("10", _lot_value(self.lot)))
        if self.quantity is not None:
            if self.quantity != self.quantity.to_integral_value() or not 0 < self.quantity < 10 ** 8:
                raise LabelError("quantity", f"AI 30 counts whole pieces (1 to 99999999), not {self.quantity}")
            found.append(("30", str(int(self.quantity))))
        return found


def lot_label_zpl(label: LotLabel, copies: int = 1) -> str:
    """A 4 x 3 inch (203 dpi) GS1-128 lot label: item, description, the barcode and its human-readable text."""
    elements = label.elements()
    lines = [
        "^XA", "^CI28", "^PW812", "^LL609",
        f"^FO40,30^A0N,40,40^FD{_text(label.item)}^FS",
        f"^FO40,80^A0N,28,28^FD{_text(label.description)[:60]}^FS",
        f"^FO40,130^A0N,30,30^FDLOT {_text(label.lot)}"
        + (f"   EXP {label.expiry.isoformat()}" if label.expiry else "")
        + (f"   QTY {int(label.quantity)}" if label.quantity is not None else "") + "^FS",
        f"^FO40,190^BY2,3,180^BCN,180,N,N,N^FD{zpl_code128_data(elements)}^FS",
        f"^FO40,390^A0N,26,26^FD{_text(_hri(elements))}^FS",
        f"^PQ{copies}",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class UnitLabel:
    """A serialised unit's label: GTIN (AI 01) and serial (AI 21)."""

    gtin: str
    serial: str
    description: str = ""
    item: str = ""

    def elements(self) -> list[tuple[str, str]]:
        if not (1 <= len(self.serial) <= 20 and _CSET82.match(self.serial)):
            raise LabelError("serial", f"serial {self.serial!r} cannot go in AI 21: 1 to 20 characters of GS1 set 82")
        return [("01", _valid_gs1_number("gtin", gtin14(self.gtin), 14)), ("21", self.serial)]


def unit_label_zpl(label: UnitLabel, copies: int = 1) -> str:
    """A 4 x 3 inch (203 dpi) GS1-128 unit label: item, description, the serial, the barcode and its text."""
    elements = label.elements()
    lines = [
        "^XA", "^CI28", "^PW812", "^LL609",
        f"^FO40,30^A0N,40,40^FD{_text(label.item)}^FS",
        f"^FO40,80^A0N,28,28^FD{_text(label.description)[:60]}^FS",
        f"^FO40,130^A0N,30,30^FDSN {_text(label.serial)}^FS",
        f"^FO40,190^BY2,3,180^BCN,180,N,N,N^FD{zpl_code128_data(elements)}^FS",
        f"^FO40,390^A0N,26,26^FD{_text(_hri(elements))}^FS",
        f"^PQ{copies}",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class PalletLabel:
    sscc: str
    content_gtin: str | None = None
    count: int | None = None
    lot: str | None = None
    ship_to: str = ""
    gross_weight: Decimal | None = None  # kg: AI 3301 (one decimal) beside the SSCC

    def sscc_elements(self) -> list[tuple[str, str]]:
        found = [("00", _valid_gs1_number("sscc", self.sscc, 18))]
        if self.gross_weight is not None:
            tenths = int((self.gross_weight * 10).to_integral_value())
            if not 0 < tenths < 10 ** 6:
                raise LabelError("gross_weight", f"AI 3301 carries 0.1 to 99999.9 kg, not {self.gross_weight}")
            found.append(("3301", f"{tenths:06d}"))
        return found

    def content_elements(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.content_gtin is not None:
            found.append(("02", _valid_gs1_number("content_gtin", gtin14(self.content_gtin), 14)))
        if self.count is not None:
            if not 0 < self.count < 10 ** 8:
                raise LabelError("count", f"AI 37 counts 1 to 99999999 trade items, not {self.count}")
            found.append(("37", str(self.count)))
        if self.lot is not None:
            found.append(("10", _lot_value(self.lot)))
        if found and self.content_gtin is None:
            raise LabelError("content_gtin", "AI 37 and 10 on a pallet label need the content's GTIN (AI 02)")
        return found


def sscc_label_zpl(label: PalletLabel, copies: int = 1) -> str:
    """A 4 x 6 inch (203 dpi) SSCC pallet label: ship-to, the content barcode (02/37/10) if any, the SSCC barcode."""
    content = label.content_elements()
    top = label.sscc_elements()
    lines = ["^XA", "^CI28", "^PW812", "^LL1218",
             f"^FO40,30^A0N,34,34^FDSHIP TO: {_text(label.ship_to)[:40]}^FS",
             f"^FO40,90^A0N,40,40^FDSSCC {label.sscc}^FS"]
    y = 160
    if content:
        lines += [f"^FO40,{y}^BY3,3,200^BCN,200,N,N,N^FD{zpl_code128_data(content)}^FS",
                  f"^FO40,{y + 215}^A0N,28,28^FD{_text(_hri(content))}^FS"]
        y += 300
    lines += [f"^FO40,{y}^BY3,3,240^BCN,240,N,N,N^FD{zpl_code128_data(top)}^FS",
              f"^FO40,{y + 255}^A0N,34,34^FD{_hri(top)}^FS", f"^PQ{copies}", "^XZ"]
    return "\n".join(lines) + "\n"


async def send_to_printer(host: str, port: int, zpl: str, timeout: float = 10.0) -> int:
    """Send ZPL to a network label printer (raw TCP, port 9100 by default); the bytes sent."""
    payload = zpl.encode("utf-8")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(payload)
        await asyncio.wait_for(writer.drain(), timeout)
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout)
        except (ConnectionError, TimeoutError):
            pass
    return len(payload)


def write_label(folder: Path, name: str, zpl: str) -> Path:
    """Write a label to ``folder/name.zpl`` (a printer's spool or a shared folder); the file written."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{safe}.zpl"
    tmp = target.with_suffix(".zpl.part")
    tmp.write_text(zpl, encoding="utf-8")
    tmp.replace(target)
    return target
