"""The scheduled run: every enabled strategy config, through the same path as the callable.

The five-minute tick fans out: one task per config on the runscheduledstrategy queue
(handlers/run_scheduled_strategy.py runs it), the tick's quotes fetched once and shared.
Each (config, symbol, tick) takes its own execution claim, so no delivery of the tick or of a
task places anything twice."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.domain.assets import parse_symbol
from smart_routing.domain.identifiers import check_id
from smart_routing.domain.orders import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    PositiveFinite,
    client_order_id_for,
)
from smart_routing.execution.decision_record import DecisionSource
from smart_routing.execution.pipeline import StrategyRunner, StrategyRunRequest, StrategyRunResult
from smart_routing.execution.result import ExecutionStatus, status_of
from smart_routing_firebase.platform import task_queue
from smart_routing_firebase.platform.services import settles_in_firestore
from smart_routing_firebase.reconciliation.earlier_attempt import venue_order_of_earlier_attempt
from smart_routing_firebase.stores import idempotency, paths, scheduled_ticks
from smart_routing_firebase.stores.decision_record import record_decision
from smart_routing_firebase.stores.one_commit import run_in_one_commit
from venues.quote_sources import VenueMarketData, fetch_shared, shared_quote_sources

_DIGEST_LENGTH = 64  # sha256, hex
# Task queue ids take letters, digits and hyphens only: the function's name has no "_".
TASK_FUNCTION = "runscheduledstrategy"
ENQUEUE_FAILED = "enqueue_failed"
_ENQUEUE_WORKERS = 8  # firebase-admin's HTTP pool keeps 10 connections
Enqueue = Callable[[str, dict[str, Any], str, int], str]


class ScheduledStrategyConfig(BaseModel):
    """tenants/{tenant_id}/strategies/{strategy_id}. The document id is the strategy id
    unless `strategy_id` names another (two configs of one strategy, say)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool
    uid: Annotated[str, Field(min_length=1)]
    symbols: Annotated[list[str], Field(min_length=1)]
    qty: PositiveFinite
    strategy_id: str | None = None
    side: Literal["buy", "sell"] | None = None
    dry_run: bool = False
    config: dict[str, Any] = Field(default_factory=dict)
    description: str = ""


def fan_out(
    db: Client,
    providers: list[VenueMarketData],
    schedule_time: datetime,
    enqueue: Enqueue = task_queue.enqueue,
) -> Counter[str]:
    """The tick: every enabled config gets one task on the runscheduledstrategy queue, under
    an id of its own for this tick, and the tick's quotes are fetched once (one request per
    venue source and asset class) and stored for the tasks. A tick delivered again after its
    fan-out finished enqueues nothing; one delivered half way enqueues only what is missing
    (the queue refuses a task id it has seen). Raises when an enqueue failed, so that a retry
    of the tick adds the rest."""
    tick = schedule_tick(schedule_time)
    tick_key = scheduled_ticks.tick_id(tick)
    tally: Counter[str] = Counter()
    if scheduled_ticks.fanned_out(db, tick_key):
        tally["already_fanned_out"] = 1
        logs.log_counts(logs.LogEvent.SCHEDULED_RUN_SUMMARY, tally, schedule_time=tick.isoformat())
        return tally
    configs = _enabled_configs(db, tally)
    tally["configs"] = len(configs)
    _share_quotes(db, providers, tick_key, configs, tally)
    outcomes = _enqueue_all(tick, [path for path, _, _ in configs], enqueue)
    tally.update(outcomes)
    logs.log_counts(logs.LogEvent.SCHEDULED_RUN_SUMMARY, tally, schedule_time=tick.isoformat())
    if outcomes[ENQUEUE_FAILED]:
        raise RuntimeError(f"{outcomes[ENQUEUE_FAILED]} tasks of the tick were not enqueued")
    scheduled_ticks.mark_fanned_out(db, tick_key, datetime.now(UTC), tally)
    return tally


def strategy_task_id(tick: datetime, config_path: str) -> str:
    """One id per (tick, config), the same however often the tick is delivered. The digest
    comes first: Cloud Tasks serves ids with a common prefix (a timestamp) more slowly."""
    tick_text = schedule_tick(tick).isoformat()
    digest = hashlib.sha256(f"{tick_text}\x1f{config_path}".encode()).hexdigest()
    return f"{digest[:32]}-{scheduled_ticks.tick_id(schedule_tick(tick))}"


