"""Events of electronic signatures (21 CFR Part 11 §11.50, §11.70): who signed which recorded events, meaning what."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edge.domain.events.base import Event

__all__ = ["RecordsSigned", "SignedRecord"]


@dataclass(frozen=True, kw_only=True)
class SignedRecord:
    """One signed event: its journal sequence number, its chain hash (edge.store.chain), its type and subject."""

    seq: int
    hash: str
    type: str
    subject: str


@dataclass(frozen=True, kw_only=True)
class RecordsSigned(Event):
    """An electronic signature: the signer (user id and full name), the time, the meaning, and the events it signs
    by sequence number and chain hash. ``inline``: given with the command whose events it signs (the write path
    fills in their sequence numbers and hashes as it journals them, edge.service). ``supersedes``: the signature
    whose records this one replaces."""

    signature: str
    signer: str
    signer_name: str
    meaning: str
    records: tuple[SignedRecord, ...]
    at: datetime
    supersedes: str | None = None
    comment: str = ""
    inline: bool = False

    @property
    def subject(self) -> str:
        return f"signature:{self.signature}"
