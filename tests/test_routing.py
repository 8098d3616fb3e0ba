from datetime import timedelta

import pytest

from smart_routing.assets import AssetClass
from smart_routing.market_data import Quote
from smart_routing.routing import FailMode, RoutingPolicy, SmartRouter


def make_quote(clock, bid, ask, age_s=0.0, symbol="BTC/USD"):
    as_of = clock.now() - timedelta(seconds=age_s)
    return Quote(symbol=symbol, bid=bid, ask=ask, as_of=as_of, source="test")


def test_the_seed_example_btc_at_a_two_tenths_percent_spread_waits(clock):
    decision = SmartRouter(clock=clock).decide(
        "BTC/USD", AssetClass.CRYPTO, make_quote(clock, 49_950, 50_050)
    )
    assert decision.quote.mid == 50_000
    assert decision.spread_pct == pytest.approx(0.002)
    assert decision.threshold_pct == 0.001
    assert decision.downgraded and not decision.should_execute
    assert decision.reason == "Spread 0.20% exceeds threshold 0.10%"
    assert decision.estimated_slippage == pytest.approx(0.001)


def test_the_seed_reason_format_for_fifteen_basis_points(clock):
    decision = SmartRouter(clock=clock).decide(
        "BTC/USD", AssetClass.CRYPTO, make_quote(clock, 49_962.5, 50_037.5)
    )
    assert decision.reason == "Spread 0.15% exceeds threshold 0.10%"


def test_a_spread_at_the_threshold_executes(clock):
    decision = SmartRouter(clock=clock).decide(
        "AAPL", AssetClass.EQUITY, make_quote(clock, 99.95, 100.05, symbol="AAPL")
    )
    assert decision.should_execute and not decision.downgraded
    assert decision.reason == "Spread 0.10% within threshold 0.10%"


def test_options_have_their_own_wider_threshold(clock):
    router = SmartRouter(clock=clock)
    two_pct = make_quote(clock, 4.95, 5.05, symbol="AAPL240119C00150000")
    assert router.decide(two_pct.symbol, AssetClass.OPTIONS, two_pct).should_execute
    assert not router.decide("AAPL", AssetClass.EQUITY, two_pct).should_execute
    eight_pct = make_quote(clock, 4.6, 5.0, symbol="AAPL240119C00150000")
    assert router.decide(eight_pct.symbol, AssetClass.OPTIONS, eight_pct).downgraded


def test_a_uniform_threshold_overrides_every_class(clock):
    router = SmartRouter(RoutingPolicy().with_uniform_threshold(0.003), clock)
    decision = router.decide("BTC/USD", AssetClass.CRYPTO, make_quote(clock, 49_950, 50_050))
    assert decision.should_execute and decision.threshold_pct == 0.003


class FailingProvider:
    def get_quote(self, symbol, asset_class):
        raise TimeoutError("quote endpoint timed out")

    def get_bars(self, symbol, asset_class, limit):
        raise TimeoutError("bars endpoint timed out")


class EmptyProvider:
    def get_quote(self, symbol, asset_class):
        return None

    def get_bars(self, symbol, asset_class, limit):
        return []


@pytest.mark.parametrize(
    ("provider", "problem"),
    [
        (FailingProvider(), "market data error: TimeoutError: quote endpoint timed out"),
        (EmptyProvider(), "no quote"),
        (None, "no market data provider"),
    ],
)
def test_without_a_quote_fail_open_lets_the_order_through_and_says_why(clock, provider, problem):
    decision = SmartRouter(clock=clock).route("AAPL", AssetClass.EQUITY, provider)
    assert decision.should_execute and not decision.downgraded
    assert decision.spread_pct is None and decision.estimated_slippage is None
    assert problem in decision.reason and "fail-open" in decision.reason


@pytest.mark.parametrize("provider", [FailingProvider(), EmptyProvider(), None])
def test_without_a_quote_fail_closed_holds_the_order(clock, provider):
    router = SmartRouter(RoutingPolicy(fail_mode=FailMode.CLOSED), clock)
    decision = router.route("AAPL", AssetClass.EQUITY, provider)
    assert decision.downgraded and not decision.should_execute
    assert "fail-closed" in decision.reason


@pytest.mark.parametrize(
    ("bid", "ask", "age_s"), [(101, 100, 0), (0, 100, 0), (99, 100, 30), (float("nan"), 100, 0)]
)
def test_a_bad_quote_is_unavailable_never_cheap(clock, bid, ask, age_s):
    bad = make_quote(clock, bid, ask, age_s, symbol="AAPL")
    decision = SmartRouter(clock=clock).decide("AAPL", AssetClass.EQUITY, bad)
    assert decision.spread_pct is None
    assert decision.reason.startswith("Quote unavailable")
    closed = SmartRouter(RoutingPolicy(fail_mode=FailMode.CLOSED), clock)
    assert not closed.decide("AAPL", AssetClass.EQUITY, bad).should_execute


def test_the_max_quote_age_is_configurable(clock):
    old = make_quote(clock, 99.99, 100.01, age_s=20, symbol="AAPL")
    assert SmartRouter(clock=clock).decide("AAPL", AssetClass.EQUITY, old).spread_pct is None
    patient = SmartRouter(RoutingPolicy(max_quote_age_s=30), clock)
    assert patient.decide("AAPL", AssetClass.EQUITY, old).should_execute
