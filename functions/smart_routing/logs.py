"""Structured logs: one JSON object per line on stdout, which Cloud Logging reads as is."""

from __future__ import annotations

import sys
from typing import Any

import orjson

SMART_ROUTING = "exec.smart_routing"
PORTFOLIO_HISTORY_WRITTEN = "exec.portfolio_history_written"
EXECUTION = "exec.execution"
LEDGER_WRITE_FAILED = "exec.ledger_write_failed"


def log_event(event: str, severity: str = "INFO", **fields: Any) -> None:
    record = {"severity": severity, "event": event, **fields}
    # orjson: the stdlib encoder costs ~10 µs a line here, a tenth of the engine's budget.
    sys.stdout.write(orjson.dumps(record, default=str).decode() + "\n")
    sys.stdout.flush()
