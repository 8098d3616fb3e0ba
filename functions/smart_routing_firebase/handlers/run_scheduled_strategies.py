"""The scheduled run: every enabled strategy config, through the same path as the callable."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.domain.assets import Instrument
from smart_routing.domain.identifiers import check_id
from smart_routing.domain.orders import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    PositiveFinite,
    client_order_id_for,
)
from smart_routing.execution.decision_record import DecisionSource
from smart_routing.execution.pipeline import StrategyRunner, StrategyRunRequest, StrategyRunResult
from smart_routing.execution.result import ExecutionStatus
from smart_routing_firebase.platform.services import settles_in_firestore
from smart_routing_firebase.stores import idempotency, paths
from smart_routing_firebase.stores.decision_record import record_decision
from smart_routing_firebase.stores.one_commit import run_in_one_commit

_DIGEST_LENGTH = 64  # sha256, hex


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


def run_enabled_strategies(
    db: Client, runner: StrategyRunner, schedule_time: datetime
) -> Counter[str]:
    """Run every enabled config once for this tick; one broken config or symbol is logged and
    skipped. A tick delivered again finds its claims and runs nothing twice."""
    tick = schedule_tick(schedule_time)
    tally: Counter[str] = Counter()
    runs: list[tuple[str, StrategyRunRequest]] = []
    for path, tenant_id, config in _enabled_configs(db, tally):
        tally["configs"] += 1
        for symbol in config.symbols:
            try:
                runs.append((path, _request(path, tenant_id, config, symbol, tick)))
            except ValueError as exc:  # not a symbol: this run fails, the others go on
                _log_failure(path, symbol, exc)
                tally["failed_runs"] += 1
    _prefetch(runner, [request.instrument for _, request in runs])
    for path, request in runs:
        tally[_run_once(db, runner, path, request)] += 1
    logs.log_counts(logs.LogEvent.SCHEDULED_RUN_SUMMARY, tally, schedule_time=tick.isoformat())
    return tally


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
            tenant_id = _tenant_of(path)
            config = ScheduledStrategyConfig.model_validate(snapshot.to_dict())
            _check_ids(tenant_id, config.uid)
        except ValueError as exc:
            _log_failure(path, None, exc)
            tally["broken_configs"] += 1
            continue
        configs.append((path, tenant_id, config))
    return configs


def _tenant_of(path: str) -> str:
    """The collection group also matches a `strategies` collection anywhere else."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "tenants":
        raise ValueError("not a tenants/{tenant_id}/strategies/{strategy_id} document")
    return parts[1]


def _check_ids(tenant_id: str, uid: str) -> None:
    """The callable's rule for ids (smart_routing.domain.identifiers): a config whose tenant or user
    could not be a document id is refused before anything runs."""
    check_id(tenant_id, "tenant id")
    check_id(uid, "uid")


def _run_once(db: Client, runner: StrategyRunner, path: str, request: StrategyRunRequest) -> str:
    """Claim the (config, symbol, tick) as the callable claims a key, run it, and return the
    tally entry. Another instance holding or having run the claim means nothing to do."""
    assert request.tenant_id and request.uid and request.client_order_id
    claim_path = paths.execution_claim(request.tenant_id, request.client_order_id)
    fingerprint = idempotency.fingerprint(request.model_dump(mode="json"))
    try:
        if idempotency.claim(db, claim_path, fingerprint, request.uid) is not None:
            return "already_ran"
    except (idempotency.IdempotencyConflict, idempotency.ExecutionInProgress) as exc:
        _log_failure(path, request.symbol, exc)
        return "failed_runs"
    try:
        work = lambda: _run_and_finish(db, runner, request, claim_path)  # noqa: E731
        if settles_in_firestore(runner, request.instrument.asset_class):
            result = run_in_one_commit(db, work)
        else:  # a real venue's order is placed by the first run: never run it twice
            result = work()
    except Exception as exc:  # one bad symbol or config must not stop the rest
        idempotency.release(db, claim_path)
        _log_failure(path, request.symbol, exc)
        return "failed_runs"
    return f"status_{result.status.value}"


def _run_and_finish(
    db: Client, runner: StrategyRunner, request: StrategyRunRequest, claim_path: str
) -> StrategyRunResult:
    """The run, its decision record and the claim's completion staged in the run's own
    commit."""
    result = runner.run(request)
    record_decision(db, runner, request, result, DecisionSource.SCHEDULED)
    if result.status is ExecutionStatus.UNKNOWN:
        idempotency.release(db, claim_path)  # the next delivery must look again
    else:
        idempotency.complete(db, claim_path, {"status": result.status.value})
    return result


def _prefetch(runner: StrategyRunner, instruments: list[Instrument]) -> None:
    """One quote and one instrument request per asset class for the whole run, where the
    venues batch; the bars of every symbol, a few at a time."""
    symbols = list(dict.fromkeys((i.symbol, i.asset_class) for i in instruments))
    # A failure here is reported by each symbol's own run.
    with contextlib.suppress(Exception):
        runner.engine.instruments.prefetch_instruments(symbols)
    runner.market_data.prefetch(symbols)
    # The gate's bar statistics (sigma, ADV): a failing symbol is said in its decision.
    with contextlib.suppress(Exception):
        runner.engine.market_context.prefetch(symbols)


def _request(
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


def _log_failure(path: str, symbol: str | None, exc: Exception) -> None:
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
    return run_enabled_strategies(svc.db, svc.runner, schedule_time)
