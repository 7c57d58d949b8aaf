"""Route matching in time that does not grow with the number of routes a request does not go to.

Starlette picks a request's route by trying every route in order until one matches: each try runs the route's
regular expression (and FastAPI's bookkeeping around it). With the node's 150-odd routes, a command route behind a
hundred others cost every request a hundred tries, about a tenth of the HTTP thread's time under load.

:func:`guard_by_prefix` gives every plain route a cheap first test: the literal start of its path (everything before
the first ``{parameter}``) must begin the request's path, or the route cannot match and answers "no" at once.
Which route wins is unchanged: a route the guard turns away is one whose regular expression could not have matched
(Starlette anchors the expression and escapes the literal parts), and the others are tried as before, in order.
Mounts keep their own matching.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import Scope


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
