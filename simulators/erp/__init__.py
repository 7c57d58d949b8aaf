"""The central ERP simulator: an HTTP service with its own database that stands in for the central systems
(ERP, MRP, APS, PLM, SRM, CRM, QMS) behind the sync protocol of :mod:`erp_sync.protocol`.

``create_app(ErpSimConfig(...))`` builds the ASGI app; :func:`running_erp_sim` runs one in a thread on a free
port for tests and benchmarks.
"""
from __future__ import annotations

from simulators.erp.app import ErpSimConfig, ErpSimulator, create_app
from simulators.erp.faults import Faults, FaultSettings, RejectRule
from simulators.erp.runner import RunningErpSim, running_erp_sim

__all__ = ["ErpSimConfig", "ErpSimulator", "FaultSettings", "Faults", "RejectRule", "RunningErpSim", "create_app",
           "running_erp_sim"]
