"""What the replay writes besides its JSON: each simulated fill as CSV. Files are written whole
to a temporary name and renamed, so a failed run leaves nothing half-written."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from smart_routing.replay.accounting import Status

FILL_COLUMNS = (
    "order_row", "order_timestamp", "symbol", "asset_class", "side", "policy",
    "fill_timestamp", "price", "qty", "delay_s",
)  # fmt: skip


def iso_ns(ns: int) -> str:
    """An instant, to the nanosecond, as ISO 8601 in UTC."""
    seconds, rest = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{rest:09d}Z"


def write_atomically(path: Path, write: Callable[[TextIO], None]) -> None:
    path = path.resolve()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            write(out)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_fills(path: Path, result: object) -> None:
    from smart_routing.replay.run import ReplayResult

    assert isinstance(result, ReplayResult)

    def rows(out: TextIO) -> None:
        writer = csv.writer(out)
        writer.writerow(FILL_COLUMNS)
        for policy, outcomes in result.outcomes.items():
            for order, outcome in zip(result.orders, outcomes, strict=True):
                if outcome.status is not Status.FILLED:
                    continue
                assert outcome.ts is not None and outcome.price is not None
                delay_s, delay_ns = divmod(outcome.ts - order.ts, 1_000_000_000)
                writer.writerow((
                    order.row, order.timestamp, order.symbol, order.asset_class.value,
                    order.side.value, policy.value, iso_ns(outcome.ts),
                    f"{outcome.price.normalize():f}", f"{order.qty:f}",
                    f"{delay_s}.{delay_ns:09d}",
                ))  # fmt: skip

    write_atomically(path, rows)
