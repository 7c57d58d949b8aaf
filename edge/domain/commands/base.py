"""The command every input becomes: what it asks is its context's (edge.domain.commands.<context>), who asked and how
it came is here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["MEANINGS", "Command", "Origin", "SignatureSpec"]

Origin = Literal["edge", "erp"]

# What a signature means, unless the site file names its own list (``signatures.meanings``).
MEANINGS: tuple[str, ...] = ("reviewed", "approved", "released", "rejected")


@dataclass(frozen=True, kw_only=True)
class SignatureSpec:
    """An electronic signature given with a command (edge.domain.contexts.signatures): the signer re-entered their
    second factor just now (the door checked it), and the events the command records are signed with ``meaning``.

    ``signature`` is the new signature's id; ``supersedes`` the id of a signature whose records this one replaces
    (a signed record is never changed, only superseded). ``meanings`` is the site's list (a setting)."""

    signature: str
    signer_name: str
    meaning: str
    supersedes: str | None = None
    comment: str = ""
    meanings: tuple[str, ...] = MEANINGS


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
    # The signer's electronic signature of what this command records (None: unsigned). Out of the fingerprint like
    # ``recorded_by``: who signed is the door's to check, and keys recorded before it keep their fingerprints.
    signature: SignatureSpec | None = field(default=None, repr=False)
