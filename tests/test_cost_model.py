"""The gate's cost model on hand-computed figures: bar statistics, the size (book walk, touch,
square-root impact), the participation and notional caps, and the volatility rule."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.config.engine_config import load_config
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError
from smart_routing.domain.orders import AccountSnapshot, OrderIntent
from smart_routing.execution.market_context import MarketContextCache
from smart_routing.gate.decision import CostCheck, GateAction
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.gate.router import SmartRouter
from smart_routing.market.context import MarketContext, MarketStats, stats_from_bars
from smart_routing.market.quotes import Bar, Quote
from smart_routing.market.sessions import Session
from smart_routing.market.spread import BookLevel, OrderBook

D = Decimal
INSTRUMENTS = BuiltinInstruments()
MIDDAY = datetime(2025, 12, 30, 17, 0, tzinfo=UTC)  # noon in New York: us_regular
OPENING = datetime(2025, 12, 30, 14, 35, tzinfo=UTC)  # 09:35 New York: us_open
RICH = AccountSnapshot(cash=D(10**9), buying_power=D(10**9), as_of=MIDDAY)


def bars(closes, minutes=None, volume=1000.0):
    minutes = minutes or list(range(len(closes)))
    return [
        Bar(start=MIDDAY + timedelta(minutes=m), open=c, high=c, low=c, close=c, volume=volume)
        for m, c in zip(minutes, closes, strict=True)
    ]


def same(a: Decimal, b: Decimal) -> bool:
    """Equal to 20 decimal places: the order of 28-digit roundings may differ in the last."""
    return abs(a - b) < D("1e-20")


def stats(sigma_per_minute="0.0001", sigma_daily="0.02", adv="1000000"):
    return MarketStats(
        bars=60,
        sigma_per_minute=None if sigma_per_minute is None else D(sigma_per_minute),
        sigma_daily=None if sigma_daily is None else D(sigma_daily),
        adv=None if adv is None else D(adv),
    )


def decide(symbol, bid, ask, qty, *, at=MIDDAY, size=None, market=None, side="buy", router=None):
    order = OrderIntent(symbol=symbol, side=side, qty=D(qty))
    spec = INSTRUMENTS.get_instrument(order.symbol, order.asset_class)
    live = Quote(
        symbol=order.symbol, bid=D(bid), ask=D(ask), as_of=at, source="test",
        bid_size=None if size is None else D(size), ask_size=None if size is None else D(size),
    )  # fmt: skip
    router = router or SmartRouter()
    return router.decide(order, spec, live, at, RICH, market=market)


# Bar statistics


def test_sigma_and_adv_from_one_minute_bars():
    up = math.log(1.01)
    result = stats_from_bars(bars([100, 101, 100, 101, 100, 101, 100]), AssetClass.EQUITY)
    # Six returns of +-ln(1.01) with mean 0: sample variance 6 ln(1.01)^2 / 5.
    assert float(result.sigma_per_minute) == pytest.approx(up * math.sqrt(6 / 5), rel=1e-12)
    assert float(result.sigma_daily) == pytest.approx(up * math.sqrt(6 / 5 * 390), rel=1e-12)
    assert result.adv == 390_000  # 1,000 a minute over the 7 minutes spanned, 390 a day
    assert result.bars == 7


def test_a_gap_between_bars_scales_its_return_to_one_minute():
    # Returns of ln(1.02) over 4 minutes count as ln(1.02)/2 a minute.
    closes = [100 * 1.02**k if k % 2 == 0 else 100 * 1.02 ** (k - 1) for k in range(7)]
    minutes = [0, 4, 8, 12, 16, 20, 24]
    result = stats_from_bars(bars(closes, minutes), AssetClass.CRYPTO)
    returns = [math.log(b / a) / 2 for a, b in pairwise(closes)]
    mean = sum(returns) / 6
    expected = math.sqrt(sum((r - mean) ** 2 for r in returns) / 5)
    assert float(result.sigma_per_minute) == pytest.approx(expected, rel=1e-12)
    assert float(result.adv) == pytest.approx(7 * 1000 / 25 * 1440)  # crypto trades 24h


def test_too_few_bars_give_no_sigma_and_forex_has_no_volume():
    assert stats_from_bars(bars([100, 101, 100]), AssetClass.EQUITY).sigma_per_minute is None
    forex = stats_from_bars(bars([1.1, 1.1001] * 5), AssetClass.FOREX)
    assert forex.adv is None and forex.sigma_per_minute is not None


# The size


def test_a_size_the_touch_holds_pays_the_quoted_spread_only():
    market = MarketContext(stats=stats())
    decision = decide("AAPL", "99.99", "100.01", "1000", size="1000", market=market)
    model = decision.cost_model
    assert model.depth == "touch size" and model.impact_pct == 0
    assert model.spread_cost_pct == D("0.0001") and model.effective_spread_pct == D("0.0002")
    assert decision.should_execute


def test_beyond_the_touch_the_square_root_impact_is_priced_and_named():
    market = MarketContext(stats=stats(sigma_daily="0.02", adv="1000000"))
    decision = decide("AAPL", "99.99", "100.01", "10000", size="1000", market=market)
    model = decision.cost_model
    # 1 x 0.02 x sqrt(10,000 / 1,000,000) = 0.002; effective 2 x (0.0001 + 0.002) = 0.0042
    assert float(model.impact_pct) == pytest.approx(0.002, rel=1e-12)
    assert float(model.effective_spread_pct) == pytest.approx(0.0042, rel=1e-12)
    assert model.participation == D("0.01")
    assert decision.action is GateAction.WAIT and decision.cost_check is CostCheck.EXCEEDED
    assert decision.reason == (
        "Effective spread 0.42% for 10000 shares (spread 0.02%, beyond the touch size: "
        "square-root impact, impact 0.20%) exceeds threshold 0.10% (default)"
    )


def test_impact_y_is_the_configured_constant():
    market = MarketContext(stats=stats(sigma_daily="0.02", adv="1000000"))
    router = SmartRouter(RoutingPolicy(impact_y=0.5))
    decision = decide("AAPL", "99.99", "100.01", "10000", size="1000", market=market,
                      router=router)  # fmt: skip
    assert float(decision.cost_model.impact_pct) == pytest.approx(0.001, rel=1e-12)


def test_the_book_is_walked_for_the_quantity():
    book = OrderBook(
        bids=[BookLevel(price=49_990, size=1)],
        asks=[BookLevel(price=50_010, size=0.3), BookLevel(price=50_020, size=0.5),
              BookLevel(price=50_040, size=1)],
    )  # fmt: skip
    decision = decide("BTC/USD", "49990", "50010", "0.5", market=MarketContext(book=book))
    model = decision.cost_model
    # 0.3 at 50,010 and 0.2 at 50,020: average 50,014, 14 above the mid of 50,000.
    assert model.depth == "order book (3 levels)"
    assert float(model.spread_cost_pct) == pytest.approx(14 / 50_000, rel=1e-12)
    assert float(model.effective_spread_pct) == pytest.approx(28 / 50_000, rel=1e-12)
    # Fees: 25 bps of the 25,005.00 notional at the touch, 62.5125 rounded up to 62.52.
    assert decision.estimated_fees == D("62.52")
    assert model.fees_pct == D("62.52") / D("25005.00")
    assert model.crossing_cost_pct == model.spread_cost_pct + model.fees_pct
    assert decision.should_execute  # 0.056% within 0.10%: fees are not held against it


def test_without_volume_the_size_adds_nothing_and_the_notional_cap_bounds_it():
    decision = decide("EUR/USD", "1.09995", "1.10005", "1e12", side="sell",
                      market=MarketContext(stats=stats(adv=None)))  # fmt: skip
    assert decision.cost_model.depth == "no depth shown; no volume for the impact model"
    assert decision.action is GateAction.REJECT
    assert decision.reason == (
        "order notional 1,099,950,000,000.00 USD is above the forex maximum of 5,000,000.00 USD "
        "per order (EXEC_MAX_ORDER_NOTIONAL_FOREX)"
    )


def test_above_the_participation_cap_the_order_is_rejected_with_the_figures():
    market = MarketContext(stats=stats(adv="1000000"))
    decision = decide("AAPL", "99.99", "100.01", "200000", size="1000", market=market)
    assert decision.action is GateAction.REJECT
    assert decision.reason == (
        "qty 200000 is 20.00% of the average daily volume of 1,000,000 shares (from 60 "
        "one-minute bars): above the maximum EXEC_MAX_ADV_FRACTION of 10.00%"
    )
    off = SmartRouter(enabled=False)
    assert decide("AAPL", "99.99", "100.01", "200000", market=market, router=off).action is (
        GateAction.REJECT
    )
    # Exactly 10% is not above the cap; its $10M notional is above the equity one.
    at_cap = decide("AAPL", "99.99", "100.01", "100000", market=market, router=off)
    assert "EXEC_MAX_ADV_FRACTION" not in at_cap.reason
    assert "(EXEC_MAX_ORDER_NOTIONAL_EQUITY)" in at_cap.reason


def test_the_size_settings_are_validated():
    config = load_config(
        {"EXEC_MAX_ADV_FRACTION": "0.05", "EXEC_IMPACT_Y": "0.7", "EXEC_WAIT_INTERVAL_S": "60"}
    )
    assert config.routing.max_adv_fraction == D("0.05")
    assert (config.routing.impact_y, config.routing.wait_interval_s) == (0.7, 60)
    for env, message in [
        ({"EXEC_MAX_ADV_FRACTION": "0"}, "must be above 0"),
        ({"EXEC_MAX_ADV_FRACTION": "1.5"}, "must be a fraction between 0 and 1"),
        ({"EXEC_IMPACT_Y": "-1"}, "must be greater than 0"),
        ({"EXEC_IMPACT_Y": "11"}, "must be at most 10"),
        ({"EXEC_WAIT_INTERVAL_S": "nan"}, "is not a finite number"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_config(env)


# The volatility rule: docs/cost-model.md, "Worked examples"


def opening(sigma_per_minute, typical="0.0002"):
    market = MarketContext(
        stats=stats(sigma_per_minute=sigma_per_minute),
        typical_spread_pct=None if typical is None else D(typical),
        typical_source="test",
    )
    return decide("AAPL", "99.95", "100.05", "10", at=OPENING, size="1000", market=market)


def test_a_quiet_market_waits_for_the_typical_spread():
    decision = opening("0.0001")
    model = decision.cost_model
    assert decision.session is Session.US_OPEN and model.threshold_pct == D("0.002")
    drift = D("0.0001") * D(5).sqrt()
    assert model.drift_pct == drift  # 0.0001 x sqrt(300 s / 60 s)
    assert model.crossing_cost_pct == D("0.0005")
    assert same(model.wait_cost_pct, D("0.0001") + drift)  # 0.0323607%
    assert (model.rule, model.verdict) == ("volatility", "wait")
    assert decision.action is GateAction.WAIT and decision.cost_check is CostCheck.EXCEEDED
    assert decision.reason == (
        "Spread 0.10% within threshold 0.20% (default x2 us_open), but waiting 300s is expected "
        "to cost 0.032% against 0.050% now (typical spread 0.020% in us_open, drift 0.022%)"
    )


def test_a_volatile_market_crosses_now():
    decision = opening("0.0003")
    model = decision.cost_model
    assert same(model.wait_cost_pct, D("0.0001") + D("0.0003") * D(5).sqrt())  # 0.077082%
    assert (model.rule, model.verdict) == ("volatility", "execute")
    assert decision.should_execute
    assert decision.reason == "Spread 0.10% within threshold 0.20% (default x2 us_open)"


def test_the_break_even_sigma():
    break_even = (D("0.0005") - D("0.0001")) / D(5).sqrt()  # 0.0178885% a minute
    assert opening(str(break_even * D("0.999"))).action is GateAction.WAIT
    assert opening(str(break_even * D("1.001"))).should_execute


def test_with_no_typical_spread_seen_the_rule_never_holds():
    model = opening("0.00000001", typical=None).cost_model
    assert model.verdict == "execute"
    assert same(model.wait_cost_pct, model.crossing_cost_pct + model.drift_pct)


def test_without_bars_the_plain_spread_rule_decides_and_says_so():
    market = MarketContext(stats=None, stats_error="bars unavailable (TimeoutError: slow)")
    decision = decide("AAPL", "99.95", "100.05", "10", at=OPENING, size="1000", market=market)
    assert decision.should_execute and decision.cost_model.drift_pct is None
    assert decision.cost_model.rule == (
        "spread (volatility rule skipped: bars unavailable (TimeoutError: slow))"
    )
    bare = decide("AAPL", "99.95", "100.05", "10", at=OPENING, size="1000")
    assert bare.cost_model.rule == "spread (volatility rule skipped: no market context)"
    assert bare.reason == decision.reason


def test_the_threshold_is_a_ceiling_the_volatility_rule_never_lifts():
    decision = opening("0.01")  # wild: waiting is very costly
    assert decision.should_execute
    wide = decide("AAPL", "99.8", "100.2", "10", at=OPENING, size="1000",
                  market=MarketContext(stats=stats(sigma_per_minute="0.01")))  # fmt: skip
    assert wide.action is GateAction.WAIT and wide.cost_model.rule == "threshold"


# The market context the engine hands over


class FailingBars(SimulatedMarket):
    def get_bars(self, symbol, asset_class, limit):
        raise TimeoutError("bars too slow")


def test_the_context_caches_bars_and_remembers_spreads_per_session(clock):
    market = SimulatedMarket(clock)
    calls = []
    original = market.get_bars
    market.get_bars = lambda *args: calls.append(args) or original(*args)
    cache = MarketContextCache(market, clock, max_quote_age_s=5)
    quote = Quote(symbol="AAPL", bid=D("99.99"), ask=D("100.01"), as_of=clock.now(), source="t")
    first = cache.context("AAPL", AssetClass.EQUITY, quote, Session.US_REGULAR)
    assert first.typical_spread_pct is None and first.stats.bars == 60
    wide = quote.model_copy(update={"bid": D("99.97"), "ask": D("100.03")})
    second = cache.context("AAPL", AssetClass.EQUITY, wide, Session.US_REGULAR)
    assert second.typical_spread_pct == D("0.0002")
    third = cache.context("AAPL", AssetClass.EQUITY, quote, Session.US_REGULAR)
    assert third.typical_spread_pct == D("0.0002") + D("0.2") * (D("0.0006") - D("0.0002"))
    assert third.typical_source == "running mean of 2 spreads seen in us_regular"
    other = cache.context("AAPL", AssetClass.EQUITY, quote, Session.US_OPEN)
    assert other.typical_spread_pct is None
    assert len(calls) == 1  # one bar fetch per symbol per 5 minutes
    clock.advance(301)
    cache.context("AAPL", AssetClass.EQUITY, None, Session.US_REGULAR)
    assert len(calls) == 2


def test_failing_bars_are_said_and_the_spread_rule_decides(clock):
    cache = MarketContextCache(FailingBars(clock), clock, max_quote_age_s=5)
    context = cache.context("AAPL", AssetClass.EQUITY, None, Session.US_REGULAR)
    assert context.stats is None
    assert context.stats_error == "bars unavailable (TimeoutError: bars too slow)"


def test_prefetch_fetches_each_stale_symbol_once(clock):
    market = SimulatedMarket(clock)
    calls = []
    original = market.get_bars
    market.get_bars = lambda *args: calls.append(args[0]) or original(*args)
    cache = MarketContextCache(market, clock, max_quote_age_s=5)
    wanted = [("AAPL", AssetClass.EQUITY), ("BTC/USD", AssetClass.CRYPTO)]
    cache.prefetch([*wanted, ("AAPL", AssetClass.EQUITY)])
    assert sorted(calls) == ["AAPL", "BTC/USD"]
    cache.prefetch(wanted)
    cache.context("AAPL", AssetClass.EQUITY, None, Session.US_REGULAR)
    assert len(calls) == 2  # fresh: nothing fetched again


def test_the_engine_hands_the_gate_its_market_context():
    from smart_routing.adapters.clock import FixedClock
    from smart_routing.runtime import build_local_runtime

    runtime = build_local_runtime(load_config({}, smart_routing_default=True), FixedClock(MIDDAY))
    order = OrderIntent(symbol="AAPL", side="buy", qty=10)
    first = runtime.engine.execute_intent(order, dry_run=True).routing
    second = runtime.engine.execute_intent(order, dry_run=True).routing
    assert first.session is Session.US_REGULAR
    assert first.cost_model.bars == 60 and first.cost_model.adv == 19_500_000
    assert first.cost_model.typical_source == "none observed"
    assert second.cost_model.typical_source == "running mean of 1 spreads seen in us_regular"
    assert second.cost_model.typical_spread_pct == second.spread_pct
    assert (second.cost_model.rule, second.cost_model.verdict) == ("volatility", "execute")
