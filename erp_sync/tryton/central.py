"""The Tryton adapter as the sync's central side: push and pull against one Tryton database, for one node."""
from __future__ import annotations

from edge.store.store import Store
from erp_sync import protocol as p
from erp_sync.config import ErpSection
from erp_sync.tryton.gateway import TrytonGateway
from erp_sync.tryton.journal import EdgeJournal
from erp_sync.tryton.pull import TrytonPull
from erp_sync.tryton.push import Booked, TrytonPush
from erp_sync.tryton.rpc import TrytonRPC


class TrytonCentral:
    """The central side of the sync when it is a Tryton database: the methods of
    :class:`~erp_sync.client.CentralClient` (``push``, ``cursor``, ``changes``, ``close``)."""

    def __init__(self, rpc: TrytonRPC, node: str, store: Store, *, warehouse: str = "WH", overlap_s: float = 120.0,
                 retries: int = 4, retry_delay_s: float = 0.5, bulk: bool = True) -> None:
        self.rpc = rpc
        self.node = node
        self.store = store
        self.gateway = TrytonGateway(rpc, warehouse=warehouse, retries=retries, retry_delay_s=retry_delay_s)
        self.pusher = TrytonPush(self.gateway, store, bulk=bulk)
        self.puller = TrytonPull(self.gateway, EdgeJournal(store), node, overlap_s=overlap_s)

    async def close(self) -> None:
        await self.rpc.close()

    async def __aenter__(self) -> TrytonCentral:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def cursor(self) -> int:
        """Tryton keeps no per-node cursor: what this node holds as acknowledged (every push is idempotent)."""
        return await self.pusher.cursor()

    async def push(self, body: bytes) -> p.BatchAck:
        """Apply a batch of the node's events to Tryton (see :mod:`erp_sync.tryton.push`)."""
        return await self.pusher.push(body)

    async def apply(self, event: p.SyncEvent) -> Booked:
        """Apply one event: True booked, False there already, None no Tryton counterpart. Raises Refused."""
        return await self.pusher.apply(event)

    async def changes(self, after: int, limit: int) -> p.ChangeFeed:
        """What changed in Tryton since the stamp ``after`` (see :mod:`erp_sync.tryton.pull`)."""
        return await self.puller.changes(after, limit)


def tryton_central(section: ErpSection, node: str, store: Store, *, timeout_s: float = 30.0) -> TrytonCentral:
    """The adapter a site's ``sync.erp`` section names (the password read from its file now)."""
    try:
        password = section.password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"sync.erp.password_file: cannot read {section.password_file}: {exc.strerror or exc}"
                         ) from None
    rpc = TrytonRPC(section.url, section.database, section.user, password, timeout_s=timeout_s)
    return TrytonCentral(rpc, node, store, warehouse=section.warehouse, overlap_s=section.overlap_s,
                         retries=section.retries)
