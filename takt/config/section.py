"""The base of every model of the site file: unknown keys are errors, values are frozen once read."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A section (or an entry of one) of the site file."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
