"""The plant view: every node that pushed to this central side, as it sees them (``GET /central/v1/nodes``).

For each node: the last sync (the acknowledged sequence and when it moved), the events stored, the backlog the node
reported (its journal head, sent with each batch, less the acknowledged sequence), the events refused (a sync
exception at the node) and held behind them, and how often the node was told to come back later (BUSY) since the
simulator started.
"""
from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select

from simulators.erp import schema as s


class NodeView(BaseModel):
    """One node of the plant, as the central side sees it."""

    node: str
    acknowledged: int = Field(description="every event of the node through this sequence is stored, refused or held")
    last_sync_at: str = Field(description="when the acknowledged sequence last moved (UTC, ISO 8601)")
    events: int = Field(description="events of the node stored here")
    journal_head: int | None = Field(description="the node's journal head as of its last push; None: not reported")
    backlog: int | None = Field(description="journal_head - acknowledged (ERP-origin events included); None: not "
                                            "reported")
    rejected: int = Field(description="events refused (each a sync exception at the node until a supervisor acts)")
    held: int = Field(description="events held behind a refused event of the same subject")
    busy: int = Field(description="pushes answered 503 BUSY (come back later) since the central side started")


def plant_view(engine: Engine, busy: Mapping[str, int]) -> list[NodeView]:
    marks, reports, ev = s.sync_marks, s.node_reports, s.received_events
    with engine.connect() as conn:
        counts = {node: int(n) for node, n in conn.execute(select(ev.c.node, func.count()).group_by(ev.c.node))}
        rows = conn.execute(select(marks.c.node, marks.c.acknowledged, marks.c.updated_at, reports.c.journal_head,
                                   reports.c.rejected, reports.c.held)
                            .join_from(marks, reports, reports.c.node == marks.c.node, isouter=True)
                            .order_by(marks.c.node)).all()
    return [NodeView(node=r.node, acknowledged=r.acknowledged, last_sync_at=r.updated_at,
                     events=int(counts.get(r.node, 0)), journal_head=r.journal_head,
                     backlog=None if r.journal_head is None else max(0, r.journal_head - r.acknowledged),
                     rejected=r.rejected or 0, held=r.held or 0, busy=busy.get(r.node, 0)) for r in rows]
