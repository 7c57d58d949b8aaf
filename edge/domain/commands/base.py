"""The command every input becomes: what it asks is its context's (edge.domain.commands.<context>), who asked and how
it came is here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["Command", "Origin"]

Origin = Literal["edge", "erp"]


@dataclass(frozen=True, kw_only=True)
class Command:
    idempotency_key: str
    actor: str
    actor_roles: frozenset[str] = frozenset()
    source_device: str | None = None
    origin: Origin = "edge"
    occurred_at: datetime | None = None
