"""How this node classifies stops (edge.store.downtime.DowntimeSetup), from its site file: the line in the order
of ``site.workstations``, each machine's settings and reason tree (``downtime``), and the PLC reason texts of the
machines' state rules (``connectivity.machines``)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy import Connection

from edge.domain.downtime import Line, tree_for
from edge.domain.oee import Shift, ShiftOee
from edge.store.downtime import DowntimeSetup, central_trees, oee_classified
from edge.store.oee import machines_of
from takt.config import TaktConfig
from takt.config.downtime import DEFAULT_TREE


def setup_of(conn: Connection, config: TaktConfig | None, stations: Sequence[str]) -> DowntimeSetup:
    """The trees: the central systems' (the sync's pull) first, then the site file's, then DEFAULT_TREE."""
    machines = {m: ws for ws, ms in machines_of(conn, stations).items() for m in ms}
    line = Line(tuple(stations), machines)
    central = central_trees(conn)
    if config is None:
        return DowntimeSetup(line=line, trees={m: tree_for([*central, DEFAULT_TREE], ws, None)
                                               for m, ws in machines.items()})
    section = config.downtime
    trees = [*central, *section.trees()]
    settings = {m: section.settings(m, ws) for m, ws in machines.items()}
    return DowntimeSetup(
        line=line, settings=settings, default=section.settings("", None),
        trees={m: tree_for(trees, ws, settings[m].machine_class) for m, ws in machines.items()},
        plc_reasons={s.equipment: dict(s.state.reasons) for s in config.connectivity.machines if s.state})


def node_oee(conn: Connection, config: TaktConfig | None, line: Sequence[str], shifts: Sequence[Shift], zone: tzinfo,
             start: datetime, end: datetime, only: str | None = None) -> dict[str, list[ShiftOee]]:
    """The OEE per workstation per shift over the stops classified by this node's setup (changeovers and planned
    stops out of planned time, micro-stops as performance): the one computation GET /api/v1/oee, the shift close
    and the B2MML export share. ``line`` is every workstation (starved and blocked need the neighbours); ``only``
    narrows the report to one of them."""
    return oee_classified(conn, [only] if only else line, shifts, zone, start, end, setup_of(conn, config, line))
