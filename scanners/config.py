"""The site file's scanning section: in-house label patterns and the scanning devices (serial scanners, cameras).

It belongs to the scanners, as connectivity belongs to the connectors and sync to erp_sync: the adapter that reads a
section owns its model, and the node's site file (takt.config) gathers the sections."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.fields import Code, Quantity


class Section(BaseModel):
    """An entry of the scanning section: unknown keys are errors, values are frozen once read (as every section)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class SerialPortEntry(Section):
    """A serial barcode scanner (USB CDC or RS-232) and its framing."""

    port: str = Field(min_length=1, description="e.g. /dev/ttyACM0 or a /dev/serial/by-id/... link")
    baudrate: int = Field(default=9600, gt=0)
    suffix: Literal["CR", "LF", "CRLF", "TAB"] = "CR"
    prefix: str = ""
    max_length: int = Field(default=1024, gt=0, le=65536)
    double_read_window_s: float = Field(default=1.0, ge=0)
    good_feedback: str | None = Field(default=None, description="sent to the scanner after a booked scan")
    bad_feedback: str | None = Field(default=None, description="sent to the scanner after a refused scan")


class CameraEntry(Section):
    """A camera that reads barcodes: device index, RTSP/HTTP URL or video file."""

    source: int | str
    decoder: Literal["zxing", "pyzbar"] = "zxing"
    formats: list[str] = Field(default=[], description="what the station expects (zxing: DataMatrix, Code128, ...)")
    roi: tuple[int, int, int, int] | None = Field(default=None, description="x, y, width, height")
    gap_frames: int = Field(default=2, ge=0)


class ScanDeviceEntry(Section):
    """A scanning device bound to a workstation: what its scans mean there."""

    device: Code
    workstation: Code | None = None
    task: Literal["consume", "receive", "putaway", "move", "pick", "idle"] = "consume"
    bin: Code | None = Field(default=None, description="where material is taken from or put away from (a bin "
                                                        "label changes it)")
    default_quantity: Quantity | None = Field(default=None, description="per lot scan, when the label has none")
    serial: SerialPortEntry | None = None
    camera: CameraEntry | None = None


class ScanningSection(Section):
    """Barcode scanning: in-house label patterns (regex per kind) and the scanning devices."""

    label_patterns: dict[Literal["badge", "work_order", "bin", "lot", "tote"], str] = {}
    devices: list[ScanDeviceEntry] = []
    badge_pin: Literal["privileged", "always"] = Field(
        default="privileged",
        description="when a badge read at a fixed reader (serial scanner, camera) is not enough to log its holder on "
                    "at the station: for privileged users (supervisor, quality, admin), or always; they must then be "
                    "logged on at a page with badge and PIN (over the API a badge of someone else always needs their "
                    "PIN or such a session)")
    allow_zero_suppressed_gtin: bool = Field(default=False, description="accept GTIN-8/12/13 in a GS1 Digital Link "
                                             "path (GS1 requires 14 digits; for old labels)")

    @model_validator(mode="after")
    def _patterns_compile(self) -> ScanningSection:
        for kind, pattern in self.label_patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"label_patterns.{kind}: invalid regular expression: {exc}") from None
        return self
