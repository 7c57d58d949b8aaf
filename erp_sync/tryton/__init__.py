"""The Tryton adapter: a Tryton ERP (trytond 8.2, JSON-RPC) as the central side of the node's sync.

:class:`TrytonCentral` has the methods of :class:`~erp_sync.client.CentralClient` (``push``, ``cursor``,
``changes``, ``close``), so the sync daemon, its backoff, the parking of refused subjects as sync exceptions, the
status and the CLI work unchanged whichever central side a site has (``erp: {kind: tryton, ...}`` in the site
file, :class:`~erp_sync.config.ErpSection`). It pulls Tryton's changes by their write stamps and pushes the edge's
events as Tryton's own documents, exactly once; ``docs/tryton.md`` is the specification (the cursor, what each
event becomes, how nothing is booked twice, errors). The package: :mod:`.rpc` (the JSON-RPC client),
:mod:`.gateway` (calls with retries, lookups), :mod:`.journal` (what the node's journal says as of an event),
:mod:`.push` (batches), the bookings per kind (:mod:`.production`, :mod:`.stock`, :mod:`.receipts`,
:mod:`.quality`, :mod:`.shipments`), :mod:`.pull` and :mod:`.central`.
"""
from erp_sync.tryton.central import TrytonCentral, tryton_central
from erp_sync.tryton.gateway import (
    EPOCH,
    NO_WARNINGS,
    RELEASED_STATES,
    Refused,
    TrytonGateway,
    from_stamp_us,
    log,
    stamp_us,
)
from erp_sync.tryton.pull import REVISION
from erp_sync.tryton.push import BOOKED, BULK, Booked
from erp_sync.tryton.rpc import (
    TrytonBusy,
    TrytonError,
    TrytonForbidden,
    TrytonRPC,
    TrytonUnreachable,
    TrytonUserError,
    decode,
    encode,
)
from erp_sync.tryton.stock import BIN_MOVES

__all__ = [
    "BIN_MOVES", "BOOKED", "BULK", "EPOCH", "NO_WARNINGS", "RELEASED_STATES", "REVISION", "Booked", "Refused",
    "TrytonBusy", "TrytonCentral", "TrytonError", "TrytonForbidden", "TrytonGateway", "TrytonRPC",
    "TrytonUnreachable", "TrytonUserError", "decode", "encode", "from_stamp_us", "log", "stamp_us",
    "tryton_central",
]
