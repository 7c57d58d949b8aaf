"""B2MML benchmark: journal → V0600 documents, schema validation, and schedule import through the write path.
``python -m bench.b2mml [--events N] [--requests N] [--nested-requests N] [--part P] [--json FILE]``.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``b2mml_render_events_per_s``: journal entries (a production mix: operation start/complete, production reports,
  labour bookings, issues and returns by lot, lot receipts, moves and holds) rendered as SyncProductionPerformance +
  SyncMaterialInformation, 1,000 entries per document pair, without validation.
  ``b2mml_render_validated_events_per_s``: the same, each document also validated against the V0600 schema (what
  the file-drop outbox does); ``b2mml_validation_cost_ratio`` = unvalidated ÷ validated rate.
- ``b2mml_validate_docs_per_s``: rendered ProductionPerformance documents of 100 events (about 60 kB) validated per
  second; ``b2mml_parse_docs_per_s`` is the baseline: the same documents only parsed (ElementTree).
- ``b2mml_schema_load_s``: loading the V0600 ProductionPerformance schema the first time (cached afterwards).
- ``b2mml_import_requests_per_s``: a ProductionSchedule of ``--requests`` requests (3 operations, 6 BOM lines each)
  validated, mapped, dry-run and recorded through ``Service`` on SQLite (WAL, synchronous=FULL);
  ``b2mml_import_baseline_requests_per_s``: the same ReleaseWorkOrder commands submitted straight to the service.
- ``b2mml_import_1k_requests_s``: a schedule as other senders write it (B2MML V0401, no schedule ID, each of its
  ``--nested-requests`` requests (1,000) a routing of nested segments: 3 steps with MaterialRequirement by use,
  material locations through the site's table, production parameters, quantities in dozens) imported whole:
  validated, mapped, dry-run and recorded (goal <= 5 s); ``b2mml_import_1k_validation_s`` is the baseline of the
  same run: the schema validation of the document alone; ``b2mml_import_1k_resend_s``: the same document again
  (nothing recorded). ``..._cpu_s``: the CPU seconds of the same two runs (the writer thread included), which a
  machine shared with other work does not inflate as it does the wall time.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

FIGURES: list[tuple[str, float, str]] = []
ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, value, unit))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def journal(count: int) -> list[Any]:
    """``count`` edge-origin journal entries of a shift's worth of production, as the store would hand them out."""
    from edge.domain import events as e
    from edge.store.codec import encode_event
    from edge.store.store import JournalEntry

    entries: list[JournalEntry] = []
    at = NOW
    D = Decimal
    for i in range(count):
        at += timedelta(seconds=3)
        wo = f"WO-{1001 + (i // 60) % 3}"
        op = (10, 20, 30)[(i // 20) % 3]
        ws = f"WS-{op}"
        k = i % 10
        ev: e.Event
        if k == 0:
            ev = e.OperationStarted(work_order=wo, operation=op, at=at)
        elif k in (1, 2, 3):
            ev = e.ProductionReported(work_order=wo, operation=op, workstation=ws, good=D(1), scrap=D(k == 3),
                                      scrap_reason="porosity" if k == 3 else None, at=at)
        elif k == 4:
            ev = e.LabourClockedOff(operator="anna", work_order=wo, operation=op, since=at - timedelta(minutes=30),
                                    at=at, minutes=D(30))
        elif k in (5, 6):
            ev = e.StockMoved(lot="IMP-5510", item="IMPELLER-7", kind="issue" if k == 5 else "return",
                              from_bin="A-01-2" if k == 5 else None, to_bin=None if k == 5 else "A-01-2",
                              quantity=D(1), lot_quantity_delta=D(-1 if k == 5 else 1), work_order=wo, bom_line=2,
                              reason=None, at=at)
        elif k == 7:
            ev = e.LotReceived(lot=f"H-{i}", item="HOUSING-20", item_revision="B", quantity=D(12), bin="REC-01",
                               expiry=date(2030, 1, 1), supplier_lot="GJ-60001", status="available", at=at)
        elif k == 8:
            ev = e.StockMoved(lot=f"H-{i - 1}", item="HOUSING-20", kind="putaway", from_bin="REC-01", to_bin="A-01-1",
                              quantity=D(12), lot_quantity_delta=D(0), work_order=None, bom_line=None, reason=None,
                              at=at)
        else:
            ev = e.OperationCompleted(work_order=wo, operation=op, at=at)
        entries.append(JournalEntry(
            seq=i + 1, event_id=f"e{i}", node_id="bench-node", type=type(ev).__name__, subject=ev.subject,
            payload=encode_event(ev), actor="anna", source_device=None, occurred_at=at, recorded_at=at, origin="edge",
            idempotency_key=f"k{i}", key_part=0))
    return entries


def demo_state() -> Any:
    from edge.domain import PlantState, decide, evolve
    from takt.config import load_config
    from takt.runtime import seed_commands

    state = PlantState()
    for seed in seed_commands(load_config(ROOT / "config" / "demo.yaml")):
        for ev in decide(state, seed.command, NOW):
            evolve(state, ev)
    state.take_dirty()
    return state


def bench_render(events: int) -> None:
    from erp_sync.b2mml import render, schemas

    state = demo_state()
    entries = journal(events)
    started = time.perf_counter()
    check = schemas()
    check.schema_for("V0600", "SyncProductionPerformance")
    figure("b2mml_schema_load_s", round(time.perf_counter() - started, 3), "s")
    check.schema_for("V0600", "SyncMaterialInformation")
    pages = [entries[i:i + 1000] for i in range(0, len(entries), 1000)]

    started = time.perf_counter()
    docs = [doc for page in pages for doc in render(page, node_id="bench-node", state=state)]
    plain = len(entries) / (time.perf_counter() - started)
    started = time.perf_counter()
    for page in pages:
        for doc in render(page, node_id="bench-node", state=state):
            verdict, _ = check.validate(doc.xml)
            assert verdict.ok, verdict.describe()
    validated = len(entries) / (time.perf_counter() - started)
    say(f"render: {len(entries)} events into {len(docs)} documents ({sum(len(d.xml) for d in docs) / 1e6:.1f} MB)")
    figure("b2mml_render_events_per_s", round(plain), "events/s")
    figure("b2mml_render_validated_events_per_s", round(validated), "events/s")
    figure("b2mml_validation_cost_ratio", round(plain / validated, 2), "x")

    small = [doc for i in range(0, min(len(entries), 20_000), 100)
             for doc in render(entries[i:i + 100], node_id="bench-node", state=state)
             if doc.kind == "ProductionPerformance"]
    started = time.perf_counter()
    for doc in small:
        ET.fromstring(doc.xml)
    parse = len(small) / (time.perf_counter() - started)
    started = time.perf_counter()
    for doc in small:
        assert check.validate(doc.xml)[0].ok
    validate = len(small) / (time.perf_counter() - started)
    say(f"validate: {len(small)} ProductionPerformance documents of 100 events, "
        f"{sum(len(d.xml) for d in small) / len(small) / 1000:.0f} kB each")
    figure("b2mml_validate_docs_per_s", round(validate, 1), "docs/s")
    figure("b2mml_parse_docs_per_s", round(parse, 1), "docs/s")


def schedule(requests: int) -> bytes:
    parts = []
    for n in range(requests):
        wo = f"WO-{5000 + n}"
        segs = []
        for op, ws, materials in ((10, "WS-10", (("IMPELLER-7", 10), ("MOTOR-075", 10))),
                                  (20, "WS-20", (("HOUSING-20", 10), ("SEAL-KIT-3", 10), ("GREASE-LT2", "0.5"),
                                                 ("BOLT-M8X25", 80))),
                                  (30, "WS-30", ())):
            mats = "".join(f"<MaterialConsumedRequirement><MaterialDefinitionID>{item}</MaterialDefinitionID>"
                           f"<Quantity><QuantityString>{qty}</QuantityString></Quantity>"
                           f"</MaterialConsumedRequirement>" for item, qty in materials)
            made = ("<MaterialProducedRequirement><MaterialDefinitionID>PUMP-100</MaterialDefinitionID><Quantity>"
                    "<QuantityString>10</QuantityString></Quantity></MaterialProducedRequirement>") if op == 30 else ""
            segs.append(f"<SegmentRequirement><ID>{op}</ID><Duration>PT6M</Duration><EquipmentRequirement>"
                        f"<EquipmentID>{ws}</EquipmentID></EquipmentRequirement>{made}{mats}</SegmentRequirement>")
        parts.append(f"<ProductionRequest><ID>{wo}</ID><Version>7</Version>{''.join(segs)}</ProductionRequest>")
    return (f'<?xml version="1.0"?><SyncProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600" '
            f'releaseID="6.0"><ApplicationArea><CreationDateTime>2026-12-01T06:00:00Z</CreationDateTime>'
            f'</ApplicationArea><DataArea><Sync/><ProductionSchedule><ID>BENCH-{requests}</ID>{"".join(parts)}'
            f'</ProductionSchedule></DataArea></SyncProductionSchedule>').encode()


def bench_import(requests: int) -> None:
    import dataclasses

    from edge.domain import commands as c
    from erp_sync.b2mml import import_schedule, read_schedule, schemas
    from takt.config import load_config
    from takt.runtime import Node

    document = schedule(requests)
    folder = Path(tempfile.mkdtemp(prefix="takt-bench-b2mml-"))
    try:
        node = Node(load_config(ROOT / "config" / "demo.yaml"), data_dir=folder / "a",
                    config_file="config/demo.yaml").start()
        try:
            verdict, root = schemas().validate(document)
            assert verdict.ok and root is not None, verdict.describe()
            commands = [dataclasses.replace(p.command, idempotency_key=f"direct-{i}")
                        for i, p in enumerate(read_schedule(root, node.store.load_state()).commands)]
            started = time.perf_counter()
            report = import_schedule(node.service, document)
            imported = requests / (time.perf_counter() - started)
            assert len(report.released) == requests
        finally:
            node.stop()
        node = Node(load_config(ROOT / "config" / "demo.yaml"), data_dir=folder / "b",
                    config_file="config/demo.yaml").start()
        try:
            started = time.perf_counter()
            futures = [node.service.submit(cmd) for cmd in commands]
            for fut in futures:
                assert isinstance(fut.result(120).events, list)
            direct = requests / (time.perf_counter() - started)
            assert all(isinstance(cmd, c.ReleaseWorkOrder) for cmd in commands)
        finally:
            node.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    say(f"import: {requests} requests, {len(document) / 1e6:.1f} MB schedule")
    figure("b2mml_import_requests_per_s", round(imported, 1), "requests/s")
    figure("b2mml_import_baseline_requests_per_s", round(direct, 1), "requests/s")


NESTED_LOCATIONS = {"LINE1-SUPERMARKET": "bin:A-01-1", "CELL-10": "workstation:WS-10"}


def nested_schedule(requests: int) -> bytes:
    """A V0401 schedule of ``requests`` requests as another MES writes it (see tests/data/b2mml/
    schedule-v0401-nested.xml): no schedule ID, a routing segment holding the steps."""
    def param(name: str, value: str) -> str:
        return (f"<ProductionParameter><Parameter><ID>{name}</ID><Value><ValueString>{value}</ValueString>"
                f"<DataType>string</DataType><UnitOfMeasure/></Value></Parameter></ProductionParameter>")

    def material(item: str, qty: str, unit: str, use: str = "Consumed", location: str | None = None) -> str:
        where = (f"<Location><EquipmentID>{location}</EquipmentID><EquipmentElementLevel>StorageUnit"
                 f"</EquipmentElementLevel></Location>") if location else ""
        return (f"<MaterialRequirement><MaterialDefinitionID>{item}</MaterialDefinitionID>{where}<MaterialUse>{use}"
                f"</MaterialUse><Quantity><QuantityString>{qty}</QuantityString><DataType>decimal</DataType>"
                f"<UnitOfMeasure>{unit}</UnitOfMeasure></Quantity></MaterialRequirement>")

    def step(seg: str, equipment: str, params: str, materials: str) -> str:
        return (f"<SegmentRequirement><ID>{seg}</ID><Duration>PT6M</Duration>{params}<EquipmentRequirement>"
                f"<EquipmentID>{equipment}</EquipmentID></EquipmentRequirement>{materials}</SegmentRequirement>")

    parts = []
    for n in range(requests):
        steps = (step("0010", "PRESS-10", param("PressForce", "12"),
                      material("IMPELLER-7", "1", "DZN", location="LINE1-SUPERMARKET")
                      + material("MOTOR-075", "12", "pcs", location="CELL-10"))
                 + step("0020", "SCREWDRIVER-20", param("Torque", "25"),
                        material("HOUSING-20", "12", "C62") + material("SEAL-KIT-3", "1", "DZN")
                        + material("GREASE-LT2", "0.6", "pcs", "Consumable") + material("BOLT-M8X25", "96", "pcs",
                                                                                       location="A-01-2"))
                 + step("0030", "TESTRIG-30", param("TestPressure", "10"), ""))
        parts.append(f"<ProductionRequest><ID>WO-{7000 + n}</ID><SegmentRequirement><ID>0010</ID>"
                     f"{param('BOMRevision', '7')}{param('Program', 'P100-STD')}"
                     f"{material('PUMP-100', '1', 'DZN', 'Produced')}{steps}</SegmentRequirement>"
                     f"</ProductionRequest>")
    return (f'<?xml version="1.0"?><SyncProductionSchedule xmlns="http://www.wbf.org/xml/B2MML-V0401" '
            f'releaseID="4.0"><ApplicationArea><Sender><LogicalID>MES-OTHER</LogicalID></Sender>'
            f'<CreationDateTime>2026-12-01T06:00:00Z</CreationDateTime></ApplicationArea><DataArea><Sync/>'
            f'<ProductionSchedule>{"".join(parts)}</ProductionSchedule></DataArea></SyncProductionSchedule>'
            ).encode()


def bench_nested(requests: int) -> None:
    from erp_sync.b2mml import import_schedule, schemas
    from takt.config import load_config
    from takt.runtime import Node

    document = nested_schedule(requests)
    check = schemas()
    check.schema_for("V0401", "SyncProductionSchedule")  # loaded once per process: not the import's cost
    folder = Path(tempfile.mkdtemp(prefix="takt-bench-b2mml-nested-"))
    try:
        node = Node(load_config(ROOT / "config" / "demo.yaml"), data_dir=folder / "a",
                    config_file="config/demo.yaml").start()
        try:
            started, cpu = time.perf_counter(), time.process_time()
            verdict, _ = check.validate(document)
            validation, validation_cpu = time.perf_counter() - started, time.process_time() - cpu
            assert verdict.ok, verdict.describe()
            started, cpu = time.perf_counter(), time.process_time()
            report = import_schedule(node.service, document, schemas_=check, locations=NESTED_LOCATIONS,
                                     workstations={"WS-10", "WS-20", "WS-30"})
            imported, imported_cpu = time.perf_counter() - started, time.process_time() - cpu
            assert len(report.released) == requests
            seq = node.store.last_seq()
            started = time.perf_counter()
            again = import_schedule(node.service, document, schemas_=check, locations=NESTED_LOCATIONS,
                                    workstations={"WS-10", "WS-20", "WS-30"})
            resend = time.perf_counter() - started
            assert not again.released and node.store.last_seq() == seq
        finally:
            node.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    say(f"nested import: {requests} requests of nested segments, {len(document) / 1e6:.1f} MB V0401 schedule")
    figure("b2mml_import_1k_requests_s" if requests == 1000 else f"b2mml_import_{requests}_requests_s",
           round(imported, 2), "s")
    figure("b2mml_import_1k_validation_s" if requests == 1000 else f"b2mml_import_{requests}_validation_s",
           round(validation, 2), "s")
    figure("b2mml_import_1k_resend_s" if requests == 1000 else f"b2mml_import_{requests}_resend_s",
           round(resend, 2), "s")
    # CPU seconds of this process (the writer thread included): on a shared machine the wall time above waits for
    # the other processes too
    figure("b2mml_import_1k_requests_cpu_s" if requests == 1000 else f"b2mml_import_{requests}_requests_cpu_s",
           round(imported_cpu, 2), "s")
    figure("b2mml_import_1k_validation_cpu_s" if requests == 1000 else f"b2mml_import_{requests}_validation_cpu_s",
           round(validation_cpu, 2), "s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.b2mml", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="journal entries to render (default 50,000)")
    parser.add_argument("--requests", type=int, default=500, help="production requests to import (default 500)")
    parser.add_argument("--nested-requests", type=int, default=1000,
                        help="requests of the nested V0401 schedule (default 1,000)")
    parser.add_argument("--part", choices=("all", "render", "import", "nested"), default="all",
                        help="run one part only (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("takt").setLevel(logging.WARNING)
    if args.part in ("all", "render"):
        bench_render(args.events)
    if args.part in ("all", "import"):
        bench_import(args.requests)
    if args.part in ("all", "nested"):
        bench_nested(args.nested_requests)
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({"figures": {n: {"value": v, "unit": u} for n, v, u in FIGURES}}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
