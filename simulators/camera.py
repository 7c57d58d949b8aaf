"""A camera that films barcode labels: 640×480 grayscale frames with real codes (generated with zxing-cpp's writer,
or the reference images in ../shared/data/barcodes/), with blur, noise and rotation; as frames or as a video file."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

Frame = npt.NDArray[np.uint8]
SIZE = (480, 640)  # rows, columns
PAPER = 215


def label_image(content: str, symbology: str = "DataMatrix", *, gs1: bool = False, scale: int = 4) -> Frame:
    """A printed label: the code with a quiet zone. `gs1=True` encodes FNC1 (GS1 DataMatrix/QR/128); the content is
    then the bracketed form, e.g. "(01)09501101530003(10)L1"."""
    barcode = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, symbology), gs1=gs1)
    image = np.asarray(barcode.to_image(scale=scale), dtype=np.uint8)
    border = 4 * scale
    return np.asarray(cv2.copyMakeBorder(image, border, border, border, border, cv2.BORDER_CONSTANT, value=255))


def image_file(path: Path) -> Frame:
    found = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if found is None:
        raise ValueError(f"{path}: not an image")
    return np.asarray(found, dtype=np.uint8)


@dataclass(frozen=True)
class Scene:
    """Labels on the table for `frames` frames; `labels` are (image, (x, y)) top-left positions."""

    labels: Sequence[tuple[Frame, tuple[int, int]]]
    frames: int = 5


class Camera:
    """Frames of scenes, with optional blur (kernel size), gaussian noise (sigma) and rotation (degrees)."""

    def __init__(self, *, blur: int = 0, noise: float = 0.0, rotation: float = 0.0, seed: int = 0) -> None:
        self.blur = blur
        self.noise = noise
        self.rotation = rotation
        self.random = np.random.default_rng(seed)
        self.jitter = random.Random(seed)

    def frame(self, labels: Iterable[tuple[Frame, tuple[int, int]]]) -> Frame:
        canvas: npt.NDArray[Any] = np.full(SIZE, PAPER, dtype=np.uint8)
        for image, (x, y) in labels:
            h, w = image.shape[:2]
            h, w = min(h, SIZE[0] - y), min(w, SIZE[1] - x)
            canvas[y:y + h, x:x + w] = image[:h, :w]
        if self.rotation:
            angle = self.rotation * self.jitter.uniform(-1, 1)
            matrix = cv2.getRotationMatrix2D((SIZE[1] / 2, SIZE[0] / 2), angle, 1.0)
            canvas = cv2.warpAffine(canvas, matrix, (SIZE[1], SIZE[0]), borderValue=PAPER)
        if self.blur:
            k = self.blur | 1
            canvas = cv2.GaussianBlur(canvas, (k, k), 0)
        if self.noise:
            noisy = canvas.astype(np.float32) + self.random.normal(0, self.noise, SIZE)
            canvas = np.clip(noisy, 0, 255)
        return np.asarray(canvas, dtype=np.uint8)

    def frames(self, scenes: Iterable[Scene]) -> Iterator[Frame]:
        for scene in scenes:
            for _ in range(scene.frames):
                yield self.frame(scene.labels)


def write_video(path: Path, frames: Iterable[Frame], fps: float = 30.0) -> Path:
    """The frames as a Motion-JPEG AVI that cv2.VideoCapture (a camera reader's `source`) plays back."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (SIZE[1], SIZE[0]), isColor=False)
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write MJPG video here")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return path
