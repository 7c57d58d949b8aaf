"""The node's long-stop timer: every minute, a machine stopped longer than its ``maintenance.request_after_s`` (and
without an open breakdown request) gets a maintenance request while the stop goes on
(``RaiseRequestsForLongStops``, decided in edge.domain.contexts.maintenance). A failed round is logged and tried
again."""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from edge.domain import DomainError
from edge.domain import commands as c
from edge.service import Service, StoreUnavailable
from edge.store import Store, schema

log = logging.getLogger("takt.maintenance")
ACTOR = "takt-node"


def long_stops(store: Store, now: datetime) -> list[str]:
    """The machines stopped longer than their threshold with no breakdown request open, read from the tables (the
    command is sent only when there is one: a quiet minute records nothing)."""
    settings, states = schema.ENTITY_TABLES["maintenance_settings"].table, schema.ENTITY_TABLES["machine_states"].table
    requests = schema.ENTITY_TABLES["maintenance_requests"].table
    with store.engine.connect() as conn:
        stopped = conn.execute(select(states.c.equipment, states.c.since, settings.c.request_after_s)
                               .join(settings, settings.c.equipment == states.c.equipment)
                               .where(states.c.state == "down", settings.c.request_after_s.is_not(None))).all()
        open_ = {r[0] for r in conn.execute(select(requests.c.equipment).where(
            requests.c.status != "closed", requests.c.kind == "breakdown"))}
    return sorted(code for code, since, after_s in stopped
                  if code not in open_ and now - since > timedelta(seconds=after_s))


async def raise_requests_for_long_stops(service: Service, now: datetime) -> int:
    """One round: the requests raised now (0 when no stop is long enough)."""
    if not await asyncio.to_thread(long_stops, service.store, now):
        return 0
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
