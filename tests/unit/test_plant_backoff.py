"""Busy answers and their back-off: the wait a central side asks for is read from its headers, honoured with jitter
by the one retry policy, and handed out fairly by the central simulator's admission (refused nodes first)."""
from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from tenacity import RetryCallState

from edge.retry import RetryPolicy, wait_hinted
from erp_sync.client import MAX_RETRY_AFTER_S, CentralBusy, retry_after
from simulators.erp.admission import Admission, Busy


def test_retry_after_prefers_milliseconds_then_seconds_then_a_date() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "3", "Retry-After-Ms": "250"})) == 0.25
    assert retry_after(httpx.Headers({"Retry-After": "3"})) == 3.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 18 <= (retry_after(httpx.Headers({"Retry-After": soon})) or 0) <= 20
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=20), usegmt=True)
    assert retry_after(httpx.Headers({"Retry-After": past})) == 0.0
    assert retry_after(httpx.Headers({"Retry-After": "86400"})) == MAX_RETRY_AFTER_S  # bounded
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx.Headers({"Retry-After": "-1"})) is None
    assert retry_after(httpx.Headers({})) is None


def _state(failure: BaseException, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(failure), failure, None))
    return state


def test_the_hinted_wait_honours_the_servers_word_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(attempts=10, initial_s=0.1, maximum_s=5.0, jitter_s=0.1,
                         hint=lambda e: e.retry_after_s if isinstance(e, CentralBusy) else None, hint_spread=0.25)
    wait = policy._wait()
    assert isinstance(wait, wait_hinted)
    waits = [wait(_state(CentralBusy(503, 2.0, "busy"))) for _ in range(200)]
    assert all(2.0 <= w <= 2.5 for w in waits)
    assert len({round(w, 3) for w in waits}) > 50  # jittered: the nodes told the same do not come back in step
    assert wait(_state(CentralBusy(503, 60.0, "busy"))) == 5.0  # never past the policy's maximum
    # a failure that names no wait: the policy's own exponential backoff
    fallback = [wait(_state(RuntimeError("x"), attempt=n)) for n in (1, 3)]
    assert 0.1 <= fallback[0] <= 0.21 and 0.4 <= fallback[1] <= 0.51


def test_a_busy_answer_is_sent_again_and_other_failures_are_not() -> None:
    policy = RetryPolicy(attempts=4, initial_s=0.001, maximum_s=0.05,
                         hint=lambda e: e.retry_after_s if isinstance(e, CentralBusy) else None)
    calls: list[int] = []

    async def twice_busy() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise CentralBusy(429, 0.01, "busy")
        return "stored"

    assert asyncio.run(policy.call(twice_busy, CentralBusy)) == "stored" and len(calls) == 3

    async def always_busy() -> str:
        raise CentralBusy(503, 0.001, "busy")

    with pytest.raises(CentralBusy):  # bounded: the daemon's backoff takes over
        asyncio.run(policy.call(always_busy, CentralBusy))


def test_busy_answers_are_waited_out_for_a_time_not_a_count() -> None:
    """A busy plant tells a node to come back often: the tries are bounded by time, not by their number."""
    policy = RetryPolicy(attempts=100_000, initial_s=0.001, maximum_s=1.0, within_s=0.3,
                         hint=lambda e: e.retry_after_s if isinstance(e, CentralBusy) else None)
    tries: list[float] = []

    async def always_busy() -> str:
        tries.append(time.monotonic())
        raise CentralBusy(503, 0.02, "busy")

    with pytest.raises(CentralBusy):
        asyncio.run(policy.call(always_busy, CentralBusy))
    assert 0.3 <= tries[-1] - tries[0] < 0.6 and len(tries) > 5


def test_admission_refuses_at_once_past_the_limit_and_frees_the_slot() -> None:
    gate = Admission(2)
    a, b = gate.enter("a"), gate.enter("b")
    with pytest.raises(Busy) as busy:
        gate.enter("c")
    assert busy.value.status == 503 and busy.value.headers["Retry-After"] == "1"
    assert int(busy.value.headers["Retry-After-Ms"]) >= 50
    gate.leave("a", a)
    assert gate.enter("c") and gate.in_flight == 2
    gate.leave("b", b)
    assert gate.refused == {"c": 1}


