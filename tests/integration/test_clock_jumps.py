"""Clock jumps: the wall clock going back or leaping ahead changes no ordering, no idempotency, and no duration the
node measures; the jump is found, logged once, recorded (``ClockJumped``), flagged on the events it touches and
shown in ``/health`` and ``takt doctor``.

The clocks here are stand-ins, on purpose: a test cannot move the machine's clock (and must not), so the service
gets a wall clock and a steady clock that the test moves (``Service(clock=..., steady_clock=...)``); everything
else (the store, the write path, the HTTP API, the doctor) is the real one.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from edge.domain import commands as c
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.verify import verify
from takt.cli import app
from tests.integration.conftest import TOKENS, start_node

ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}  # /health details need a token

ROLES = frozenset({"admin", "supervisor", "operator"})


class Clocks:
    """A wall clock and a steady clock the test moves: ``wait`` moves both, ``set_wall`` only the wall clock."""

    def __init__(self) -> None:
        self.wall_now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
        self.steady_now = 5000.0

    def wall(self) -> datetime:
        return self.wall_now

    def steady(self) -> float:
        return self.steady_now

    def wait(self, seconds: float) -> None:
        self.wall_now += timedelta(seconds=seconds)
        self.steady_now += seconds

    def set_wall(self, delta: timedelta) -> None:
        self.wall_now += delta


class Site:
    def __init__(self, store: Store, service: Service) -> None:
        self.store, self.service, self.node_id = store, service, "clock-node"
        self.n = 0

    def do(self, command: type[c.Command], **fields: Any) -> c.Command:
        self.n += 1
        cmd = command(idempotency_key=f"k-{self.n}", actor="sup1", actor_roles=ROLES, **fields)
        self.service.handle(cmd)
        return cmd


def _started(folder: Path, clocks: Clocks) -> tuple[Store, Service]:
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(sqlite_url(folder))
    store.migrate()
    service = Service(store, store.node_id("clock-node"), clock=clocks.wall, steady_clock=clocks.steady).start()
    return store, service


def _seed(site: Site) -> None:
    site.do(c.DefineItem, item="P-1", description="pump", unit="pcs", revision="A")
    site.do(c.DefineEquipment, equipment="PRESS-1", workstation="WS-1")
    site.do(c.ReleaseWorkOrder, work_order="WO-1", item="P-1", item_revision="A", bom_revision="1",
            quantity=Decimal(10), operations=(c.OperationSpec(operation=10, description="press", workstation="WS-1"),))
    site.do(c.StartOperation, work_order="WO-1", operation=10)
    site.do(c.SetMachineState, equipment="PRESS-1", state="running")
    site.do(c.ClockOnLabour, operator="anna", work_order="WO-1", operation=10)


def _journal(store: Store) -> list[tuple[int, str, str, datetime]]:
    return [(e.seq, e.type, e.idempotency_key, e.recorded_at) for e in store.journal()]


@pytest.mark.parametrize("jump", [timedelta(hours=-1), timedelta(hours=2)], ids=["back", "ahead"])
def test_a_jump_keeps_order_idempotency_and_durations(tmp_path: Path, jump: timedelta,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    clocks = Clocks()
    store, service = _started(tmp_path, clocks)
    site = Site(store, service)
    try:
        _seed(site)  # anna clocked on and PRESS-1 running at 10:00
        clocks.wait(30 * 60)
        before = site.do(c.DefineItem, item="P-2", description="before the jump", unit="pcs", revision="A")
        clocks.set_wall(jump)  # someone sets the clock (or NTP steps it) while the node runs
        clocks.wait(10 * 60)
        with caplog.at_level(logging.WARNING, logger="takt.service"):
            site.do(c.DefineItem, item="P-3", description="after the jump", unit="pcs", revision="A")
            clocks.wait(60)
            site.do(c.DefineItem, item="P-4", description="later", unit="pcs", revision="A")
        jumped = [r for r in caplog.records if "wall clock jumped" in r.getMessage()]
        assert len(jumped) == 1, "the jump is logged once"
        assert jumped[0].clock_jump_s == pytest.approx(jump.total_seconds())  # type: ignore[attr-defined]

        # idempotency: a command sent before the jump, sent again after it, is the same command (replayed)
        again = service.handle(before)
        assert again.replayed
        off = service.handle(c.ClockOffLabour(idempotency_key="off", actor="sup1", actor_roles=ROLES, operator="anna",
                                              work_order="WO-1", operation=10))
        down = service.handle(c.SetMachineState(idempotency_key="down", actor="sup1", actor_roles=ROLES,
                                                equipment="PRESS-1", state="down", reason="jam"))
        service.handle(c.CompleteOperation(idempotency_key="done", actor="sup1", actor_roles=ROLES, work_order="WO-1",
                                           operation=10))
        status = service.clock_watch.status(clocks.wall())
    finally:
        service.stop()

    journal = _journal(store)
    seqs = [seq for seq, *_ in journal]
    assert seqs == list(range(1, len(journal) + 1)), "seq counts on whatever the wall clock does"
    recorded = [at for *_, at in journal]
    assert (recorded != sorted(recorded)) == (jump < timedelta(0)), "the wall times do go back with the clock"
    jumps = [row for row in journal if row[1] == "ClockJumped"]
    assert len(jumps) == 1, "recorded once"
    assert journal[jumps[0][0]][2] == "k-8", "recorded right before the command that found it (P-3)"
    assert len([k for _, _, k, _ in journal if k == before.idempotency_key]) == 1

    # durations are the time that really passed: 30 min + 10 min + 1 min between clock-on and clock-off
    labour = store.history("labour_records")
    assert len(labour) == 1 and labour[0]["minutes"] == Decimal("41.00"), labour
    off_event = next(e.event() for e in store.journal() if e.type == "LabourClockedOff")
    assert off_event.clock_jump_s == Decimal(str(jump.total_seconds())), "the closed interval is flagged"  # type: ignore[attr-defined]
    assert off.events[0]["type"] == "LabourClockedOff"
    machine = next(e.event() for e in store.journal() if e.type == "MachineStateChanged" and e.seq > jumps[0][0])
    assert machine.since - machine.previous_since == timedelta(minutes=41)  # type: ignore[attr-defined]
    assert machine.clock_jump_s == Decimal(str(jump.total_seconds()))  # type: ignore[attr-defined]
    assert down.events[0]["type"] == "MachineStateChanged"
    op = store.load_state().operations[("WO-1", 10)]
    assert op.completed_at is not None and op.started_at is not None
    assert op.completed_at - op.started_at == timedelta(minutes=41), "the operation's run time is the real one"
    # replaying the journal gives the same state (the jump moves the open intervals in the replay too)
    report = verify(store)
    assert report.ok, report.differences[:3]
    assert status["jumps"] == 1 and status["last_jump"]["jump_s"] == jump.total_seconds()  # type: ignore[index]
    store.close()


def test_no_jump_no_flag_and_a_restart_keeps_the_moved_interval(tmp_path: Path) -> None:
    clocks = Clocks()
    store, service = _started(tmp_path, clocks)
    site = Site(store, service)
    _seed(site)
    clocks.wait(600)  # ten minutes: no jump, however long the pause between commands
    site.do(c.DefineItem, item="P-2", description="x", unit="pcs", revision="A")
    assert service.clock_watch.jumps == 0
    clocks.wait(0.4)
    clocks.set_wall(timedelta(seconds=0.5))  # below the threshold: NTP-sized corrections are not jumps
    site.do(c.DefineItem, item="P-3", description="x", unit="pcs", revision="A")
    assert service.clock_watch.jumps == 0
    clocks.set_wall(timedelta(minutes=-20))
    site.do(c.DefineItem, item="P-4", description="x", unit="pcs", revision="A")
    service.stop()  # the node restarts after the jump, before anna clocks off
    clocks.wait(300)
    service = Service(store, "clock-node", clock=clocks.wall, steady_clock=clocks.steady).start()
    try:
        service.handle(c.ClockOffLabour(idempotency_key="off", actor="sup1", actor_roles=ROLES, operator="anna",
                                        work_order="WO-1", operation=10))
    finally:
        service.stop()
    labour = store.history("labour_records")
    assert labour[0]["minutes"] == Decimal("15.01"), labour  # 10 min + 0.4 s + 0.5 s + 5 min, the jump taken out
    assert verify(store).ok
    store.close()


def test_health_and_doctor_show_a_jump(tmp_path: Path) -> None:
    clocks = Clocks()
    store, service = _started(tmp_path / "node", clocks)
    running = start_node("", site=Site(store, service))
    try:
        health = httpx.get(f"{running.url}/health", headers=ADMIN).json()
        assert health["clock"]["jumps"] == 0 and health["clock"]["last_jump"] is None
        clocks.set_wall(timedelta(hours=3))
        assert httpx.get(f"{running.url}/health", headers=ADMIN).json()["clock"]["unrecorded_drift_s"] == 3 * 3600
        service.handle(c.DefineItem(idempotency_key="x", actor="sup1", actor_roles=ROLES, item="X", description="x",
                                    unit="pcs", revision="A"))
        clock = httpx.get(f"{running.url}/health", headers=ADMIN).json()["clock"]
        assert clock["jumps"] == 1 and clock["last_jump"]["jump_s"] == 3 * 3600 and clock["unrecorded_drift_s"] == 0
    finally:
        running.stop()
    store.close()
    site = tmp_path / "site.yaml"
    site.write_text(f"node: {{id: clock-node, data_dir: {tmp_path / 'node'}}}\n"
                    "site: {enterprise: acme, site: eindhoven, area: a1, line: l1}\n")
    out = CliRunner().invoke(app, ["doctor", "--config", str(site), "--timeout", "1"])
    line = next(s for s in out.output.splitlines() if "clock jumps:" in s)
    assert "1 jump of the wall clock recorded; the last +10800.0 s" in line
    # recorded (as the node's clock said) in 2026-11-20, more than 7 days before the real now? then it is history
    assert line.startswith("PROBLEM" if datetime.now(UTC) - clocks.wall_now < timedelta(days=7) else "ok")


def test_doctor_shows_a_jump_on_postgresql(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = Clocks()
    clocks.wall_now = datetime.now(UTC)  # recorded now: the doctor counts it as recent
    store = Store(postgres_url)
    store.migrate()
    service = Service(store, store.node_id("clock-node"), clock=clocks.wall, steady_clock=clocks.steady).start()
    try:
        clocks.set_wall(timedelta(seconds=-90))
        service.handle(c.DefineItem(idempotency_key="x", actor="sup1", actor_roles=ROLES, item="X", description="x",
                                    unit="pcs", revision="A"))
    finally:
        service.stop()
        store.close()
    monkeypatch.setenv("CLOCK_TEST_DB", postgres_url)
    site = tmp_path / "site.yaml"
    site.write_text("node: {id: clock-node, database_url_env: CLOCK_TEST_DB}\n"
                    "site: {enterprise: acme, site: eindhoven, area: a1, line: l1}\n")
    out = CliRunner().invoke(app, ["doctor", "--config", str(site), "--timeout", "1"])
    line = next(s for s in out.output.splitlines() if "clock jumps:" in s)
    assert line.startswith("PROBLEM") and "1 jump of the wall clock recorded; the last -90.0 s" in line, out.output


def test_the_real_clock_is_watched_and_a_clock_of_ones_own_is_its_own_steady_clock(tmp_path: Path) -> None:
    from edge.clock import steady_seconds

    store = Store(sqlite_url(tmp_path))
    store.migrate()
    try:
        assert Service(store, "n").clock_watch.steady is steady_seconds  # utc_now against CLOCK_BOOTTIME
        clocks = Clocks()
        service = Service(store, "n", clock=clocks.wall).start()  # a test's or simulation's clock, moved at will
        try:
            clocks.set_wall(timedelta(days=60))
            service.handle(c.DefineItem(idempotency_key="x", actor="sup1", actor_roles=ROLES, item="X",
                                        description="x", unit="pcs", revision="A"))
        finally:
            service.stop()
        assert [e.type for e in store.journal()] == ["ItemDefined"]
    finally:
        store.close()
