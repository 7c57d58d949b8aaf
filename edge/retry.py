"""The one bounded-retry policy of the product (tenacity): how many tries, how long between them, on what.

Every place that tries an operation again a bounded number of times (a store read after a failed commit, a command
while the store is briefly away, a Modbus request, a Tryton call that hit a lock, a whole Tryton booking after a lost
answer, ...) names a :class:`RetryPolicy` and runs through it, instead of writing its own ``for attempt in range``
loop. An unbounded restart of a supervised task is not a retry: it keeps :class:`edge.backoff.Backoff`.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

_T = TypeVar("_T")

log = logging.getLogger(__name__)


class wait_hinted(wait_base):  # noqa: N801  (named like tenacity's own waits)
    """The wait a failure asks for itself (a server's ``Retry-After``), stretched by a random share of up to
    ``spread`` so that the many clients told the same do not come back in step; the ``fallback`` wait when the
    failure names none. Never over ``maximum_s``."""

    def __init__(self, hint: Callable[[BaseException], float | None], fallback: wait_base, *, spread: float,
                 maximum_s: float) -> None:
        self.hint, self.fallback, self.spread, self.maximum_s = hint, fallback, spread, maximum_s

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome is not None else None
        asked = self.hint(failure) if failure is not None else None
        if asked is None:
            return float(self.fallback(retry_state))
        return min(self.maximum_s, max(0.0, asked) * random.uniform(1.0, 1.0 + self.spread))


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all (the first included); waits start at ``initial_s`` and double up to
    ``maximum_s`` (with up to ``jitter_s`` of random extra, so that many clients do not retry in step).

    With ``hint``, a failure may name its own wait (``hint(failure)`` in seconds, None when it names none): a
    server's ``Retry-After``. That wait is honoured, stretched by up to ``hint_spread`` (a share of it) at random.
    With ``within_s``, the tries also stop once that long has passed since the first (whichever comes first)."""

    attempts: int
    initial_s: float
    maximum_s: float
    jitter_s: float = 0.0
    hint: Callable[[BaseException], float | None] | None = None
    hint_spread: float = 0.25
    within_s: float | None = None  # and no new attempt past this many seconds from the first

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"a retry policy needs at least one attempt, not {self.attempts}")
        if self.initial_s < 0 or self.maximum_s < self.initial_s:
            raise ValueError(f"retry waits must be 0 <= initial ({self.initial_s}) <= maximum ({self.maximum_s})")

    def _stop(self) -> stop_base:
        if self.within_s is None:
            return stop_after_attempt(self.attempts)
        return stop_after_attempt(self.attempts) | stop_after_delay(self.within_s)

    def _wait(self) -> wait_base:
        if self.jitter_s > 0:
            wait: wait_base = wait_exponential_jitter(initial=self.initial_s, max=self.maximum_s, jitter=self.jitter_s)
        else:
            wait = wait_exponential(multiplier=self.initial_s, min=self.initial_s, max=self.maximum_s)
        if self.hint is not None:
            return wait_hinted(self.hint, wait, spread=self.hint_spread, maximum_s=self.maximum_s)
        return wait

    def retrying(self, *on: type[BaseException], what: str = "") -> Retrying:
        """A synchronous ``for attempt in policy.retrying(Error): with attempt: ...`` loop; the last failure is
        raised as itself once the attempts are used up."""
        return Retrying(stop=self._stop(), wait=self._wait(),
                        retry=retry_if_exception_type(on or (Exception,)), reraise=True,
                        before_sleep=_log_before_sleep(what))

    def async_retrying(self, *on: type[BaseException], what: str = "") -> AsyncRetrying:
        """The same as :meth:`retrying` for ``async for attempt in ...: with attempt: ...``."""
        return AsyncRetrying(stop=self._stop(), wait=self._wait(),
                             retry=retry_if_exception_type(on or (Exception,)), reraise=True,
                             before_sleep=_log_before_sleep(what))

    async def call(self, attempt: Callable[[], Awaitable[_T]], *on: type[BaseException], what: str = "") -> _T:
        """``await attempt()`` until it returns, retrying on ``on``; the last failure is raised as itself."""
        async for tried in self.async_retrying(*on, what=what):
            with tried:
                return await attempt()
        raise AssertionError("unreachable")  # pragma: no cover  (reraise=True raises the last failure)


def _log_before_sleep(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        if not what:
            return
        failure = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.info("%s failed (attempt %d): %s; trying again in %.2f s", what, state.attempt_number, failure, wait)

    return before_sleep
