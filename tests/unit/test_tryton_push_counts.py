"""The Tryton push counts honestly: events Tryton has no document for are acknowledged (the cursor moves past
them) but counted as acknowledged without a booking, not as stored.

No Tryton runs here: such events need no call to Tryton, and the adapter points at a port where nothing listens,
so a call would fail the test (the bookings themselves are tested against a live trytond in
tests/integration/test_tryton.py)."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store
from edge.store.sync import PUSH, SyncLedger
from erp_sync import protocol as p
from erp_sync.push import Pusher, PushReport
from erp_sync.tryton import TrytonCentral, TrytonRPC

NODE = "node-c"
AT = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def nowhere() -> str:
    """A Tryton URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    store = Store(f"sqlite:///{tmp_path}/edge.sqlite")
    store.migrate()
    store.node_id(NODE)
    running = Service(store, NODE).start()
    yield running
    running.stop()
    store.close()


def central(store: Store) -> TrytonCentral:
    return TrytonCentral(TrytonRPC(nowhere(), "plant", "admin", "secret", timeout_s=2), NODE, store, retries=0,
                         retry_delay_s=0.01)


def event(seq: int, type_: str, subject: str, payload: dict[str, object]) -> p.SyncEvent:
    return p.SyncEvent(seq=seq, event_id=f"ev-{seq}", message=p.isa95_message(type_), type=type_, subject=subject,
                       occurred_at=AT, recorded_at=AT, actor="op-1", payload=payload)


def test_machine_states_pushed_to_tryton_are_acknowledged_without_a_booking(service: Service) -> None:
    admin = frozenset({"admin"})
    service.handle(c.DefineEquipment(idempotency_key="eq", actor="seed", actor_roles=admin, origin="erp",
                                     equipment="M-1", workstation="ASSY"))
    for key, state in (("m1", "running"), ("m2", "idle")):
        service.handle(c.SetMachineState(idempotency_key=key, actor="sup-1", actor_roles=frozenset({"supervisor"}),
                                         equipment="M-1", state=state))  # type: ignore[arg-type]

    async def push() -> PushReport:
        adapter = central(service.store)
        try:
            return await Pusher(service.store, NODE, adapter).push()
        finally:
            await adapter.close()

    report = asyncio.run(push())
    assert (report.sent, report.stored, report.duplicates, report.without_booking, report.refused) == (2, 0, 0, 2, 0)
    assert SyncLedger(service.store).cursor(PUSH) == service.store.last_seq()


def test_a_ship_move_and_a_hand_raised_disposition_are_acknowledged_apart_from_booked(service: Service) -> None:
    """A ``ship`` move is booked by the PalletShipped after it, a nonconformance raised by hand has no inspection
    in Tryton, a clock jump has nothing there: none is stored, all are acknowledged."""
    events = [
        event(1, "StockMoved", "lot:L-1", {"lot": "L-1", "item": "PUMP", "kind": "ship", "from_bin": "SHIP",
                                           "to_bin": None, "quantity": "2", "sales_order": "SO-1",
                                           "sscc": "087123450000000017", "at": AT.isoformat()}),
        event(2, "NonconformanceDispositioned", "ncr:NCR-9", {"ncr": "NCR-9", "disposition": "scrap",
                                                              "dispositioned_by": "qa-1", "at": AT.isoformat()}),
        event(3, "ClockJumped", "node", {"jump_s": "-3600", "wall_before": AT.isoformat(), "at": AT.isoformat()}),
    ]
    body = p.EventBatch(node=NODE, after=0, through=3, redelivery=False, events=events).model_dump_json().encode()

    async def push() -> p.BatchAck:
        adapter = central(service.store)
        try:
            return await adapter.push(body)
        finally:
            await adapter.close()

    ack = asyncio.run(push())
    assert (ack.stored, ack.duplicates, ack.without_booking, ack.rejected, ack.held) == (0, 0, 3, [], [])
    assert ack.acknowledged == 3


def test_a_central_side_that_does_not_say_counts_nothing_without_a_booking() -> None:
    """The field is new in takt-sync/1 acknowledgements: an answer without it (the Takt central, which stores every
    event) reads as zero."""
    ack = p.BatchAck.model_validate({"node": NODE, "acknowledged": 5, "stored": 5, "duplicates": 0})
    assert ack.without_booking == 0
