"""The one pre-trade gate: whether an intent becomes an order, and why not.

Checks, in order, stopping at the first that fails:
1. instrument: tradable today (not expired, listed, not halted by the venue);
2. quantity: on the instrument's grid (a typed qty off the grid is invalid; a computed one is
   rounded down, and rounding to zero sends nothing); limit prices go to the tick;
3. participation: above EXEC_MAX_ADV_FRACTION of the average daily volume (where bars give
   one) the order is rejected: no spread makes that size cheap;
4. cost (docs/cost-model.md): the effective spread of this size (the quoted spread for a size
   the touch holds) against the strictest threshold for the session the order trades in (WAIT
   above it); within it, WAIT when waiting one interval is expected to cost less (with bars);
   bypassed when smart routing is off; with no usable quote the fail mode decides;
5. size and account: the per-class notional cap, buying power in the account's currency (via a
   conversion quote when the instrument is quoted in another), and no short the account may
   not hold.

Pure: no I/O. The engine fetches the instrument, quote, account, conversion rate and market
context (bar statistics, book, spreads seen) and hands them over; the callable, the
scheduled runs, `dry_run` and the `route` what-if all decide here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import ZERO, format_money, format_qty, round_money
from smart_routing.domain.orders import (
    AccountSnapshot,
    OrderIntent,
    OrderSide,
    OrderType,
    QtyRounding,
)
from smart_routing.gate.cost_model import CostModel, size_cost
from smart_routing.gate.decision import CostCheck, GateAction, SmartRoutingDecision
from smart_routing.gate.fees import FeeSchedule, estimate_fees
from smart_routing.gate.policy import FailMode, RoutingPolicy, Threshold
from smart_routing.market.context import MarketContext
from smart_routing.market.conversion import Conversion
from smart_routing.market.quotes import Quote, has_prices, quote_problem
from smart_routing.market.sessions import Session
from smart_routing.market.spread import format_pct
from smart_routing.market.trading_calendar import NEW_YORK


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
        self._thresholds: dict[
            tuple[AssetClass, Decimal | None, Session], tuple[Threshold, str]
        ] = {}
        self._last_terms: (
            tuple[AssetClass, Decimal | None, datetime, tuple[Session, Threshold, str]] | None
        ) = None
        # sqrt(t) of the drift term, t in minutes: computed once, not per decision.
        self.sqrt_interval = (Decimal(repr(self.policy.wait_interval_s)) / 60).sqrt()

    def terms(
        self, asset_class: AssetClass, strategy_max: Decimal | None, now: datetime
    ) -> tuple[Session, Threshold, str]:
        """The session at `now`, its threshold and the text naming it; the last answer is
        kept, since a batch of decisions shares one instant."""
        last = self._last_terms
        if last is not None and last[0] is asset_class and last[1:3] == (strategy_max, now):
            return last[3]
        session = self.policy.sessions.session_of(asset_class, now)
        threshold, bound = self.threshold(asset_class, strategy_max, session)
        found = (session, threshold, bound)
        self._last_terms = (asset_class, strategy_max, now, found)
        return found

    def threshold(
        self, asset_class: AssetClass, strategy_max: Decimal | None, session: Session
    ) -> tuple[Threshold, str]:
        """The policy's threshold for the class, strategy maximum and session, and the text
        naming it, computed once."""
        key = (asset_class, strategy_max, session)
        found = self._thresholds.get(key)
        if found is None:
            if len(self._thresholds) > 1024:
                self._thresholds.clear()
            threshold = self.policy.threshold_for(asset_class, strategy_max, session)
            found = (threshold, _bound_text(threshold.value, threshold.source))
            self._thresholds[key] = found
        return found

    def precheck(
        self, intent: OrderIntent, spec: InstrumentSpec, now: datetime
    ) -> SmartRoutingDecision | None:
        """The checks that need no quote (instrument, quantity): a failing decision, or None.

        Run before any quote is fetched, so an expired option costs no market-data call.
        """
        return _Draft(self, intent, spec, now).precheck(now)

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
        market: MarketContext | None = None,
    ) -> SmartRoutingDecision:
        """Every check in order. `quote_error` says why there is no quote, when there is none;
        `account` None means the account could not be read (the order is not sent);
        `prechecked` says `precheck` already passed for this intent and spec; `market` is
        what recent bars, the book and the spreads seen say (None: the plain spread rule)."""
        draft = _Draft(self, intent, spec, now)
        failed = None if prechecked else draft.precheck(now)
        if failed is not None:
            return failed
        draft.quantize()
        problem = quote_error or "no quote"
        if quote is not None:
            problem = quote_problem(quote, now, self.policy.max_quote_age_s)
        draft.market = market
        draft.price_from(quote, usable_for_cost=problem is None)
        draft.cost_problem = problem
        too_big = draft.participation_check()
        if too_big is not None:
            return too_big
        held = draft.cost_check(problem)
        if held is not None:
            return held
        return draft.account_check(account, conversion)


class _Draft:
    """A decision being built, check by check."""

    __slots__ = (
        "bound", "cost_note", "cost_problem", "fees", "fields", "half", "intent", "market",
        "model", "notional", "price", "qty", "router", "share", "spec", "threshold",
    )  # fmt: skip

    def __init__(
        self, router: SmartRouter, intent: OrderIntent, spec: InstrumentSpec, now: datetime
    ) -> None:
        assert intent.asset_class is not None  # OrderIntent fills it in
        self.router, self.intent, self.spec = router, intent, spec
        session, self.threshold, self.bound = router.terms(
            intent.asset_class, intent.max_spread_pct, now
        )
        self.fields: dict[str, object] = {
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
        self.cost_problem: str | None = None
        self.market: MarketContext | None = None
        self.model: CostModel | None = None
        self.share: Decimal | None = None  # of the average daily volume
        self.half = ZERO  # the half-spread of the quote, as a fraction of its mid

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
        fields = self.fields
        spread = half = None
        if quote is not None and usable_for_cost:
            bid, ask = quote.bid, quote.ask
            fields["quote"] = quote
            # As costs.spread_pct and costs.estimate_slippage compute them, sharing the terms.
            difference, total = ask - bid, bid + ask
            spread = fields["spread_pct"] = difference * _TWO / total
            half = fields["estimated_slippage"] = difference / total
            fields["estimated_spread_cost"] = round_money(
                self.qty * (difference / _TWO) * self.spec.multiplier, self.spec.quote_currency
            )
        if isinstance(limit, Decimal):
            self.price = limit
        elif quote is not None and (usable_for_cost or has_prices(quote)):
            self.price = quote.ask if self.intent.side is OrderSide.BUY else quote.bid
        if self.price is not None:
            self.notional = self.spec.notional(self.qty, self.price)
            self.fees = estimate_fees(
                self.router.fees, self.spec, self.intent.side, self.qty, self.price
            ).amount
            fields.update(price=self.price, notional=self.notional, estimated_fees=self.fees)
        if spread is not None and half is not None and quote is not None:
            self.half = half
            self._model_cost(quote, spread, half)

    def _model_cost(self, quote: Quote, spread: Decimal, half: Decimal) -> None:
        """The cost model's terms for this size (cost_model.py): what crossing now costs.
        A size the touch holds pays the half-spread: Decimal arithmetic only; the book walk
        and the square-root impact are computed in floats."""
        market, qty, policy = self.market, self.qty, self.router.policy
        stats = book = None
        if market is not None:
            stats, book = market.stats, market.book
        touch = quote.ask_size if self.intent.side is OrderSide.BUY else quote.bid_size
        if book is None and (
            (touch is not None and touch.is_finite() and qty <= touch)
            or (touch is None and (stats is None or stats.adv is None or not stats.sigma_daily))
        ):
            spread_cost, impact, effective = half, ZERO, spread
            depth = _NO_DEPTH if touch is None else _AT_THE_TOUCH
        else:
            cost = size_cost(
                half_spread=float(half),
                qty=float(qty),
                side=self.intent.side,
                touch_size=float(touch) if touch is not None and touch.is_finite() else None,
                book=book,
                stats=stats,
                impact_y=policy.impact_y,
            )
            spread_cost = Decimal(repr(cost.spread_cost_pct))
            impact = Decimal(repr(cost.impact_pct))
            depth = cost.depth
            effective = 2 * (spread_cost + impact)
        fees, notional = self.fees, self.notional
        fees_pct = fees / notional if fees and notional else ZERO
        model = self.model = CostModel(
            session=self.fields["session"],  # type: ignore[arg-type]
            threshold_pct=self.threshold.value,
            spread_pct=spread,
            spread_cost_pct=spread_cost,
            impact_pct=impact,
            fees_pct=fees_pct,
            crossing_cost_pct=spread_cost + impact + fees_pct,
            effective_spread_pct=effective,
            depth=depth,
            impact_y=policy.impact_y,
            wait_interval_s=policy.wait_interval_s,
        )
        if market is not None:
            if stats is not None:
                model.bars, model.adv = stats.bars, stats.adv
                model.sigma_per_minute = stats.sigma_per_minute
                model.sigma_daily = stats.sigma_daily
                if stats.adv:
                    model.participation = self.share = qty / stats.adv
            model.typical_spread_pct = market.typical_spread_pct
            model.typical_source = market.typical_source
        self.fields["cost_model"] = model

    def participation_check(self) -> SmartRoutingDecision | None:
        """An order above EXEC_MAX_ADV_FRACTION of the average daily volume is rejected before
        the cost check, with smart routing on or off: no spread makes such a size cheap, so
        it is refused rather than held."""
        stats = self.market.stats if self.market is not None else None
        if stats is None or not stats.adv:
            return None
        cap = self.router.policy.max_adv_fraction
        share = self.share if self.share is not None else self.qty / stats.adv
        if share <= cap:
            return None
        return self.stop(
            GateAction.REJECT,
            f"qty {format_qty(self.qty)} is {share:.2%} of the average daily volume of "
            f"{stats.adv:,.0f} {self.spec.qty_unit()} (from {stats.bars} one-minute bars): "
            f"above the maximum EXEC_MAX_ADV_FRACTION of {format_pct(cap)}",
        )

    def cost_check(self, problem: str | None) -> SmartRoutingDecision | None:
        model = self.model
        if not self.router.enabled:
            self.fields["cost_check"] = CostCheck.BYPASSED
            self.cost_note = "cost check bypassed (smart routing off)"
            if model is not None:
                model.rule, model.verdict = "bypassed (smart routing off)", "execute"
            return None
        if problem is not None:
            return self._unavailable(problem)
        spread = self.fields["spread_pct"]
        assert isinstance(spread, Decimal) and model is not None
        limit = self.threshold.value
        bound = self.bound
        said = f"Spread {format_pct(spread)}"
        # The reason names the cause: the quoted spread itself, else the size's effective one.
        exceeded = spread > limit
        effective = model.effective_spread_pct
        if not exceeded and effective is not spread and effective > limit:
            exceeded = True
            said = (
                f"Effective spread {effective:.2%} for {format_qty(self.qty)} "
                f"{self.spec.qty_unit()} (spread {format_pct(spread)}, {model.depth}, impact "
                f"{model.impact_pct:.2%})"
            )
        if exceeded:
            model.rule, model.verdict = "threshold", "wait"
            self.fields["cost_check"] = CostCheck.EXCEEDED
            return self.stop(GateAction.WAIT, f"{said} exceeds {bound}")
        self.cost_note = f"{said} within {bound}"
        return self._volatility_check(model)

    def _volatility_check(self, model: CostModel) -> SmartRoutingDecision | None:
        """Within the threshold: WAIT when waiting one interval is expected to cost less than
        crossing now. Without bars (no sigma) the spread rule alone decides, and says so."""
        market = self.market
        stats = market.stats if market is not None else None
        if stats is None or stats.sigma_per_minute is None:
            model.verdict = "execute"
            model.rule = _NO_CONTEXT_RULE
            if market is not None:
                why = market.stats_error or f"{stats.bars if stats else 0} bars, too few"
                model.rule = f"spread (volatility rule skipped: {why})"
            self.fields["cost_check"] = CostCheck.PASSED
            return None
        assert market is not None
        # cost_model.py: waiting = crossing - half_spread_now + typical_half_spread + drift;
        # with no typical spread seen the wait meets the spread of now.
        drift = stats.sigma_per_minute * self.router.sqrt_interval
        crossing, typical = model.crossing_cost_pct, market.typical_spread_pct
        wait = crossing + drift
        if typical is not None:
            wait = wait - self.half + typical / _TWO
        model.drift_pct, model.wait_cost_pct, model.rule = drift, wait, "volatility"
        if crossing > wait:
            model.verdict = "wait"
            self.fields["cost_check"] = CostCheck.EXCEEDED
            return self.stop(
                GateAction.WAIT,
                f"{self.cost_note}, but waiting {model.wait_interval_s:g}s is expected to cost "
                f"{wait:.3%} against {model.crossing_cost_pct:.3%} now (typical spread "
                f"{(market.typical_spread_pct or 0):.3%} in {model.session}, drift "
                f"{drift:.3%})",
            )
        model.verdict = "execute"
        self.fields["cost_check"] = CostCheck.PASSED
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
        asset_class = self.spec.asset_class
        cap = self.router.policy.max_order_notional[asset_class]
        if in_account > cap:
            return (
                f"order notional {format_money(in_account, account.currency)} is above the "
                f"{asset_class.value.lower()} maximum of {format_money(cap, account.currency)} "
                f"per order (EXEC_MAX_ORDER_NOTIONAL_{asset_class.value})"
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


_TWO = Decimal(2)
# What priced the size when the order pays the quoted spread and nothing more.
_AT_THE_TOUCH = "touch size"
_NO_DEPTH = "no depth shown; no volume for the impact model"
_NO_CONTEXT_RULE = "spread (volatility rule skipped: no market context)"


@lru_cache(maxsize=256)
def _bound_text(threshold: Decimal, source: str) -> str:
    return f"threshold {format_pct(threshold)} ({source})"
