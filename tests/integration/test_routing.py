"""Route matching through the literal-prefix guard and the index (takt.api.routing) picks the same route as
Starlette's walk over every route with its full match, for every path the app serves, a path one character off,
and the trailing-slash variants Starlette redirects; and requests over the wire still reach their routes."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute

from takt.api.routing import IndexedRoutes, literal_prefix
from tests.integration.conftest import TOKENS, RunningNode

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _winner(routes: Sequence[BaseRoute], scope: dict[str, Any], *, guarded: bool
            ) -> tuple[BaseRoute, Match] | None:
    """The route Starlette's router would hand the request to, and how it matched (first full, else first partial)."""
    partial: tuple[BaseRoute, Match] | None = None
    for route in routes:
        match, _ = route.matches(scope) if guarded else type(route).matches(route, scope)
        if match is Match.FULL:
            return route, match
        if match is Match.PARTIAL and partial is None:
            partial = (route, match)
    return partial


def _paths(path_format: str) -> list[str]:
    filled = re.sub(r"\{[^}]+\}", "x1", path_format)
    return [filled, filled + "/", filled.rstrip("/") or "/", filled[:-1] or "/", filled + "x", "/api/v1" + filled]


def test_the_guard_and_the_index_pick_the_route_the_full_walk_picks_for_every_path(node: RunningNode) -> None:
    app: Any = node.server.config.app
    indexed = app.router.routes
    assert isinstance(indexed, IndexedRoutes)
    routes = list(indexed)  # no request is being matched here: every route
    plain = [r for r in routes if isinstance(r, Route | WebSocketRoute)]
    assert len(plain) > 100 and all(getattr(r, "_takt_guarded", False) for r in plain)
    checked, fewer = 0, 0
    for route in plain:
        for path in _paths(route.path_format):
            candidates = indexed.candidates(path)
            fewer += len(candidates) < len(routes) // 2
            for method in METHODS:
                scope = {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}
                expected = _winner(routes, scope, guarded=False)
                assert _winner(candidates, scope, guarded=True) == expected, (method, path)
                assert _winner(routes, scope, guarded=True) == expected, (method, path)
                checked += 1
    assert checked > 1000
    assert fewer > checked // len(METHODS) // 2  # the index narrows most paths to a small part of the routes


def test_literal_prefix() -> None:
    assert literal_prefix("/api/v1/stock/moves") == "/api/v1/stock/moves"
    assert literal_prefix("/api/v1/lots/{lot}/genealogy") == "/api/v1/lots/"
    assert literal_prefix("/{path:path}") == "/"


def test_a_route_added_after_the_app_was_built_is_found(node: RunningNode) -> None:
    app: Any = node.server.config.app

    async def probe(thing: str) -> dict[str, str]:
        return {"thing": thing}

    app.add_api_route("/api/v1/routing-probe/{thing}", probe, methods=["GET"])

    assert httpx.get(f"{node.url}/api/v1/routing-probe/x").json() == {"thing": "x"}
    assert httpx.post(f"{node.url}/api/v1/routing-probe/x").status_code == 405  # a partial match as before


def test_a_command_behind_a_hundred_routes_is_still_answered(node: RunningNode) -> None:
    r = httpx.post(f"{node.url}/api/v1/items", json={"item": "R-1", "description": "routing", "unit": "pcs",
                                                              "revision": "A"},
                   headers={"Authorization": f"Bearer {TOKENS['admin']}", "Idempotency-Key": "routing-1"})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{node.url}/api/v1/items/", json={}, headers={"Authorization": f"Bearer {TOKENS['admin']}"})
    assert r.status_code in (307, 404, 405)  # a trailing slash is Starlette's business as before, never a 2xx
