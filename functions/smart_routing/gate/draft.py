"""A decision being built, check by check: the order's terms so far and the fields the decision
will carry. The checks that need no quote (instrument, quantity) live here; the cost and
account checks in their own modules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import ZERO, format_qty
from smart_routing.domain.orders import OrderIntent, OrderType, QtyRounding
from smart_routing.domain.trading_state import ACTIVE, TradingState, TradingStatus
from smart_routing.gate.cost_model import CostModel
from smart_routing.gate.decision import CostCheck, GateAction, SmartRoutingDecision
from smart_routing.gate.fees import FeeSchedule
from smart_routing.gate.policy import RoutingPolicy, Threshold
from smart_routing.market.context import MarketContext
from smart_routing.market.sessions import Session
from smart_routing.market.trading_calendar import NEW_YORK


class GateRules(Protocol):
    """What the checks read of the gate (SmartRouter)."""

    policy: RoutingPolicy
    fees: FeeSchedule
    enabled: bool
    sqrt_interval: Decimal


class Draft:
    """The state of one decision while the checks run; `decision` makes the value."""

    __slots__ = (
        "bound", "cost_note", "cost_problem", "fees", "fields", "half", "intent", "market",
        "notional", "price", "price_note", "qty", "rules", "share", "spec", "terms",
        "threshold", "trading",
    )  # fmt: skip

    def __init__(
        self,
        rules: GateRules,
        intent: OrderIntent,
        spec: InstrumentSpec,
        terms: tuple[Session, Threshold, str],
        trading: TradingStatus = ACTIVE,
    ) -> None:
        self.rules, self.intent, self.spec, self.trading = rules, intent, spec, trading
        session, self.threshold, self.bound = terms
        self.fields: dict[str, Any] = {
            "session": session,
            "symbol": spec.symbol, "asset_class": spec.asset_class, "side": intent.side,
            "venue": spec.venue, "instrument": spec, "requested_qty": intent.qty,
            "qty": intent.qty, "currency": spec.quote_currency,
            "threshold_pct": self.threshold.value, "threshold_source": self.threshold.source,
            "spread_pct": None, "cost_check": CostCheck.NOT_REACHED,
        }  # fmt: skip
        self.qty = intent.qty
        self.price: Decimal | None = None
        self.notional: Decimal | None = None
        self.fees: Decimal | None = None
        self.cost_note = ""
        self.price_note = ""  # how a reference quote sized the order, when one did
        self.cost_problem: str | None = None
        self.market: MarketContext | None = None
        # The cost model's terms, once the order is priced on a usable quote (cost_model.py).
        self.terms: dict[str, Any] | None = None
        self.share: Decimal | None = None  # of the average daily volume
        self.half = ZERO  # the half-spread of the quote, as a fraction of its mid

    def decision(self, action: GateAction, reason: str) -> SmartRoutingDecision:
        fields = self.fields
        if self.terms is not None:
            fields["cost_model"] = CostModel.from_terms(self.terms)
        fields["should_execute"] = action is GateAction.EXECUTE
        fields["downgraded"] = action is GateAction.WAIT
        fields["action"], fields["reason"] = action, reason
        return SmartRoutingDecision.from_fields(fields)

    def precheck(self, now: datetime) -> SmartRoutingDecision | None:
        """Not halted, tradable today, then the quantity on the grid."""
        if self.trading.state is TradingState.HALTED:
            return self.refused_by_trading_state("no new orders")
        spec = self.spec
        if not spec.tradable or spec.expiry is not None:  # else nothing depends on the date
            problem = spec.tradability_problem(now.astimezone(NEW_YORK).date())
            if problem is not None:
                return self.decision(GateAction.REJECT, problem)
        return self.check_qty()

    def refused_by_trading_state(self, rule: str) -> SmartRoutingDecision:
        self.fields["trading_state"] = self.trading.state.value
        return self.decision(GateAction.REJECT, f"{self.trading.describe()}: {rule}")

    def check_qty(self) -> SmartRoutingDecision | None:
        intent, spec = self.intent, self.spec
        limit = intent.limit_price
        if intent.order_type is OrderType.LIMIT and limit is not None:
            rounded = spec.round_limit_price(limit, intent.side)
            if rounded <= 0:
                return self.decision(
                    GateAction.INVALID,
                    f"limit_price: {format_qty(limit)} rounds to {format_qty(rounded)} on the tick "
                    f"{format_qty(spec.price_tick)}",
                )
        if intent.qty_rounding is QtyRounding.EXACT:
            problem = spec.qty_problem(intent.qty)
            if problem is not None:
                return self.decision(GateAction.INVALID, problem)
            return None
        rounded = spec.floor_qty(intent.qty)
        if rounded < spec.min_qty:
            return self.decision(
                GateAction.REJECT,
                f"qty {format_qty(intent.qty)} rounds down to {format_qty(rounded)} on "
                f"the grid of {format_qty(spec.qty_increment)} {spec.qty_unit()}: "
                "below the "
                f"minimum of {format_qty(spec.min_qty)}, nothing to send",
            )
        return None

    def quantize(self) -> None:
        """The quantity the order goes out with, and its limit on the tick."""
        intent = self.intent
        if intent.qty_rounding is QtyRounding.DOWN:
            self.qty = self.spec.floor_qty(intent.qty)
        self.fields["qty"] = self.qty
        if intent.order_type is OrderType.LIMIT and intent.limit_price is not None:
            self.fields["limit_price"] = self.spec.round_limit_price(
                intent.limit_price, intent.side
            )
