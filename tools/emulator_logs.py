"""The functions' own log lines (one JSON object each), as the emulators' log file holds them:
how a test knows that a trigger, which answers no one, has finished."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.waiting import wait_until


def log_records(path: Path, event: str) -> list[dict[str, Any]]:
    """Every line the functions logged with this event, oldest first."""
    records = []
    for line in path.read_text(errors="replace").splitlines():
        start = line.find('{"')
        if start < 0 or f'"event":"{event}"' not in line:
            continue
        try:
            records.append(json.loads(line[start:]))
        except ValueError:  # a line cut by the emulator's own output: not one of ours
            continue
    return records


def wait_for_log(path: Path, event: str, timeout_s: float = 60.0, **fields: Any) -> dict[str, Any]:
    """The first line with this event and these fields, once it has been logged."""

    def first_match() -> dict[str, Any] | None:
        for record in log_records(path, event):
            if all(record.get(name) == value for name, value in fields.items()):
                return record
        return None

    return wait_until(first_match, timeout_s, describe=lambda _: f"no {event} with {fields}")
