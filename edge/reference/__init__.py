"""Reference data written by others (GS1 syntax dictionary, MESA B2MML schemas, OPC UA nodesets): what is pinned,
where it is looked for, and whether a copy is the pinned one.

Takt does not ship these files. ``manifest.json`` beside this module pins each one (its upstream URL at a fixed
commit, licence, size and sha256), ``takt reference fetch`` installs them (:mod:`edge.reference.fetch`), and the
code that reads them asks this module where they are. A *set* (``gs1-syntax-dictionary``, ``b2mml-schemas``,
``opcua-nodesets``) is used from the first place, in this order, that holds all of its files unaltered:

1. the site's folder: ``reference:`` in the site file;
2. the node's data directory: ``<data_dir>/reference``;
3. the user's data directory: ``$XDG_DATA_HOME/takt/reference`` (default ``~/.local/share/takt/reference``);
4. ``$TAKT_SHARED_DATA``: a mirror with the same layout, for tests and CI only.

Every place has the same layout (``gs1/...``, ``b2mml/V0600/...``, ``opcua/nodesets/...``), so a mirror a plant runs
for nodes without internet is such a folder served over HTTP. A copy whose sha256 differs from the pinned one is
*altered*: it is never used (the next place is tried) and ``takt reference status``, ``takt doctor`` and ``/health``
name it. Nothing here looks at a checkout's surroundings: the product reads only its install, its data directory,
its site file's folders and the user's data directory.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

MANIFEST = Path(__file__).resolve().parent / "manifest.json"
MIRROR_ENV = "TAKT_SHARED_DATA"  # tests and CI: a folder with the mirror's layout
GS1_SET = "gs1-syntax-dictionary"
B2MML_SET = "b2mml-schemas"
NODESETS_SET = "opcua-nodesets"
GS1_DICTIONARY = "gs1/gs1-syntax-dictionary.txt"
B2MML_FOLDER = "b2mml"
NODESETS_FOLDER = "opcua/nodesets"
FETCH_HINT = "takt reference fetch"

State = Literal["ok", "missing", "incomplete", "altered"]


@dataclass(frozen=True)
class PinnedFile:
    """One file of a set as the manifest pins it; ``path`` is its place in every folder's layout."""

    path: str
    set: str
    url: str
    sha256: str
    size: int
    licence: str


@dataclass(frozen=True)
class ReferenceSet:
    """Files that are used together (all the B2MML schemas, the GS1 dictionary and its licence, ...)."""

    name: str
    version: str
    licence: str
    used_for: str
    files: tuple[PinnedFile, ...]


@dataclass(frozen=True)
class Place:
    """A folder looked in, and why it is looked in (``site folder``, ``data dir``, ``user dir``, ``TAKT_SHARED_DATA``)."""

    name: str
    folder: Path


@dataclass(frozen=True)
class SetStatus:
    """Where a set is used from (``state`` ok), or why it is not: missing everywhere, ``incomplete`` (some files only)
    or ``altered`` (a file differs from the pinned sha256) in the first place that holds any of it."""

    set: ReferenceSet
    state: State
    place: Place | None = None
    missing: tuple[str, ...] = ()
    altered: tuple[str, ...] = ()
    passed_over: tuple[str, ...] = field(default=())  # places skipped because their copy was altered or incomplete

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def altered_anywhere(self) -> bool:
        """An altered copy is in use's way: this one, or one passed over in a place looked in first."""
        return self.state == "altered" or any(p.endswith(": altered") for p in self.passed_over)

    def describe(self) -> str:
        where = f" in {self.place.folder} ({self.place.name})" if self.place else ""
        if self.state == "ok":
            skipped = f" (passed over: {'; '.join(self.passed_over)})" if self.passed_over else ""
            return f"{self.set.name} {self.set.version}{where}{skipped}"
        if self.state == "missing":
            return f"{self.set.name} is not installed (run `{FETCH_HINT}`)"
        if self.state == "altered":
            return (f"{self.set.name}{where} is altered: {', '.join(self.altered[:3])}"
                    f"{' ...' if len(self.altered) > 3 else ''} differ from the pinned sha256 (not used; "
                    f"run `{FETCH_HINT}`)")
        return (f"{self.set.name}{where} is incomplete: {len(self.missing)} of {len(self.set.files)} files missing "
                f"(not used; run `{FETCH_HINT}`)")


@cache
def pinned() -> dict[str, ReferenceSet]:
    """The sets of ``manifest.json``, by name, in the manifest's order."""
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    files = [PinnedFile(path=f["path"], set=f["set"], url=f["url"], sha256=f["sha256"], size=int(f["size"]),
                        licence=f["licence"]) for f in data["files"]]
    return {name: ReferenceSet(name=name, version=about["version"], licence=about["licence"],
                               used_for=about["used_for"], files=tuple(f for f in files if f.set == name))
            for name, about in data["sets"].items()}


