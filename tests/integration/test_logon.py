"""Logon that a plant accepts (issue 15), over HTTP against real nodes: a badge is its own code, never the user
name; roles that change records of others always need their PIN; unknown badge and wrong PIN get one answer;
failed logons are limited per user and terminal, per terminal and per user everywhere, answered with 429 and
Retry-After, logged with the client address, and the limits survive a restart; only the ERP sync marks ERP origin.

A second client address is a second source address on the loopback (127.0.0.2, ...), which Linux routes to the
node on 127.0.0.1 like another terminal on the plant network."""
from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from edge.store import Store, schema, sqlite_url
from edge.store.logons import FailedLogons, LogonLimits
from edge.store.users import save_user
from tests.e2e.conftest import demo_node
from tests.integration.conftest import TOKENS, RunningNode, start_node
from tests.integration.old_stores import store_at_rev0001

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningNode]:
    site, running = demo_node(tmp_path / "data")
    yield running
    running.stop()
    site.stop()


def logon(node: RunningNode, source: str = "127.0.0.1", **body: Any) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.post(f"{node.url}/api/v1/sessions", json=body)


def set_limits(node: RunningNode, limits: LogonLimits) -> None:
    """The node's limits for this test (before its first logon: the app keeps the counts it made from them)."""
    app: Any = node.server.config.app
    app.state.logon_limits = limits


def test_a_user_name_is_not_a_badge_and_the_admin_needs_the_pin(demo: RunningNode) -> None:
    # the review's reproducer: {"badge": "admin"} gave a 12 h admin token
    for body in ({"badge": "admin"}, {"badge": "BADGE:admin"}, {"badge": "admin", "pin": "8642"}):
        refused = logon(demo, **body)
        assert refused.status_code == 401 and "token" not in refused.json(), (body, refused.text)
    # the admin's badge is its card number; without the PIN it is refused too
    assert logon(demo, badge="BADGE:4711").json()["code"] == "PIN_REQUIRED"
    assert logon(demo, badge="BADGE:4711", pin="0000").json()["code"] == "PIN_WRONG"
    session = logon(demo, badge="BADGE:4711", pin="8642")
    assert session.status_code == 201 and session.json()["roles"] == ["admin"]
    # a warehouse badge without a PIN still logs on alone (no records of others to change)
    assert logon(demo, badge="BADGE:wim").status_code == 201


def test_a_privileged_user_without_a_pin_cannot_log_on_at_a_page(tmp_path: Path) -> None:
    """A supervisor in the store with a badge but no PIN (the site file refuses that; an older store or a user the
    ERP changed may still hold it): the badge alone is not enough, and no PIN is right."""
    node = start_node(f"sqlite:///{tmp_path}/store.sqlite")
    try:
        save_user(node.store, "sv", "Supervisor", ["supervisor"], "sv-token-000000000000", badge="C-100")
        save_user(node.store, "op", "Operator", ["operator"], "op-token-000000000000", badge="C-200")
        assert logon(node, badge="C-100").json()["code"] == "PIN_REQUIRED"
        for pin in ("0000", "123456", ""):
            answer = logon(node, badge="C-100", pin=pin or "x")
            assert answer.status_code == 401 and answer.json()["code"] == "PIN_WRONG"
        assert logon(node, badge="C-200").status_code == 201  # an operator may go without one
        assert logon(node, badge="sv").json()["code"] == "PIN_REQUIRED"  # the user name is no badge
    finally:
        node.stop()


