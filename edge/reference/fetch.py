"""Installing the pinned reference data: each file downloaded from its upstream URL or from a mirror with the same
layout, checked against its pinned size and sha256, and written into the target folder only when it matches.

A file already in the target with the pinned sha256 is kept (nothing downloaded). A download that differs from the
pin is *refused*: it is not written, and a copy already there is left as it was. Files are written to a temporary
name and renamed, so a folder never holds half a file. A mirror is an ``http(s)://`` or ``file://`` URL, or a folder.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from edge.reference import PinnedFile, pinned, sha256_of

TIMEOUT_S = 60.0
Outcome = Literal["installed", "kept", "refused", "failed"]


@dataclass(frozen=True)
class FileResult:
    file: PinnedFile
    outcome: Outcome
    source: str
    reason: str = ""


@dataclass
class FetchReport:
    """What a fetch did with each file; ``ok`` when every file is now in the target as pinned."""

    target: Path
    results: list[FileResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def ok(self) -> bool:
        return all(r.outcome in ("installed", "kept") for r in self.results)

    def problems(self) -> list[FileResult]:
        return [r for r in self.results if r.outcome in ("refused", "failed")]


def source_url(file: PinnedFile, mirror: str | None) -> str:
    """Where ``file`` is downloaded from: its pinned upstream URL, or its path under ``mirror``."""
    if mirror is None:
        return file.url
    if "://" not in mirror:
        mirror = Path(mirror).resolve().as_uri()
    return f"{mirror.rstrip('/')}/{urllib.parse.quote(file.path)}"


def read_url(url: str, timeout_s: float, limit: int) -> bytes:
    """The body at ``url`` (http, https or file), at most ``limit`` bytes (one more tells it is too long)."""
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"{scheme or 'no'} scheme: give an http(s):// or file:// URL or a folder")
    with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 (scheme checked above)
        body: bytes = answer.read(limit + 1)
    return body


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fetch_file(file: PinnedFile, target: Path, *, mirror: str | None = None, timeout_s: float = TIMEOUT_S,
               opener: Callable[[str, float, int], bytes] = read_url,
               unreachable: set[str] | None = None) -> FileResult:
    """Install one pinned file into ``target`` (see the module's docstring). A host in ``unreachable`` is not tried
    again; a host that cannot be reached (not an HTTP error) is added to it."""
    path = target / file.path
    if path.is_file() and sha256_of(path) == file.sha256:
        return FileResult(file, "kept", str(path))
    url = source_url(file, mirror)
    host = urllib.parse.urlparse(url).netloc
    if unreachable is not None and host and host in unreachable:
        return FileResult(file, "failed", url, f"not tried: {host} could not be reached")
    try:
        body = opener(url, timeout_s, file.size)
    except urllib.error.HTTPError as exc:
        return FileResult(file, "failed", url, f"cannot download: HTTP {exc.code} {exc.reason}")
    except (OSError, ValueError) as exc:
        if unreachable is not None and host:
            unreachable.add(host)
        reason = getattr(exc, "reason", None) or exc
        return FileResult(file, "failed", url, f"cannot download: {reason}")
    digest = hashlib.sha256(body).hexdigest()
    if len(body) != file.size or digest != file.sha256:
        return FileResult(file, "refused", url, f"sha256 {digest[:16]}... ({len(body)} bytes) is not the pinned "
                                                f"{file.sha256[:16]}... ({file.size} bytes)")
    _write(path, body)
    return FileResult(file, "installed", url)


def fetch(target: Path, *, mirror: str | None = None, sets: Iterable[str] | None = None,
          timeout_s: float = TIMEOUT_S, on_file: Callable[[FileResult], None] | None = None,
          opener: Callable[[str, float, int], bytes] = read_url) -> FetchReport:
    """Install every pinned file of ``sets`` (default: all) into ``target``; see :class:`FetchReport`."""
    known = pinned()
    names = list(sets) if sets is not None else list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"no reference set {', '.join(unknown)} (known: {', '.join(known)})")
    report = FetchReport(Path(target))
    unreachable: set[str] = set()
    for name in names:
        for file in known[name].files:
            result = fetch_file(file, report.target, mirror=mirror, timeout_s=timeout_s, opener=opener,
                                unreachable=unreachable)
            report.results.append(result)
            if on_file is not None:
                on_file(result)
    return report
