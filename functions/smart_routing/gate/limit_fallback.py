"""The limit-order fallback: a spread too wide to cross gets a passive limit, not a wait.

With EXEC_WIDE_SPREAD_ACTION=limit, an order the cost check holds back (WAIT with the spread
above the threshold; never when the quote was unusable) becomes a limit order at the arrival
mid, rounded to the tick on the passive side (a buy down, a sell up), working for
EXEC_LIMIT_TTL_S seconds. The gate's size, buying-power and position checks run again on
the limit order, priced at its limit: the fallback skips the cost check and nothing else.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from weakref import WeakKeyDictionary

from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import format_qty
from smart_routing.domain.orders import AccountSnapshot, OrderIntent, OrderType
from smart_routing.domain.trading_state import ACTIVE, TradingStatus
from smart_routing.gate.decision import CostCheck, GateAction, SmartRoutingDecision
from smart_routing.gate.router import SmartRouter
from smart_routing.market.conversion import Conversion

LIMIT_FALLBACK = "limit"
DEFAULT_LIMIT_TTL_S = 60.0


class WideSpreadAction(StrEnum):
    """What the engine does when the spread is above the threshold."""

    WAIT = "wait"  # hold the order back (the seed's behaviour)
    LIMIT = "limit"  # place a passive limit at the mid that works for the time to live


def apply_fallback(
    router: SmartRouter,
    action: WideSpreadAction,
    ttl_s: float,
    intent: OrderIntent,
    spec: InstrumentSpec,
    decision: SmartRoutingDecision,
    now: datetime,
    account: AccountSnapshot | None,
    conversion: Conversion | None = None,
    trading: TradingStatus = ACTIVE,
) -> SmartRoutingDecision:
    """The gate's `decision` as the engine acts on it: unchanged unless the fallback applies;
    then the fallback limit's decision, from `router`'s other checks at the limit price."""
    if not falls_back(action, intent, decision):
        return decision
    price = fallback_limit_price(decision)
    if price is None:
        return decision
    checked = passive_router(router).decide(
        limit_intent(intent, price), spec, decision.quote, now, account, conversion,
        prechecked=True, trading=trading,
    )  # fmt: skip
    return fallback_decision(decision, checked, ttl_s)


_PASSIVE: WeakKeyDictionary[SmartRouter, SmartRouter] = WeakKeyDictionary()
_PASSIVE_LOCK = threading.Lock()


def passive_router(router: SmartRouter) -> SmartRouter:
    """The same gate with the cost check off (size, buying power and position still apply),
    made once per router."""
    with _PASSIVE_LOCK:
        passive = _PASSIVE.get(router)
        if passive is None:
            passive = copy.copy(router)
            passive.enabled = False
            _PASSIVE[router] = passive
    return passive


def falls_back(
    action: WideSpreadAction, intent: OrderIntent, decision: SmartRoutingDecision
) -> bool:
    """Whether this decision turns into a fallback limit: a market order the spread held back,
    with a usable quote to take the mid of."""
    return (
        action is WideSpreadAction.LIMIT
        and intent.order_type is OrderType.MARKET
        and decision.action is GateAction.WAIT
        and decision.cost_check is CostCheck.EXCEEDED
        and decision.quote is not None
    )


def fallback_limit_price(decision: SmartRoutingDecision) -> Decimal | None:
    """The arrival mid on the instrument's tick, rounded away from crossing; None when that
    rounds to nothing (a price below one tick)."""
    assert decision.quote is not None  # falls_back requires it
    price = decision.instrument.round_limit_price(decision.quote.mid, decision.side)
    return price if price > 0 else None


def limit_intent(intent: OrderIntent, price: Decimal) -> OrderIntent:
    """The same order as a limit at `price`, for the gate's account checks."""
    return intent.model_copy(update={"order_type": OrderType.LIMIT, "limit_price": price})


def fallback_decision(
    held: SmartRoutingDecision, checked: SmartRoutingDecision, ttl_s: float
) -> SmartRoutingDecision:
    """The decision for the fallback, a new value: `checked` (the gate on the limit order, cost
    check skipped) says whether it may go; the reason starts with why the market order was
    held, and the cost model is the held order's, term by term."""
    price = format_qty(checked.limit_price) if checked.limit_price is not None else "?"
    if checked.action is GateAction.EXECUTE:
        reason = (
            f"{held.reason}: a limit order at the mid, {price}, working for {ttl_s:g}s "
            "instead of waiting"
        )
    else:
        reason = f"{held.reason}; the limit fallback at {price} cannot go: {checked.reason}"
    return checked.replaced(
        reason=reason,
        cost_check=CostCheck.EXCEEDED,
        downgraded=checked.action is GateAction.EXECUTE,  # sent, but as a passive limit
        fallback=LIMIT_FALLBACK,
        cost_model=held.cost_model,
    )


def expiry_of(decided_at: datetime, ttl_s: float) -> datetime:
    return decided_at + timedelta(seconds=ttl_s)
