"""Downtime over the HTTP API: a machine's reason tree (frequent reasons first), its stops classified from the state
history, a reason given by the operator and re-classified by a supervisor (with why), the reliability figures and
Pareto, and OEE over the classified stops. Bad input is refused naming the field and changes nothing."""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from edge.store import Store, sqlite_url
from edge.store.schema import reason_trees, stop_reasons, sync_exceptions
from edge.store.verify import compare, replay_into
from erp_sync.client import CentralClient
from erp_sync.pull import Puller
from simulators.erp import running_erp_sim
from takt.config.downtime import DowntimeSection
from tests.integration.conftest import RunningNode, start_node

BASE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
DOWNTIME = DowntimeSection.model_validate({
    "micro_stop_s": 60,
    "reason_trees": [{"name": "cell", "workstations": ["WS-10", "WS-20"], "reasons": [
        {"code": "mechanical", "text": {"en": "Mechanical", "nl": "Mechanisch"}, "children": [
            {"code": "conveyor", "text": {"en": "Conveyor", "nl": "Transportband"}, "children": [
                {"code": "belt_jam", "text": {"en": "Belt jam", "nl": "Band vast"}, "maintenance": True}]}]},
        {"code": "sensor", "text": {"en": "Sensor", "nl": "Sensor"}},
        {"code": "break", "text": {"en": "Break", "nl": "Pauze"}, "planned": True}]}]})


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/edge.sqlite")
    app: Any = running.server.config.app  # the site file's sections this needs
    stations = [SimpleNamespace(workstation=ws, downtime_prompt_s=120) for ws in ("WS-10", "WS-20")]
    app.state.node.config = SimpleNamespace(site=SimpleNamespace(workstations=stations, timezone="UTC", shifts=[]),
                                            downtime=DOWNTIME, connectivity=SimpleNamespace(machines=[]))
    for eq, ws in (("M1", "WS-10"), ("M2", "WS-20")):
        assert running.post("service", "/equipment", {"equipment": eq, "workstation": ws}).status_code == 201
    for eq, state, hours in (("M1", "running", 0), ("M2", "running", 0), ("M1", "down", 1), ("M2", "idle", 1.02),
                             ("M1", "running", 2), ("M2", "running", 2.01), ("M1", "down", 3),
                             ("M1", "running", 3 + 30 / 3600)):
        r = running.client("service").put(f"/api/v1/equipment/{eq}/state", json={"state": state, "since": at(hours)},
                                          headers={"Idempotency-Key": f"{eq}-{hours}"})
        assert r.status_code == 201, r.text
    yield running
    running.stop()


def stops(node: RunningNode, **params: str) -> list[dict[str, Any]]:
    r = node.client("operator").get("/api/v1/downtime/stops", params={"from": at(0), "to": at(24), **params})
    assert r.status_code == 200, r.text
    return list(r.json()["stops"])