def test_unknown_badge_and_wrong_pin_get_one_answer_in_similar_time(demo: RunningNode) -> None:
    set_limits(demo, LogonLimits(failures_per_account=100, failures_per_client=1000))
    unknown_no_pin, known_no_pin = logon(demo, badge="BADGE:zoe"), logon(demo, badge="BADGE:priya")
    assert (unknown_no_pin.status_code, unknown_no_pin.json()) == (known_no_pin.status_code, known_no_pin.json())
    times: dict[str, list[float]] = {"unknown": [], "wrong": []}
    answers: dict[str, set[tuple[int, str]]] = {"unknown": set(), "wrong": set()}
    for i in range(7):
        for kind, badge in (("unknown", f"BADGE:nobody{i}"), ("wrong", "BADGE:priya")):
            started = time.perf_counter()
            r = logon(demo, badge=badge, pin="9753")
            times[kind].append(time.perf_counter() - started)
            answers[kind].add((r.status_code, r.text))
    assert answers["unknown"] == answers["wrong"] and len(answers["wrong"]) == 1
    status, body = answers["wrong"].pop()
    assert status == 401 and "priya" not in body.lower()
    ratio = statistics.median(times["unknown"]) / statistics.median(times["wrong"])
    assert 0.6 < ratio < 1.6, (ratio, times)  # both pay a scrypt for the badge and one for the PIN


def test_one_terminal_cannot_lock_a_quality_inspector_out_of_the_others(demo: RunningNode,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="takt.logon")
    for _ in range(5):
        assert logon(demo, badge="BADGE:priya", pin="1111").json()["code"] == "PIN_WRONG"
    locked = logon(demo, badge="BADGE:priya", pin="2468")
    assert (locked.status_code, locked.json()["code"]) == (429, "PIN_LOCKED")
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    # Priya at another terminal logs on as usual
    assert logon(demo, "127.0.0.2", badge="BADGE:priya", pin="2468").status_code == 201
    # an unknown badge is limited exactly like hers
    for _ in range(5):
        assert logon(demo, "127.0.0.2", badge="BADGE:ghost", pin="1111").json()["code"] == "PIN_WRONG"
    ghost = logon(demo, "127.0.0.2", badge="BADGE:ghost", pin="1111")
    assert (ghost.status_code, ghost.json()["code"]) == (429, "PIN_LOCKED")

    failures = [r for r in caplog.records if r.getMessage() == "logon failed"]
    assert {(getattr(r, "client", None), getattr(r, "user", None)) for r in failures} == {
        ("127.0.0.1", "priya"), ("127.0.0.2", None)}
    locks = [r for r in caplog.records if r.getMessage() == "logon locked"]
    assert {(getattr(r, "client", None), getattr(r, "lock", None)) for r in locks} == {
        ("127.0.0.1", "pair"), ("127.0.0.2", "pair")}
    # what a record says: its message and the fields it was given (not its clock: a PIN's digits turned up in the
    # float of a record's creation time now and then)
    stamps = {"created", "msecs", "relativeCreated", "thread", "process"}
    logged = "\n".join(f"{r.getMessage()} {({k: v for k, v in vars(r).items() if k not in stamps})}"
                       for r in caplog.records)
    for secret in ("2468", "1111", "BADGE:priya", "ghost"):
        assert secret not in logged


def test_a_guess_spread_over_terminals_locks_the_user_for_a_while_only(demo: RunningNode) -> None:
    for source in ("127.0.0.3", "127.0.0.3", "127.0.0.4", "127.0.0.4", "127.0.0.5"):  # 5 failures, 3 addresses
        assert logon(demo, source, badge="BADGE:joost", pin="0000").json()["code"] == "PIN_WRONG"
    everywhere = logon(demo, "127.0.0.6", badge="BADGE:joost", pin="1357")
    assert (everywhere.status_code, everywhere.json()["code"]) == (429, "PIN_LOCKED")
    assert int(everywhere.headers["Retry-After"]) <= 60  # the first lock; it ends by itself