def task_payload(tick: datetime, config_path: str) -> dict[str, str]:
    return {"tick": schedule_tick(tick).isoformat(), "config": config_path}


def _share_quotes(
    db: Client,
    providers: list[VenueMarketData],
    tick_key: str,
    configs: list[tuple[str, str, ScheduledStrategyConfig]],
    tally: Counter[str],
) -> None:
    """Fetch the quotes of every symbol the configs trade, once, and store them for the
    tick's tasks. A symbol that is none is the task's to report."""
    instruments = []
    for _, _, config in configs:
        for symbol in config.symbols:
            with contextlib.suppress(ValueError):
                instrument = parse_symbol(symbol)
                instruments.append((instrument.symbol, instrument.asset_class))
    fetched_at = datetime.now(UTC)
    quotes = fetch_shared(shared_quote_sources(providers, instruments))
    scheduled_ticks.save_quotes(db, tick_key, quotes, fetched_at)
    tally["quotes_shared"] = len(quotes)


def _enqueue_all(tick: datetime, config_paths: list[str], enqueue: Enqueue) -> Counter[str]:
    """Each config's task, a few enqueues at a time; a failed one is logged and counted."""

    def one(path: str) -> str:
        try:
            return enqueue(TASK_FUNCTION, task_payload(tick, path), strategy_task_id(tick, path), 0)
        except Exception as exc:  # the tick is retried; what was enqueued stays enqueued
            log_failure(path, None, exc)
            return ENQUEUE_FAILED

    with ThreadPoolExecutor(max_workers=_ENQUEUE_WORKERS) as pool:
        return Counter(pool.map(one, config_paths))


def schedule_tick(schedule_time: datetime) -> datetime:
    """The tick a run belongs to: UTC, whole seconds. firebase-functions parses the
    X-CloudScheduler-ScheduleTime header with fromisoformat, so one instant may arrive with
    any offset, with fractions, or naive (no offset, which Cloud Scheduler means as UTC)."""
    if schedule_time.tzinfo is None:
        schedule_time = schedule_time.replace(tzinfo=UTC)
    return schedule_time.astimezone(UTC).replace(microsecond=0)


def _enabled_configs(
    db: Client, tally: Counter[str]
) -> list[tuple[str, str, ScheduledStrategyConfig]]:
    """(path, tenant id, config) of every enabled config that is valid and safe to run."""
    configs = []
    enabled = db.collection_group("strategies").where(filter=FieldFilter("enabled", "==", True))
    for snapshot in enabled.stream():
        path = snapshot.reference.path
        try:
            tenant_id = tenant_of(path)
            config = ScheduledStrategyConfig.model_validate(snapshot.to_dict())
            check_ids(tenant_id, config.uid)
        except ValueError as exc:
            log_failure(path, None, exc)
            tally["broken_configs"] += 1
            continue
        configs.append((path, tenant_id, config))
    return configs


