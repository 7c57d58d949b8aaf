"""What a plant's security review does to a node's HTTP API, over the wire: schemathesis against /openapi.json, and
the authorization matrix (every mutating route × every role × no token × a wrong token) against its reviewed table.

Shared by the suite (tests/integration/test_api_contract.py, test_authz_matrix.py) and the figures (``python -m
bench.api_contract``), which must not import each other. Like every simulator it speaks the protocol only (HTTP and
the node's OpenAPI document), never the product's code. A review runs against a demo node of the caller's (the demo
site's published tokens, DEMO_TOKENS), never a plant's: the fuzzer records whatever the schema allows.
"""
from __future__ import annotations

import csv
import json
import os
import re
import secrets
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
# config/demo.yaml's published demo tokens, one user per role (demo only).
DEMO_TOKENS = {"admin": "demo-admin-token-0000000000", "supervisor": "demo-supervisor-token-000",
               "quality": "demo-quality-token-0000000", "operator": "demo-operator-token-000000",
               "warehouse": "demo-warehouse-token-00000", "service": "demo-service-token-0000000",
               "maintenance": "demo-maintenance-token-0000"}
DEMO_ADMIN_TOKEN = DEMO_TOKENS["admin"]
ROLES = tuple(DEMO_TOKENS)
# The reviewed table of who may call each mutating route (a data file of the suite, read here, never imported).
MATRIX = ROOT / "tests" / "integration" / "authz_matrix.csv"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Path parameters of the demo plant, so that a request reaches the command (which may still refuse it with 409).
PATH_VALUES = {"work_order": "WO-1001", "operation": "10", "equipment": "M-20", "lot": "H-2232", "sscc": "0",
               "ncr": "NCR-1", "purchase_order": "PO-1", "workstation": "WS-20", "exception_id": "1",
               "device": "WS-20-terminal", "maintenance_request": "MR-000001", "plan": "PM-PRESS-10-LUBE",
               "serial": "WO-1001-0001", "capa": "CAPA-1", "action": "1", "bin": "LINE-1", "wave": "W00001",
               "pick": "1", "task": "RPL-000001"}
HOOKS = "simulators.schemathesis_hooks"

# Where a request that fits the schema may still be refused with 422, because the rule is about the plant's data or
# relates two inputs, which OpenAPI cannot state. Reviewed: each names the rule and its code. Everywhere else a
# schema-valid request refused is a failure.
DATA_RULES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/api/v1/oee", "INVALID_PERIOD: from before to, at most 93 days at a time"),
    ("GET", "/api/v1/b2mml/oee", "INVALID_PERIOD: from before to, at most 93 days at a time"),
    ("GET", "/api/v1/b2mml/maintenance", "INVALID_PERIOD: from before to, at most 93 days at a time"),
    ("GET", "/api/v1/downtime/stops", "INVALID_PERIOD: from before to, at most 93 days at a time"),
    ("GET", "/api/v1/downtime/reliability", "INVALID_PERIOD: from before to, at most 93 days at a time"),
    ("GET", "/api/v1/putaway/suggest", "MISSING_VALUE: qty, or a lot to take its stock"),
    ("GET", "/api/v1/work-orders/{work_order}/pick-list",
     "STAGING_BIN_REQUIRED: unless a scanning device at the order's workstations has a line-side bin"),
    ("POST", "/api/v1/inspections", "MISSING_VALUE: a pass/fail characteristic's result says passed, a numeric one "
     "its value (the plan says which)"),
    ("GET", "/api/v1/spc/{plan}/{characteristic}", "NOT_NUMERIC: only a numeric characteristic has a control chart"),
    ("POST", "/api/v1/maintenance-requests/{maintenance_request}/notes", "NOTHING_TO_ADD: a note, a photo or both"),
    ("POST", "/api/v1/inspection-plans", "MISSING_LIMITS: a numeric characteristic has a lower or upper limit"),
    ("POST", "/api/v1/work-orders", "DUPLICATE_OPERATION, DUPLICATE_LINE: each operation and BOM line number once "
     "(a schema's uniqueItems compares whole items, not one of their fields)"),
    ("POST", "/api/v1/stock/moves", "SAME_BIN: from_bin and to_bin differ; MISSING_REASON: a putaway to another bin "
     "than the first suggestion says why"),
    ("POST", "/api/v1/work-orders/{work_order}/picks", "SAME_BIN: from_bin and to_bin differ; MISSING_REASON: less "
     "picked than asked says why"),
    ("POST", "/api/v1/scans", "UNKNOWN_LABEL: the text is a GS1 label or one of this site's labels"),
    ("POST", "/api/v1/pages/labels", "UNKNOWN_LABEL: the text is a GS1 label or one of this site's labels"),
    ("PUT", "/api/v1/pages/devices/{device}/work-order",
     "UNKNOWN_DEVICE, UNKNOWN_WORK_ORDER: a scanning device of this node, a work order it knows"),
    ("DELETE", "/api/v1/sessions/current", "NOT_A_SESSION: a user's own API token is not a page session"),
    ("POST", "/api/v1/b2mml", "SCHEDULE_REFUSED: the body is a schema-valid B2MML document the node can apply"),
    ("POST", "/api/v1/waves/{wave}/picks/{pick}", "MISSING_REASON: less picked than asked says why"),
    ("PUT", "/api/v1/line-side-bins/{bin}", "INVALID_QUANTITY: maximum above minimum; MISSING_VALUE: a kanban names "
     "its pack"),
    ("POST", "/api/v1/signatures", "SIGNATURE_REQUIRED: the signer's PIN again in X-Takt-Pin (no schema holds a "
     "user's PIN); INVALID_MEANING: one of the site's policy.signature_meanings"),
    ("POST", "/api/v1/work-orders/{work_order}/operations/{operation}/steps",
     "MISSING_VALUE: a step captures what its kind asks (result, value, scanned or photo: the instruction says "
     "which); SIGNATURE_REQUIRED: a sign-off step carries the second person's PIN in X-Takt-Pin; NOT_SERIALISED, "
     "UNKNOWN_STEP: a serial only for a serialised item, a step of the instruction"),
    ("POST", "/api/v1/work-orders/{work_order}/operations/{operation}/units",
     "GS1_INVALID, NO_SERIAL, INVALID_SERIAL: a scanned GS1 label is valid and has AI 21; a GS1 serial is 1-20 "
     "characters of set 82"),
    ("POST", "/api/v1/work-instructions",
     "STEPS_OUT_OF_ORDER, MISSING_VALUE, INVALID_LIMITS: steps numbered 1, 2, 3, ...; a measurement has a limit "
     "(lsl <= usl) and a scan says what to scan"),
    ("POST", "/api/v1/photos", "INVALID_PHOTO: the body is a JPEG or PNG picture of at most 8 MB"),
)