def test_a_terminal_that_sprays_badges_is_locked_out_of_every_badge(demo: RunningNode) -> None:
    set_limits(demo, LogonLimits(failures_per_client=8))
    for i in range(8):
        assert logon(demo, "127.0.0.7", badge=f"BADGE:guess{i}", pin="1234").status_code == 401
    locked = logon(demo, "127.0.0.7", badge="BADGE:anna", pin="1234")
    assert (locked.status_code, locked.json()["code"]) == (429, "CLIENT_LOCKED")
    assert int(locked.headers["Retry-After"]) >= 1
    assert logon(demo, "127.0.0.8", badge="BADGE:anna", pin="1234").status_code == 201


def test_the_lock_and_its_retry_after_survive_a_restart_of_the_node(tmp_path: Path) -> None:
    site, node = demo_node(tmp_path / "data")
    try:
        for _ in range(5):
            assert logon(node, badge="BADGE:anna", pin="9999").json()["code"] == "PIN_WRONG"
        before = logon(node, badge="BADGE:anna", pin="1234")
        assert before.status_code == 429
    finally:
        node.stop()
        site.stop()
    site, node = demo_node(tmp_path / "data")  # the same store, a new process state
    try:
        after = logon(node, badge="BADGE:anna", pin="1234")
        assert (after.status_code, after.json()["code"]) == (429, "PIN_LOCKED")
        assert 1 <= int(after.headers["Retry-After"]) <= int(before.headers["Retry-After"])
    finally:
        node.stop()
        site.stop()


def test_a_wrong_signature_pin_counts_and_locks_like_a_logon(demo: RunningNode) -> None:
    token = logon(demo, badge="BADGE:priya", pin="2468").json()["token"]
    assert demo.post("quality", "/nonconformances", {"ncr": "NCR-9", "description": "burr",
                                                     "lot": "H-2231"}).status_code == 201
    headers = {"Authorization": f"Bearer {token}", "X-Takt-Pin": "1111"}
    for i in range(5):
        wrong = httpx.post(f"{demo.url}/api/v1/nonconformances/NCR-9/disposition", json={"disposition": "scrap"},
                           headers={**headers, "Idempotency-Key": f"sig-{i}"}, timeout=30)
        assert wrong.json()["code"] == "SIGNATURE_INVALID"
    locked = httpx.post(f"{demo.url}/api/v1/nonconformances/NCR-9/disposition", json={"disposition": "scrap"},
                        headers={**headers, "X-Takt-Pin": "2468", "Idempotency-Key": "sig-ok"}, timeout=30)
    assert (locked.status_code, locked.json()["code"]) == (429, "PIN_LOCKED") and "Retry-After" in locked.headers


def test_the_origin_header_is_refused_on_the_command_routes(demo: RunningNode) -> None:
    before = demo.journal_count()
    for header in ("erp", "edge"):
        r = demo.client("admin").post("/api/v1/stock/scrap", json={"lot": "L118", "bin": "A-02-3", "quantity": "1",
                                                                   "reason": "damaged"},
                                      headers={"Idempotency-Key": f"scrap-{header}", "X-Takt-Origin": header})
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (400, "ORIGIN_NOT_ACCEPTED", "X-Takt-Origin")
    assert demo.journal_count() == before
    service = httpx.post(f"{demo.url}/api/v1/items", json={"item": "NEW-1", "unit": "pcs", "revision": "A"},
                         headers={"Authorization": f"Bearer {TOKENS['service']}", "Idempotency-Key": "item-1",
                                  "X-Takt-Origin": "erp"}, timeout=30)
    assert service.status_code in (400, 403) and demo.journal_count() == before
    plain = demo.post("admin", "/stock/scrap", {"lot": "L118", "bin": "A-02-3", "quantity": "1", "reason": "damaged"})
    assert plain.status_code == 201
    [event] = demo.client("admin").get("/api/v1/journal", params={"after": before}).json()["events"]
    assert event["origin"] == "edge"


