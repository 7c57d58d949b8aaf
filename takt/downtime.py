"""How this node classifies stops (edge.store.downtime.DowntimeSetup), from its site file: the line in the order
of ``site.workstations``, each machine's settings and reason tree (``downtime``), and the PLC reason texts of the
machines' state rules (``connectivity.machines``)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from edge.domain.downtime import Line, tree_for
from edge.store.downtime import DowntimeSetup, central_trees
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
