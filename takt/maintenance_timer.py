"""The node's long-stop timer: every minute, a machine stopped longer than its ``maintenance.request_after_s`` (and
without an open breakdown request) gets a maintenance request while the stop goes on
(``RaiseRequestsForLongStops``, decided in edge.domain.contexts.maintenance). A failed round is logged and tried
again."""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from edge.domain import DomainError
from edge.domain import commands as c
from edge.service import Service, StoreUnavailable

log = logging.getLogger("takt.maintenance")
ACTOR = "takt-node"


async def raise_requests_for_long_stops(service: Service, now: datetime) -> int:
    """One round: the requests raised now (0 when no stop is long enough)."""
    key = f"maintenance:long-stops:{now.astimezone(UTC).strftime('%Y%m%dT%H%M')}"
    recorded = await service.execute(c.RaiseRequestsForLongStops(
        idempotency_key=key, actor=ACTOR, actor_roles=frozenset({"service"}), occurred_at=now))
    return len(recorded.events)


async def long_stops_forever(service: Service, interval_s: float = 60.0) -> None:
    while True:
        try:
            raised = await raise_requests_for_long_stops(service, datetime.now(UTC))
            if raised:
                log.info("%d maintenance request(s) raised for long stops", raised)
        except (DomainError, StoreUnavailable) as exc:
            log.warning("raising requests for long stops failed (%s); trying again", exc)
        except Exception:
            log.exception("raising requests for long stops failed; trying again")
        await asyncio.sleep(interval_s)