def test_a_node_has_one_batch_at_a_time_a_second_is_429() -> None:
    gate = Admission(4)
    started = gate.enter("a")
    with pytest.raises(Busy) as busy:
        gate.enter("a")
    assert busy.value.status == 429 and busy.value.code == "TOO_MANY_REQUESTS"
    gate.leave("a", started)
    gate.enter("a")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The admission's clock, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr("simulators.erp.admission.time.monotonic", lambda: now[0])
    return now


def test_a_freed_slot_goes_to_the_node_refused_first_not_to_the_one_just_served(clock: list[float]) -> None:
    gate = Admission(1)  # a batch takes 0.2 s as far as it knows yet
    held = gate.enter("fast")
    told = []
    for node in ("slow-1", "slow-2"):
        with pytest.raises(Busy) as busy:
            gate.enter(node)
        told.append(busy.value.retry_after_s)
    assert told == [pytest.approx(0.2), pytest.approx(0.4)]  # when their turns should come
    clock[0] += 0.2
    gate.leave("fast", held)
    with pytest.raises(Busy) as busy:  # the fast node comes straight back: the slot is kept for slow-1, due now
        gate.enter("fast")
    assert busy.value.waiting == 3
    with pytest.raises(Busy):  # slow-2 is not first either
        gate.enter("slow-2")
    first = gate.enter("slow-1")
    clock[0] += 0.2
    gate.leave("slow-1", first)
    gate.leave("slow-2", gate.enter("slow-2"))
    assert gate.enter("fast")


def test_a_slot_is_not_kept_idle_for_a_node_told_to_come_later_than_a_batch_takes(clock: list[float]) -> None:
    gate = Admission(1)
    held = gate.enter("a")
    with pytest.raises(Busy) as told:
        gate.enter("b")
    clock[0] += 0.5
    gate.leave("a", held)  # a's batch took longer than expected; b comes back (0.2 s was its word) and gets it
    assert told.value.retry_after_s == pytest.approx(0.2)
    held = gate.enter("b")
    with pytest.raises(Busy) as later:
        gate.enter("c")  # told when b's batch should end, a batch's time from now
    gate.leave("b", held)  # b's ended at once: c is due later than a batch's time from now, the slot does not wait
    assert later.value.retry_after_s > gate._service_s  # noqa: SLF001
    assert gate.enter("d")


def test_a_slot_its_waiting_node_is_late_for_goes_to_whoever_asks(clock: list[float]) -> None:
    gate = Admission(1)  # a batch takes 0.2 s as far as it knows yet
    held = gate.enter("fast")
    with pytest.raises(Busy) as told:
        gate.enter("slow")
    assert told.value.retry_after_s == pytest.approx(0.2)  # when "fast"'s batch should be done
    gate.leave("fast", held)
    clock[0] += 0.25
    with pytest.raises(Busy):  # held for "slow", told 0.2 s: it may be late by half a batch's time (0.1 s) ...
        gate.enter("fast")
    clock[0] += 0.1
    assert gate.enter("fast")  # ... and is later: the slot does not stay idle


def test_the_wait_told_grows_with_the_place_among_the_waiting() -> None:
    gate = Admission(1, min_retry_s=0.01)
    gate.enter("x")
    hints = []
    for node in ("n1", "n2", "n3"):
        with pytest.raises(Busy) as busy:
            gate.enter(node)
        hints.append(busy.value.retry_after_s)
    assert hints[0] < hints[1] < hints[2]


def test_a_waiting_node_that_never_comes_back_loses_its_place(clock: list[float]) -> None:
    gate = Admission(1)
    gate.enter("x")
    with pytest.raises(Busy):
        gate.enter("gone")
    clock[0] += 60
    with pytest.raises(Busy) as busy:
        gate.enter("late")
    assert busy.value.waiting == 1  # only "late": "gone" did not come back within its patience


def test_the_limit_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_ingest must be at least 1"):
        Admission(0)
