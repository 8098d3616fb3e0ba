"""The production gate, asked what it would do with an order at a recorded quote.

`wait` must judge quotes exactly as production does, so every pass or hold comes from
`SmartRouter.decide`. The replay prices routing, not an account: each order is decided on an
account in the instrument's own currency that holds what it sells and never runs out of
buying power, with no per-order notional cap, so only the instrument, cost and size terms can
hold or refuse it.

A recorded quote stands until the next one replaces it: at the order's time the arrival quote
is the market, so it is handed to the gate stamped with the order's time (never stale); a
later quote is decided at its own time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountSnapshot, OrderIntent, OrderSide, Position
from smart_routing.gate.decision import GateAction
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.gate.router import SmartRouter
from smart_routing.market.quotes import Quote
from smart_routing.replay.orders_csv import Order

UNLIMITED = Decimal(10) ** 30
# The pre-screen passes spreads up to this many times the class's threshold to the gate: a
# margin for the terms that widen the threshold in thin sessions (up to 5x in the session
# table). `decide` stops the replay if the gate ever applies a threshold above the bound.
SCREEN_MARGIN = 10


class PrescreenTooTight(RuntimeError):
    """The gate applied a wider threshold than the pre-screen lets through."""


def replay_router(policy: RoutingPolicy, router: SmartRouter) -> SmartRouter:
    uncapped = dict.fromkeys(AssetClass, UNLIMITED)
    return SmartRouter(
        policy.model_copy(update={"max_order_notional": uncapped}), router.fees, enabled=True
    )


def to_datetime(ns: int) -> datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)


def price(value: float) -> Decimal:
    """The decimal a price was written as (the double's shortest text; see quotes_csv.py)."""
    return Decimal(repr(float(value)))


class ReplayGate:
    def __init__(self, router: SmartRouter, orders: list[Order]) -> None:
        self.router = router
        self.orders = orders
        self.intents = [
            OrderIntent(symbol=o.symbol, side=o.side, qty=o.qty, asset_class=o.asset_class)
            for o in orders
        ]
        self.calls = 0
        self.bounds = {
            c: float(router.policy.thresholds[c].value) * SCREEN_MARGIN for c in AssetClass
        }

    def decide(
        self,
        i: int,
        now_ns: int,
        bid: float,
        ask: float,
        bid_size: float = float("nan"),
        ask_size: float = float("nan"),
    ) -> tuple[GateAction, str]:
        order = self.orders[i]
        now = to_datetime(now_ns)
        quote = Quote(
            symbol=order.symbol, bid=price(bid), ask=price(ask), as_of=now, source="replay",
            bid_size=None if bid_size != bid_size else price(bid_size),
            ask_size=None if ask_size != ask_size else price(ask_size),
        )  # fmt: skip
        self.calls += 1
        decision = self.router.decide(
            self.intents[i], order.spec, quote, now, self._account(i, now)
        )
        bound = self.bounds[order.asset_class]
        if decision.spread_pct is not None and float(decision.threshold_pct) > bound:
            raise PrescreenTooTight(
                f"the gate applied a threshold of {decision.threshold_pct} to {order.symbol}, "
                f"above the replay's pre-screen bound {bound}: raise SCREEN_MARGIN"
            )
        return decision.action, decision.reason

    def passes(
        self, i: int, now_ns: int, bid: float, ask: float, bid_size: float, ask_size: float
    ) -> bool:
        return self.decide(i, now_ns, bid, ask, bid_size, ask_size)[0] is GateAction.EXECUTE

    def _account(self, i: int, now: datetime) -> AccountSnapshot:
        order = self.orders[i]
        positions = {}
        if order.side is OrderSide.SELL:
            positions[order.symbol] = Position(
                symbol=order.symbol, asset_class=order.asset_class, qty=order.qty,
                avg_price=Decimal(0),
            )  # fmt: skip
        return AccountSnapshot(
            currency=order.spec.quote_currency, cash=UNLIMITED, buying_power=UNLIMITED,
            positions=positions, as_of=now,
        )  # fmt: skip
