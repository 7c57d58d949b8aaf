"""Fixtures for the page tests: the demo site served by a real node, and Debian's Chromium driven by Playwright.

The browser is the system's (`/usr/bin/chromium`, installed by scripts/test); Playwright's own browser download is
never used. Screenshots go to tests/artifacts/ (git-ignored), kept after the run.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulators.wedge_scanner import type_scan
from takt.config import load_config
from takt.runtime import Node
from tests.integration.conftest import RunningNode, start_node

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("TAKT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TERMINAL = {"width": 1280, "height": 800}
HANDHELD = {"width": 360, "height": 640}
GS = "\x1d"


def demo_node(data_dir: Path) -> tuple[Node, RunningNode]:
    """The demo site (config/demo.yaml: users with badges and PINs, WS-20's terminal scanner, master data and
    stock) on a fresh SQLite store, served on a free port."""
    site = Node(load_config(ROOT / "config" / "demo.yaml"), data_dir=data_dir).start()
    try:
        return site, start_node("", site=site)
    except BaseException:
        site.stop()
        raise


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningNode]:
    site, running = demo_node(tmp_path / "data")
    yield running
    running.stop()
    site.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the session: Playwright's sync API runs an event loop in this thread
    while it is open, and the asyncio tests that run later need the thread free of one."""
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def enter_pin(page: Any, pin: str) -> None:
    """Type the PIN that a badge logon asks for (supervisor, quality and admin always need one) and confirm it."""
    page.wait_for_selector("#pinpad")
    page.fill("#pin-input", pin)
    page.click("#pinpad button[data-k=OK]")


class Wedge:
    """A keyboard-wedge scanner: the label as a fast burst of real key events (GS as the control key itself, as a
    scanner configured for it sends) ending in Enter, with no input field focused."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)

    def scan(self, text: str) -> None:
        type_scan(self.cdp, text)


def gs1_lot_label(gtin: str, lot: str, *, quantity: int | None = None, expiry: str | None = None) -> str:
    """A GS1 DataMatrix lot label as a scanner sends it: AIM identifier, (01) GTIN, (17) expiry, (10) lot, (30)."""
    text = f"]d201{gtin.zfill(14)}"
    if expiry:
        text += f"17{expiry}"
    text += f"10{lot}"
    if quantity is not None:
        text += f"{GS}30{quantity}"
    return text
