"""B2MML as senders write it, against a real node: every shape imported through the one write path and sent again
(nothing recorded), the operations' parameters, segments and staging shown by the work-order read API, and
``POST /api/v1/b2mml`` (auth, Idempotency-Key, 422 listing the problems, its own body limit)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from erp_sync.b2mml import Schemas, import_schedule
from erp_sync.config import B2mmlSection
from takt.api.app import create_app
from takt.config import load_config
from takt.runtime import Node
from tests.shared_data import MIRROR_HINT, SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.yaml"
DATA = ROOT / "tests" / "data" / "b2mml"
SHARED = SHARED_DATA / "b2mml"
LOCATIONS = {"LINE1-SUPERMARKET": "bin:A-01-1", "CELL-10": "workstation:WS-10"}
SHAPES = ["schedule-v0401-nested.xml", "request-v0600.xml", "schedule-v0600-bare.xml", "schedule-v0600.xml",
          "schedule-v0401.xml"]
SERVICE = {"Authorization": "Bearer demo-service-token-0000000"}
OPERATOR = {"Authorization": "Bearer demo-operator-token-000000"}

pytestmark = pytest.mark.skipif(not (SHARED / "V0600").is_dir(), reason=MIRROR_HINT)


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(SHARED)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Node]:
    config = load_config(DEMO)
    config = config.model_copy(update={"b2mml": B2mmlSection(locations=LOCATIONS, max_body_bytes=400_000,
                                                             personnel_classes={"Shift lead": "supervisor"})})
    node = Node(config, data_dir=tmp_path / "data", config_file=DEMO).start()
    yield node
    node.stop()


@pytest.fixture
def client(demo: Node) -> Iterator[TestClient]:
    with TestClient(create_app(demo)) as test_client:
        yield test_client


@pytest.mark.parametrize("name", SHAPES)
def test_each_shape_imports_and_a_resend_records_nothing(demo: Node, schemas: Schemas, name: str) -> None:
    first = import_schedule(demo.service, DATA / name, schemas_=schemas, dispatch=True, locations=LOCATIONS,
                            workstations={"WS-10", "WS-20", "WS-30"})
    assert first.released and first.events > 0
    after = demo.store.last_seq()
    again = import_schedule(demo.service, DATA / name, schemas_=schemas, dispatch=True, locations=LOCATIONS,
                            workstations={"WS-10", "WS-20", "WS-30"})
    assert again.released == () and again.events == 0
    assert sorted(again.already_imported) == sorted(first.released)
    assert demo.store.last_seq() == after


def test_a_changed_request_of_a_schedule_without_id_changes_its_order_not_released_twice(demo: Node,
                                                                                         schemas: Schemas) -> None:
    text = (DATA / "schedule-v0600-bare.xml").read_text()
    import_schedule(demo.service, text.encode(), schemas_=schemas)
    changed = text.replace("<QuantityString>5</QuantityString>", "<QuantityString>6</QuantityString>").encode()
    report = import_schedule(demo.service, changed, schemas_=schemas)
    assert report.changed == ("WO-3201",) and report.released == ()
    assert demo.store.load_state().work_orders["WO-3201"].quantity == 6
    before = demo.store.last_seq()
    assert import_schedule(demo.service, changed, schemas_=schemas).events == 0  # resent: nothing recorded
    report = import_schedule(demo.service, text.encode(), schemas_=schemas)  # the first content again: back to it
    assert report.changed == ("WO-3201",) and demo.store.load_state().work_orders["WO-3201"].quantity == 5
    assert demo.store.last_seq() > before


def test_the_work_order_read_api_shows_parameters_segments_and_staging(demo: Node, schemas: Schemas,
                                                                        client: TestClient) -> None:
    import_schedule(demo.service, DATA / "schedule-v0401-nested.xml", schemas_=schemas, locations=LOCATIONS)
    answer = client.get("/api/v1/work-orders/WO-3001", headers=OPERATOR)
    assert answer.status_code == 200, answer.text
    ops = answer.json()["operations"]
    assert [(o["operation"], o["segment"], o["parameters"]) for o in ops] == [
        (10, "0010/0010", ["Program=P100-STD", "PressForce=12"]),
        (20, "0010/0020", ["Program=P100-FINAL", "Torque=25"]),
        (30, "0010/0030", ["Program=P100-STD", "TestPressure=10"])]
    assert ops[0]["staging"] == ["IMPELLER-7=bin:A-01-1", "MOTOR-075=workstation:WS-10"]
    # the state read back from the store is the state the writer holds
    assert demo.store.load_state().operations[("WO-3001", 20)].parameters == ("Program=P100-FINAL", "Torque=25")


# --- POST /api/v1/b2mml ----------------------------------------------------------------------------------


def post(client: TestClient, body: bytes, headers: dict[str, str], key: str | None = "k-1") -> dict[str, object]:
    sent = {**headers, "Content-Type": "application/xml"} | ({"Idempotency-Key": key} if key else {})
    answer = client.post("/api/v1/b2mml", content=body, headers=sent)
    return {"status": answer.status_code, "json": answer.json(), "headers": answer.headers}


def test_the_endpoint_applies_a_schedule_and_a_retry_gets_the_first_answer(demo: Node, client: TestClient) -> None:
    body = (DATA / "schedule-v0401-nested.xml").read_bytes()
    first = post(client, body, SERVICE)
    assert first["status"] == 201, first["json"]
    assert first["json"]["released"] == ["WO-3001", "WO-3002"]  # type: ignore[index]
    seq = demo.store.last_seq()
    retry = post(client, body, SERVICE)
    assert retry["status"] == 201 and retry["json"] == first["json"]
    assert retry["headers"]["Idempotent-Replayed"] == "true"  # type: ignore[index]
    resent = post(client, body, SERVICE, key="k-2")  # a new key, the same document: the document's keys hold
    assert resent["status"] == 201
    assert resent["json"]["released"] == [] and resent["json"]["already_imported"] == ["WO-3001", "WO-3002"]  # type: ignore[index]
    assert demo.store.last_seq() == seq
    other = post(client, (DATA / "request-v0600.xml").read_bytes(), SERVICE)  # k-1 again, another document
    assert other["status"] == 422 and other["json"]["code"] == "IDEMPOTENCY_KEY_REUSED"  # type: ignore[index]
    assert demo.store.last_seq() == seq


def test_a_retry_after_a_restart_gets_the_first_answer_from_the_store(tmp_path: Path) -> None:
    config = load_config(DEMO).model_copy(update={"b2mml": B2mmlSection(locations=LOCATIONS)})
    body = (DATA / "schedule-v0401-nested.xml").read_bytes()
    node = Node(config, data_dir=tmp_path / "data", config_file=DEMO).start()
    try:
        with TestClient(create_app(node)) as client:
            first = post(client, body, SERVICE, key="restart-1")
        assert first["status"] == 201 and first["json"]["released"] == ["WO-3001", "WO-3002"]  # type: ignore[index]
    finally:
        node.stop()
    node = Node(config, data_dir=tmp_path / "data", config_file=DEMO).start()  # a new process would do the same
    try:
        seq = node.store.last_seq()
        with TestClient(create_app(node)) as client:
            retry = post(client, body, SERVICE, key="restart-1")
            other = post(client, (DATA / "request-v0600.xml").read_bytes(), SERVICE, key="restart-1")
        assert retry["status"] == 201 and retry["json"] == first["json"]
        assert retry["headers"]["Idempotent-Replayed"] == "true"  # type: ignore[index]
        assert other["status"] == 422 and other["json"]["code"] == "IDEMPOTENCY_KEY_REUSED"  # type: ignore[index]
        assert node.store.last_seq() == seq
    finally:
        node.stop()


def test_the_endpoint_takes_personnel_with_the_sites_class_table(demo: Node, client: TestClient) -> None:
    from edge.store.users import user_by_name

    answer = post(client, (DATA / "master" / "personnel-v0401.xml").read_bytes(), SERVICE, key="people-1")
    assert answer["status"] == 201 and answer["json"]["defined"] == ["person piet"]  # type: ignore[index]
    piet = user_by_name(demo.store, "piet")
    assert piet is not None and piet.roles == frozenset({"supervisor", "warehouse"})


def test_the_endpoint_needs_a_sender_role_a_token_and_a_key(client: TestClient) -> None:
    body = (DATA / "request-v0600.xml").read_bytes()
    assert post(client, body, {})["status"] == 401
    forbidden = post(client, body, OPERATOR)
    assert forbidden["status"] == 403 and forbidden["json"]["code"] == "FORBIDDEN"  # type: ignore[index]
    missing = post(client, body, SERVICE, key=None)
    assert missing["status"] == 400 and missing["json"]["code"] == "IDEMPOTENCY_KEY_MISSING"  # type: ignore[index]
    assert post(client, body, {"Authorization": "Bearer demo-admin-token-0000000000"})["status"] == 201


def test_the_endpoint_refuses_with_every_problem_listed(demo: Node, client: TestClient) -> None:
    text = (DATA / "schedule-v0401-nested.xml").read_text()
    text = text.replace("<MaterialDefinitionID>MOTOR-075</MaterialDefinitionID>",
                        "<MaterialDefinitionID>MOTOR-999</MaterialDefinitionID>")
    text = text.replace("<UnitOfMeasure>C62</UnitOfMeasure>", "<UnitOfMeasure>furlong</UnitOfMeasure>")
    before = demo.store.last_seq()
    refused = post(client, text.encode(), SERVICE)
    assert refused["status"] == 422
    problems = refused["json"]["problems"]  # type: ignore[index]
    assert len(problems) == 2 and "MOTOR-999" in problems[0] and "furlong" in problems[1]
    assert refused["json"]["code"] == "UNKNOWN_ITEM"  # type: ignore[index]
    invalid = post(client, b"<ProductionSchedule xmlns='http://www.mesa.org/xml/B2MML-V0600'><Nope/>"
                           b"</ProductionSchedule>", SERVICE, key="k-3")
    assert invalid["status"] == 422 and invalid["json"]["message"].startswith("schema: ")  # type: ignore[index]
    for not_xml in (b"/etc/passwd", b"http://127.0.0.1:9/schedule.xml", b""):  # never a file name or URL to open
        answer = post(client, not_xml, SERVICE, key=f"k-{len(not_xml)}")
        assert answer["status"] == 422, not_xml
        assert "begins with '<'" in answer["json"]["message"] or "empty" in answer["json"]["message"]  # type: ignore[index]
    assert demo.store.last_seq() == before


def test_the_endpoint_has_its_own_body_limit(client: TestClient) -> None:
    big = (DATA / "schedule-v0600-bare.xml").read_bytes().replace(b"<ProductionSchedule ", b"<!--" + b"x" * 300_000
                                                                   + b"--><ProductionSchedule ")
    assert len(big) > 64_000  # over the API's own limit in most sites, under b2mml.max_body_bytes here
    assert post(client, big, SERVICE)["status"] == 201
    too_big = big + b"<!--" + b"y" * 200_000 + b"-->"
    answer = post(client, too_big, SERVICE, key="k-4")
    assert answer["status"] == 413 and answer["json"]["code"] == "REQUEST_TOO_LARGE"  # type: ignore[index]


def test_production_performance_answers_with_the_senders_segment_ids(demo: Node, schemas: Schemas) -> None:
    from edge.domain import commands as c
    from erp_sync.b2mml import render

    import_schedule(demo.service, DATA / "schedule-v0401-nested.xml", schemas_=schemas, locations=LOCATIONS)
    demo.service.submit(c.StartOperation(idempotency_key="start-3001-20", actor="anna",
                                         actor_roles=frozenset({"operator"}), work_order="WO-3001",
                                         operation=20)).result(30)
    documents = render(list(demo.store.journal(after=0, limit=100_000)), node_id="test", state=demo.store.load_state())
    performance = [d for d in documents if d.kind == "ProductionPerformance"]
    assert performance
    xml = performance[0].xml.decode()
    assert "<ID>WO-3001/0010/0020</ID>" in xml
    verdict, _ = schemas.validate(performance[0].xml)
    assert verdict.ok, verdict.describe()