def test_stops_reasons_and_reliability(node: RunningNode) -> None:
    got = [(s["equipment"], s["start"], s["kind"], s["reason"], s["seconds"]) for s in stops(node)]
    assert got == [("M1", at(1).replace("Z", "+00:00"), "stop", None, 3600.0),
                   ("M1", at(3).replace("Z", "+00:00"), "micro_stop", None, 30.0),
                   ("M2", at(1.02).replace("Z", "+00:00"), "starved", None, 3564.0)]
    tree = node.client("operator").get("/api/v1/equipment/M1/reason-tree", params={"lang": "nl"}).json()
    assert tree["name"] == "cell" and tree["frequent"] == [] and tree["micro_stop_s"] == 60
    assert tree["reasons"][0]["text"] == "Mechanisch"
    assert tree["reasons"][0]["children"][0]["children"][0] == {
        "code": "belt_jam", "text": "Band vast", "texts": {"en": "Belt jam", "nl": "Band vast"}, "planned": False,
        "loss": "availability", "maintenance": True, "plc_codes": []}

    before = node.journal_count()
    for body, status, code, field in (
            ({"stop_start": at(1), "reason": "nonsense"}, 409, "UNKNOWN_REASON", "reason"),
            ({"stop_start": at(1.5), "reason": "belt_jam"}, 404, "UNKNOWN_STOP", "stop_start"),
            ({"reason": "belt_jam"}, 404, "UNKNOWN_STOP", "stop_start"),  # M1 runs now: no stop to book
            ({"stop_start": "2026-01-01T00:00:00", "reason": "belt_jam"}, 422, None, None)):
        r = node.post("operator", "/equipment/M1/stops/reason", body)
        assert r.status_code == status, r.text
        if code:
            assert (r.json()["code"], r.json()["field"]) == (code, field)
    assert node.journal_count() == before
    assert node.post("operator", "/equipment/M1/stops/reason", {"stop_start": at(1), "reason": "belt_jam"}
                     ).status_code == 201
    first = stops(node, equipment="M1")[0]
    assert (first["reason"], first["maintenance"], first["loss"]) == ("belt_jam", True, "availability")
    tree = node.client("operator").get("/api/v1/equipment/M1/reason-tree").json()
    assert [f["code"] for f in tree["frequent"]] == ["belt_jam"]
    assert tree["frequent"][0]["path"] == ["mechanical", "conveyor"]

    # re-classified afterwards: by a supervisor only, and with why
    body = {"stop_start": at(1), "reason": "sensor", "why": "the belt was fine; the sensor was dirty"}
    assert node.post("operator", "/equipment/M1/stops/reclassify", body).status_code == 403
    r = node.post("supervisor", "/equipment/M1/stops/reclassify", {**body, "why": ""})
    assert r.status_code == 422 and "why" in r.text
    assert node.post("supervisor", "/equipment/M1/stops/reclassify", body).status_code == 201
    assert stops(node, equipment="M1")[0]["reason"] == "sensor"
    with node.store.engine.connect() as conn:  # recorded with who and why
        rows = conn.execute(select(stop_reasons.c.kind, stop_reasons.c.reason, stop_reasons.c.previous,
                                   stop_reasons.c.actor, stop_reasons.c.why).order_by(stop_reasons.c.seq)).all()
    assert [tuple(r) for r in rows] == [("given", "belt_jam", None, "operator1", None),
                                        ("reclassified", "sensor", "belt_jam", "supervisor1", body["why"])]

    r = node.client("supervisor").get("/api/v1/downtime/reliability",
                                      params={"equipment": "M1", "from": at(0), "to": at(24)})
    assert r.status_code == 200, r.text
    [m1] = r.json()["machines"]
    assert (m1["failures"], m1["downtime_s"], m1["mttr_s"], m1["mtbf_s"]) == (1, 3600, 3600, 23 * 3600)
    assert m1["reasons"] == [{"reason": "sensor", "failures": 1, "downtime_s": 3600, "uptime_s": 23 * 3600,
                              "mtbf_s": 23 * 3600, "mttr_s": 3600, "availability": round(23 / 24, 5)}]
    assert [(b["reason"], b["stops"]) for b in r.json()["pareto"]] == [("sensor", 1), ("micro_stop", 1)]
    assert r.json()["slow_cycles"] == [{"workstation": "WS-10", "reports": 0, "slow": 0, "lost_minutes": 0.0}]

    oee = node.client("supervisor").get("/api/v1/oee", params={"from": at(0), "to": at(24)}).json()
    trees = {w["workstation"]: w["loss_tree"] for w in oee["workstations"]}
    day = next(w for w in oee["workstations"] if w["workstation"] == "WS-10")["shifts"][0]
    assert day["micro_stop_minutes"] == 0.5 and day["slow_cycle_minutes"] == day["run_minutes"] - 0.5  # none made
    assert trees["WS-10"] == {"down": {"sensor": 60.0}, "micro_stop": {"-": 0.5}}
    assert set(trees["WS-20"]) == {"starved"}

    for params, status in (({"equipment": "M9"}, 404), ({"workstation": "WS-99"}, 404), ({"kind": "broken"}, 422),
                           ({"from": at(0), "to": at(-1)}, 422)):
        assert node.client("operator").get("/api/v1/downtime/stops", params=params).status_code == status


ERP_TOKEN = "token-node-d-0000000"


