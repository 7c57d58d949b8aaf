"""The demo's central systems: the ERP simulator started beside a demo node, knowing what the demo site knows.

``takt demo`` runs one in-process (SQLite in the demo's folder) and gives the node a ``sync`` section that points
at it, so the demo shows the whole loop: what the floor records reaches the ERP (see
``/central/v1/work-orders/WO-1001`` on the simulator), and what a planner releases there reaches the floor.
The simulator is told the site's items, workstations and released work orders as the ERP that sent them.
"""
from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from erp_sync.config import SyncSection
from takt.config import TaktConfig

if TYPE_CHECKING:  # the simulator (uvicorn, FastAPI, httpx) is imported when a demo starts one
    from simulators.erp.runner import RunningErpSim


def _quantity(value: Decimal) -> str:
    return format(value, "f")


def start_demo_erp(cfg: TaktConfig, database_file: Path) -> tuple[RunningErpSim, TaktConfig]:
    """Start the simulator on ``database_file`` and return it (``.url``, ``.stop()``) with ``cfg`` given a sync
    section towards it. A new central database is told the site's master data; a kept one already knows it."""
    from simulators.erp.app import ErpSimConfig  # imported when used (see above)
    from simulators.erp.runner import start_erp_sim

    token = f"demo-sync-{secrets.token_hex(12)}"
    admin = f"demo-erp-admin-{secrets.token_hex(12)}"
    known = database_file.exists()
    sim = start_erp_sim(ErpSimConfig(database_url=f"sqlite:///{database_file}", node_tokens={token: cfg.node.id},
                                     admin_token=admin))
    try:
        md = cfg.master_data if not known else cfg.master_data.model_copy(
            update={"items": [], "work_orders": [], "equipment": []})
        for it in md.items:
            sim.call("PUT", "/central/v1/items", {"item": it.item, "description": it.description, "unit": it.unit,
                                                  "revision": it.revision, "lot_controlled": it.lot_controlled,
                                                  "gtin": it.gtin})
        for ws in cfg.site.workstations if not known else []:
            sim.call("PUT", "/central/v1/workstations", {
                "workstation": ws.workstation, "node": cfg.node.id, "labour_rate": "45", "machine_rate": "30",
                "equipment": [e.equipment for e in md.equipment if e.workstation == ws.workstation]})
        for wo in md.work_orders:
            sim.call("POST", "/central/v1/work-orders", {
                "work_order": wo.work_order, "item": wo.item, "quantity": _quantity(wo.quantity),
                "due": wo.due.isoformat() if wo.due else None, "customer_order": wo.customer_order,
                "bom_revision": wo.bom_revision,
                "overproduction_tolerance_pct": _quantity(wo.overproduction_tolerance_pct),
                "operations": [{"operation": o.operation, "description": o.description, "workstation": o.workstation,
                                "standard_minutes": _quantity(o.standard_minutes)} for o in wo.operations],
                "bom": [{"line": b.line, "item": b.item, "item_revision": b.item_revision,
                         "quantity_per": _quantity(b.quantity_per)} for b in wo.bom]})
    except BaseException:
        sim.stop()
        raise
    section = SyncSection(central_url=sim.url, token=token, push_interval_s=1.0, pull_interval_s=5.0)
    return sim, cfg.model_copy(update={"sync": section})
