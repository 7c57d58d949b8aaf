"""`takt scan ...`: tools for the people who set up a station (decode images, parse GS1 labels)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

scan_app = typer.Typer(no_args_is_help=True, help="Barcode tools: decode images, parse GS1 labels.")
# The decoders (OpenCV, zxing-cpp) and the GS1 parser (biip, half a second) are imported by the commands that use
# them: the takt command starts without them.

# Ways to type a GS (0x1D) on a command line: zxing-cpp's display form, escapes, the caret notation.
GS = "\x1d"
_GS_SPELLINGS = ("<GS>", "\\x1d", "\\x1D", "\\u001d", "\\u001D", "{GS}", "^]")


def _unescape(text: str) -> str:
    for spelling in _GS_SPELLINGS:
        text = text.replace(spelling, GS)
    return text


@scan_app.command("decode")
def decode_command(
    images: Annotated[list[Path], typer.Argument(help="Image files (PNG, JPEG, ...).")],
    decoder: Annotated[str, typer.Option(help="zxing (default: every symbology) or pyzbar (no DataMatrix).")] = "zxing",
    formats: Annotated[str, typer.Option(help="Restrict to these symbologies, comma-separated "
                                               "(zxing: DataMatrix,QRCode,Code128,EAN13,...; pyzbar: CODE128,...).")]
    = "",
) -> None:
    """Print every code found in each image as one JSON object per line (text, identifier, format, GS1 AIs)."""
    from scanners.decode import describe, load_image, make_decoder
    from scanners.gs1 import default_parser

    if decoder not in ("zxing", "pyzbar"):
        typer.echo(f"--decoder: {decoder!r} is not one of zxing, pyzbar", err=True)
        raise typer.Exit(2)
    try:
        reader = make_decoder("zxing" if decoder == "zxing" else "pyzbar",
                              [f.strip() for f in formats.split(",") if f.strip()] or None)
    except (ValueError, ImportError) as exc:
        typer.echo(f"--decoder {decoder}: {exc}", err=True)
        raise typer.Exit(2) from None
    parser = default_parser()
    failed = False
    for path in images:
        try:
            codes = reader.decode(load_image(path))
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            failed = True
            continue
        if not codes:
            typer.echo(f"{path}: no barcode found", err=True)
            failed = True
        for code in codes:
            typer.echo(json.dumps(describe(code, parser, str(path)), ensure_ascii=False))
    if failed:
        raise typer.Exit(1)


@scan_app.command("parse")
def parse_command(
    text: Annotated[str, typer.Argument(help="The label as scanned; '-' reads stdin. Type GS as <GS>, \\x1d or {GS}.")],
    single_carrier: Annotated[bool, typer.Option(
        "--single-carrier", help="Do not check required/exclusive AI pairs (the item carries other GS1 codes).")]
    = False,
) -> None:
    """Print the GS1 parse as JSON, or the refusal with its reason (exit 1)."""
    from scanners.gs1 import GS1Error, GS1Parser, default_parser
    from scanners.gs1_syntax import load_syntax_dictionary

    raw = sys.stdin.read().rstrip("\r\n") if text == "-" else _unescape(text)
    parser = default_parser()
    if single_carrier:
        parser = GS1Parser(load_syntax_dictionary(), associations=False)
    try:
        label = parser.parse(raw)
    except GS1Error as exc:
        typer.echo(json.dumps(exc.to_json(), ensure_ascii=False))
        raise typer.Exit(1) from None
    typer.echo(label.dumps())
