from decimal import Decimal

import pytest

from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import UnknownStrategyError
from smart_routing.domain.orders import AccountSnapshot, Position
from smart_routing.domain.signals import SignalType
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.strategies import STRATEGIES, create_strategy
from smart_routing.strategies.momentum import MomentumStrategy


def test_the_registry_has_manual_and_crypto_momentum():
    assert {"manual", "crypto_momentum"} <= set(STRATEGIES)
    with pytest.raises(UnknownStrategyError, match="unknown strategy 'nope'"):
        create_strategy("nope")


def test_manual_needs_a_side():
    with pytest.raises(ValueError, match="side 'buy' or 'sell'"):
        create_strategy("manual", {})


def test_manual_signals_the_stated_side_with_its_expected_cost(clock):
    strategy = create_strategy("manual", {"side": "sell"}, RoutingPolicy())
    market_data = {"symbol": "AAPL", "bid": 99.99, "ask": 100.01, "as_of": clock.now()}
    signal = strategy.evaluate(market_data, None)
    assert signal.signal_type is SignalType.SELL
    assert signal.asset_class is AssetClass.EQUITY
    assert signal.confidence == 1.0
    assert signal.estimated_slippage == Decimal("0.0001")  # half of 0.02 over the 100 mid


def test_a_strategy_signals_its_side_even_on_a_wide_spread(clock):
    """The seed's example: the strategy no longer downgrades itself to WAIT. It says BUY and
    what it would cost; the gate decides (see test_pipeline)."""
    strategy = create_strategy("manual", {"side": "buy", "max_slippage_pct": 0.001})
    market_data = {"symbol": "BTC/USD", "bid": 49_950, "ask": 50_050, "as_of": clock.now()}
    assert strategy.should_downgrade_signal(market_data)
    assert strategy.estimate_slippage(market_data) == Decimal("0.001")
    signal = strategy.evaluate(market_data, None)
    assert signal.signal_type is SignalType.BUY
    assert signal.asset_class is AssetClass.CRYPTO
    assert signal.estimated_slippage == Decimal("0.001")
    assert signal.reasoning == "Manual buy"


def test_max_slippage_pct_can_only_tighten_the_class_threshold(clock):
    # 0.08% spread: inside the 0.10% class default.
    quote = {"symbol": "BTC/USD", "bid": 49_980, "ask": 50_020, "as_of": clock.now()}
    strict = create_strategy("manual", {"side": "buy", "max_slippage_pct": "0.0005"})
    assert strict.max_spread_pct == Decimal("0.0005")
    assert strict.should_downgrade_signal(quote)
    assert not create_strategy("manual", {"side": "buy"}).should_downgrade_signal(quote)
    # 0.20% spread: a looser strategy maximum does not loosen the 0.10% class threshold.
    wide = {**quote, "bid": 49_950, "ask": 50_050}
    loose = create_strategy("manual", {"side": "buy", "max_slippage_pct": 0.003})
    assert loose.should_downgrade_signal(wide)
    assert loose.evaluate(wide, None).signal_type is SignalType.BUY


@pytest.mark.parametrize("bad", [-0.1, 2, "abc", float("nan")])
def test_max_slippage_pct_must_be_a_fraction(bad):
    with pytest.raises(ValueError, match="max_slippage_pct"):
        create_strategy("manual", {"side": "buy", "max_slippage_pct": bad})


def momentum_data(clock, closes, symbol="BTC/USD"):
    market = SimulatedMarket(clock)
    market.set_closes(symbol, closes)
    return {
        "symbol": symbol,
        "quote": market.get_quote(symbol, AssetClass.CRYPTO),
        "bars": market.get_bars(symbol, AssetClass.CRYPTO, 20),
    }


UP = [100.0] * 19 + [110.0]
DOWN = [100.0] * 19 + [90.0]
FLAT = [100.0] * 20


def holding(clock, qty):
    position = Position(symbol="BTC/USD", asset_class=AssetClass.CRYPTO, qty=qty, avg_price=1)
    return AccountSnapshot(
        cash=0, buying_power=0, positions={"BTC/USD": position}, as_of=clock.now()
    )


@pytest.mark.parametrize(
    ("closes", "held", "expected"),
    [
        (UP, None, SignalType.BUY),
        (DOWN, 1, SignalType.SELL),
        (DOWN, 0, SignalType.HOLD),
        (DOWN, None, SignalType.HOLD),
        (FLAT, 1, SignalType.HOLD),
        (UP[:5], None, SignalType.HOLD),
    ],
)
def test_momentum_follows_the_trend_and_sells_only_what_is_held(clock, closes, held, expected):
    account = None if held is None else holding(clock, held)
    strategy = MomentumStrategy(policy=RoutingPolicy())
    assert strategy.evaluate(momentum_data(clock, closes), account).signal_type is expected


def test_momentum_signals_on_a_wide_spread_and_reports_its_cost(clock):
    strategy = MomentumStrategy()
    market_data = momentum_data(clock, UP)
    market_data = {**market_data, "quote": None, "bid": 49_950, "ask": 50_050}
    assert strategy.should_downgrade_signal(market_data)
    signal = strategy.evaluate(market_data, None)
    assert signal.signal_type is SignalType.BUY
    assert signal.estimated_slippage == Decimal("0.001")


def test_momentum_rejects_a_bad_config():
    with pytest.raises(ValueError, match="lookback"):
        MomentumStrategy({"lookback": 1})
    with pytest.raises(ValueError, match="band"):
        MomentumStrategy({"band": 2})