def user_dir() -> Path:
    """The user's reference folder: ``$XDG_DATA_HOME/takt/reference``, default ``~/.local/share/takt/reference``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "takt" / "reference"


def data_dir_folder(data_dir: Path) -> Path:
    """Where a node keeps the reference data it installed: ``<data_dir>/reference``."""
    return Path(data_dir) / "reference"


@dataclass
class _Site:
    folder: Path | None = None
    data_dir: Path | None = None


_site = _Site()


def configure(*, site_folder: Path | None, data_dir: Path | None) -> None:
    """Set the running node's places (its site file's ``reference:`` folder and its data directory); the node calls
    it when it is built, before anything reads reference data."""
    _site.folder = Path(site_folder) if site_folder is not None else None
    _site.data_dir = Path(data_dir) if data_dir is not None else None


def places(*, site_folder: Path | None = None, data_dir: Path | None = None) -> list[Place]:
    """The folders looked in, in order; without arguments the running node's (see :func:`configure`)."""
    if site_folder is None and data_dir is None:
        site_folder, data_dir = _site.folder, _site.data_dir
    found: list[Place] = []
    if site_folder is not None:
        found.append(Place("site folder", Path(site_folder)))
    if data_dir is not None:
        found.append(Place("data dir", data_dir_folder(data_dir)))
    found.append(Place("user dir", user_dir()))
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        found.append(Place(MIRROR_ENV, Path(mirror)))
    return found


_hashes: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's sha256, computed once per (path, size, modification time)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    known = _hashes.get(key)
    if known is None:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        known = _hashes[key] = digest.hexdigest()
    return known


def _check(reference: ReferenceSet, place: Place) -> SetStatus:
    missing = tuple(f.path for f in reference.files if not (place.folder / f.path).is_file())
    if len(missing) == len(reference.files):
        return SetStatus(reference, "missing")
    if missing:
        return SetStatus(reference, "incomplete", place, missing=missing)
    altered = tuple(f.path for f in reference.files if sha256_of(place.folder / f.path) != f.sha256)
    if altered:
        return SetStatus(reference, "altered", place, altered=altered)
    return SetStatus(reference, "ok", place)


def status(name: str, where: Sequence[Place] | None = None) -> SetStatus:
    """Where set ``name`` is used from: the first place holding it whole and unaltered. When none does, the first
    place holding any of it says what is wrong there (``incomplete`` or ``altered``), else it is ``missing``."""
    reference = pinned()[name]
    first_problem: SetStatus | None = None
    passed: list[str] = []
    for place in (places() if where is None else where):
        found = _check(reference, place)
        if found.ok:
            return SetStatus(reference, "ok", place, passed_over=tuple(passed))
        if found.state != "missing":
            passed.append(f"{place.name} {place.folder}: {found.state}")
            first_problem = first_problem or found
    if first_problem is not None:
        return SetStatus(reference, first_problem.state, first_problem.place, first_problem.missing,
                         first_problem.altered, tuple(passed))
    return SetStatus(reference, "missing")


def statuses(where: Sequence[Place] | None = None, names: Iterable[str] | None = None) -> list[SetStatus]:
    """The status of every pinned set (or of ``names``)."""
    return [status(name, where) for name in (names if names is not None else pinned())]


def locate(name: str, where: Sequence[Place] | None = None) -> Path | None:
    """The folder (a place's root) that holds set ``name`` whole and unaltered, or None."""
    found = status(name, where)
    return found.place.folder if found.ok and found.place is not None else None


def gs1_syntax_dictionary(where: Sequence[Place] | None = None) -> Path | None:
    """GS1's syntax dictionary file, or None when it is not installed (GS1 scans are then checked by biip only)."""
    root = locate(GS1_SET, where)
    return None if root is None else root / GS1_DICTIONARY


def b2mml_schemas(where: Sequence[Place] | None = None) -> Path | None:
    """The folder holding MESA's ``V0401/``, ``V0600/`` and ``V0700/`` schemas, or None when not installed."""
    root = locate(B2MML_SET, where)
    return None if root is None else root / B2MML_FOLDER


def opcua_nodesets(where: Sequence[Place] | None = None) -> Path | None:
    """The folder of the OPC UA companion-spec NodeSet2 files (``DI/``, ``Machinery/``, ``PackML/``, ...), or None."""
    root = locate(NODESETS_SET, where)
    return None if root is None else root / NODESETS_FOLDER


def health(where: Sequence[Place] | None = None) -> dict[str, Any]:
    """The reference data as ``/health`` shows it: ``degraded`` while the GS1 dictionary is not usable (GS1 validation
    then says ``biip only``) or while any set is altered; every set's state, missing ones too."""
    found = statuses(where)
    gs1 = next(s for s in found if s.set.name == GS1_SET)
    degraded = not gs1.ok or any(s.altered_anywhere for s in found)
    return {
        "status": "degraded" if degraded else "ok",
        "gs1_validation": "syntax dictionary" if gs1.ok else "biip only (the GS1 syntax dictionary is "
                                                             f"{gs1.state}: {FETCH_HINT})",
        "sets": {s.set.name: {"status": s.state, "version": s.set.version,
                              "where": str(s.place.folder) if s.place else None,
                              **({"altered": list(s.altered)} if s.altered else {}),
                              **({"missing_files": len(s.missing)} if s.missing else {}),
                              **({"passed_over": list(s.passed_over)} if s.passed_over else {})} for s in found},
    }
