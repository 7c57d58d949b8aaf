"""Cycle counts over the API of a node whose site sets a count approval threshold: a small variance is booked, a
large one waits for a supervisor, who approves (booked against the bin as it is then) or discards it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from takt.config import parse_config
from takt.runtime import Node
from tests.integration.conftest import RunningNode, start_node

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[RunningNode]:
    demo = (ROOT / "config" / "demo.yaml").read_text()
    assert "\nwarehouse:\n" in demo  # the demo's warehouse section, with the approval threshold added
    text = demo.replace("\nwarehouse:\n", "\nwarehouse:\n  count_approval_pct: 5\n")
    node = Node(parse_config(text, "demo+warehouse.yaml", base_dir=ROOT / "config"), data_dir=tmp_path).start()
    running = start_node("", site=node)
    yield running
    running.stop()
    node.stop()


def test_a_large_variance_waits_for_the_supervisor(site: RunningNode) -> None:
    reader = site.client("supervisor")
    stock = {r["lot"]: r["quantity"] for r in reader.get("/api/v1/stock?bin=A-02-3").json()["stock"]}
    assert stock["L118"] == "40"
    small = site.post("warehouse", "/stock/adjustments", {"lot": "L118", "bin": "A-02-3", "counted": "39",
                                                          "reason": "cycle count"})
    assert small.status_code == 201 and [e["type"] for e in small.json()["events"]] == ["StockMoved"]
    large = site.post("warehouse", "/stock/adjustments", {"lot": "L118", "bin": "A-02-3", "counted": "30",
                                                          "reason": "cycle count"})
    assert large.status_code == 201 and [e["type"] for e in large.json()["events"]] == ["CountAwaitsApproval"]
    assert {r["lot"]: r["quantity"] for r in reader.get("/api/v1/stock?bin=A-02-3").json()["stock"]}["L118"] == "39"
    refused = site.post("warehouse", "/stock/counts/decision", {"lot": "L118", "bin": "A-02-3", "approve": True})
    assert refused.status_code == 403
    approved = site.post("supervisor", "/stock/counts/decision", {"lot": "L118", "bin": "A-02-3", "approve": True})
    assert approved.status_code == 201, approved.text
    assert {r["lot"]: r["quantity"] for r in reader.get("/api/v1/stock?bin=A-02-3").json()["stock"]}["L118"] == "30"
    moves = reader.get("/api/v1/lots/L118/moves").json()["moves"]
    assert "approved by" in moves[-1]["reason"]  # who counted, who approved: the answer to "who got it wrong"