def tenant_of(path: str) -> str:
    """The collection group also matches a `strategies` collection anywhere else."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "tenants":
        raise ValueError("not a tenants/{tenant_id}/strategies/{strategy_id} document")
    return parts[1]


def check_ids(tenant_id: str, uid: str) -> None:
    """The callable's rule for ids (smart_routing.domain.identifiers): a config whose tenant or user
    could not be a document id is refused before anything runs."""
    check_id(tenant_id, "tenant id")
    check_id(uid, "uid")


def run_once(db: Client, runner: StrategyRunner, path: str, request: StrategyRunRequest) -> str:
    """Claim the (config, symbol, tick) as the callable claims a key, run it, and return the
    tally entry. Another instance holding or having run the claim means nothing to do."""
    assert request.tenant_id and request.uid and request.client_order_id
    claim_path = paths.execution_claim(request.tenant_id, request.client_order_id)
    # The run's identity (config, symbol, tick: its client_order_id), not its settings: a
    # delivery after the config was edited finds the runs that finished as done.
    fingerprint = idempotency.fingerprint({"scheduled_run": request.client_order_id})
    try:
        if idempotency.claim(db, claim_path, fingerprint, request.uid) is not None:
            return "already_ran"
    except (idempotency.IdempotencyConflict, idempotency.ExecutionInProgress) as exc:
        log_failure(path, request.symbol, exc)
        return "failed_runs"
    try:
        found = _earlier_attempt(db, runner, request)
        if found is not None:
            idempotency.complete(db, claim_path, {"status": found.value})
            return f"status_{found.value}"
        work = lambda: _run_and_finish(db, runner, request, claim_path)  # noqa: E731
        if settles_in_firestore(runner, request.instrument.asset_class):
            result = run_in_one_commit(db, work)
        else:  # a real venue's order is placed by the first run: never run it twice
            result = work()
    except Exception as exc:  # one bad symbol or config must not stop the rest
        idempotency.release(db, claim_path)
        log_failure(path, request.symbol, exc)
        return "failed_runs"
    return f"status_{result.status.value}"


def _earlier_attempt(
    db: Client, runner: StrategyRunner, request: StrategyRunRequest
) -> ExecutionStatus | None:
    """What an earlier delivery's order became, when its outcome was left unknown and the
    venue holds it (reconciliation/earlier_attempt.py): the run is not decided or sent again.
    None: run it as usual."""
    assert request.tenant_id and request.client_order_id
    if settles_in_firestore(runner, request.instrument.asset_class):
        return None
    found = venue_order_of_earlier_attempt(
        db, runner.engine.broker, request.tenant_id, request.client_order_id, datetime.now(UTC)
    )
    return None if found is None else status_of(found)[0]


def _run_and_finish(
    db: Client, runner: StrategyRunner, request: StrategyRunRequest, claim_path: str
) -> StrategyRunResult:
    """The run, its decision record and the claim's completion staged in the run's own
    commit."""
    result = runner.run(request)
    record_decision(db, runner, request, result, DecisionSource.SCHEDULED)
    if result.status in (ExecutionStatus.UNKNOWN, ExecutionStatus.ERROR):
        # Unknown: the next delivery must look again. Error: nothing was placed (the venue or
        # the instrument's data was unavailable): the next delivery tries again.
        idempotency.release(db, claim_path)
    else:
        idempotency.complete(db, claim_path, {"status": result.status.value})
    return result


def run_request(
    path: str,
    tenant_id: str,
    config: ScheduledStrategyConfig,
    symbol: str,
    tick: datetime,
) -> StrategyRunRequest:
    """The run of one config on one symbol at this tick, its symbol parsed and its
    client_order_id derived here, once. Raises ValueError when the symbol is none."""
    doc_id = path.rsplit("/", 1)[-1]
    key = scheduled_idempotency_key(doc_id, symbol, tick)
    return StrategyRunRequest(
        strategy_id=config.strategy_id or doc_id,
        symbol=symbol,
        qty=config.qty,
        side=config.side,
        dry_run=config.dry_run,
        idempotency_key=key,
        tenant_id=tenant_id,
        uid=config.uid,
        client_order_id=client_order_id_for(tenant_id, config.uid, key),
        config=config.config,
    )


def scheduled_idempotency_key(doc_id: str, symbol: str, schedule_time: datetime) -> str:
    """One key per config, symbol and tick, so a redelivered tick places no second order.

    The key ends in the sha256 of the whole (config, symbol, tick), so two of them never share
    a key, however long their names or whatever colons they hold. The start is only a readable
    label, cut to fit. Retries of one tick share the key, whatever form its time arrived in.
    """
    tick = schedule_tick(schedule_time).isoformat()
    digest = hashlib.sha256(json.dumps([doc_id, symbol, tick]).encode()).hexdigest()
    label = f"schedule:{doc_id}:{symbol}:{tick}"[: MAX_IDEMPOTENCY_KEY_LENGTH - _DIGEST_LENGTH - 1]
    return f"{label}:{digest}"


def log_failure(path: str, symbol: str | None, exc: Exception) -> None:
    logs.log_event(
        logs.LogEvent.SCHEDULED_STRATEGY_FAILED,
        severity="ERROR",
        config=path,
        symbol=symbol,
        error=f"{type(exc).__name__}: {exc}",
    )


def handle_scheduled_run(schedule_time: datetime) -> Counter[str]:
    from smart_routing_firebase.platform.services import services

    svc = services()
    return fan_out(svc.db, svc.venues.quote_providers(), schedule_time)
