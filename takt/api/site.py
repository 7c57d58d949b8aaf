"""The site file of the node that serves a request: ``None`` for a bare node (a store served without a site file,
as some tests and benchmarks serve one)."""
from __future__ import annotations

from fastapi import Request

from takt.config import TaktConfig


def site_config(request: Request) -> TaktConfig | None:
    """The serving node's site configuration (``takt.runtime.Node.config``), read when the request comes."""
    config: TaktConfig | None = getattr(request.app.state.node, "config", None)
    return config
