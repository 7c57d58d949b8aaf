"""Barcode decoders for images and camera frames: zxing-cpp by default (1D and 2D), pyzbar as the alternative."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from scanners.gs1 import AI_SYMBOLOGIES, GTIN_SYMBOLOGIES, GS1Error, GS1Parser

Image = npt.NDArray[np.uint8]
DecoderName = Literal["zxing", "pyzbar"]


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """One code found in an image: its content (GS kept as 0x1D), symbology and, when known, AIM identifier."""

    text: str
    format: str
    symbology_identifier: str | None
    gs1: bool
    position: tuple[tuple[int, int], ...] = ()

    @property
    def scanner_text(self) -> str:
        """The content as a scanner with "transmit AIM identifier" on sends it."""
        return (self.symbology_identifier or "") + self.text


class Decoder(Protocol):
    name: str

    def decode(self, image: Image) -> list[DecodedCode]: ...


class ZxingDecoder:
    """zxing-cpp: every symbology the plant uses, DataMatrix included; `formats` restricts (and speeds up) the search."""

    name = "zxing"

    def __init__(self, formats: Sequence[str] | None = None, *, try_harder: bool = True) -> None:
        import zxingcpp

        self._zxing = zxingcpp
        self._formats: Any = None
        if formats:
            try:
                self._formats = zxingcpp.barcode_formats_from_str("|".join(formats))
            except (ValueError, RuntimeError) as exc:
                raise ValueError(f"formats: {exc} (known: {', '.join(known_zxing_formats())})") from None
        self._try_harder = try_harder

    def decode(self, image: Image) -> list[DecodedCode]:
        kwargs: dict[str, Any] = {"text_mode": self._zxing.TextMode.Plain, "try_rotate": self._try_harder,
                                  "try_downscale": self._try_harder}
        if self._formats is not None:
            kwargs["formats"] = self._formats
        out = []
        for result in self._zxing.read_barcodes(image, **kwargs):
            if not result.valid:
                continue
            p = result.position
            corners = ((p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y),
                       (p.bottom_right.x, p.bottom_right.y), (p.bottom_left.x, p.bottom_left.y))
            identifier = result.symbology_identifier or None
            out.append(DecodedCode(
                text=result.text,
                format=str(result.format),
                symbology_identifier=identifier,
                gs1=result.content_type == self._zxing.ContentType.GS1 or identifier in AI_SYMBOLOGIES
                or identifier in GTIN_SYMBOLOGIES,
                position=corners,
            ))
        return out


def known_zxing_formats() -> list[str]:
    import zxingcpp

    return [n for n in dir(zxingcpp.BarcodeFormat) if n[0].isupper() and n not in ("NONE",)]


# zbar reports no AIM identifier; these symbologies imply one (DataBar and EAN/UPC/ITF carry GS1 data by definition).
_ZBAR_IDENTIFIERS = {"DATABAR": "]e0", "DATABAR_EXP": "]e0", "EAN13": "]E0", "UPCA": "]E0", "EAN8": "]E4",
                     "I25": "]I0"}


class PyzbarDecoder:
    """pyzbar (zbar): 1D codes and QR; no DataMatrix; needs the libzbar0 system library."""

    name = "pyzbar"

    def __init__(self, formats: Sequence[str] | None = None) -> None:
        from pyzbar import pyzbar

        self._pyzbar = pyzbar
        self._symbols: list[Any] | None = None
        if formats:
            by_name = {s.name: s for s in pyzbar.ZBarSymbol}
            unknown = [f for f in formats if f.upper() not in by_name]
            if unknown:
                raise ValueError(f"formats: unknown to zbar: {', '.join(unknown)} (known: {', '.join(by_name)})")
            self._symbols = [by_name[f.upper()] for f in formats]

    def decode(self, image: Image) -> list[DecodedCode]:
        out = []
        for result in self._pyzbar.decode(image, symbols=self._symbols):
            identifier = _ZBAR_IDENTIFIERS.get(result.type)
            text = result.data.decode("utf-8", errors="replace")
            points = tuple((int(p.x), int(p.y)) for p in result.polygon)
            gs1 = identifier in AI_SYMBOLOGIES or identifier in GTIN_SYMBOLOGIES
            out.append(DecodedCode(text=text, format=result.type, symbology_identifier=identifier, gs1=gs1,
                                   position=points))
        return out


def make_decoder(name: DecoderName = "zxing", formats: Sequence[str] | None = None) -> Decoder:
    if name == "zxing":
        return ZxingDecoder(formats)
    if name == "pyzbar":
        return PyzbarDecoder(formats)
    raise ValueError(f"decoder: {name!r} is not one of zxing, pyzbar")


def load_image(path: Path) -> Image:
    """An image file as 8-bit grayscale; raises ValueError naming the file when it cannot be read."""
    import cv2

    if not path.is_file():
        raise ValueError(f"{path}: no such image file")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"{path}: not an image OpenCV can read")
    return np.asarray(image, dtype=np.uint8)


def describe(code: DecodedCode, parser: GS1Parser | None = None, source: str | None = None) -> dict[str, Any]:
    """The JSON a station set-up tool prints for one code: text, identifier, format, and the GS1 AIs when GS1.

    One carrier of a GS1 item need not hold every AI its AIs require (the syntax dictionary evaluates pairs over all
    carriers of an item), so pairs are not checked here; each element string is."""
    out: dict[str, Any] = {}
    if source is not None:
        out["image"] = source
    out.update(text=code.text, symbology_identifier=code.symbology_identifier, format=code.format)
    if code.gs1 and parser is not None:
        carrier = GS1Parser(parser.dictionary, separators=parser.separators, associations=False, today=parser.today,
                            allow_zero_suppressed_gtin=parser.allow_zero_suppressed_gtin)
        try:
            label = carrier.parse(code.scanner_text if code.symbology_identifier else code.text)
        except GS1Error as exc:
            out["gs1"] = None
            out["gs1_error"] = exc.to_json()
        else:
            out["gs1"] = {"ais": label.ais, "hri": label.hri(), **{k: v for k, v in label.to_json().items()
                                                                  if k not in ("ais", "hri") and v is not None}}
    return out


def decode_files(paths: Iterable[Path], decoder: Decoder) -> Iterable[tuple[Path, list[DecodedCode]]]:
    for path in paths:
        yield path, decoder.decode(load_image(path))
