"""The line-side pages the node serves itself: a terminal per workstation, the handheld and the supervisor's line
view (server-rendered HTML with small scripts; badge logon; every change through the API)."""
from __future__ import annotations

from takt.pages.views import routes

__all__ = ["routes"]
