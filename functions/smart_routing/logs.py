"""Structured logs: one JSON object per line on stdout, which Cloud Logging reads as is."""

from __future__ import annotations

import json
import sys
from typing import Any

SMART_ROUTING = "exec.smart_routing"
PORTFOLIO_HISTORY_WRITTEN = "exec.portfolio_history_written"
EXECUTION = "exec.execution"
LEDGER_WRITE_FAILED = "exec.ledger_write_failed"


def log_event(event: str, severity: str = "INFO", **fields: Any) -> None:
    record = {"severity": severity, "event": event, **fields}
    sys.stdout.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()
