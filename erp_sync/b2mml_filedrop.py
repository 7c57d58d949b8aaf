"""The B2MML file drop under its first name: the module is ``erp_sync.b2mml.filedrop``; this one re-exports it for
the callers that import it from here (the node's runtime, ``takt b2mml export``)."""
from __future__ import annotations

from erp_sync.b2mml.filedrop import (
    CURSOR_FILE,
    DONE,
    REJECTED,
    InboxOutcome,
    InvalidOutgoingDocument,
    OutboxRound,
    inbox_task,
    outbox_task,
    read_cursor,
    read_inbox,
    write_atomically,
    write_outbox,
)

__all__ = [
    "CURSOR_FILE",
    "DONE",
    "REJECTED",
    "InboxOutcome",
    "InvalidOutgoingDocument",
    "OutboxRound",
    "inbox_task",
    "outbox_task",
    "read_cursor",
    "read_inbox",
    "write_atomically",
    "write_outbox",
]
