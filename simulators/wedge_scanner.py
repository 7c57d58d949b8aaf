"""A keyboard-wedge (USB HID) barcode scanner typing into a browser page: a label as a burst of real key events sent
through the DevTools protocol, for page tests and the pages benchmark."""
from __future__ import annotations

import time
from typing import Any

KEY_INTERVAL_S = 0.004  # a USB scanner types a key about every 4 ms
_last_key_at = 0.0


def type_scan(cdp: Any, text: str) -> None:
    """Key events as a wedge scanner produces them: each stamped KEY_INTERVAL_S after the one before (as the OS
    stamps a scanner's keys), whatever the sending machine's load; GS as the control character; Enter last.
    ``cdp`` is a Playwright CDP session of the page (``page.context.new_cdp_session(page)``)."""
    global _last_key_at
    start = max(time.time(), _last_key_at + 0.2)  # never stamped before the previous scan's keys
    _last_key_at = start + (len(text) + 1) * KEY_INTERVAL_S
    for i, ch in enumerate(text):
        at = start + i * KEY_INTERVAL_S
        cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": ch, "text": ch, "unmodifiedText": ch,
                                            "timestamp": at})
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": ch, "timestamp": at + 0.001})
    at = start + len(text) * KEY_INTERVAL_S
    cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Enter", "code": "Enter", "text": "\r",
                                        "windowsVirtualKeyCode": 13, "timestamp": at})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Enter", "code": "Enter",
                                        "windowsVirtualKeyCode": 13, "timestamp": at + 0.001})
