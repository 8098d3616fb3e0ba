import pytest

from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.assets import AssetClass
from smart_routing.errors import UnknownStrategyError
from smart_routing.orders import AccountSnapshot, Position
from smart_routing.routing import SmartRouter
from smart_routing.signals import SignalType
from smart_routing.strategies import STRATEGIES, create_strategy
from smart_routing.strategies.momentum import MomentumStrategy


def test_the_registry_has_manual_and_crypto_momentum():
    assert {"manual", "crypto_momentum"} <= set(STRATEGIES)
    with pytest.raises(UnknownStrategyError, match="unknown strategy 'nope'"):
        create_strategy("nope")


def test_manual_needs_a_side():
    with pytest.raises(ValueError, match="side 'buy' or 'sell'"):
        create_strategy("manual", {})


def test_manual_signals_the_stated_side_when_the_spread_is_tight(clock):
    strategy = create_strategy("manual", {"side": "sell"}, SmartRouter(clock=clock))
    signal = strategy.evaluate({"symbol": "AAPL", "bid": 99.99, "ask": 100.01}, None)
    assert signal.signal_type is SignalType.SELL
    assert signal.asset_class is AssetClass.EQUITY
    assert signal.confidence == 1.0
    assert signal.estimated_slippage == pytest.approx(0.0001)


def test_the_seed_strategy_example_waits_on_a_wide_spread(clock):
    strategy = create_strategy("manual", {"side": "buy", "max_slippage_pct": 0.001})
    strategy.router.clock = clock
    market_data = {"symbol": "BTC/USD", "bid": 49_950, "ask": 50_050, "as_of": clock.now()}
    assert strategy.should_downgrade_signal(market_data)
    assert strategy.estimate_slippage(market_data) == pytest.approx(0.001)
    signal = strategy.evaluate(market_data, None)
    assert signal.signal_type is SignalType.WAIT
    assert signal.asset_class is AssetClass.CRYPTO
    assert "High transaction costs" in signal.reasoning
    assert "Spread 0.20% exceeds threshold 0.10%" in signal.reasoning


def test_strategy_config_threshold_overrides_the_router(clock):
    loose = create_strategy("manual", {"side": "buy", "max_slippage_pct": 0.003})
    market_data = {"symbol": "BTC/USD", "bid": 49_950, "ask": 50_050, "as_of": clock.now()}
    loose.router.clock = clock
    assert loose.evaluate(market_data, None).signal_type is SignalType.BUY


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


def holding(qty):
    position = Position(symbol="BTC/USD", asset_class=AssetClass.CRYPTO, qty=qty, avg_price=1)
    return AccountSnapshot(cash=0, buying_power=0, positions={"BTC/USD": position}, as_of=0)


@pytest.mark.parametrize(
    ("closes", "account", "expected"),
    [
        (UP, None, SignalType.BUY),
        (DOWN, holding(1), SignalType.SELL),
        (DOWN, holding(0), SignalType.HOLD),
        (DOWN, None, SignalType.HOLD),
        (FLAT, holding(1), SignalType.HOLD),
        (UP[:5], None, SignalType.HOLD),
    ],
)
def test_momentum_follows_the_trend_and_sells_only_what_is_held(clock, closes, account, expected):
    strategy = MomentumStrategy(router=SmartRouter(clock=clock))
    assert strategy.evaluate(momentum_data(clock, closes), account).signal_type is expected


def test_momentum_runs_the_cost_check_before_it_signals(clock):
    strategy = MomentumStrategy(router=SmartRouter(clock=clock))
    market_data = momentum_data(clock, UP)
    market_data = {**market_data, "quote": None, "bid": 49_950, "ask": 50_050}
    signal = strategy.evaluate(market_data, None)
    assert signal.signal_type is SignalType.WAIT
    assert signal.routing.downgraded


def test_momentum_rejects_a_bad_config():
    with pytest.raises(ValueError, match="lookback"):
        MomentumStrategy({"lookback": 1})
    with pytest.raises(ValueError, match="band"):
        MomentumStrategy({"band": 2})
