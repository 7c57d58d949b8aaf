"""Commands of electronic signatures: sign recorded events (by their journal sequence numbers and chain hashes)."""
from __future__ import annotations

from dataclasses import dataclass

from edge.domain.commands.base import Command

__all__ = ["RecordRef", "SignRecords"]


@dataclass(frozen=True, kw_only=True)
class RecordRef:
    """A journal event to sign, as the journal holds it (the door looks it up): ``found`` False when no event has
    that sequence number; ``expected_hash`` the chain hash the signer saw, when they name one."""

    seq: int
    found: bool
    hash: str = ""
    type: str = ""
    subject: str = ""
    expected_hash: str | None = None


@dataclass(frozen=True, kw_only=True)
class SignRecords(Command):
    """Sign events already recorded (``POST /api/v1/signatures``); the signature itself is ``Command.signature``."""

    records: tuple[RecordRef, ...]
