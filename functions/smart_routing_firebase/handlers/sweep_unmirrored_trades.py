"""The sweep_unmirrored_trades schedule: the mirror's work for every ledger trade whose event
was lost (Firestore triggers are not retried: an event whose mirror raised is gone).

It reads the unmirrored markers (stores/unmirrored.py) recorded a while before its tick, so
the trigger normally finishes first, oldest first in pages (every shard's, merged, and those
written before markers had a shard), and mirrors each trade as the trigger would. Each
(user, symbol)'s trades go in (timestamp, trade_id) order, the pairs in parallel. A trade the
trigger applies at the same moment is applied once: the mirror's transaction finds the
other's history record. A run stopped half way (a crash, its time budget) leaves the markers
it did not reach for the next one, which is why a rerun, or the emulator's health check
running the body, is safe.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from google.cloud.firestore import Client, DocumentSnapshot

from smart_routing import logs
from smart_routing_firebase.handlers.mirror_ledger_trade import mirror_document
from smart_routing_firebase.stores import unmirrored

# The trigger's head start: a marker younger than this at the tick is left to it.
SETTLE = timedelta(seconds=60)
PAGE = 300
WORKERS = 8
# The run stops taking pages after this (its function's timeout is 300 s).
BUDGET_S = 200.0


def handle_sweep(schedule_time: datetime | None = None) -> Counter[str]:
    from smart_routing_firebase.platform.app import firestore_client

    return sweep(firestore_client(), _tick(schedule_time))


def sweep(db: Client, tick: datetime, budget_s: float = BUDGET_S) -> Counter[str]:
    """Mirror every trade whose marker was recorded by `tick` - SETTLE; the counts by outcome
    (`failed`: an error, its marker kept for the next run)."""
    deadline = time.monotonic() + budget_s
    tally: Counter[str] = Counter()
    markers = unmirrored.due(db, tick - SETTLE, PAGE)
    while time.monotonic() < deadline:
        page = list(islice(markers, PAGE))
        if not page:
            break
        tally.update(_mirror_page(db, page))
        if len(page) < PAGE:
            break
    logs.log_counts(logs.LogEvent.MIRROR_SWEEP_SUMMARY, {k: v for k, v in tally.items() if v},
                    tick=tick.isoformat())  # fmt: skip
    return tally


def _tick(schedule_time: datetime | None) -> datetime:
    """The tick's time (a header without an offset is UTC), or the current time when later:
    a late or retried run sees more."""
    now = datetime.now(UTC)
    if schedule_time is None:
        return now
    if schedule_time.tzinfo is None:
        schedule_time = schedule_time.replace(tzinfo=UTC)
    return max(schedule_time, now)


Entry = tuple[DocumentSnapshot, dict[str, Any] | None]


def _mirror_page(db: Client, markers: list[DocumentSnapshot]) -> Counter[str]:
    """The page's (user, symbol) groups in parallel; a group stopped by a failure (its
    transaction lost to contention, say) is taken up again once they are done, one group at a
    time; what fails then waits for the next run (`failed`, and `left` after it)."""
    ledger = db.get_all([unmirrored.ledger_ref_of(db, marker) for marker in markers])
    by_path = {snapshot.reference.path: snapshot for snapshot in ledger}
    groups: dict[tuple[Any, Any], list[Entry]] = defaultdict(list)
    for marker in markers:
        data = by_path[unmirrored.ledger_ref_of(db, marker).path].to_dict()
        groups[(data or {}).get("uid"), (data or {}).get("symbol")].append((marker, data))
    tally: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(lambda group: _mirror_in_order(db, group), groups.values()))
    for counts, _ in done:
        tally.update(counts)
    for _, rest in done:
        if rest:
            counts, left = _mirror_in_order(db, rest, last_try=True)
            tally.update(counts)
            tally["left"] += max(0, len(left) - 1)
    return tally


def _mirror_in_order(
    db: Client, group: list[Entry], last_try: bool = False
) -> tuple[Counter[str], list[Entry]]:
    """One (user, symbol)'s trades in the order the lots take them, so none replays another,
    until one fails: the counts, and the rest from the one that failed."""
    tally: Counter[str] = Counter()
    ordered = sorted(group, key=lambda item: _order_key(item[1], item[0].id))
    for index, (marker, data) in enumerate(ordered):
        tenant = marker.reference.parent.parent
        where = {"tenant_id": tenant.id if tenant else "", "trade_id": marker.id}
        try:
            # One attempt: a group that lost to contention is retried after the parallel pass
            # (_mirror_page); waiting it out here held the page past the run's budget.
            tally[mirror_document(db, data, where, contention_budget_s=0)] += 1
        except Exception as exc:  # contention, a deadline: tried again later
            if last_try:
                tally["failed"] += 1
                logs.log_event(logs.LogEvent.MIRROR_SKIPPED, severity="WARNING", **where,
                               reason=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
            return tally, ordered[index:]
    return tally, []


_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _order_key(data: dict[str, Any] | None, trade_id: str) -> tuple[datetime, str]:
    timestamp = (data or {}).get("timestamp")
    return (timestamp if isinstance(timestamp, datetime) else _NO_TIME, trade_id)