def takt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "takt.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_config_check_refuses_a_privileged_badge_without_pin_and_a_short_pin(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    (tmp_path / "sv.badge").write_text("C-4711\n")
    site.write_text(textwrap.dedent("""
        node: {id: n1, data_dir: data}
        site: {enterprise: acme, site: eindhoven, area: a1, line: l1}
        users:
          - {user: sv, name: Supervisor, roles: [supervisor], token: sv-token-000000000000, badge_file: sv.badge}
          - {user: qa, name: Quality, roles: [quality], token: qa-token-000000000000, badge: C-1, pin: "1234"}
          - {user: op, name: Operator, roles: [operator], token: op-token-000000000000, badge: C-2}
          - {user: api, name: Automation, roles: [admin], token: api-token-00000000000}
          - {user: plc, name: Line PLC, roles: [service], token: plc-token-00000000000, badge: C-3}
        """))
    result = takt("config", "check", str(site))
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "users[0]" in out and "needs a PIN" in out
    assert "users[1].pin" in out and "at least 6 characters" in out
    assert "users[2]" not in out and "users[3]" not in out  # an operator may go without; no badge, no page logon
    assert "users[4]" in out and "device account" in out
    assert "C-4711" not in out and "1234" not in out
    site.write_text(site.read_text().replace("badge_file: sv.badge}", "badge_file: sv.badge, pin: \"246813\"}")
                    .replace('pin: "1234"', 'pin: "135790"').replace(", badge: C-3}", "}"))
    fixed = takt("config", "check", str(site))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_an_upgraded_store_forgets_its_unsalted_pin_digests_and_takes_the_site_files_pins(tmp_path: Path) -> None:
    """A store of the first revision kept PINs as bare SHA-256 digests: the upgrade keeps the old column as it was,
    and the node's start empties it and hashes the site file's PINs with scrypt; the old PIN logs on again."""
    data = tmp_path / "data"
    data.mkdir()
    old, _ = store_at_rev0001(sqlite_url(data), tmp_path)
    with old.engine.connect() as conn:
        assert conn.execute(select(schema.users.c.pin_sha256).where(schema.users.c.user == "anna")).scalar()
    old.close()
    site, node = demo_node(data)
    try:
        with node.store.engine.connect() as conn:
            rows = {r.user: r for r in conn.execute(select(schema.users))}
        assert all(r.pin_sha256 is None for r in rows.values())
        assert rows["anna"].pin_hash.startswith("scrypt$") and "1234" not in rows["anna"].pin_hash
        assert logon(node, badge="BADGE:anna", pin="1234").status_code == 201
    finally:
        node.stop()
        site.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("postgres_url"))


def test_locks_double_up_to_the_longest_and_are_forgotten_after_a_quiet_spell(store_url: str) -> None:
    store = Store(store_url)
    store.migrate()
    try:
        counts = FailedLogons(store, LogonLimits(failures_per_account=2, lock_seconds=60, max_lock_seconds=200))
        t0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
        seen = []
        at = t0
        for _ in range(4):  # four locks of the same pair in a row
            assert counts.failed("10.0.0.5", "priya", at) == []
            [lock] = counts.failed("10.0.0.5", "priya", at)
            seen.append(lock.seconds)
            wait, scope = counts.locked_for("10.0.0.5", "priya", at)
            assert (round(wait), scope) == (lock.seconds, "pair")
            assert counts.locked_for("10.0.0.6", "priya", at)[0] == 0  # another terminal is not locked
            at += timedelta(seconds=lock.seconds)
        assert seen == [60, 120, 200, 200]
        assert counts.locked_for("10.0.0.5", "priya", at)[0] == 0  # each lock ends by itself
        at += timedelta(seconds=201)  # a quiet spell: the count starts again at the first lock
        counts.failed("10.0.0.5", "priya", at)
        [lock] = counts.failed("10.0.0.5", "priya", at)
        assert lock.seconds == 60
        counts.passed("10.0.0.5", "priya")  # the right PIN clears the pair
        assert counts.locked_for("10.0.0.5", "priya", at)[0] == 0
    finally:
        store.close()
