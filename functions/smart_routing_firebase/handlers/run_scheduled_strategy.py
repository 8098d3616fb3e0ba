"""The runscheduledstrategy task: one strategy config's runs for one tick.

The config is read as it is now: one deleted or disabled since the tick does nothing and says
why. Each symbol runs as the tick's run always has (its own execution claim, so a delivery
that comes again runs nothing twice), on the tick's shared quotes. A task bounded by its
budget, or with a run that failed or whose order's outcome is unknown, raises once the others
are done: the queue delivers it again and only what did not finish runs (an unknown order is
looked for again under its client_order_id, which the venue takes once).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.cloud.firestore import Client

from smart_routing import logs
from smart_routing.execution.pipeline import StrategyRunner, StrategyRunRequest
from smart_routing.execution.result import ExecutionStatus
from smart_routing_firebase.handlers.run_scheduled_strategies import (
    ScheduledStrategyConfig,
    check_ids,
    log_failure,
    run_once,
    run_request,
    schedule_tick,
    strategy_task_id,
    tenant_of,
)
from smart_routing_firebase.platform.task_queue import MalformedTask
from smart_routing_firebase.stores import scheduled_ticks
from smart_routing_firebase.stores.scheduled_ticks import QuoteKey
from venues.quote_sources import (
    VenueMarketData,
    fetch_shared,
    shared_quote_sources,
    shared_quotes,
)

# Of the function's 120 s timeout: a run started before this much has passed has time to end.
TASK_BUDGET_S = 90.0
# A run whose order's outcome is unknown, or that the venue could not take (an error: nothing
# placed), gave its claim back: the next delivery looks again, or tries again.
UNKNOWN_RUNS = f"status_{ExecutionStatus.UNKNOWN.value}"
ERROR_RUNS = f"status_{ExecutionStatus.ERROR.value}"


class TaskUnfinished(RuntimeError):
    """Some of the task's runs did not finish: the queue delivers it again."""


def handle_strategy_task(data: Any) -> Counter[str]:
    """The task function's body, on the instance's services. Raises MalformedTask for a task
    that is not one of ours."""
    from smart_routing_firebase.platform.services import services

    tick, config_path = parse_task(data)
    svc = services()
    return run_config_task(
        svc.db, svc.runner, svc.venues.quote_providers(), tick, config_path,
        svc.config.routing.max_quote_age_s,
    )  # fmt: skip


def parse_task(data: Any) -> tuple[datetime, str]:
    """(the tick, the config's path), or MalformedTask saying what is wrong."""
    if not isinstance(data, dict) or set(data) != {"tick", "config"}:
        raise MalformedTask("the task's data must be an object of tick and config")
    tick, config = data["tick"], data["config"]
    if not isinstance(tick, str) or not isinstance(config, str):
        raise MalformedTask("the task's tick and config must be text")
    try:
        parsed = datetime.fromisoformat(tick)
    except ValueError as exc:
        raise MalformedTask(f"tick: {exc}") from exc
    try:
        tenant_of(config)
    except ValueError as exc:
        raise MalformedTask(f"config: {exc}") from exc
    return schedule_tick(parsed), config


def run_config_task(
    db: Client,
    runner: StrategyRunner,
    providers: list[VenueMarketData],
    tick: datetime,
    config_path: str,
    max_quote_age_s: float,
    budget_s: float = TASK_BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
) -> Counter[str]:
    """Run the config's symbols for the tick; the tally of what each did. Raises
    TaskUnfinished when a run failed, ended unknown or in error (a venue down), or the budget
    ran out (the runs that did end stay done)."""
    deadline = clock() + budget_s
    tally: Counter[str] = Counter()
    requests = _current_requests(db, config_path, tick, tally)
    if requests:
        quotes = _tick_quotes(db, providers, tick, requests, max_quote_age_s)
        with shared_quotes(quotes):
            for request in requests:
                if clock() > deadline:
                    tally["out_of_time"] += 1
                    continue
                tally[run_once(db, runner, config_path, request)] += 1
    task_id = strategy_task_id(tick, config_path)
    tick_key = scheduled_ticks.tick_id(tick)
    scheduled_ticks.record_run(db, tick_key, task_id, config_path, tally, datetime.now(UTC))
    logs.log_counts(logs.LogEvent.SCHEDULED_TASK_SUMMARY, tally, config=config_path,
                    schedule_time=tick.isoformat(), task_id=task_id)  # fmt: skip
    if tally["failed_runs"] or tally[UNKNOWN_RUNS] or tally[ERROR_RUNS] or tally["out_of_time"]:
        raise TaskUnfinished(
            f"{config_path}: {tally['failed_runs']} runs failed, {tally[UNKNOWN_RUNS]} ended "
            f"unknown, {tally[ERROR_RUNS]} in error, {tally['out_of_time']} not started in "
            "time; the queue delivers the task again"
        )
    return tally


def _current_requests(
    db: Client, config_path: str, tick: datetime, tally: Counter[str]
) -> list[StrategyRunRequest]:
    """The config's runs for the tick as the config is now; none, said why, when it is gone,
    disabled or broken."""
    snapshot = db.document(config_path).get()
    if not snapshot.exists:
        return _skipped(config_path, tick, "the config no longer exists", tally)
    data = snapshot.to_dict() or {}
    if data.get("enabled") is not True:
        return _skipped(config_path, tick, "the config is disabled", tally)
    try:
        tenant_id = tenant_of(config_path)
        config = ScheduledStrategyConfig.model_validate(data)
        check_ids(tenant_id, config.uid)
    except ValueError as exc:
        log_failure(config_path, None, exc)
        tally["broken_configs"] += 1
        return []
    requests = []
    for symbol in config.symbols:
        try:
            requests.append(run_request(config_path, tenant_id, config, symbol, tick))
        except ValueError as exc:  # not a symbol: this run fails, the others go on
            log_failure(config_path, symbol, exc)
            tally["broken_symbols"] += 1
    return requests


def _skipped(
    config_path: str, tick: datetime, reason: str, tally: Counter[str]
) -> list[StrategyRunRequest]:
    logs.log_event(logs.LogEvent.SCHEDULED_TASK_SKIPPED, config=config_path,
                   schedule_time=tick.isoformat(), reason=reason)  # fmt: skip
    tally["skipped"] += 1
    return []


def _tick_quotes(
    db: Client,
    providers: list[VenueMarketData],
    tick: datetime,
    requests: list[StrategyRunRequest],
    max_quote_age_s: float,
) -> dict[QuoteKey, Any]:
    """The tick's stored quotes for these runs; one fetched longer ago than the router would
    accept a quote's age, or missing, is fetched now and stored for the tasks after this."""
    sources = shared_quote_sources(
        providers, [(r.instrument.symbol, r.instrument.asset_class) for r in requests]
    )
    tick_key = scheduled_ticks.tick_id(tick)
    now = datetime.now(UTC)
    usable = {
        key: quote
        for key, (fetched_at, quote) in scheduled_ticks.load_quotes(db, tick_key, sources).items()
        if (now - fetched_at).total_seconds() <= max_quote_age_s
    }
    stale = {key: provider for key, provider in sources.items() if key not in usable}
    if stale:
        fetched = fetch_shared(stale)
        scheduled_ticks.save_quotes(db, tick_key, fetched, now)
        usable.update(fetched)
    return usable