@dataclass
class Review:
    """One schemathesis run: its exit code, the failures by check, and what it printed."""

    returncode: int
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    output: str = ""

    @property
    def server_errors(self) -> int:
        return sum(count for name, count in self.failures.items() if name.startswith("ST101 "))

    @property
    def valid_refused(self) -> int:
        return sum(count for name, count in self.failures.items() if name.startswith("ST202 "))


def config_toml(token: str, document: dict[str, Any]) -> str:
    """schemathesis.toml for a review: the bearer token for the document's scheme, and the data rules above.

    A rule selects its one operation by operationId (schemathesis ORs separate include filters, so a method and a
    path given apart would select every operation of the method)."""
    lines = ["[auth.openapi.bearer]", f'bearer = "{token}"', ""]
    # A body larger than the node's api.max_body_bytes is answered 413 before it is read, valid or not: the limit is
    # the site's setting, which OpenAPI cannot state (a photo or a long list may fit the schema and not the limit).
    lines += ["[checks.negative_data_rejection]",
              'expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", '
              '"429", "5xx"]', "",
              "[checks.positive_data_acceptance]",
              'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "413", "429", "5xx"]', ""]
    accepted = '["2xx", "3xx", "401", "403", "404", "409", "413", "422", "429", "5xx"]'
    for method, path, rule in DATA_RULES:
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            raise ValueError(f"data rule for {method} {path}: the node has no such operation")
        lines += ["[[operations]]", f"# {method} {path}: {rule}",
                  f'include-operation-id = "{operation["operationId"]}"',
                  f"checks.positive_data_acceptance.expected-statuses = {accepted}", ""]
    return "\n".join(lines)


def run_schemathesis(url: str, report_dir: Path, *, token: str = DEMO_ADMIN_TOKEN, max_examples: int = 10,
                     max_time: float = 80.0, seed: int = 15, checks: str = "all",
                     extra: tuple[str, ...] = ()) -> Review:
    """Run schemathesis (all checks) against the node at ``url`` with ``token`` (given for the document's bearer
    scheme, so the check that leaves it out sees a 401), a fresh Idempotency-Key per request.

    Bounded: ``max_examples`` per operation, ``max_time`` seconds for the whole run, one seed, so that the suite
    stays under its budget and a failure reproduces."""
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_dir / "schemathesis.json"
    config = report_dir / "schemathesis.toml"
    config.write_text(config_toml(token, httpx.get(f"{url}/openapi.json", timeout=30).json()))
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{url}/openapi.json",
               "--checks", checks, "-n", str(max_examples),
               "--max-time", str(int(max_time)), "--seed", str(seed), "--workers", "1", "--no-shrink",
               "--suppress-health-check", "all", "--warnings", "off", "--continue-on-failure",
               "--report", "json", "--report-json-path", str(report), "--output-truncate", "true", *extra]
    # run in the report's folder: schemathesis keeps its cache of failures (.schemathesis/) in the working directory
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=report_dir,
                          timeout=max_time * 2 + 60)
    review = Review(done.returncode, output=done.stdout + done.stderr)
    if report.exists():
        _read_report(json.loads(report.read_text()), review)
    return review


def _read_report(data: Any, review: Review) -> None:
    """Count failures by check in schemathesis' JSON report: ``failures`` lists code, title, count, operations."""
    for failure in data.get("failures", []):
        name = f"{failure.get('code')} {failure.get('title')}"
        review.failures[name] += int(failure.get("count", 1))
        review.examples[name] = [str(op) for op in failure.get("operations", [])]


