"""The record of one routing decision, so decisions (and downgrades) can be counted.

A ledger trade exists only for an order that filled; an order held back (WAIT) leaves none.
Each decision that was not a dry run is therefore recorded once, at
tenants/{tenant_id}/decisions/{decision_id}, named by the order's client_order_id (a digest of
the tenant, the user and the idempotency key): a retried or double-clicked request records
nothing twice. See docs/tca.md.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import Amount
from smart_routing.domain.orders import OrderSide
from smart_routing.execution.pipeline import StrategyRunResult
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.decision import GateAction
from smart_routing.market.trading_calendar import trading_date


class DecisionAction(StrEnum):
    EXECUTE = "execute"  # the gate sent it (the venue may still have refused it: see status)
    DOWNGRADED = "downgraded"  # the gate held it back for cost (WAIT)
    REJECTED = "rejected"  # the gate refused it (instrument, size, account)


class DecisionSource(StrEnum):
    CALLABLE = "callable"
    SCHEDULED = "scheduled"


class DecisionRecord(BaseModel):
    """Stored at tenants/{tenant_id}/decisions/{decision_id}; created once, never updated.

    Money is in `currency`, the instrument's quote currency. `estimated_spread_cost` is what
    crossing half the spread of the decision's quote costs the order (qty * (ask - bid) / 2 *
    multiplier), None where the decision had no usable quote. `trading_date` is the
    instrument's trading day of `decided_at`, as ledger trades carry it (trading_calendar.py).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: str
    client_order_id: str
    tenant_id: str
    uid: str
    source: DecisionSource
    symbol: str
    asset_class: AssetClass
    venue: str
    strategy_id: str
    side: OrderSide
    qty: Amount
    action: DecisionAction
    status: ExecutionStatus
    reason: str
    currency: str | None = None
    spread_pct: Amount | None = None
    threshold_pct: Amount | None = None
    estimated_spread_cost: Amount | None = None
    estimated_fees: Amount | None = None
    arrival_mid: Amount | None = None
    # "limit": the cost check failed and the limit fallback sent a passive limit instead of
    # waiting (an `execute` whose order rests at the mid); None otherwise.
    fallback: str | None = None
    decided_at: AwareDatetime
    trading_date: date


_ACTIONS = {
    GateAction.EXECUTE: DecisionAction.EXECUTE,
    GateAction.WAIT: DecisionAction.DOWNGRADED,
    GateAction.REJECT: DecisionAction.REJECTED,
}
# Outcomes that say nothing was decided about an order: no trade signalled, a request wrong
# as typed, or a failure before the venue (the callable answers those with an error).
_NOT_DECISIONS = {
    ExecutionStatus.DRY_RUN,
    ExecutionStatus.HOLD,
    ExecutionStatus.INVALID,
    ExecutionStatus.ERROR,
}


def decision_record(
    result: StrategyRunResult,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    client_order_id: str,
    venue: str,
    decided_at: AwareDatetime,
    source: DecisionSource,
) -> DecisionRecord | None:
    """The record of a run's decision, or None when the run decided nothing worth counting:
    a dry run, a hold, an invalid request, a failure before the venue. (A strategy's own WAIT
    signal never reaches the gate and no bundled strategy emits one: not recorded.)"""
    if result.status in _NOT_DECISIONS:
        return None
    routing = result.routing
    if routing is None:  # the strategy did not reach the gate: it decided no order
        return None
    action = _ACTIONS.get(routing.action)
    if action is None:
        return None
    quote = routing.quote
    return DecisionRecord(
        decision_id=client_order_id,
        client_order_id=client_order_id,
        tenant_id=tenant_id,
        uid=uid,
        source=source,
        symbol=routing.symbol,
        asset_class=routing.asset_class,
        venue=venue,
        strategy_id=strategy_id,
        side=routing.side,
        qty=routing.qty,
        action=action,
        status=result.status,
        reason=routing.reason,
        currency=routing.currency,
        spread_pct=routing.spread_pct,
        threshold_pct=routing.threshold_pct,
        estimated_spread_cost=routing.estimated_spread_cost,
        estimated_fees=routing.estimated_fees,
        arrival_mid=None if quote is None else quote.mid,
        # The gate's decision names a limit fallback where the engine has one (limit_fallback).
        fallback=getattr(routing, "fallback", None),
        decided_at=decided_at,
        trading_date=trading_date(routing.asset_class, decided_at),
    )
