"""Electronic signatures over HTTP (issue 17): a signature is a journal event naming the signer, the meaning and the
events it signs by sequence number and chain hash; it needs the PIN again; a signed record is superseded, never
changed; the audit trail shows who did what to a subject with the signatures over each event."""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from edge.store import schema
from edge.store.verify import verify
from simulators.api_review import DEMO_TOKENS
from tests.e2e.conftest import demo_node
from tests.integration.conftest import RunningNode

PIN = {"X-Takt-Pin": "2468"}  # priya's (quality), config/demo.yaml


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    site, running = demo_node(tmp_path_factory.mktemp("signatures") / "data")
    yield running
    running.stop()
    site.stop()


def as_demo(node: RunningNode, role: str) -> httpx.Client:
    """The demo user of ``role`` (priya for quality, who has a PIN), by the site's published token."""
    return httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {DEMO_TOKENS[role]}"})


def send(node: RunningNode, role: str, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    with as_demo(node, role) as client:
        return client.post(f"/api/v1{path}", json=body, headers={"Idempotency-Key": secrets.token_hex(8), **headers})


def read(node: RunningNode, role: str, path: str, **params: str) -> httpx.Response:
    with as_demo(node, role) as client:
        return client.get(f"/api/v1{path}", params=params)


def journal(node: RunningNode, seq: int) -> Any:
    with node.store.engine.connect() as conn:
        return conn.execute(select(schema.journal).where(schema.journal.c.seq == seq)).one()


@pytest.mark.slow
def test_signatures_are_journal_events_that_need_the_pin_and_cannot_be_changed(demo: RunningNode) -> None:
    # a disposition signed inline: the signature signs the disposition's own events by seq and chain hash
    raised = send(demo, "quality", "/nonconformances", {"ncr": "NCR-9", "description": "porosity", "lot": "H-2231"})
    assert raised.status_code == 201, raised.text
    signed = send(demo, "quality", "/nonconformances/NCR-9/disposition", {"disposition": "scrap"},
                  **PIN, **{"X-Takt-Device": "QA-PC-1"})
    assert signed.status_code == 201, signed.text
    *decided, signature = signed.json()["events"]
    assert signature["type"] == "RecordsSigned"
    row = journal(demo, signature["seq"])
    payload = json.loads(row.payload)
    assert (payload["signer"], payload["signer_name"], payload["meaning"]) == ("priya", "Priya Raman", "approved")
    assert [(r["seq"], r["hash"]) for r in payload["records"]] == [
        (ev["seq"], journal(demo, ev["seq"]).chain_hash) for ev in decided]
    assert all(len(r["hash"]) == 64 for r in payload["records"])

    # signing recorded events: the PIN again (a wrong one is counted), events that exist, as the signer saw them
    raise_seq = raised.json()["events"][0]["seq"]
    body = {"events": [{"seq": raise_seq}], "meaning": "reviewed", "comment": "seen on the floor"}
    missing = send(demo, "quality", "/signatures", body)
    assert (missing.status_code, missing.json()["code"], missing.json()["field"]) == (
        422, "SIGNATURE_REQUIRED", "X-Takt-Pin")
    wrong = send(demo, "quality", "/signatures", body, **{"X-Takt-Pin": "1111"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "SIGNATURE_INVALID")
    unknown = send(demo, "quality", "/signatures", {**body, "events": [{"seq": 10**9}]}, **PIN)
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["field"]) == (
        409, "UNKNOWN_RECORD", "events[0].seq")
    changed = send(demo, "quality", "/signatures", {**body, "events": [{"seq": raise_seq, "hash": "0" * 64}]}, **PIN)
    assert (changed.status_code, changed.json()["code"]) == (409, "RECORD_CHANGED")
    meaning = send(demo, "quality", "/signatures", {**body, "meaning": "okayed"}, **PIN)
    assert (meaning.status_code, meaning.json()["code"], meaning.json()["field"]) == (422, "INVALID_MEANING", "meaning")
    assert send(demo, "operator", "/signatures", body, **{"X-Takt-Pin": "1234"}).status_code == 403
    reviewed = send(demo, "quality", "/signatures", {**body, "events": [
        {"seq": raise_seq, "hash": journal(demo, raise_seq).chain_hash}]}, **PIN)
    assert reviewed.status_code == 201, reviewed.text

    # a plan whose verdicts are signed: an inspection by it needs the PIN
    plan = {"plan": "IP-SEAL", "description": "Seal check", "signed": True,
            "characteristics": [{"characteristic": "leak", "kind": "attribute"}]}
    defined = send(demo, "quality", "/inspection-plans", plan)
    assert defined.status_code == 201, defined.text
    inspection = {"inspection": "I-SEAL-1", "plan": "IP-SEAL", "lot": "H-2231",
                  "measurements": [{"characteristic": "leak", "passed": True}]}
    unsigned = send(demo, "quality", "/inspections", inspection)
    assert (unsigned.status_code, unsigned.json()["code"]) == (422, "SIGNATURE_REQUIRED")
    verdict = send(demo, "quality", "/inspections", inspection, **PIN, **{"X-Takt-Signature-Meaning": "released"})
    assert [ev["type"] for ev in verdict.json()["events"]] == ["InspectionRecorded", "RecordsSigned"]

    # the plan's definition approved: it is superseded by a signed definition, never changed
    plan_seq = defined.json()["events"][0]["seq"]
    approved = send(demo, "quality", "/signatures", {"events": [{"seq": plan_seq}], "meaning": "approved"}, **PIN)
    sig_id = json.loads(journal(demo, approved.json()["events"][0]["seq"]).payload)["signature"]
    changed_plan = send(demo, "quality", "/inspection-plans", {**plan, "description": "Seal check v2"})
    assert (changed_plan.status_code, changed_plan.json()["code"]) == (409, "RECORD_SIGNED")
    assert sig_id in changed_plan.json()["message"]
    superseded = send(demo, "quality", "/inspection-plans", {**plan, "description": "Seal check v2"}, **PIN,
                      **{"X-Takt-Supersedes": sig_id})
    assert superseded.status_code == 201, superseded.text

    # the audit trail of the NCR: in order, who, from which device, with the signatures over each event
    assert read(demo, "operator", "/audit", subject="ncr:NCR-9").status_code == 403
    trail = read(demo, "quality", "/audit", subject="ncr:NCR-9")
    assert trail.status_code == 200, trail.text
    events = trail.json()["events"]
    assert [ev["type"] for ev in events] == ["NonconformanceRaised", "NonconformanceDispositioned"]
    assert [[(s["meaning"], s["signer_name"]) for s in ev["signatures"]] for ev in events] == [
        [("reviewed", "Priya Raman")], [("approved", "Priya Raman")]]
    assert events[1]["device"] == "QA-PC-1" and events[1]["recorded_by"] == "priya"
    assert events[0]["signatures"][0]["comment"] == "seen on the floor"

    # the signatures of the day, the first one superseded
    today = datetime.now(UTC).date().isoformat()
    day = read(demo, "quality", "/signatures", day=today).json()["signatures"]
    assert [s["meaning"] for s in day][:5] == ["approved", "reviewed", "released", "approved", "approved"]
    assert day[3]["superseded_by"] == day[4]["signature"] and day[4]["supersedes"] == sig_id

    # where the site's policy names a decision, everyone who books it signs it (read per request)
    app: Any = demo.server.config.app
    app.state.signatures_required = frozenset({"operation_completion"})
    try:
        assert send(demo, "operator", "/work-orders/WO-1003/operations/10/start", {}).status_code == 201
        unsigned_completion = send(demo, "operator", "/work-orders/WO-1003/operations/10/complete", {})
        assert (unsigned_completion.status_code, unsigned_completion.json()["code"]) == (422, "SIGNATURE_REQUIRED")
        completed = send(demo, "operator", "/work-orders/WO-1003/operations/10/complete", {},
                         **{"X-Takt-Pin": "1234"})  # anna's
        assert completed.status_code == 201, completed.text
        [completion_signature] = [ev for ev in completed.json()["events"] if ev["type"] == "RecordsSigned"]
        assert json.loads(journal(demo, completion_signature["seq"]).payload)["meaning"] == "released"
    finally:
        app.state.signatures_required = frozenset()

    # the signatures replay: the journal alone gives the same signatures table, and the chain holds
    report = verify(demo.store)
    assert report.differences == [] and report.chain is not None and report.chain.breaks == []

    # a restarted node knows the signed records: loaded from the signatures' history table as from the events
    loaded = demo.store.load_state()
    assert loaded.signed["inspection_plan:IP-SEAL"].signature == day[4]["signature"]
    assert (loaded.signed, loaded.superseded) == (demo.service.state.signed, demo.service.state.superseded)

    # wrong PINs at signing count toward the failed-logon limits (5 by default): the signer is locked out
    for _ in range(5):
        assert send(demo, "quality", "/signatures", body, **{"X-Takt-Pin": "1111"}).json()["code"] == "SIGNATURE_INVALID"
    locked = send(demo, "quality", "/signatures", body, **PIN)
    assert (locked.status_code, locked.json()["code"]) == (429, "PIN_LOCKED") and "Retry-After" in locked.headers
