"""Segregation of duties over HTTP (issue 15): a supervisor's own large count waits for a second supervisor, the
counter never approves, incoming samples only by the roles the policy names, use as is signed by two."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edge.store import sqlite_url
from edge.store.users import save_user
from takt.config import parse_config
from takt.runtime import Node
from tests.integration.conftest import TOKENS, RunningNode, start_node

ROOT = Path(__file__).resolve().parents[2]
SECOND = {"supervisor": "test-supervisor-two-token-0", "quality": "test-quality-two-token-00000"}


def _second(node: RunningNode, role: str) -> httpx.Client:
    save_user(node.store, f"{role}2", f"Second {role}", [role], SECOND[role], pin="1357")
    return httpx.Client(base_url=node.url, timeout=30, headers={"Authorization": f"Bearer {SECOND[role]}",
                                                                  "Idempotency-Key": secrets.token_hex(8)})


@pytest.fixture
def site(tmp_path: Path) -> Iterator[RunningNode]:
    demo = (ROOT / "config" / "demo.yaml").read_text()
    text = demo.replace("\nwarehouse:\n", "\nwarehouse:\n  count_approval_pct: 5\n")
    node = Node(parse_config(text, "demo+warehouse.yaml", base_dir=ROOT / "config"), data_dir=tmp_path).start()
    running = start_node("", site=node)
    yield running
    running.stop()
    node.stop()


def test_a_supervisors_own_large_count_needs_a_second_supervisor(site: RunningNode) -> None:
    large = site.post("supervisor", "/stock/adjustments", {"lot": "L118", "bin": "A-02-3", "counted": "30",
                                                           "reason": "cycle count"})
    assert large.status_code == 201 and [e["type"] for e in large.json()["events"]] == ["CountAwaitsApproval"]
    own = site.post("supervisor", "/stock/counts/decision", {"lot": "L118", "bin": "A-02-3", "approve": True})
    assert (own.status_code, own.json()["code"]) == (409, "SECOND_PERSON_REQUIRED"), own.text
    with _second(site, "supervisor") as other:
        approved = other.post("/api/v1/stock/counts/decision", json={"lot": "L118", "bin": "A-02-3",
                                                                     "approve": True})
    assert approved.status_code == 201, approved.text
    moves = site.client("supervisor").get("/api/v1/lots/L118/moves").json()["moves"]
    assert "count by supervisor1 approved by supervisor2" in moves[-1]["reason"]


def test_use_as_is_is_signed_by_two_quality_users(site: RunningNode) -> None:
    save_user(site.store, "quality1", "Test quality", ["quality"], TOKENS["quality"], pin="2468")
    assert site.post("quality", "/nonconformances", {"ncr": "NCR-9", "description": "scratch",
                                                     "lot": "H-2232"}).status_code == 201
    # use as is: a justification signed with the PIN (issue 21), by two quality users
    justified = {"disposition": "use_as_is", "comment": "scratch inside the cosmetic limit"}
    first = site.client("quality").post("/api/v1/nonconformances/NCR-9/disposition", json=justified,
                                        headers={"Idempotency-Key": "uai-1", "X-Takt-Pin": "2468"})
    assert first.status_code == 201 and [e["type"] for e in first.json()["events"]] == ["DispositionProposed",
                                                                                       "RecordsSigned"]
    again = site.client("quality").post("/api/v1/nonconformances/NCR-9/disposition", json=justified,
                                        headers={"Idempotency-Key": "uai-2", "X-Takt-Pin": "2468"})
    assert (again.status_code, again.json()["code"]) == (409, "SECOND_SIGNATURE_REQUIRED"), again.text
    ncrs = site.client("quality").get("/api/v1/nonconformances").json()["nonconformances"]
    assert [(n["status"], n["proposed_disposition"], n["proposed_by"]) for n in ncrs if n["ncr"] == "NCR-9"] == [
        ("open", "use_as_is", "quality1")]
    with _second(site, "quality") as other:
        signed = other.post("/api/v1/nonconformances/NCR-9/disposition", json=justified,
                            headers={"X-Takt-Pin": "1357"})
    assert signed.status_code == 201, signed.text
    ncrs = site.client("quality").get("/api/v1/nonconformances").json()["nonconformances"]
    assert [(n["status"], n["dispositioned_by"], n["countersigned_by"]) for n in ncrs if n["ncr"] == "NCR-9"] == [
        ("closed", "quality1", "quality2")]


def test_incoming_samples_only_by_quality_and_receiving(tmp_path: Path) -> None:
    node = start_node(sqlite_url(tmp_path))
    try:
        assert node.post("service", "/items", {"item": "SCREW", "unit": "pcs", "revision": "A"}).status_code == 201
        assert node.post("service", "/bins", {"bin": "RECV", "zone": "receiving"}).status_code == 201
        plan = {"plan": "INC", "kind": "incoming", "item": "SCREW", "sample_size": 1,
                "characteristics": [{"characteristic": "finish", "kind": "attribute"}]}
        assert node.post("quality", "/inspection-plans", plan).status_code == 201
        assert node.post("warehouse", "/lots", {"lot": "S1", "item": "SCREW", "quantity": "60",
                                                "bin": "RECV"}).status_code == 201
        sample = {"plan": "INC", "lot": "S1", "measurements": [{"characteristic": "finish", "passed": True}]}
        for role in ("operator", "supervisor"):
            r = node.post(role, "/inspections", {"inspection": f"I-{role}", **sample})
            assert (r.status_code, r.json()["code"]) == (409, "ROLE_REQUIRED"), r.text
        assert node.post("warehouse", "/inspections", {"inspection": "I-1", **sample}).status_code == 201
    finally:
        node.stop()
