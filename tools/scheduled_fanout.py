"""Many tenants' strategy configs for one scheduled tick, and waiting for the tick's tasks to
have run: the fan-out test and bench share them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smart_routing_firebase.handlers.run_scheduled_strategies import (
    schedule_tick,
    strategy_task_id,
)
from smart_routing_firebase.stores import scheduled_ticks
from tools.waiting import wait_until

BATCH = 400


def seed_configs(
    db: Any, prefix: str, tenants: int, symbols: tuple[str, ...], dry_run: bool = True
) -> list[str]:
    """`tenants` tenants, each with one enabled manual config per symbol (a 1-share buy); the
    configs' paths."""
    docs = {
        f"tenants/{prefix}-{t}/strategies/buy-{symbol.lower()}": {
            "enabled": True, "uid": f"{prefix}-user-{t}", "strategy_id": "manual",
            "side": "buy", "symbols": [symbol], "qty": 1, "dry_run": dry_run,
        }
        for t in range(tenants)
        for symbol in symbols
    }  # fmt: skip
    _write(db, [(path, data) for path, data in docs.items()], merge=False)
    return list(docs)


def disable(db: Any, paths: list[str]) -> None:
    """So that no later tick runs them."""
    _write(db, [(path, {"enabled": False}) for path in paths], merge=True)


def task_runs(db: Any, tick: datetime) -> dict[str, dict[str, Any]]:
    """runs/{task id} of the tick: each task's deliveries and last outcome."""
    runs = db.collection(f"{scheduled_ticks.tick_path(scheduled_ticks.tick_id(tick))}/runs")
    return {doc.id: doc.to_dict() for doc in runs.stream()}


def wait_for_tasks(
    db: Any, tick: datetime, paths: list[str], timeout_s: float = 300.0
) -> dict[str, dict[str, Any]]:
    """Poll until every config of `paths` has a run recorded for the tick; their run records,
    by config path. Fails with how many are missing."""
    wanted = {strategy_task_id(schedule_tick(tick), path): path for path in paths}

    def all_ran() -> dict[str, dict[str, Any]] | None:
        runs = task_runs(db, tick)
        if wanted.keys() - runs.keys():
            return None
        return {wanted[task_id]: runs[task_id] for task_id in wanted}

    def missing(_: object) -> str:
        return (
            f"{len(wanted.keys() - task_runs(db, tick).keys())} of {len(wanted)} tasks had not run"
        )

    return wait_until(all_ran, timeout_s, interval_s=0.5, describe=missing)


def quote_requests_for(alpaca: Any, symbols: tuple[str, ...]) -> int:
    """Stock quote requests the Alpaca fake answered that asked for any of `symbols`."""
    return sum(
        1
        for request in alpaca.server.requests_to("/v2/stocks/quotes/latest")
        if set(",".join(request.query.get("symbols", [])).split(",")) & set(symbols)
    )


def _write(db: Any, writes: list[tuple[str, dict[str, Any]]], merge: bool) -> None:
    for start in range(0, len(writes), BATCH):
        batch = db.batch()
        for path, data in writes[start : start + BATCH]:
            batch.set(db.document(path), data, merge=merge)
        batch.commit()
