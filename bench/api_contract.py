"""API contract figures: the authorization matrix and a schemathesis run against a demo node, over the wire.
``python -m bench.api_contract [--max-examples N] [--max-time S] [--json FILE]``.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``authz_matrix_routes``: mutating routes the node serves that the reviewed table (tests/integration/authz_matrix.csv)
  covers; ``authz_matrix_requests``: requests sent (each route × each role, no token, a wrong token);
  ``authz_matrix_mismatches``: answers that disagree with the table (goal 0); ``authz_matrix_uncovered``: mutating
  routes without a row (goal 0).
- ``schemathesis_server_errors``: 5xx answers schemathesis (all checks, bounded examples, one seed) found (goal 0);
  ``schemathesis_valid_refused``: schema-valid requests refused (goal 0); ``schemathesis_failures``: all failures
  by any check; ``schemathesis_seconds``: how long the run took.
- ``*_issue15``: what the review of issue 15 found on the demo node before the contract work (93 schema-valid
  requests refused, 60 undocumented statuses, wrong ``Allow`` on 7 paths), printed beside the measured counts. These
  are counts of defects, not speeds: there is no same-run baseline to divide by, the goal of each is 0.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.pages import serve_demo
from simulators.api_review import DEMO_TOKENS, ROLES, mutating_routes, read_matrix, run_schemathesis, walk_matrix

FIGURES: list[tuple[str, float, str]] = []
# What the review of issue 15 found on the demo node before the contract work (schemathesis, same checks).
ISSUE15 = {"schemathesis_valid_refused": 93, "schemathesis_undocumented_statuses": 60, "schemathesis_allow_wrong": 7}


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 2), unit))


def stop(node: Any, server: Any, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(10)
    node.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_contract", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--max-time", type=float, default=80.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="takt-contract-") as folder:
        node, server, thread, url = serve_demo(Path(folder) / "matrix")
        try:
            table = read_matrix()
            served = mutating_routes(server.config.app)
            walk = walk_matrix(url, DEMO_TOKENS, {k: v for k, v in table.items() if k in served})
        finally:
            stop(node, server, thread)
        figure("authz_matrix_routes", walk.routes, "routes")
        figure("authz_matrix_roles", len(ROLES), "roles")
        figure("authz_matrix_requests", walk.requests, "requests")
        figure("authz_matrix_mismatches", len(walk.wrong), "answers")
        figure("authz_matrix_uncovered", len(served - set(table)), "routes")
        node, server, thread, url = serve_demo(Path(folder) / "fuzz")
        try:
            started = time.monotonic()
            review = run_schemathesis(url, Path(folder) / "report", max_examples=args.max_examples,
                                      max_time=args.max_time)
            seconds = time.monotonic() - started
        finally:
            stop(node, server, thread)
    undocumented = sum(n for name, n in review.failures.items() if name.startswith("ST103 "))
    allow = sum(n for name, n in review.failures.items() if name.startswith("ST205 "))
    figure("schemathesis_server_errors", review.server_errors, "failures")
    figure("schemathesis_valid_refused", review.valid_refused, "failures")
    figure("schemathesis_valid_refused_issue15", ISSUE15["schemathesis_valid_refused"], "failures")
    figure("schemathesis_undocumented_statuses", undocumented, "failures")
    figure("schemathesis_undocumented_statuses_issue15", ISSUE15["schemathesis_undocumented_statuses"], "failures")
    figure("schemathesis_allow_wrong", allow, "paths")
    figure("schemathesis_allow_wrong_issue15", ISSUE15["schemathesis_allow_wrong"], "paths")
    figure("schemathesis_failures", sum(review.failures.values()), "failures")
    figure("schemathesis_seconds", seconds, "s")
    summary = {"mismatches": walk.wrong, "schemathesis": dict(review.failures),
               "schemathesis_operations": review.examples}
    print(json.dumps(summary, indent=2))
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({"figures": {n: {"value": v, "unit": u} for n, v, u in FIGURES},
                                         "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
