"""The one pre-trade gate: whether an intent becomes an order, and why not.

Checks, in order, stopping at the first that fails:
0. trading state (the kill switch): halted sends nothing; reducing, checked with the account,
   sends only what shrinks a position held;
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

The checks live in draft.py (instrument, quantity), cost_check.py and account_check.py.
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
from smart_routing.domain.orders import AccountSnapshot, OrderIntent
from smart_routing.domain.trading_state import ACTIVE, TradingStatus
from smart_routing.gate.account_check import account_check
from smart_routing.gate.cost_check import cost_check, participation_check, price_from
from smart_routing.gate.decision import SmartRoutingDecision
from smart_routing.gate.draft import Draft
from smart_routing.gate.fees import FeeSchedule
from smart_routing.gate.policy import RoutingPolicy, Threshold
from smart_routing.market.context import MarketContext
from smart_routing.market.conversion import Conversion
from smart_routing.market.quotes import Quote, quote_problem
from smart_routing.market.sessions import Session
from smart_routing.market.spread import format_pct


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
        self,
        intent: OrderIntent,
        spec: InstrumentSpec,
        now: datetime,
        trading: TradingStatus = ACTIVE,
    ) -> SmartRoutingDecision | None:
        """The checks that need no quote (instrument, quantity): a failing decision, or None.

        Run before any quote is fetched, so an expired option costs no market-data call.
        """
        return self._draft(intent, spec, now, trading).precheck(now)

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
        trading: TradingStatus = ACTIVE,
    ) -> SmartRoutingDecision:
        """Every check in order. `quote_error` says why there is no quote, when there is none;
        `account` None means the account could not be read (the order is not sent);
        `prechecked` says `precheck` already passed for this intent and spec; `market` is
        what recent bars, the book and the spreads seen say (None: the plain spread rule);
        `trading` is the state the owner's orders trade under (the kill switch)."""
        draft = self._draft(intent, spec, now, trading)
        failed = None if prechecked else draft.precheck(now)
        if failed is not None:
            return failed
        draft.quantize()
        problem: str | None = quote_error or "no quote"
        if quote is not None:
            problem = quote_problem(quote, now, self.policy.max_quote_age_s)
        draft.market = market
        price_from(draft, quote, usable_for_cost=problem is None, now=now)
        draft.cost_problem = problem
        too_big = participation_check(draft)
        if too_big is not None:
            return too_big
        held = cost_check(draft, problem)
        if held is not None:
            return held
        return account_check(draft, account, conversion)

    def _draft(
        self, intent: OrderIntent, spec: InstrumentSpec, now: datetime, trading: TradingStatus
    ) -> Draft:
        assert intent.asset_class is not None  # OrderIntent fills it in
        terms = self.terms(intent.asset_class, intent.max_spread_pct, now)
        return Draft(self, intent, spec, terms, trading)


@lru_cache(maxsize=256)
def _bound_text(threshold: Decimal, source: str) -> str:
    return f"threshold {format_pct(threshold)} ({source})"
