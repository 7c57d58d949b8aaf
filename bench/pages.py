"""Pages benchmark: keyboard-wedge scan → feedback on the terminal page, and terminal page load → interactive, in
Debian's Chromium against a demo node. ``python -m bench.pages [--scans N] [--loads N] [--json FILE]``.

Figures (one ``FIGURE <name> <value> <unit>`` line each, at the end):

- ``wedge_feedback_p95_ms``: WS-20's terminal page, operator logged on, WO-1001/20 running. A label is typed into
  the page as a keyboard-wedge scanner does (real key events through the DevTools protocol, GS as the control key,
  Enter last; no field focused); from the Enter key's keydown to the animation frame in which the page shows the
  answer (green booked / red refused with its reason). Half the scans book a consumption (``LOT:BLT-BENCH``,
  through the one write path, durable on SQLite), half are the expired grease lot (GS1 label, refused with the FEFO
  pick). The keys carry time stamps 4 ms apart, as the OS stamps a USB scanner's keys.
- ``wedge_feedback_baseline_p95_ms``: the same scans as bare ``fetch`` calls of ``POST /api/v1/scans`` from the
  same page (no key events, no rendering): what the API round trip costs. ``wedge_feedback_vs_baseline_p95`` is
  the ratio.
- ``page_interactive_ms``: median, navigation start → the terminal shows the workstation's data and takes input
  (logged-on session, reloads of the page). ``page_interactive_max_ms``: the slowest load.
  ``page_interactive_baseline_ms``: median of the page's one data read (``GET /api/v1/pages/workstations/WS-20``)
  from the loaded page.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from simulators.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
EXPIRED = "]d20109501101530003" + "10L123\x1d301"
BOLTS = "LOT:BLT-BENCH"
FIGURES: list[tuple[str, float, str]] = []


def figure(name: str, value: float, unit: str) -> None:
    FIGURES.append((name, round(value, 2), unit))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def serve_demo(data_dir: Path) -> tuple[Any, Any, threading.Thread, str]:
    import uvicorn

    from takt.api.app import create_app
    from takt.config import load_config
    from takt.runtime import Node

    node = Node(load_config(ROOT / "config" / "demo.yaml"), data_dir=data_dir).start()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(node), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the node did not start")
        time.sleep(0.01)
    return node, server, thread, f"http://127.0.0.1:{port}"


def run(scans: int, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from simulators.wedge_scanner import type_scan  # key events stamped as a USB scanner's

    summary: dict[str, Any] = {}
    node, server, thread, url = serve_demo(Path(tempfile.mkdtemp(prefix="takt-bench-pages-")) / "data")
    try:
        api = httpx.Client(base_url=url, timeout=30)
        hdr = {"Authorization": "Bearer demo-warehouse-token-00000", "Idempotency-Key": "bench-bolts"}
        api.post("/api/v1/lots", headers=hdr, json={"lot": "BLT-BENCH", "item": "BOLT-M8X25", "quantity": 1000,
                                                    "bin": "LS-20"}).raise_for_status()
        hdr = {"Authorization": "Bearer demo-operator-token-000000", "Idempotency-Key": "bench-start"}
        api.post("/api/v1/work-orders/WO-1001/operations/20/start", headers=hdr, json={}).raise_for_status()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(30_000)
            page.goto(f"{url}/pages/terminal/WS-20")
            page.wait_for_selector("body[data-ready=true]")
            cdp = page.context.new_cdp_session(page)
            type_scan(cdp, "BADGE:anna")
            page.wait_for_selector("#pinpad")
            page.fill("#pin-input", "1234")
            page.click("#pinpad button[data-k=OK]")
            page.wait_for_selector("#current-order")
            time.sleep(0.5)

            # Page load → interactive, logged on (the session is kept for the tab).
            interactive: list[float] = []
            for _ in range(loads):
                page.reload()
                page.wait_for_function("window.taktProbes && window.taktProbes.interactiveAt != null", timeout=30_000)
                interactive.append(float(page.evaluate("window.taktProbes.interactiveAt")))
            read_ms: list[float] = []
            for _ in range(loads):
                read_ms.append(float(page.evaluate("""async () => {
                    const t0 = performance.now();
                    const s = JSON.parse(sessionStorage.getItem('takt.session.terminal-WS-20'));
                    const r = await fetch('/api/v1/pages/workstations/WS-20', {headers: {Authorization: 'Bearer ' + s.token}});
                    await r.json();
                    return performance.now() - t0; }""")))
            time.sleep(0.5)

            # Wedge scan → feedback, then the bare API round trip of the same scans from the same page.
            labels = [BOLTS if i % 2 == 0 else EXPIRED for i in range(scans + 4)]
            from_enter: list[float] = []
            outcomes = {"ok": 0, "refused": 0}
            for i, label in enumerate(labels):
                before = page.evaluate("window.taktProbes.feedbackShown ? window.taktProbes.feedbackShown.seq : 0")
                type_scan(cdp, label)
                page.wait_for_function(f"window.taktProbes.feedbackShown && window.taktProbes.feedbackShown.seq > {before}",
                                       timeout=30_000)
                shown, scan = page.evaluate("[window.taktProbes.feedbackShown, window.taktProbes.lastScan]")
                if scan["text"] != label:
                    raise RuntimeError(f"the page read {scan['text']!r} for {label!r}")
                if i < 4:
                    continue  # warm-up
                outcomes["ok" if shown["ok"] else "refused"] += 1
                from_enter.append(shown["at"] - scan["endedAt"])
                time.sleep(0.05)
            baseline: list[float] = page.evaluate("""async (labels) => {
                const s = JSON.parse(sessionStorage.getItem('takt.session.terminal-WS-20'));
                const out = [];
                for (let i = 0; i < labels.length; i++) {
                    const t0 = performance.now();
                    const r = await fetch('/api/v1/scans', {method: 'POST', headers: {'Content-Type': 'application/json',
                        Authorization: 'Bearer ' + s.token, 'Idempotency-Key': 'bench-base-' + i + '-' + Math.random()},
                        body: JSON.stringify({device: 'WS-20-terminal', text: labels[i]})});
                    await r.json();
                    if (i >= 4) out.push(performance.now() - t0);
                    await new Promise(res => setTimeout(res, 50));
                }
                return out; }""", labels)
            browser.close()
        summary.update(scans=len(from_enter), outcomes=outcomes, loads=loads,
                       interactive_ms=[round(x, 1) for x in interactive])
        figure("wedge_feedback_p95_ms", p95(from_enter), "ms")
        figure("wedge_feedback_baseline_p95_ms", p95(baseline), "ms")
        figure("wedge_feedback_vs_baseline_p95", p95(from_enter) / max(p95(baseline), 0.001), "ratio")
        figure("wedge_feedback_median_ms", statistics.median(from_enter), "ms")
        figure("page_interactive_ms", statistics.median(interactive), "ms")
        figure("page_interactive_max_ms", max(interactive), "ms")
        figure("page_interactive_baseline_ms", statistics.median(read_ms), "ms")
    finally:
        server.should_exit = True
        thread.join(10)
        node.stop()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--loads", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    summary = run(args.scans, args.loads)
    print(json.dumps(summary))
    for name, value, unit in FIGURES:
        print(f"FIGURE {name} {value} {unit}")
    if args.json:
        args.json.write_text(json.dumps({"figures": {n: {"value": v, "unit": u} for n, v, u in FIGURES},
                                         "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
