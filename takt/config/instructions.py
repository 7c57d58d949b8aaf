"""The site file's ``instructions`` section: where the site's work instructions and their media are (a folder of
YAML instruction files, images and PDFs the node serves to its terminals), and how serialised units get their
serials (edge.domain.contexts.units)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from edge.domain.contexts.units import pattern_problem
from erp_sync.protocol import WorkInstructionChange
from takt.config.section import Section


class InstructionsSection(Section):
    folder: Path | None = Field(
        default=None, description="the site's instruction folder: *.yaml work instructions (loaded at start, like master "
                          "data) and the images and PDFs their steps show")
    serial_pattern: str = Field(
        default="{work_order}-{n:04d}", max_length=100,
        description="the serial of a unit started without a scanned label: {work_order}, {item}, {n} (units of the "
                    "order), {seq} (units of the item), {yyyy}, {yy}, {mm}, {dd}, with Python format specs")
    serial_gs1: bool = Field(default=False, description="serials are GS1 AI 21 beside the item's GTIN (AI 01) on the label")

    @field_validator("serial_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        problem = pattern_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


def instruction_files(folder: Path) -> list[tuple[Path, WorkInstructionChange]]:
    """The work instructions of the site's folder (``*.yaml``, one instruction a file, the fields of PLM's
    ``work_instruction`` change), by file name. Raises ConfigError naming the file, the path inside it and why."""
    import yaml
    from pydantic import ValidationError

    from takt.config.errors import ConfigError, Problem

    found: list[tuple[Path, WorkInstructionChange]] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            found.append((path, WorkInstructionChange.model_validate(data)))
        except yaml.YAMLError as err:
            raise ConfigError(path, [Problem("", f"not YAML: {err}")]) from None
        except ValidationError as err:
            raise ConfigError(path, [Problem(".".join(str(x) for x in e["loc"]), e["msg"])
                                     for e in err.errors(include_url=False)]) from None
    return found
