"""The signatures and the audit trail in the store, on SQLite and PostgreSQL: the write path signs a command's events
by the seqs and chain hashes it gives them; the audit reads find each event's signatures; the state a restarted node
loads knows the signed records; the replay of the journal rebuilds the signatures table."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain.contexts.signatures import signature_id
from edge.service import Service
from edge.store import Store, sqlite_url
from edge.store.audit import audit_trail, records_by_seq, signatures
from edge.store.verify import verify

QA: dict[str, Any] = {"actor": "priya", "actor_roles": frozenset({"quality"})}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    made = Store(url)
    made.migrate()
    made.node_id("audit-node")
    try:
        yield made
    finally:
        made.close()


def _spec(key: str, meaning: str = "approved", supersedes: str | None = None) -> c.SignatureSpec:
    return c.SignatureSpec(signature=signature_id(key), signer_name="Priya Raman", meaning=meaning,
                           supersedes=supersedes)


def test_signatures_in_the_store_are_read_back_loaded_and_replayed(store: Store) -> None:
    with Service(store, "audit-node") as service:
        defined = service.handle(c.DefineItem(idempotency_key="i1", item="SEAL", description="Seal", unit="pcs",
                                              revision="A", signature=_spec("i1"), **QA))
        [item_event, signed_event] = defined.events
        refs = records_by_seq(store, [item_event["seq"], 10**6])
        assert set(refs) == {item_event["seq"]} and refs[item_event["seq"]][1:] == ("ItemDefined", "item:SEAL")
        hash_, kind, subject = refs[item_event["seq"]]
        reviewed = service.handle(c.SignRecords(idempotency_key="s1", signature=_spec("s1", "reviewed"), records=(
            c.RecordRef(seq=item_event["seq"], found=True, hash=hash_, type=kind, subject=subject),), **QA))
        assert reviewed.events[0]["type"] == "RecordsSigned"
        revised = service.handle(c.DefineItem(idempotency_key="i2", item="SEAL", description="Seal, FKM",
                                              unit="pcs", revision="B", signature=_spec("i2", supersedes=signature_id(
                                                  "s1")), **QA))
        assert revised.events[-1]["type"] == "RecordsSigned"

    [first, second] = audit_trail(store, subject="item:SEAL")
    assert [s.meaning for s in first.signatures] == ["approved", "reviewed"]
    assert first.signatures[0].records == [{"seq": item_event["seq"], "hash": hash_, "type": "ItemDefined",
                                            "subject": "item:SEAL"}]
    assert [(s.signature, s.supersedes) for s in second.signatures] == [(signature_id("i2"), signature_id("s1"))]
    now = datetime.now(UTC)
    with store.engine.connect() as conn:
        day = signatures(conn, since=now - timedelta(days=1), until=now + timedelta(days=1))
    assert [(s.seq, s.superseded_by) for s in day] == [
        (signed_event["seq"], None), (reviewed.events[0]["seq"], signature_id("i2")),
        (revised.events[-1]["seq"], None)]

    loaded = store.load_state()
    assert loaded.signed["item:SEAL"].signature == signature_id("i2")
    assert loaded.superseded == {signature_id("s1"): signature_id("i2")}
    report = verify(store)
    assert report.differences == [] and report.chain is not None and report.chain.breaks == []
