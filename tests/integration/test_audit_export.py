"""``takt audit export`` (issue 17): the audit trail of a period as a PDF and a CSV an auditor reads, headed by the
journal's hash chain check; the PDF's text is read back with pypdf. A journal row edited with SQL shows as TAMPERED,
naming the event, and the command exits 1 (the report is still written)."""
from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from edge.domain import commands as c
from edge.domain.contexts.signatures import signature_id
from takt.cli import app
from takt.config import load_config
from takt.runtime import Node

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
runner = CliRunner()
QUALITY = frozenset({"quality"})


def _signed(key: str, meaning: str) -> c.SignatureSpec:
    return c.SignatureSpec(signature=signature_id(key), signer_name="Priya Raman", meaning=meaning)


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, int]:
    """The demo site with a lot held, moved for an operator at a terminal, and its NCR dispositioned with a
    signature; returns the data folder and the seq of the move."""
    data_dir = tmp_path / "data"
    node = Node(load_config(DEMO), data_dir=data_dir, config_file=DEMO).start()
    try:
        moved = node.service.handle(c.MoveStock(
            idempotency_key="mv-1", actor="anna", recorded_by="wim", on_behalf_of="anna", source_device="HH-7",
            actor_roles=frozenset({"warehouse"}), lot="L118", from_bin="A-02-3", to_bin="LS-20",
            quantity=Decimal(5)))
        node.service.handle(c.RaiseNonconformance(idempotency_key="ncr-1", actor="priya", actor_roles=QUALITY,
                                                  ncr="NCR-1", description="dented", lot="L118"))
        node.service.handle(c.DispositionNonconformance(idempotency_key="disp-1", actor="priya",
                                                        actor_roles=QUALITY, ncr="NCR-1", disposition="use_as_is", comment="dent is cosmetic",
                                                        signature=_signed("disp-1", "approved")))
    finally:
        node.stop()
    assert moved.last_seq is not None
    return data_dir, moved.last_seq


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.slow
def test_the_audit_pdf_and_csv_show_who_did_what_the_signatures_and_the_chain_check(recorded: tuple[Path, int],
                                                                                    tmp_path: Path) -> None:
    data_dir, move_seq = recorded
    today = datetime.now(UTC).date().isoformat()
    pdf = tmp_path / "audit.pdf"
    done = runner.invoke(app, ["audit", "export", "--from", today, "--to", today, "--data-dir", str(data_dir),
                               "--out", str(pdf)])
    assert done.exit_code == 0, done.output
    assert "ok: hash chain intact" in done.output
    text = _pdf_text(pdf)
    assert "Journal hash chain: intact" in text and "ok: hash chain intact through seq" in text
    assert "checkpoints, signatures checked with" in text  # the data folder's key
    assert "Electronic signatures (1)" in text
    assert "approved by Priya Raman (priya)" in text and signature_id("disp-1") in text
    assert "NonconformanceDispositioned" in text and "ncr:NCR-1" in text
    assert "anna (recorded by wim) for anna on HH-7" in " ".join(text.split())

    # the CSV of one subject: the same trail, machine-readable
    lot_csv = tmp_path / "lot.csv"
    done = runner.invoke(app, ["audit", "export", "--from", today, "--format", "csv", "--subject", "lot:L118",
                               "--data-dir", str(data_dir), "--out", str(lot_csv)])
    assert done.exit_code == 0, done.output
    lines = lot_csv.read_text().splitlines()
    assert any(line.startswith("# ok: hash chain intact") for line in lines)
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert {r["subject"] for r in rows} == {"lot:L118"}
    move = next(r for r in rows if r["seq"] == str(move_seq))
    assert (move["actor"], move["recorded_by"], move["on_behalf_of"], move["device"]) == ("anna", "wim", "anna", "HH-7")
    # use as is released the lot: that event is signed with the disposition
    assert [r["type"] for r in rows if "approved by Priya Raman" in r["signatures"]] == ["LotStatusChanged"]

    # a journal row edited behind the node's back: the report says TAMPERED and names the event
    with sqlite3.connect(data_dir / "takt.sqlite") as db:
        db.execute("UPDATE journal SET actor = 'mallory' WHERE seq = ?", (move_seq,))
    tampered = tmp_path / "tampered.pdf"
    done = runner.invoke(app, ["audit", "export", "--from", today, "--data-dir", str(data_dir), "--out",
                               str(tampered)])
    assert done.exit_code == 1 and tampered.exists()
    text = " ".join(_pdf_text(tampered).split())
    assert "Journal hash chain: TAMPERED" in text and f"seq {move_seq}" in text
