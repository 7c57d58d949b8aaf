"""The command every input becomes: what it asks is its context's (edge.domain.commands.<context>), who asked and how
it came is here."""
from __future__ import annotations

from dataclasses import dataclass, field
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
    # Who sent it, when that is not simply `actor`: the authenticated account (a token's user, a page session's
    # user, a scanning device wired to the node) and the operator on whose behalf it books (a badge logged on at
    # the station). The journal records both beside `actor` and `source_device`. Out of the fingerprint
    # (repr=False): a retry is the same command whoever relays it, and stores recorded before them keep their keys.
    recorded_by: str | None = field(default=None, repr=False)
    on_behalf_of: str | None = field(default=None, repr=False)
