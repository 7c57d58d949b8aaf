"""The node's answers as a security review reads them (issue 15): security headers on every answer, Swagger UI from
the node itself, /health details only with a token, live streams that end with their session and a cap on them,
control characters refused in text, and records backdated too far refused. Over the wire, against a real node."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from edge.store.users import open_session
from takt.api.headers import CONTENT_SECURITY_POLICY
from takt.api.live import MAX_STREAMS_PER_USER
from takt.config import ConfigError, parse_config
from tests.integration.conftest import TOKENS, RunningNode
from tests.integration.test_api import seed
from tests.integration.test_live_events import Stream

ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


def test_every_answer_carries_the_security_headers(node: RunningNode) -> None:
    seed(node)
    answers = {
        "health": httpx.get(f"{node.url}/health"),
        "data": node.client("operator").get("/api/v1/lots/L118"),
        "command": node.post("service", "/items", {"item": "X-1", "unit": "pcs", "revision": "A"}),
        "refusal": node.post("service", "/items", {"item": "X-1"}),
        "not found": httpx.get(f"{node.url}/no/such/page"),
        "page": httpx.get(f"{node.url}/pages/"),
        "docs": httpx.get(f"{node.url}/docs"),
    }
    for what, answer in answers.items():
        h = answer.headers
        assert h["content-security-policy"] == CONTENT_SECURITY_POLICY, what
        assert "frame-ancestors 'none'" in h["content-security-policy"] and "script-src 'self';" in \
            h["content-security-policy"], what
        assert h["x-content-type-options"] == "nosniff", what
        assert h["referrer-policy"] == "no-referrer", what
        assert h["cache-control"] == "no-store", what  # tokens, lots and journal pages never sit in a cache
        assert "strict-transport-security" not in h, what  # plain HTTP: HSTS only comes over TLS (test_https)
    static = httpx.get(f"{node.url}/pages/static/takt.js")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_swagger_ui_comes_from_the_node_not_a_cdn(node: RunningNode) -> None:
    page = httpx.get(f"{node.url}/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text and "<script>" not in page.text
    for path in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css", "/docs/init.js"):
        assert f'"{path}"' in page.text
        answer = httpx.get(f"{node.url}{path}")
        assert answer.status_code == 200 and len(answer.content) > 100, path
    assert "SwaggerUIBundle" in httpx.get(f"{node.url}/docs/init.js").text
    assert httpx.get(f"{node.url}/docs/static/index.html").status_code == 404  # only what the page needs
    assert httpx.get(f"{node.url}/redoc").status_code == 404  # FastAPI's ReDoc page would load from a CDN


def test_health_shows_details_only_with_a_token(node: RunningNode) -> None:
    anonymous = httpx.get(f"{node.url}/health")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    detailed = httpx.get(f"{node.url}/health", headers={"Authorization": f"Bearer {TOKENS['operator']}"})
    assert detailed.status_code == 200 and detailed.json()["store"]["status"] == "ok"
    wrong = httpx.get(f"{node.url}/health", headers={"Authorization": "Bearer not-a-token-of-this-node"})
    assert wrong.status_code == 401
    node.service.stop()  # down: anyone still learns that, and nothing more
    down = httpx.get(f"{node.url}/health")
    assert down.status_code == 503 and down.json() == {"status": "degraded"}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/items", {"item": "X-1", "unit": "pcs", "revision": "A", "description": "pump\x00"}, "description"),
    ("/items", {"item": "X-1", "unit": "pcs", "revision": "A", "description": "a\nb"}, "description"),
    ("/work-orders/WO-1001/operations/10/pause", {"reason": "jam \x1b[31m"}, "reason"),
    ("/stock/counts/decision", {"lot": "L118", "bin": "A-02-3", "approve": True, "note": "ok\x07"}, "note"),
    ("/work-orders", {"work_order": "WO-2", "item": "PUMP-100", "item_revision": "C", "bom_revision": "3",
                      "quantity": "1", "operations": [{"operation": 10, "description": "x\x08", "workstation": "W"}],
                      "bom": []}, "operations[0].description"),
])
def test_control_characters_in_text_are_refused_naming_the_field(node: RunningNode, path: str,
                                                                  body: dict[str, object], field: str) -> None:
    seed(node)
    before = node.journal_count()
    answer = node.post("admin", path, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "INVALID_REQUEST" and answer.json()["field"] == field
    assert "control character" in answer.json()["message"]
    assert node.journal_count() == before


def test_a_note_may_have_several_lines(node: RunningNode) -> None:
    seed(node)
    answer = node.post("admin", "/stock/counts/decision",
                       {"lot": "L118", "bin": "A-02-3", "approve": True, "note": "counted twice\r\n\tall there"})
    # past the schema: the plant's rules answer (there is no count to decide), not a refusal of the note
    assert answer.json()["code"] != "INVALID_REQUEST", answer.text


def test_backdating_is_bounded_by_the_site_setting(node: RunningNode) -> None:
    seed(node)
    before = node.journal_count()
    for when in ("0001-01-01T00:00:00Z", (datetime.now(UTC) - timedelta(days=91)).isoformat()):
        answer = node.post("operator", "/work-orders/WO-1001/operations/10/start", {"occurred_at": when})
        assert answer.status_code == 422, answer.text
        assert (answer.json()["code"], answer.json()["field"]) == ("BACKDATED_TOO_FAR", "occurred_at")
        assert "api.max_backdate_days" in answer.json()["message"]
    assert node.journal_count() == before
    within = (datetime.now(UTC) - timedelta(days=89)).isoformat()
    assert node.post("operator", "/work-orders/WO-1001/operations/10/start", {"occurred_at": within}).status_code == 201


def test_the_backdating_limit_is_a_site_setting() -> None:
    site = "node: {id: n1}\nsite: {enterprise: e, site: s, area: a, line: l}\napi: {max_backdate_days: %s}\n"
    assert parse_config(site % 7, resolve_secrets=False).api.max_backdate_days == 7
    with pytest.raises(ConfigError, match="api.max_backdate_days"):
        parse_config(site % 100_000, resolve_secrets=False)


def _open_stream(node: RunningNode, token: str) -> tuple[httpx.Client, Stream]:
    client = httpx.Client(base_url=node.url, timeout=httpx.Timeout(15.0), headers={"Authorization": f"Bearer {token}"})
    response = client.send(client.build_request("GET", "/api/v1/events"), stream=True)
    assert response.status_code == 200, response.read()
    stream = Stream(response)
    assert stream.next()[0] == "ready"
    return client, stream


def _ends_within(stream: Stream, seconds: float) -> str:
    """Read the stream until it ends; the kind of its last event. Fails if it is still open after ``seconds``."""
    found: list[str] = []

    def read() -> None:
        try:
            while True:
                found.append(stream.next()[0])
        except (EOFError, httpx.HTTPError):
            found.append("<end>")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    assert found and found[-1] == "<end>", f"the stream is still open after {seconds} s: {found}"
    return found[-2] if len(found) > 1 else "<end>"


def test_a_live_stream_ends_when_its_session_is_logged_off(node: RunningNode) -> None:
    token = open_session(node.store, "operator1", None, timedelta(hours=8))
    client, stream = _open_stream(node, token)
    try:
        off = httpx.delete(f"{node.url}/api/v1/sessions/current", headers={"Authorization": f"Bearer {token}"})
        assert off.status_code == 204
        started = time.monotonic()
        assert _ends_within(stream, 10) == "closed"
        assert time.monotonic() - started < 5
    finally:
        client.close()


def test_a_live_stream_ends_when_its_session_expires(node: RunningNode) -> None:
    token = open_session(node.store, "operator1", None, timedelta(seconds=2))
    client, stream = _open_stream(node, token)
    try:
        assert _ends_within(stream, 15) == "closed"
    finally:
        client.close()


def test_one_user_holds_a_bounded_number_of_streams(node: RunningNode) -> None:
    opened = [_open_stream(node, TOKENS["operator"]) for _ in range(MAX_STREAMS_PER_USER)]
    try:
        with httpx.Client(base_url=node.url, timeout=10, headers={"Authorization": f"Bearer {TOKENS['operator']}"}) \
                as client:
            refused = client.get("/api/v1/events")
        assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_STREAMS"
        other, stream = _open_stream(node, TOKENS["warehouse"])  # the cap is per user
        other.close()
    finally:
        for client, _ in opened:
            client.close()
    deadline = time.monotonic() + 10  # a closed stream frees its place
    while True:
        again = httpx.Client(base_url=node.url, timeout=10, headers={"Authorization": f"Bearer {TOKENS['operator']}"})
        response = again.send(again.build_request("GET", "/api/v1/events"), stream=True)
        status = response.status_code
        response.close()
        again.close()
        if status == 200:
            break
        assert time.monotonic() < deadline, "the closed streams still count"
        time.sleep(0.2)


def test_the_site_file_sets_the_limits() -> None:
    site = ("node: {id: n1}\nsite: {enterprise: e, site: s, area: a, line: l}\n"
            "api: {max_header_bytes: 16384, max_streams_per_user: 2}\n")
    api = parse_config(site, resolve_secrets=False).api
    assert (api.max_header_bytes, api.max_streams_per_user, api.tls) == (16384, 2, None)
