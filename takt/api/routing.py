"""Route matching in time that does not grow with the number of routes a request does not go to.

Starlette picks a request's route by trying every route in order until one matches: each try runs the route's
regular expression (and FastAPI's bookkeeping around it). With the node's 150-odd routes, a command route behind a
hundred others cost every request a hundred tries: under load, a sixth of the time the HTTP thread held the GIL.

Two measures, neither of which changes which route wins:

- :func:`guard_by_prefix` gives every plain route a cheap first test: the literal start of its path (everything
  before the first ``{parameter}``; for a route without parameters the whole path) must begin the request's path, or
  the route cannot match and answers "no" at once. A route the guard turns away is one whose regular expression
  could not have matched: Starlette anchors the expression and escapes the literal parts.
- :func:`index_routes` keeps the router's list but lets the router's matching loop walk only the routes whose literal
  prefix agrees with the request's first path segments (:class:`IndexedRoutes`), in their original order, so the
  first full match and the first partial one (405) are those of the whole list. Every other walk over the list
  (Starlette's trailing-slash redirect, the 405 handler's ``Allow`` header, the OpenAPI document) sees every route:
  the candidates are handed out once per request, to the first walk, which in Starlette and FastAPI is the matching
  loop. Mounts and other routes without a literal path are candidates for every request.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, SupportsIndex

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

DEPTH = 3  # path segments the index looks at ("api", "v1", "stock")

_MATCHING: ContextVar[str | None] = ContextVar("takt_route_matching", default=None)


def literal_prefix(path_format: str) -> str:
    """The part of a route's path before its first parameter (the whole path when it has none)."""
    return path_format.split("{", 1)[0]


def guard_by_prefix(routes: Iterable[BaseRoute]) -> int:
    """Give each Route and WebSocketRoute the literal-prefix first test; returns how many were guarded."""
    guarded = 0
    for route in routes:
        if not isinstance(route, Route | WebSocketRoute) or getattr(route, "_takt_guarded", False):
            continue
        _guard(route)
        guarded += 1
    return guarded


def _guard(route: Route | WebSocketRoute) -> None:
    prefix = literal_prefix(route.path_format)
    exact = prefix == route.path_format  # no parameters: the path itself must be the route's path
    full_match = route.matches  # the bound method of the route's class (FastAPI's, for an APIRoute)

    def matches(scope: Scope) -> tuple[Match, Scope]:
        path = get_route_path(scope)
        if (path != prefix) if exact else not path.startswith(prefix):
            return Match.NONE, {}
        return full_match(scope)

    route_any: Any = route
    route_any.matches = matches
    route_any._takt_guarded = True


def _key(route: BaseRoute) -> tuple[str, ...]:
    """The whole path segments every path the route matches begins with (at most DEPTH); () for any path."""
    if not isinstance(route, Route | WebSocketRoute):
        return ()
    prefix = literal_prefix(route.path_format)
    parts = prefix.split("/")[1:]  # "/api/v1/lots/" → ["api", "v1", "lots", ""]
    if prefix != route.path_format:  # a parameter follows: the last part may be cut off inside a segment
        parts = parts[:-1]
    return tuple(parts[:DEPTH])


def path_key(path: str) -> tuple[str, ...]:
    return tuple(path.split("/")[1:DEPTH + 1])


class IndexedRoutes(list[BaseRoute]):
    """The router's route list; the first walk after :func:`matching` set a path gets only that path's candidates."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        super().__init__(routes)
        self._reindex()

    def _reindex(self) -> None:
        by_key: dict[tuple[str, ...], list[int]] = {}
        for i, route in enumerate(list.__iter__(self)):
            by_key.setdefault(_key(route), []).append(i)
        routes = list(list.__iter__(self))

        @lru_cache(maxsize=2048)
        def candidates(key: tuple[str, ...]) -> tuple[BaseRoute, ...]:
            found: list[int] = []
            for depth in range(len(key) + 1):
                found.extend(by_key.get(key[:depth], ()))
            return tuple(routes[i] for i in sorted(found))

        self._candidates = candidates
        self._indexed_len = len(routes)

    def candidates(self, path: str) -> tuple[BaseRoute, ...]:
        if len(self) != self._indexed_len:  # routes were added after the app was built
            self._reindex()
        return self._candidates(path_key(path))

    def __iter__(self) -> Iterator[BaseRoute]:
        path = _MATCHING.get()
        if path is None:
            return list.__iter__(self)
        _MATCHING.set(None)  # once: the matching loop; any later walk in this request sees every route
        return iter(self.candidates(path))

    # the list changing in place (not by length) also renews the index
    def __setitem__(self, index: Any, value: Any) -> None:
        list.__setitem__(self, index, value)
        self._reindex()

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        list.__delitem__(self, index)
        self._reindex()


def index_routes(router: Any) -> None:
    """Make ``router`` (an app's Starlette/FastAPI router) match through :class:`IndexedRoutes`."""
    router.routes = IndexedRoutes(router.routes)
    inner: ASGIApp = router.middleware_stack

    async def matching(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await inner(scope, receive, send)
            return
        token = _MATCHING.set(get_route_path(scope))
        try:
            await inner(scope, receive, send)
        finally:
            _MATCHING.reset(token)

    router.middleware_stack = matching
