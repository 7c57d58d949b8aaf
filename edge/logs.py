"""Logging set-up: structured JSON lines (for journald and log shippers) or a plain format for a terminal.

Fields passed with ``extra={...}`` become top-level JSON keys, so a command's log line carries its
idempotency key, command and outcome as fields rather than inside a sentence.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(level: str = "info", *, json_lines: bool | None = None) -> None:
    """Log to stdout: JSON lines when not on a terminal (or when asked), readable lines otherwise.

    ``$TAKT_LOG_FORMAT`` (``json`` or ``text``) chooses when the caller does not."""
    if json_lines is None:
        chosen = os.environ.get("TAKT_LOG_FORMAT", "").strip().lower()
        json_lines = chosen == "json" if chosen in ("json", "text") else not sys.stdout.isatty()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