# --- the authorization matrix ---------------------------------------------------------------------------------------

def read_matrix(path: Path = MATRIX) -> dict[tuple[str, str], dict[str, str]]:
    """The table's rows by (method, path); each role's cell is allow, deny or public."""
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    table: dict[tuple[str, str], dict[str, str]] = {}
    for row in csv.DictReader(lines):
        key = (row["method"], row["path"])
        if key in table:
            raise ValueError(f"{key} has two rows in {path.name}")
        if any(row[role] not in ("allow", "deny", "public") for role in ROLES):
            raise ValueError(f"{key}: each role is allow, deny or public")
        table[key] = row
    return table


def mutating_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every mutating route the app serves, paths as OpenAPI writes them ({operation})."""
    from starlette.routing import Route

    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, Route):  # FastAPI's APIRoute is a Route too; mounts have no methods
            continue
        for method in (route.methods or set()) & MUTATING:
            found.add((method, re.sub(r"{(\w+):\w+}", r"{\1}", route.path)))
    return found


def example(schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """A value of ``schema``'s shape: required properties only, the smallest array, the first enum value."""
    if "$ref" in schema:
        return example(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], doc)
    if "properties" in schema:  # an object; a rule over its fields (anyOf, allOf of them) is met its first way
        properties, required = dict(schema["properties"]), set(schema.get("required", ()))
        for rule in _first_ways(schema):
            required |= set(rule.get("required", ()))
            properties.update({name: sub for name, sub in rule.get("properties", {}).items()
                               if name in rule.get("required", ())})
        return {name: example(sub, doc) for name, sub in properties.items() if name in required}
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            options = [s for s in schema[combined] if s.get("type") != "null"]
            return example(options[0], doc)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: example(sub, doc) for name, sub in schema.get("properties", {}).items()
                if name in schema.get("required", ())}
    if kind == "array":
        return [example(schema["items"], doc) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return min(max(10, schema.get("minimum", 10)), schema.get("maximum", 10))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return "2026-01-01"
    if schema.get("format") == "date-time":
        return None
    return "1" if re.match(r"\^?-?\\d", str(schema.get("pattern", ""))) else "X-1"


def _first_ways(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules over an object's fields that its first choice meets: every allOf, the first of an anyOf."""
    ways: list[dict[str, Any]] = []
    if schema.get("anyOf"):
        ways += [schema["anyOf"][0], *_first_ways(schema["anyOf"][0])]
    for rule in schema.get("allOf", []):
        ways += [rule, *_first_ways(rule)]
    return ways


def request_body(doc: dict[str, Any], method: str, path: str) -> Any:
    """A body of the documented shape for ``method path`` (None when it takes none)."""
    operation = doc["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return None if content is None else example(content["schema"], doc)


@dataclass
class MatrixWalk:
    """What the walk found: routes, requests sent, and every answer that disagrees with the table."""

    routes: int = 0
    requests: int = 0
    wrong: list[str] = field(default_factory=list)


def walk_matrix(url: str, tokens: dict[str, str], table: dict[tuple[str, str], dict[str, str]]) -> MatrixWalk:
    """Call every row's route with no token, a wrong token and each role's token; a denied role must get 403, an
    allowed one an answer about the command (not 401/403, not a refusal of the body's shape, never 5xx); no token
    and a wrong token get 401 unless the route is public."""
    walk = MatrixWalk(routes=len(table))
    with httpx.Client(base_url=url, timeout=30) as client:
        doc = client.get("/openapi.json").json()

        def call(method: str, path: str, token: str | None) -> httpx.Response:
            target = re.sub(r"{(\w+)}", lambda m: PATH_VALUES[m.group(1)], path)
            headers = {"Idempotency-Key": secrets.token_hex(8)}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            body = request_body(doc, method, path)
            if path == "/api/v1/sessions":  # the logon: a warehouse badge needs no PIN (config/demo.yaml)
                body = {"badge": "BADGE:wim"}
            walk.requests += 1
            return client.request(method, target, json=body, headers=headers)

        for (method, path), row in sorted(table.items()):
            public = all(row[role] == "public" for role in ROLES)
            for who, token in (("no token", None), ("wrong token", "not-a-token-" + secrets.token_hex(8))):
                answer = call(method, path, token)
                ok = answer.status_code < 500 and (answer.status_code not in (401, 403) if public
                                                   else answer.status_code == 401)
                if not ok:
                    walk.wrong.append(f"{method} {path} {who}: {answer.status_code} {answer.text[:120]}")
            for role in ROLES:
                answer = call(method, path, tokens[role])
                status = answer.status_code
                shape = status == 422 and answer.json().get("code") == "INVALID_REQUEST"
                ok = status == 403 if row[role] == "deny" else status not in (401, 403) and status < 500 and not shape
                if not ok:
                    walk.wrong.append(f"{method} {path} {role} ({row[role]}): {status} {answer.text[:160]}")
    return walk
