"""The literal-prefix guard on the node's routes (takt.api.routing) picks the same route as Starlette's full match for
every path the app serves, a path one character off, and the trailing-slash variants Starlette redirects."""
from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute

from takt.api.routing import literal_prefix
from tests.integration.conftest import TOKENS, RunningNode

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _winner(routes: list[BaseRoute], scope: dict[str, Any], *, guarded: bool) -> tuple[int, Match] | None:
    """The index and kind of the route Starlette's router would hand the request to (first full, else first partial)."""
    partial: tuple[int, Match] | None = None
    for i, route in enumerate(routes):
        match, _ = route.matches(scope) if guarded else type(route).matches(route, scope)
        if match is Match.FULL:
            return i, match
        if match is Match.PARTIAL and partial is None:
            partial = (i, match)
    return partial


def _paths(path_format: str) -> list[str]:
    filled = re.sub(r"\{[^}]+\}", "x1", path_format)
    return [filled, filled + "/", filled.rstrip("/") or "/", filled[:-1] or "/", filled + "x", "/api/v1" + filled]


def test_the_guard_picks_the_route_the_full_match_picks_for_every_path(node: RunningNode) -> None:
    app: Any = node.server.config.app
    routes = list(app.router.routes)
    plain = [r for r in routes if isinstance(r, Route | WebSocketRoute)]
    assert len(plain) > 100 and all(getattr(r, "_takt_guarded", False) for r in plain)
    checked = 0
    for route in plain:
        for path in _paths(route.path_format):
            for method in METHODS:
                scope = {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}
                assert _winner(routes, scope, guarded=True) == _winner(routes, scope, guarded=False), (method, path)
                checked += 1
    assert checked > 1000


def test_literal_prefix() -> None:
    assert literal_prefix("/api/v1/stock/moves") == "/api/v1/stock/moves"
    assert literal_prefix("/api/v1/lots/{lot}/genealogy") == "/api/v1/lots/"
    assert literal_prefix("/{path:path}") == "/"


def test_a_command_behind_a_hundred_routes_is_still_answered(node: RunningNode) -> None:
    r = httpx.post(f"{node.url}/api/v1/items", json={"item": "R-1", "description": "routing", "unit": "pcs",
                                                              "revision": "A"},
                   headers={"Authorization": f"Bearer {TOKENS['admin']}", "Idempotency-Key": "routing-1"})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{node.url}/api/v1/items/", json={}, headers={"Authorization": f"Bearer {TOKENS['admin']}"})
    assert r.status_code in (307, 404, 405)  # a trailing slash is Starlette's business as before, never a 2xx
