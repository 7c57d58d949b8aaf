"""Camera scanning: frames from a device index, an RTSP/HTTP URL or a video file, grabbed and decoded off the event
loop; an optional region of interest; the same code seen in consecutive frames is one scan; several codes in one
frame are all reported."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scanners.decode import DecodedCode, Decoder, DecoderName, Image, make_decoder

log = logging.getLogger(__name__)

OnScan = Callable[[str, str], Awaitable[Any]]  # (text with AIM identifier, idempotency key)


@dataclass(frozen=True)
class CameraConfig:
    device: str
    source: int | str  # camera index, rtsp://..., http://..., or a video file
    decoder: DecoderName = "zxing"
    formats: Sequence[str] | None = None  # what the station expects: faster, fewer false reads
    roi: tuple[int, int, int, int] | None = None  # x, y, width, height
    gap_frames: int = 2  # a code missing for up to this many frames (glare, motion) is still the same scan
    reopen_interval_s: float = 1.0


class SameCodeFilter:
    """Reports a code when it appears; not again while it stays in view (allowing `gap_frames` missed frames)."""

    def __init__(self, gap_frames: int = 2) -> None:
        self.gap_frames = gap_frames
        self.frame = 0
        self._last_seen: dict[str, int] = {}

    def new_codes(self, codes: Sequence[DecodedCode]) -> list[DecodedCode]:
        self.frame += 1
        fresh = []
        for code in codes:
            key = code.scanner_text
            last = self._last_seen.get(key)
            if last is None or self.frame - last > self.gap_frames + 1:
                fresh.append(code)
            self._last_seen[key] = self.frame
        horizon = self.frame - self.gap_frames - 1
        self._last_seen = {k: v for k, v in self._last_seen.items() if v >= horizon}
        return fresh


class CameraScanner:
    def __init__(self, config: CameraConfig, on_scan: OnScan, decoder: Decoder | None = None) -> None:
        self.config = config
        self.on_scan = on_scan
        self.decoder = decoder or make_decoder(config.decoder, config.formats)
        self.filter = SameCodeFilter(config.gap_frames)
        self.frames = 0

    def decode_frame(self, frame: Image) -> list[DecodedCode]:
        """Grayscale, crop to the region of interest, decode: every code in the frame."""
        import cv2

        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if self.config.roi is not None:
            x, y, w, h = self.config.roi
            gray = gray[y:y + h, x:x + w]
        return self.decoder.decode(np.ascontiguousarray(gray))

    def _open(self, cv2: Any) -> Any:
        return cv2.VideoCapture(self.config.source)

    def _grab_and_decode(self, capture: Any) -> list[DecodedCode] | None:
        ok, frame = capture.read()
        if not ok:
            return None
        return self.decode_frame(np.asarray(frame, dtype=np.uint8))

    async def run(self) -> None:
        """Until the source ends (a file) or forever (a camera: reopened after a failure)."""
        import cv2

        is_file = isinstance(self.config.source, str) and "://" not in self.config.source
        while True:
            capture = await asyncio.to_thread(self._open, cv2)
            try:
                if not capture.isOpened():
                    log.warning("camera %s: cannot open %s", self.config.device, self.config.source)
                else:
                    while True:
                        codes = await asyncio.to_thread(self._grab_and_decode, capture)
                        if codes is None:
                            break
                        self.frames += 1
                        for code in self.filter.new_codes(codes):
                            try:
                                await self.on_scan(code.scanner_text, f"{self.config.device}:{uuid.uuid4()}")
                            except Exception:  # a failing consumer must not stop the camera
                                log.exception("camera %s: scan %r failed", self.config.device, code.scanner_text)
            finally:
                capture.release()
            if is_file:
                return
            await asyncio.sleep(self.config.reopen_interval_s)
