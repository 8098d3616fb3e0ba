"""Structured logs: one JSON object per line on stdout, which Cloud Logging reads as is.

Secrets registered with `register_secret` are replaced in every line, whatever field or error
text carries them.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson

SMART_ROUTING = "exec.smart_routing"
PORTFOLIO_HISTORY_WRITTEN = "exec.portfolio_history_written"
EXECUTION = "exec.execution"
LEDGER_WRITE_FAILED = "exec.ledger_write_failed"

REDACTED = "[redacted]"
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Never log this value. Short values are refused: they would redact ordinary text."""
    if value and len(value) >= 8:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def log_event(event: str, severity: str = "INFO", **fields: Any) -> None:
    record = {"severity": severity, "event": event, **fields}
    # orjson: the stdlib encoder costs ~10 µs a line here, a tenth of the engine's budget.
    line = orjson.dumps(record, default=str).decode()
    sys.stdout.write((redact(line) if _secrets else line) + "\n")
    sys.stdout.flush()
