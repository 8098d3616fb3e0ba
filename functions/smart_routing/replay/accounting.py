"""From the quotes each policy found to fills and figures, in exact decimals.

For an order of side s (+1 buy, -1 sell), quantity q, multiplier m, arrival mid M, converted to
USD at rate r (the arrival mid of the currency's USD pair: the order's own symbol for USD/JPY,
else that pair's latest quote at or before the order):
- filled notional = P * q * m * r, at the fill price P;
- spread cost = s * (P - M) * q * m * r, and spread_cost_bps = 10,000 * sum(cost) / sum(filled
  notional) over the filled orders;
- implementation shortfall = the spread cost of a filled order, and s * (H - M) * q * m * r for
  one left unfilled (or refused), H the last mid at or before t + horizon: the move it missed;
  implementation_shortfall_bps = 10,000 * sum / sum(M * q * m * r) over the orders with an
  arrival quote;
- mean_delay_s = the mean of (fill time - order time) over the filled orders.
An order with no arrival quote is unfilled and counted (`no_quote`); one in a currency with no
USD quote is counted (`unconverted`) and left out of the money figures, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from smart_routing.domain.orders import OrderSide
from smart_routing.market.conversion import conversion_pair
from smart_routing.market.trading_calendar import NEW_YORK
from smart_routing.replay.orders_csv import Order

ACCOUNT_CURRENCY = "USD"
_BPS = Decimal(10_000)
_NS = Decimal(1_000_000_000)
_BPS_PLACES = Decimal("0.0001")
_RATE_PLACES = Decimal("0.000001")
_DELAY_PLACES = Decimal("0.001")
_CENTS = Decimal("0.01")


class Policy(StrEnum):
    MARKET = "market"  # every order at the arrival touch
    WAIT = "wait"  # the gate at the arrival quote, then at each later quote to the horizon
    LIMIT = "limit"  # the gate at the arrival quote; when it holds, a limit at the mid for ttl


class Status(StrEnum):
    FILLED = "filled"
    UNFILLED = "unfilled"
    NO_QUOTE = "no_quote"  # no quote of the symbol at or before the order
    REJECTED = "rejected"  # the gate refused it at the arrival quote


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    ts: int | None = None  # fill time, ns
    price: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderMarks:
    """What every policy's figures of one order are measured against."""

    mid: Decimal | None  # arrival mid; None: no arrival quote
    horizon_mid: Decimal | None
    rate: Decimal | None  # quote currency -> USD; None: no USD quote


def sign(side: OrderSide) -> int:
    return 1 if side is OrderSide.BUY else -1


def usd_rate(
    order: Order, arrival_mid: Decimal | None, pair_mid: Decimal | None
) -> tuple[str | None, Decimal | None]:
    """(the pair converting the order's currency to USD, or None for USD; the rate or None)."""
    currency = order.spec.quote_currency
    if currency == ACCOUNT_CURRENCY:
        return None, Decimal(1)
    pair, _, inverse = conversion_pair(currency, ACCOUNT_CURRENCY)
    mid = arrival_mid if pair == order.symbol else pair_mid
    if mid is None:
        return pair, None
    return pair, (Decimal(1) / mid if inverse else mid)


@dataclass(slots=True)
class Tally:
    orders: int = 0
    filled: int = 0
    no_quote: int = 0
    rejected: int = 0
    unconverted: int = 0
    notional: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    shortfall: Decimal = Decimal(0)
    arrival_notional: Decimal = Decimal(0)
    delay_ns: int = 0

    def add(self, order: Order, marks: OrderMarks, outcome: Outcome) -> None:
        self.orders += 1
        if outcome.status is Status.NO_QUOTE:
            self.no_quote += 1
            return
        self.rejected += outcome.status is Status.REJECTED
        filled = outcome.status is Status.FILLED
        if filled:
            assert outcome.ts is not None
            self.filled += 1
            self.delay_ns += outcome.ts - order.ts
        if marks.rate is None or marks.mid is None:
            self.unconverted += 1
            return
        size = order.qty * order.spec.multiplier * marks.rate
        s = sign(order.side)
        self.arrival_notional += marks.mid * size
        if filled:
            assert outcome.price is not None
            cost = s * (outcome.price - marks.mid) * size
            self.notional += outcome.price * size
            self.cost += cost
            self.shortfall += cost
        else:
            assert marks.horizon_mid is not None
            self.shortfall += s * (marks.horizon_mid - marks.mid) * size

    def figures(self) -> dict[str, object]:
        return {
            "orders": self.orders,
            "filled": self.filled,
            "fill_rate": _ratio(Decimal(self.filled), Decimal(self.orders), _RATE_PLACES),
            "filled_notional_usd": float(self.notional.quantize(_CENTS, ROUND_HALF_EVEN)),
            "spread_cost_bps": _ratio(self.cost * _BPS, self.notional, _BPS_PLACES),
            "implementation_shortfall_bps": _ratio(
                self.shortfall * _BPS, self.arrival_notional, _BPS_PLACES
            ),
            "mean_delay_s": _ratio(Decimal(self.delay_ns), self.filled * _NS, _DELAY_PLACES),
            "no_quote": self.no_quote,
            "rejected": self.rejected,
            "unconverted": self.unconverted,
        }


def _ratio(numerator: Decimal, denominator: Decimal, places: Decimal) -> float | None:
    if not denominator:
        return None
    return float((numerator / denominator).quantize(places, ROUND_HALF_EVEN))


@dataclass(slots=True)
class PolicyTallies:
    total: Tally = field(default_factory=Tally)
    by_class: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_hour: dict[int, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def add(self, order: Order, marks: OrderMarks, outcome: Outcome, hour: int) -> None:
        self.total.add(order, marks, outcome)
        self.by_class[order.asset_class.value].add(order, marks, outcome)
        self.by_hour[hour].add(order, marks, outcome)

    def figures(self) -> dict[str, object]:
        figures = self.total.figures()
        figures["by_asset_class"] = {
            name: self.by_class[name].figures() for name in sorted(self.by_class)
        }
        return figures


def new_york_hour(ns: int) -> int:
    from smart_routing.replay.gatekeeper import to_datetime

    return to_datetime(ns).astimezone(NEW_YORK).hour


def tally(
    orders: list[Order], marks: list[OrderMarks], outcomes: dict[Policy, list[Outcome]]
) -> dict[Policy, PolicyTallies]:
    hours = [new_york_hour(order.ts) for order in orders]
    result = {}
    for policy, per_order in outcomes.items():
        tallies = PolicyTallies()
        for order, mark, outcome, hour in zip(orders, marks, per_order, hours, strict=True):
            tallies.add(order, mark, outcome, hour)
        result[policy] = tallies
    return result


def savings(figures: dict[Policy, dict[str, object]]) -> dict[str, dict[str, float | None]]:
    """What each smart policy saved against `market`, in bps (positive: cheaper)."""
    market = figures.get(Policy.MARKET)
    if market is None:
        return {}
    saved = {}
    for policy, own in figures.items():
        if policy is Policy.MARKET:
            continue
        saved[policy.value] = {
            key: _difference(market[key], own[key])
            for key in ("spread_cost_bps", "implementation_shortfall_bps")
        }
    return saved


def _difference(market: object, own: object) -> float | None:
    if not isinstance(market, float) or not isinstance(own, float):
        return None
    return float(Decimal(repr(market)) - Decimal(repr(own)))
