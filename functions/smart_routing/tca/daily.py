"""A tenant's transaction cost analysis of one trading date, from its decisions, orders and
ledger trades: pure, so the same inputs always give the same document (docs/tca.md).

The date of a decision or trade is its `trading_date` (trading_calendar.py: New York for
equities and options, New York rolled at 17:00 for forex, UTC for crypto), as ledger trades
and history records carry it.

Held orders: the decisions of one (user, strategy, symbol, side) in time order; a run of one
or more downgrades is one held order, ended by the next execute decision of the same key (it
executed) or by a rejection or the day's end (it did not). A limit fallback (an execute sent as
a passive limit because the cost check failed) is a held order of its own, executed at once.
Its cost saved is the spread cost its first decision would have paid at that decision's quote
(`estimated_spread_cost`), minus what the execution that ended it paid against its own
decision's mid (side * (fill - arrival mid) * notional / fill over its trades), scaled to the
held qty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import ZERO, Money
from smart_routing.domain.orders import OrderSide
from smart_routing.execution.decision_record import DecisionAction, DecisionRecord
from smart_routing.market.trading_calendar import trading_date
from smart_routing.portfolio.ledger import LedgerTrade

BPS = Decimal(10_000)
BPS_PLACES = Decimal("0.0001")
RATE_PLACES = Decimal("0.000001")
DIMENSIONS = ("asset_class", "venue", "strategy_id")
LIMIT_FALLBACK = "limit"


@dataclass(frozen=True)
class HeldOrder:
    """One held order (see the module's docstring)."""

    first: DecisionRecord
    downgrades: int
    executed_by: DecisionRecord | None
    paid: Money | None  # what its execution's fills paid, scaled to the held qty; None: none

    @property
    def estimated_cost(self) -> Money | None:
        """The spread cost its first decision estimated, where that decision named it and its
        currency."""
        cost, currency = self.first.estimated_spread_cost, self.first.currency
        return None if cost is None or not currency else Money(cost, currency)

    @property
    def saved(self) -> Money | None:
        estimated = self.estimated_cost
        return None if self.paid is None or estimated is None else estimated - self.paid


def roll_up(
    day: date,
    decisions: Iterable[DecisionRecord],
    trades: Iterable[LedgerTrade],
    filled_orders: set[str],
) -> dict[str, Any]:
    """The tca_daily document of `day`. `filled_orders` are the client_order_ids whose order
    has filled any qty (by the order book; the day's trades count too)."""
    decided = sorted(
        (d for d in decisions if d.trading_date == day), key=lambda d: (d.decided_at, d.decision_id)
    )
    traded = sorted((t for t in trades if t.trading_date == day), key=lambda t: t.trade_id)
    filled = filled_orders | {t.client_order_id for t in traded}
    held = held_orders(decided, traded)
    parts = _Parts(decided, traded, held)
    document: dict[str, Any] = {"date": day.isoformat(), "total": _metrics(parts, filled)}
    for dimension in DIMENSIONS:
        document[f"by_{dimension}"] = {
            key: _metrics(part, filled) for key, part in parts.split(dimension).items()
        }
    return document


def held_orders(decisions: list[DecisionRecord], trades: list[LedgerTrade]) -> list[HeldOrder]:
    """The held orders among `decisions` (in time order), each with what ended it."""
    fills: dict[str, list[LedgerTrade]] = defaultdict(list)
    for trade in trades:
        fills[trade.client_order_id].append(trade)
    by_key: dict[tuple[str, ...], list[DecisionRecord]] = defaultdict(list)
    for decision in decisions:
        by_key[(decision.uid, decision.strategy_id, decision.symbol, decision.side)].append(
            decision
        )
    found: list[HeldOrder] = []
    for run in by_key.values():
        first: DecisionRecord | None = None
        count = 0
        for decision in run:
            if decision.action is DecisionAction.DOWNGRADED:
                first = first or decision
                count += 1
                continue
            if first is None and decision.fallback == LIMIT_FALLBACK:
                first = decision  # held back from crossing, and sent as a limit at once
            if first is not None:
                executed = decision if decision.action is DecisionAction.EXECUTE else None
                found.append(_held(first, count, executed, fills))
            first, count = None, 0
        if first is not None:
            found.append(HeldOrder(first, count, None, None))
    return sorted(found, key=lambda h: (h.first.decided_at, h.first.decision_id))


def _held(
    first: DecisionRecord,
    downgrades: int,
    executed: DecisionRecord | None,
    fills: dict[str, list[LedgerTrade]],
) -> HeldOrder:
    trades = fills.get(executed.client_order_id, []) if executed else []
    priced = [t for t in trades if t.arrival_mid is not None]
    filled_qty = sum((t.qty for t in priced), ZERO)
    if not priced or filled_qty <= 0 or first.qty <= 0:
        return HeldOrder(first, downgrades, executed, None)
    paid = sum((trade_spread_cost(t) for t in priced), Money.zero(priced[0].currency))
    return HeldOrder(first, downgrades, executed, paid * first.qty / filled_qty)


def trade_spread_cost(trade: LedgerTrade) -> Money:
    """What the fill paid against its decision's mid, in the trade's currency (positive is a
    cost): side * (price - arrival mid) * notional / price."""
    assert trade.arrival_mid is not None
    sign = 1 if trade.side is OrderSide.BUY else -1
    return sign * (trade.price - trade.arrival_mid) * trade.notional / trade.price


@dataclass(frozen=True)
class _Parts:
    decisions: list[DecisionRecord]
    trades: list[LedgerTrade]
    held: list[HeldOrder]

    def split(self, dimension: str) -> dict[str, _Parts]:
        key_of: Callable[[Any], str] = _key(dimension)
        keys = sorted(
            {key_of(d) for d in self.decisions} | {key_of(_TradeView(t)) for t in self.trades}
        )
        return {
            key: _Parts(
                [d for d in self.decisions if key_of(d) == key],
                [t for t in self.trades if key_of(_TradeView(t)) == key],
                [h for h in self.held if key_of(h.first) == key],
            )
            for key in keys
        }


@dataclass(frozen=True)
class _TradeView:
    """A trade seen through the decision's field names (its venue is its `broker`)."""

    trade: LedgerTrade

    @property
    def asset_class(self) -> str:
        return self.trade.asset_class.value

    @property
    def venue(self) -> str:
        return self.trade.broker

    @property
    def strategy_id(self) -> str:
        return self.trade.strategy_id


def _key(dimension: str) -> Callable[[Any], str]:
    return lambda item: str(getattr(item, dimension))


def _metrics(parts: _Parts, filled: set[str]) -> dict[str, Any]:
    decisions, trades, held = parts.decisions, parts.trades, parts.held
    actions = defaultdict(int, {a: 0 for a in DecisionAction})
    for decision in decisions:
        actions[decision.action] += 1
    orders = [d for d in decisions if d.action is DecisionAction.EXECUTE]
    filled_orders = sum(1 for d in orders if d.client_order_id in filled)
    executed = [h for h in held if h.saved is not None]
    return {
        "decisions": len(decisions),
        "executed": actions[DecisionAction.EXECUTE],
        "downgraded": actions[DecisionAction.DOWNGRADED],
        "rejected": actions[DecisionAction.REJECTED],
        "limit_fallbacks": sum(1 for d in decisions if d.fallback == LIMIT_FALLBACK),
        "downgrade_rate": _rate(actions[DecisionAction.DOWNGRADED], len(decisions)),
        "orders": len(orders),
        "filled_orders": filled_orders,
        "fill_rate": _rate(filled_orders, len(orders)),
        "trades": len(trades),
        "volume": _by_currency(t.notional for t in trades),
        "fees": _by_currency(t.fees for t in trades),
        "estimated_slippage_bps": _stats(t.estimated_slippage for t in trades),
        "realized_slippage_bps": _stats(t.realized_slippage_pct for t in trades),
        "held_orders": len(held),
        "held_orders_filled": len(executed),
        "cost_saved": _by_currency(h.saved for h in executed if h.saved is not None),
        "spread_cost_not_paid_unfilled": _by_currency(
            h.estimated_cost for h in held if h.saved is None and h.estimated_cost is not None
        ),
    }


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else float((Decimal(part) / whole).quantize(RATE_PLACES))


def _stats(values: Iterable[Decimal | None]) -> dict[str, Any]:
    """Mean and median in basis points of the values present, and how many there were."""
    present = [v * BPS for v in values if v is not None]
    if not present:
        return {"n": 0, "mean": None, "median": None}
    mean = sum(present, ZERO) / len(present)
    return {
        "n": len(present),
        "mean": float(mean.quantize(BPS_PLACES)),
        "median": float(Decimal(median(present)).quantize(BPS_PLACES)),
    }


def _by_currency(amounts: Iterable[Money]) -> dict[str, float | str]:
    """Each currency's total, rounded to its minor unit, as the stored number."""
    totals: dict[str, Money] = {}
    for money in amounts:
        totals[money.currency] = totals.get(money.currency, Money.zero(money.currency)) + money
    return {ccy: total.rounded().to_json() for ccy, total in sorted(totals.items())}


# Fills recorded by the reconciler after their day ended (a resting order, a late venue
# report) still reach their date's document while the roll-up keeps recomputing it.
LATE_WINDOW = timedelta(hours=1)


def dates_to_roll_up(at: datetime) -> list[date]:
    """Every trading date open at `at` or `LATE_WINDOW` before it, over the asset classes."""
    return sorted(
        {trading_date(c, moment) for c in AssetClass for moment in (at, at - LATE_WINDOW)}
    )
