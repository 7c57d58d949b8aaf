"""Takt edge node: the shop-floor MES + WMS that runs beside a line or a warehouse area."""

__version__ = "0.1.0"