def test_a_reason_tree_from_the_erp_through_the_pull(node: RunningNode, tmp_path: Path) -> None:
    """The ERP (the central simulator) sends a tree for WS-10: the pull records it and M1 asks on it; a broken tree
    is refused at the edge naming the field, and the node keeps the one it had."""
    tree = {"name": "press", "workstations": ["WS-10"], "reasons": [
        {"code": "hydraulics", "text": {"en": "Hydraulics", "nl": "Hydrauliek"}, "children": [
            {"code": "oil_leak", "text": {"en": "Oil leak", "nl": "Olielek"}, "maintenance": True,
             "plc_codes": [7]}]},
        {"code": "die_change", "text": {"en": "Die change", "nl": "Matrijswissel"}, "planned": True}]}
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", {ERP_TOKEN: "test-node"}) as sim:
        sim.call("PUT", "/central/v1/reason-trees", tree)
        applied = asyncio.run(_pull(node, sim.url))
        assert applied.applied >= 1 and not applied.refused, applied
        broken = {**tree, "reasons": [{"code": "x", "text": {"nl": "alleen Nederlands"}}]}
        sim.call("PUT", "/central/v1/reason-trees", broken)
        refused = asyncio.run(_pull(node, sim.url))
        assert refused.refused == 1, refused
    m1 = node.client("operator").get("/api/v1/equipment/M1/reason-tree", params={"lang": "nl"}).json()
    assert m1["name"] == "press" and [r["text"] for r in m1["reasons"]] == ["Hydrauliek", "Matrijswissel"]
    assert m1["reasons"][0]["children"][0]["maintenance"] is True
    m2 = node.client("operator").get("/api/v1/equipment/M2/reason-tree").json()
    assert m2["name"] == "cell"  # WS-20 keeps the site file's tree
    with node.store.engine.connect() as conn:
        row = conn.execute(select(sync_exceptions.c.code, sync_exceptions.c.message)).first()
    assert row is not None and row.code == "INVALID_REASON_TREE" and "needs an English text" in row.message
    # the journal replayed into an empty store gives the same trees (and decisions on stops)
    replayed = Store(sqlite_url(tmp_path))  # beside edge.sqlite
    replayed.migrate()
    replay_into(node.store, replayed)
    assert compare(node.store, replayed) == []
    with replayed.engine.connect() as conn:
        assert [r.name for r in conn.execute(select(reason_trees.c.name))] == ["press"]
    replayed.close()


async def _pull(node: RunningNode, url: str) -> Any:
    async with CentralClient(url, ERP_TOKEN, "test-node", timeout_s=5) as client:
        return await Puller(node.service, client).pull()


def test_the_b2mml_oee_export_gives_the_classified_figures_of_get_oee(node: RunningNode) -> None:
    """M1's hour stop booked to a planned reason (out of planned time) and its micro-stop (performance, not
    availability), M2 starved: the B2MML export's figures are GET /api/v1/oee's, not the raw state history's."""
    assert node.post("operator", "/equipment/M1/stops/reason", {"stop_start": at(1), "reason": "break"}
                     ).status_code == 201
    period = {"from": at(0), "to": at(24)}
    oee = node.client("supervisor").get("/api/v1/oee", params=period).json()
    r = node.client("service").get("/api/v1/b2mml/oee", params=period)
    assert r.status_code == 200, r.text
    v0600 = "{http://www.mesa.org/xml/B2MML-V0600}"
    exported = {}
    for pr in ET.fromstring(r.content).iter(f"{v0600}ProductionResponse"):
        figures = {d.findtext(f"{v0600}ID"): d.findtext(f"{v0600}Value/{v0600}ValueString")
                   for d in pr.iter(f"{v0600}ProductionData")}
        exported[pr.findtext(f"{v0600}ID", "").split("/")[1]] = figures
    for ws in oee["workstations"]:
        [day] = ws["shifts"]
        figures = exported[ws["workstation"]]
        assert (figures["PlannedMinutes"], figures["RunMinutes"], figures["Availability"], figures["OEE"]) == (
            f"{day['planned_minutes']:.3f}", f"{day['run_minutes']:.3f}", f"{day['availability']:.4f}",
            f"{day['oee']:.4f}"), ws["workstation"]
    m1 = next(w for w in oee["workstations"] if w["workstation"] == "WS-10")["shifts"][0]
    assert m1["planned_minutes"] == 23 * 60 and m1["availability"] == 1.0  # the break is out of planned time
