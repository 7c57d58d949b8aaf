"""Bearer-token authentication and role checks for the HTTP API.

Tokens are looked up by their SHA-256 digest in the users table; a small cache (a few seconds)
keeps that lookup off the hot path. ``admin`` may do everything; every other role only what a
route names.
"""
from __future__ import annotations

import asyncio
import time

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from edge.store import Store
from edge.store.users import User, user_by_token

CACHE_SECONDS = 5.0


class TokenCache:
    """Who a token belongs to, remembered for ``CACHE_SECONDS``. When a token's entry runs out, the requests that
    come with it meanwhile share one look-up (single flight) instead of each taking a thread and a database
    connection at the same moment: under load that burst held every request of the moment up."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, User | None]] = {}
        self._pending: dict[str, asyncio.Future[User | None]] = {}
        self._generation = 0  # clear() starts a new one: a look-up begun before it is not remembered

    async def user(self, token: str) -> User | None:
        hit = self._cache.get(token)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        pending = self._pending.get(token)
        if pending is None:
            pending = asyncio.ensure_future(run_in_threadpool(user_by_token, self.store, token))
            self._pending[token] = pending
            generation = self._generation
            pending.add_done_callback(lambda done: self._settle(token, done, generation, now))
        return await asyncio.shield(pending)  # a caller that goes away does not cancel the others' look-up

    def _settle(self, token: str, done: asyncio.Future[User | None], generation: int, asked: float) -> None:
        if self._pending.get(token) is done:
            del self._pending[token]
        if done.cancelled() or done.exception() is not None or generation != self._generation:
            return
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (asked + CACHE_SECONDS, done.result())

    def clear(self) -> None:
        self._cache.clear()
        self._pending.clear()
        self._generation += 1


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, {"code": "UNAUTHENTICATED", "message": message, "field": "Authorization"},
                         headers={"WWW-Authenticate": "Bearer"})


async def current_user(request: Request) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("send Authorization: Bearer <token>")
    cache: TokenCache = request.app.state.tokens
    user = await cache.user(token.strip())
    if user is None:
        raise _unauthorized("the token is not valid or its user is disabled")
    return user


def allowed_roles(*roles: str) -> frozenset[str]:
    return frozenset(roles) | {"admin"}


async def authorize(request: Request, allowed: frozenset[str]) -> User:
    """The signed-in user, if one of their roles is in ``allowed``; else 401 or 403."""
    user = await current_user(request)
    if not user.roles & allowed:
        raise HTTPException(403, {
            "code": "FORBIDDEN",
            "message": f"{user.user} has role(s) {', '.join(sorted(user.roles)) or 'none'}; "
                       f"this needs {' or '.join(sorted(allowed))}",
            "field": None,
        })
    return user
