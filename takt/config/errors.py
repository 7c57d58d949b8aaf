"""What is wrong with a site file: problems with their place in the file, and the error that lists them."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration file: where (path inside the file, line) and why."""

    path: str
    reason: str
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        return f" (line {self.line}, column {self.column})" if self.line is not None else ""


class ConfigError(Exception):
    """A configuration file that cannot be used. ``str()`` names the file, the path inside it and the reason."""

    def __init__(self, file: str | os.PathLike[str], problems: Sequence[Problem]) -> None:
        self.file = str(file)
        self.problems = list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        lines = []
        for p in self.problems:
            path = f" {p.path}:" if p.path else ""
            lines.append(f"{self.file}:{path} {p.reason}{p.where()}")
        if len(lines) > 1:
            lines.insert(0, f"{self.file}: {len(lines)} problems")
        return "\n".join(lines)

    @classmethod
    def single(cls, file: str | os.PathLike[str], path: str, reason: str) -> ConfigError:
        return cls(file, [Problem(path, reason)])


def format_path(loc: Sequence[str | int]) -> str:
    """``("users", 2, "roles", 0)`` → ``users[2].roles[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
