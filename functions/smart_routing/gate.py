"""The one pre-trade gate: whether an intent becomes an order, and why not.

Checks, in order, stopping at the first that fails:
1. instrument: tradable today (not expired, listed, not halted by the venue);
2. quantity: on the instrument's grid (a typed qty off the grid is invalid; a computed one is
   rounded down, and rounding to zero sends nothing); limit prices go to the tick;
3. cost: the spread against the strictest threshold (WAIT above it); bypassed when smart
   routing is off; with no usable quote the fail mode decides;
4. size and account: the per-class notional cap, buying power in the account's currency (via a
   conversion quote when the instrument is quoted in another), and no short the account may
   not hold.

Pure: no I/O. The engine fetches the instrument, quote, account and conversion rate and hands
them over; the callable, the scheduled runs, `dry_run` and the `route` what-if all decide here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from smart_routing import logs
from smart_routing.assets import AssetClass
from smart_routing.costs import estimate_slippage, format_pct, spread_pct
from smart_routing.fees import FeeSchedule, estimate_fees
from smart_routing.instruments import InstrumentSpec
from smart_routing.market_data import Quote, has_prices, quote_problem
from smart_routing.money import ZERO, Amount, format_money, format_qty, round_money
from smart_routing.orders import AccountSnapshot, OrderIntent, OrderSide, OrderType, QtyRounding
from smart_routing.routing import FailMode, RoutingPolicy
from smart_routing.trading_calendar import NEW_YORK


class GateAction(StrEnum):
    EXECUTE = "execute"  # send it
    WAIT = "wait"  # the cost check held it back: nothing sent
    REJECT = "reject"  # instrument, size or account says no: nothing sent
    INVALID = "invalid"  # the request itself is wrong (a typed qty off the grid)


class CostCheck(StrEnum):
    PASSED = "passed"
    EXCEEDED = "exceeded"
    BYPASSED = "bypassed"  # smart routing is off
    UNAVAILABLE = "unavailable"  # no usable quote: the fail mode decided
    NOT_REACHED = "not_reached"  # an earlier check failed


class Conversion(BaseModel):
    """How many units of the account currency one unit of the quote currency is worth."""

    model_config = ConfigDict(frozen=True)

    rate: Amount
    symbol: str  # the pair whose mid gave the rate, or the currency itself for 1


@dataclass(slots=True, kw_only=True)
class SmartRoutingDecision:
    """The gate's whole answer. `should_execute`, `reason`, `spread_pct`, `downgraded`,
    `symbol` and `asset_class` are the seed's fields; the rest say how it was reached.

    A value: nothing changes it once the gate returns it. A plain slotted dataclass rather
    than a frozen pydantic model, because it is built on the hot path from parts that are
    already valid: validating (or freezing) 26 fields there cost half the gate's budget.
    """

    should_execute: bool
    reason: str
    spread_pct: Amount | None
    downgraded: bool
    symbol: str
    asset_class: AssetClass
    action: GateAction
    cost_check: CostCheck
    side: OrderSide
    estimated_slippage: Amount | None = None
    threshold_pct: Amount
    threshold_source: str
    venue: str
    instrument: InstrumentSpec
    requested_qty: Amount
    qty: Amount
    limit_price: Amount | None = None
    currency: str
    price: Amount | None = None
    notional: Amount | None = None
    estimated_spread_cost: Amount | None = None
    estimated_fees: Amount | None = None
    account_currency: str | None = None
    conversion: Conversion | None = None
    notional_in_account_currency: Amount | None = None
    quote: Quote | None = None
    # "limit": the cost check failed and the engine's limit fallback placed a passive limit
    # instead of waiting (see limit_fallback.py); None otherwise.
    fallback: str | None = None

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: set[str] | None = None,
        exclude: set[str] | None = None,
    ) -> dict[str, Any]:
        """As pydantic models dump: mode="json" gives JSON types (money as numbers)."""
        return _decision_adapter().dump_python(self, mode=mode, include=include, exclude=exclude)

    def log_fields(self) -> dict[str, object]:
        """Everything but the nested parts, as the log writer takes them (it writes Decimals
        as numbers and enums as their values): cheaper than a full dump on every decision."""
        return {name: getattr(self, name) for name in _LOG_FIELDS}


_LOG_FIELDS = tuple(
    field.name
    for field in fields(SmartRoutingDecision)
    if field.name not in {"instrument", "quote", "conversion", "limit_price"}
)


@cache
def _decision_adapter() -> TypeAdapter[SmartRoutingDecision]:
    return TypeAdapter(SmartRoutingDecision)


class SmartRouter:
    """The gate. `enabled` switches the cost check only: the instrument, size and account
    checks always apply."""

    def __init__(
        self,
        policy: RoutingPolicy | None = None,
        fees: FeeSchedule | None = None,
        enabled: bool = True,
    ) -> None:
        self.policy = policy or RoutingPolicy()
        self.fees = fees or FeeSchedule()
        self.enabled = enabled

    def precheck(
        self, intent: OrderIntent, spec: InstrumentSpec, now: datetime
    ) -> SmartRoutingDecision | None:
        """The checks that need no quote (instrument, quantity): a failing decision, or None.

        Run before any quote is fetched, so an expired option costs no market-data call.
        """
        return _Draft(self, intent, spec).precheck(now)

    def decide(
        self,
        intent: OrderIntent,
        spec: InstrumentSpec,
        quote: Quote | None,
        now: datetime,
        account: AccountSnapshot | None,
        conversion: Conversion | None = None,
        quote_error: str | None = None,
        prechecked: bool = False,
    ) -> SmartRoutingDecision:
        """Every check in order. `quote_error` says why there is no quote, when there is none;
        `account` None means the account could not be read (the order is not sent);
        `prechecked` says `precheck` already passed for this intent and spec."""
        draft = _Draft(self, intent, spec)
        failed = None if prechecked else draft.precheck(now)
        if failed is not None:
            return failed
        draft.quantize()
        problem = quote_error or "no quote"
        if quote is not None:
            problem = quote_problem(quote, now, self.policy.max_quote_age_s)
        draft.price_from(quote, usable_for_cost=problem is None)
        draft.cost_problem = problem
        held = draft.cost_check(problem)
        if held is not None:
            return held
        return draft.account_check(account, conversion)


class _Draft:
    """A decision being built, check by check."""

    def __init__(self, router: SmartRouter, intent: OrderIntent, spec: InstrumentSpec) -> None:
        assert intent.asset_class is not None  # OrderIntent fills it in
        self.router, self.intent, self.spec = router, intent, spec
        self.threshold = router.policy.threshold_for(intent.asset_class, intent.max_spread_pct)
        self.fields: dict[str, object] = {
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
        self.cost_problem: str | None = None

    def stop(self, action: GateAction, reason: str) -> SmartRoutingDecision:
        return self._decision(action, reason)

    def precheck(self, now: datetime) -> SmartRoutingDecision | None:
        spec = self.spec
        if not spec.tradable or spec.expiry is not None:  # else nothing depends on the date
            problem = spec.tradability_problem(now.astimezone(NEW_YORK).date())
            if problem is not None:
                return self.stop(GateAction.REJECT, problem)
        return self.check_qty()

    def check_qty(self) -> SmartRoutingDecision | None:
        limit = self.intent.limit_price
        if self.intent.order_type is OrderType.LIMIT and limit is not None:
            rounded = self.spec.round_limit_price(limit, self.intent.side)
            if rounded <= 0:
                return self.stop(
                    GateAction.INVALID,
                    f"limit_price: {format_qty(limit)} rounds to {format_qty(rounded)} on the tick "
                    f"{format_qty(self.spec.price_tick)}",
                )
        if self.intent.qty_rounding is QtyRounding.EXACT:
            problem = self.spec.qty_problem(self.intent.qty)
            if problem is not None:
                return self.stop(GateAction.INVALID, problem)
            return None
        rounded = self.spec.floor_qty(self.intent.qty)
        if rounded < self.spec.min_qty:
            return self.stop(
                GateAction.REJECT,
                f"qty {format_qty(self.intent.qty)} rounds down to {format_qty(rounded)} on "
                f"the grid of {format_qty(self.spec.qty_increment)} {self.spec.qty_unit()}: "
                "below the "
                f"minimum of {format_qty(self.spec.min_qty)}, nothing to send",
            )
        return None

    def quantize(self) -> None:
        if self.intent.qty_rounding is QtyRounding.DOWN:
            self.qty = self.spec.floor_qty(self.intent.qty)
        self.fields["qty"] = self.qty
        if self.intent.order_type is OrderType.LIMIT and self.intent.limit_price is not None:
            self.fields["limit_price"] = self.spec.round_limit_price(
                self.intent.limit_price, self.intent.side
            )

    def price_from(self, quote: Quote | None, usable_for_cost: bool) -> None:
        """The price the order is sized at: the limit, else the touch it would cross. A quote
        too old to judge cost by still sizes the order, when its prices are prices."""
        limit = self.fields.get("limit_price")
        if quote is not None and usable_for_cost:
            self.fields["quote"] = quote
            self.fields["spread_pct"] = spread_pct(quote.bid, quote.ask)
            self.fields["estimated_slippage"] = estimate_slippage(quote.bid, quote.ask)
            half_spread = (quote.ask - quote.bid) / 2
            self.fields["estimated_spread_cost"] = round_money(
                self.qty * half_spread * self.spec.multiplier, self.spec.quote_currency
            )
        if isinstance(limit, Decimal):
            self.price = limit
        elif quote is not None and (usable_for_cost or has_prices(quote)):
            self.price = quote.ask if self.intent.side is OrderSide.BUY else quote.bid
        if self.price is not None:
            self.notional = self.spec.notional(self.qty, self.price)
            self.fees = estimate_fees(
                self.router.fees, self.spec, self.intent.side, self.qty, self.price
            )
            self.fields.update(price=self.price, notional=self.notional, estimated_fees=self.fees)

    def cost_check(self, problem: str | None) -> SmartRoutingDecision | None:
        if not self.router.enabled:
            self.fields["cost_check"] = CostCheck.BYPASSED
            self.cost_note = "cost check bypassed (smart routing off)"
            return None
        if problem is not None:
            return self._unavailable(problem)
        spread = self.fields["spread_pct"]
        assert isinstance(spread, Decimal)
        limit = self.threshold.value
        bound = _bound_text(limit, self.threshold.source)
        if spread > limit:
            self.fields["cost_check"] = CostCheck.EXCEEDED
            return self.stop(GateAction.WAIT, f"Spread {format_pct(spread)} exceeds {bound}")
        self.fields["cost_check"] = CostCheck.PASSED
        self.cost_note = f"Spread {format_pct(spread)} within {bound}"
        return None

    def _unavailable(self, problem: str) -> SmartRoutingDecision | None:
        self.fields["cost_check"] = CostCheck.UNAVAILABLE
        if self.router.policy.fail_mode is FailMode.CLOSED:
            return self.stop(
                GateAction.WAIT, f"Quote unavailable ({problem}); fail-closed: order held"
            )
        self.cost_note = f"Quote unavailable ({problem}); fail-open: order allowed"
        return None

    def account_check(
        self, account: AccountSnapshot | None, conversion: Conversion | None
    ) -> SmartRoutingDecision:
        if account is None:
            return self.stop(GateAction.REJECT, "the account could not be read; nothing sent")
        self.fields["account_currency"] = account.currency
        problem = self._position_problem(account)
        reason = self.cost_note or "all checks passed"
        if problem is None and self._needs_money(account):
            if self.notional is None:
                return self._unpriced(reason)
            problem = self._money_problem(account, conversion)
        if problem is not None:
            return self.stop(GateAction.REJECT, problem)
        return self._decision(GateAction.EXECUTE, reason)

    def _unpriced(self, reason: str) -> SmartRoutingDecision:
        """No price at all (no quote with prices, no limit): size and buying power cannot be
        checked, and the fail mode decides, as it does for the cost check."""
        unchecked = f"no price to check size and buying power ({self.cost_problem})"
        if self.router.policy.fail_mode is FailMode.CLOSED:
            return self.stop(GateAction.WAIT, f"{unchecked}; fail-closed: order held")
        return self._decision(
            GateAction.EXECUTE, f"{reason}; {unchecked}: left to the venue (fail-open)"
        )

    def _needs_money(self, account: AccountSnapshot) -> bool:
        """A sale of what is held, or a forex order that only closes, frees money: it needs no
        price, no conversion and no buying power."""
        if self.spec.asset_class is AssetClass.FOREX:
            return self._opening_share(account) > 0
        return self.intent.side is OrderSide.BUY or self.spec.shortable

    def _position_problem(self, account: AccountSnapshot) -> str | None:
        if self.intent.side is OrderSide.BUY or self.spec.shortable:
            return None
        held = account.position_qty(self.spec.symbol)
        if self.qty <= held:
            return None
        kind = "crypto is never shorted" if self.spec.asset_class is AssetClass.CRYPTO else (
            "this account may not short " + self.spec.asset_class.value.lower()
        )  # fmt: skip
        return (
            f"insufficient position: selling {format_qty(self.qty)} {self.spec.symbol}, holding "
            f"{format_qty(held)} ({kind})"
        )

    def _money_problem(self, account: AccountSnapshot, conversion: Conversion | None) -> str | None:
        assert self.notional is not None  # account_check sends unpriced orders elsewhere
        currency = self.spec.quote_currency
        rate: Decimal | None = None  # None: the order is in the account's own currency
        in_account = self.notional
        if currency != account.currency:
            if conversion is None:
                return (
                    f"no conversion quote from {currency} to {account.currency}: the "
                    f"{format_money(self.notional, currency)} order cannot be checked "
                    "against buying power"
                )
            self.fields["conversion"] = conversion
            rate = conversion.rate
            in_account = round_money(self.notional * rate, account.currency)
        self.fields["notional_in_account_currency"] = in_account
        cap = self.router.policy.max_order_notional[self.spec.asset_class]
        if in_account > cap:
            return (
                f"order notional {format_money(in_account, account.currency)} is above the "
                f"{self.spec.asset_class.value.lower()} maximum of "
                f"{format_money(cap, account.currency)} per order"
            )
        needed = self._buying_power_needed(account, in_account, rate)
        if needed > account.buying_power:
            return (
                f"insufficient buying power: the order needs "
                f"{format_money(needed, account.currency)}, buying power is "
                f"{format_money(account.buying_power, account.currency)}"
            )
        return None

    def _buying_power_needed(
        self, account: AccountSnapshot, in_account: Decimal, rate: Decimal | None
    ) -> Decimal:
        if self.spec.asset_class is AssetClass.FOREX:
            opening = self._opening_share(account)
            margin = in_account * opening * self.router.policy.forex_margin_rate
            return round_money(margin, account.currency)
        if self.intent.side is OrderSide.SELL:
            return ZERO  # selling what is held frees money
        fees = self.fees or ZERO
        if rate is None:  # both already on the account currency's grid
            return in_account + fees
        return round_money(in_account + fees * rate, account.currency)

    def _opening_share(self, account: AccountSnapshot) -> Decimal:
        """The share of the order that adds exposure: closing a position needs no margin."""
        held = account.position_qty(self.spec.symbol)
        opposite = held < 0 if self.intent.side is OrderSide.BUY else held > 0
        closing = min(self.qty, abs(held)) if opposite else ZERO
        return (self.qty - closing) / self.qty

    def _decision(self, action: GateAction, reason: str) -> SmartRoutingDecision:
        execute = action is GateAction.EXECUTE
        return SmartRoutingDecision(
            **self.fields,
            should_execute=execute,
            downgraded=action is GateAction.WAIT,
            action=action,
            reason=reason,
        )


@lru_cache(maxsize=256)
def _bound_text(threshold: Decimal, source: str) -> str:
    return f"threshold {format_pct(threshold)} ({source})"


def log_decision(decision: SmartRoutingDecision) -> None:
    """exec.smart_routing, once per decision; a warning when no usable quote existed."""
    severity = "WARNING" if decision.cost_check is CostCheck.UNAVAILABLE else "INFO"
    logs.log_event(logs.SMART_ROUTING, severity=severity, **decision.log_fields())
