import pytest

from smart_routing.engine import ExecutionStatus
from smart_routing.errors import UnknownStrategyError
from smart_routing.pipeline import StrategyRunner, StrategyRunRequest
from smart_routing.signals import SignalType


def manual(symbol="AAPL", side="buy", qty=10.0, **kwargs):
    return StrategyRunRequest(strategy_id="manual", symbol=symbol, side=side, qty=qty, **kwargs)


def test_a_manual_buy_runs_the_whole_path_into_the_ledger_and_history(runtime):
    result = runtime.runner.run(manual(idempotency_key="click-1"))
    assert result.status is ExecutionStatus.FILLED
    assert result.signal.signal_type is SignalType.BUY
    assert result.routing.should_execute and result.quote.source == "simulated"
    trade = result.execution.trade
    assert trade.price == result.quote.ask
    assert runtime.ledger.trades("local-tenant") == [trade]
    (record,) = runtime.portfolio.history("local-user")
    assert record.trade_id == trade.trade_id and record.cost_basis == trade.notional


def test_the_seed_example_is_downgraded_before_any_order(runtime):
    runtime.market.set_quote("BTC/USD", 49_950, 50_050)
    result = runtime.runner.run(manual("BTC/USD", qty=0.5))
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.signal.signal_type is SignalType.WAIT
    assert result.routing.reason == "Spread 0.20% exceeds threshold 0.10%"
    assert result.execution is None
    assert runtime.ledger.trades("local-tenant") == []
    assert runtime.broker.get_account().positions == {}


def test_a_strategy_that_does_not_signal_holds(runtime):
    runtime.market.set_closes("SOL/USD", [100.0] * 20)
    result = runtime.runner.run(
        StrategyRunRequest(strategy_id="crypto_momentum", symbol="SOL/USD", qty=1)
    )
    assert result.status is ExecutionStatus.HOLD
    assert result.signal.signal_type is SignalType.HOLD
    assert result.execution is None


def test_the_same_idempotency_key_twice_makes_one_trade(runtime):
    first = runtime.runner.run(manual(idempotency_key="dbl"))
    second = runtime.runner.run(manual(idempotency_key="dbl"))
    assert first.execution.trade == second.execution.trade
    assert len(runtime.ledger.trades("local-tenant")) == 1
    assert len(runtime.portfolio.history("local-user")) == 1


def test_dry_run_sends_nothing(runtime):
    result = runtime.runner.run(manual(dry_run=True))
    assert result.status is ExecutionStatus.DRY_RUN
    assert runtime.ledger.trades("local-tenant") == []


def test_identity_comes_from_the_request_when_given(runtime):
    result = runtime.runner.run(manual(tenant_id="acme", uid="alice"))
    assert result.execution.trade.tenant_id == "acme"
    assert len(runtime.ledger.trades("acme")) == 1
    assert len(runtime.portfolio.history("alice")) == 1


def test_bad_requests_raise_clear_errors_and_change_nothing(runtime):
    with pytest.raises(UnknownStrategyError):
        runtime.runner.run(StrategyRunRequest(strategy_id="nope", symbol="AAPL", qty=1))
    with pytest.raises(ValueError, match="'EUR/XYZ'"):
        runtime.runner.run(manual("EUR/XYZ"))
    with pytest.raises(ValueError, match="side"):
        runtime.runner.run(StrategyRunRequest(strategy_id="manual", symbol="AAPL", qty=1))
    with pytest.raises(ValueError):
        manual(qty=0)
    assert runtime.ledger.trades("local-tenant") == []


def test_a_market_data_outage_is_reported_not_raised(runtime):
    class Down:
        def get_quote(self, symbol, asset_class):
            raise ConnectionError("data feed down")

        def get_bars(self, symbol, asset_class, limit):
            raise ConnectionError("data feed down")

    runtime.broker.market_data = Down()
    runner = StrategyRunner(runtime.engine, Down(), runtime.router)
    runtime.engine.market_data = Down()
    result = runner.run(manual())
    assert result.routing.should_execute  # fail-open
    assert "data feed down" in result.routing.reason
    assert result.status is ExecutionStatus.ERROR  # the paper broker cannot price without data
    assert "venue unavailable" in result.message


def test_both_gates_are_logged(runtime, log_records):
    runtime.runner.run(manual())
    gates = [r["gate"] for r in log_records() if r["event"] == "exec.smart_routing"]
    assert gates == ["strategy", "engine"]
