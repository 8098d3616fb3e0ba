"""The scheduled run: every enabled strategy config, through the same path as the callable."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.assets import parse_symbol
from smart_routing.orders import PositiveFinite
from smart_routing.pipeline import StrategyRunner, StrategyRunRequest

MAX_KEY_LENGTH = 128  # smart_routing.orders.IdempotencyKey's max_length
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
    """Run every enabled config; one broken config or symbol is logged and skipped."""
    tally: Counter[str] = Counter()
    configs = []
    enabled = db.collection_group("strategies").where(filter=FieldFilter("enabled", "==", True))
    for snapshot in enabled.stream():
        try:
            configs.append((snapshot, ScheduledStrategyConfig.model_validate(snapshot.to_dict())))
        except ValueError as exc:
            _log_failure(snapshot.reference.path, None, exc)
            tally["broken_configs"] += 1
    _prefetch_quotes(runner, [symbol for _, config in configs for symbol in config.symbols])
    for snapshot, config in configs:
        tenant_id = snapshot.reference.parent.parent.id
        tally["configs"] += 1
        for symbol in config.symbols:
            request = _request(snapshot.id, tenant_id, config, symbol, schedule_time)
            try:
                result = runner.run(request)
            except Exception as exc:  # one bad symbol or config must not stop the rest
                _log_failure(snapshot.reference.path, symbol, exc)
                tally["failed_runs"] += 1
                continue
            tally[f"status_{result.status.value}"] += 1
    logs.log_event(
        logs.LogEvent.SCHEDULED_RUN_SUMMARY, schedule_time=schedule_time.isoformat(), **dict(tally)
    )
    return tally


def _prefetch_quotes(runner: StrategyRunner, symbols: list[str]) -> None:
    """One quote and one instrument request per asset class for the whole run, where the
    venues batch."""
    instruments = []
    for symbol in dict.fromkeys(symbols):
        try:
            instrument = parse_symbol(symbol)
        except ValueError:
            continue  # reported when its run fails
        instruments.append((instrument.symbol, instrument.asset_class))
    # A failure here is reported by each symbol's own run.
    with contextlib.suppress(Exception):
        runner.engine.instruments.prefetch_instruments(instruments)
    runner.market_data.prefetch(instruments)


def _request(
    doc_id: str,
    tenant_id: str,
    config: ScheduledStrategyConfig,
    symbol: str,
    schedule_time: datetime,
) -> StrategyRunRequest:
    return StrategyRunRequest(
        strategy_id=config.strategy_id or doc_id,
        symbol=symbol,
        qty=config.qty,
        side=config.side,
        dry_run=config.dry_run,
        idempotency_key=scheduled_idempotency_key(doc_id, symbol, schedule_time),
        tenant_id=tenant_id,
        uid=config.uid,
        config=config.config,
    )


def scheduled_idempotency_key(doc_id: str, symbol: str, schedule_time: datetime) -> str:
    """One key per config, symbol and tick, so a redelivered tick places no second order.

    The key ends in the sha256 of the whole (config, symbol, tick), so two of them never share
    a key, however long their names or whatever colons they hold. The start is only a readable
    label, cut to fit.
    """
    tick = schedule_time.isoformat()
    digest = hashlib.sha256(json.dumps([doc_id, symbol, tick]).encode()).hexdigest()
    label = f"schedule:{doc_id}:{symbol}:{tick}"[: MAX_KEY_LENGTH - _DIGEST_LENGTH - 1]
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
    from smart_routing_firebase.services import services

    svc = services()
    return run_enabled_strategies(svc.db, svc.runner, schedule_time)
