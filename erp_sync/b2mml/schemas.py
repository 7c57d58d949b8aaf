"""The MESA B2MML schemas: where they are, which file declares a document, and validating a document against it.

A document's version is told by the namespace of its root element and its root element picks the schema file that
declares it; each schema file is loaded once per process and kept (docs/b2mml.md, "Validation").
"""
from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import xmlschema

from edge import reference

log = logging.getLogger("takt.b2mml")

#: Where the schemas were found when this module was imported (edge.reference), else where ``takt reference fetch``
#: installs them for this user; :func:`default_schema_dir` looks again each time.
DEFAULT_SCHEMA_DIR = reference.b2mml_schemas() or reference.user_dir() / reference.B2MML_FOLDER
ENV_VAR = "TAKT_B2MML_SCHEMAS"

Version = Literal["V0401", "V0600", "V0700"]
NAMESPACES: dict[str, Version] = {
    "http://www.wbf.org/xml/B2MML-V0401": "V0401",
    "http://www.mesa.org/xml/B2MML-V0600": "V0600",
    "http://www.mesa.org/xml/B2MML": "V0700",
}
NAMESPACE_OF: dict[Version, str] = {v: ns for ns, v in NAMESPACES.items()}
V0600_NS = NAMESPACE_OF["V0600"]
_XS = "{http://www.w3.org/2001/XMLSchema}"
# Where two draft BatchML files of V0401 declare the same elements, the later draft wins.
_PREFERRED_FILE = {"V0401": "BatchML-V0401xxxx-"}


def default_schema_dir() -> Path:
    """$TAKT_B2MML_SCHEMAS, else the installed pinned schemas (edge.reference), else where they would be."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return reference.b2mml_schemas() or reference.user_dir() / reference.B2MML_FOLDER



class SchemasMissing(Exception):
    """The B2MML schema folder is not where it was looked for."""


@dataclass(frozen=True)
class Validation:
    """Whether a document is valid B2MML. ``path`` and ``reason`` say where and why not; ``errors`` counts all."""

    ok: bool
    version: str | None
    document: str | None  # the root element's local name, e.g. SyncProductionSchedule
    reason: str | None = None
    path: str | None = None
    errors: int = 0

    def describe(self) -> str:
        if self.ok:
            return f"valid B2MML {self.version} {self.document}"
        where = f" at {self.path}" if self.path else ""
        more = f" ({self.errors - 1} more errors)" if self.errors > 1 else ""
        what = f"B2MML {self.version} {self.document}" if self.version else "B2MML"
        return f"not valid {what}{where}: {self.reason}{more}"


@cache
def _element_files(folder: str, version: str) -> dict[str, str]:
    """Global element name → the schema file of ``version`` that declares it (read once per folder)."""
    files = sorted(Path(folder, version).glob("*.xsd"))
    if not files:
        raise SchemasMissing(f"no B2MML {version} schemas in {Path(folder, version)} "
                             f"(set ${ENV_VAR} or --schemas to the folder holding V0401, V0600 and V0700)")
    found: dict[str, str] = {}
    preferred = _PREFERRED_FILE.get(version)
    for path in files:
        if path.name.startswith("AllSchemas"):
            continue
        root = ET.parse(path).getroot()
        for element in root.findall(f"{_XS}element"):
            name = element.get("name")
            if name is None:
                continue
            if name not in found or (preferred is not None and path.name.startswith(preferred)):
                found[name] = str(path)
    return found


@cache
def _load_schema(path: str) -> xmlschema.XMLSchema:
    log.debug("loading B2MML schema %s", path)
    return xmlschema.XMLSchema(path)


class Schemas:
    """The MESA B2MML schemas in one folder (``V0401/``, ``V0600/``, ``V0700/``), loaded as documents need them."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_schema_dir()
        if not self.folder.is_dir():
            raise SchemasMissing(f"B2MML schemas not found: {self.folder} is not a folder (install them with "
                                 f"`takt reference fetch`, or set ${ENV_VAR} or --schemas to the folder holding "
                                 f"V0401, V0600 and V0700)")

    def schema_for(self, version: Version, element: str) -> xmlschema.XMLSchema | None:
        """The schema that declares ``element`` in ``version``, or None if no schema file declares it."""
        path = _element_files(str(self.folder.resolve()), version).get(element)
        return None if path is None else _load_schema(path)

    def validate(self, source: bytes | str | os.PathLike[str] | ET.Element) -> tuple[Validation, ET.Element | None]:
        """Validate a document (bytes, a file path, or a parsed root). Returns the verdict and the parsed root
        (None when the text is not even XML). DTDs and entities are refused: incoming files are not trusted."""
        try:
            resource = xmlschema.XMLResource(
                source if not isinstance(source, os.PathLike) else str(source), defuse="always")
        except (ET.ParseError, xmlschema.XMLResourceError, xmlschema.XMLSchemaException) as exc:
            return Validation(False, None, None, f"not well-formed XML: {exc}", errors=1), None
        except OSError as exc:
            return Validation(False, None, None, f"cannot read the document: {exc}", errors=1), None
        root = resource.root
        namespace, _, name = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
        version = NAMESPACES.get(namespace)
        if version is None:
            known = ", ".join(f"{v} {ns}" for ns, v in NAMESPACES.items())
            shown = namespace or "no namespace"
            return Validation(False, None, name, f"the root element {name} is in {shown}, not a B2MML namespace "
                                                 f"({known})", path=f"/{name}", errors=1), root
        schema = self.schema_for(version, name)
        if schema is None:
            return Validation(False, version, name, f"{name} is not a document element of B2MML {version}",
                              path=f"/{name}", errors=1), root
        first: xmlschema.XMLSchemaValidationError | None = None
        count = 0
        try:
            for error in schema.iter_errors(resource):
                if first is None:
                    first = error
                count += 1
                if count >= 100:
                    break
        except (OverflowError, ArithmeticError) as exc:  # elementpath decodes a value beyond its range (a Duration
            # of 10^30 days): the document is refused, not the reader crashed
            return Validation(False, version, name, f"a value is out of range: {exc}", path=f"/{name}",
                              errors=count + 1), root
        if first is None:
            return Validation(True, version, name), root
        reason = first.reason or first.message
        return Validation(False, version, name, reason, path=first.path, errors=count), root


@cache
def schemas(folder: str | None = None) -> Schemas:
    """The ``Schemas`` of ``folder`` (default: :func:`default_schema_dir`), made once."""
    return Schemas(folder)
