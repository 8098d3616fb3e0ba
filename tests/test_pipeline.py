from decimal import Decimal

import pytest

from smart_routing.domain.errors import UnknownStrategyError
from smart_routing.domain.signals import SignalType
from smart_routing.execution.pipeline import StrategyRunner, StrategyRunRequest
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.decision import CostCheck, GateAction
from tests.doubles import CountingMarket


def manual(symbol="AAPL", side="buy", qty=10, **kwargs):
    return StrategyRunRequest(strategy_id="manual", symbol=symbol, side=side, qty=qty, **kwargs)


def counting_runner(runtime):
    counting = CountingMarket(runtime.market)
    runtime.engine.market_data = counting
    return StrategyRunner(runtime.engine), counting


def test_a_manual_buy_runs_the_whole_path_into_the_ledger_and_history(runtime):
    result = runtime.runner.run(manual(idempotency_key="click-1"))
    assert result.status is ExecutionStatus.FILLED
    assert result.signal.signal_type is SignalType.BUY
    assert result.routing.should_execute and result.quote.source == "simulated"
    trade = result.execution.trade
    assert trade.price == result.quote.ask == Decimal("190.02")
    assert trade.notional == Decimal("1900.20") and trade.fees == 0
    assert runtime.ledger.trades("local-tenant") == [trade]
    (record,) = runtime.portfolio.history("local-user")
    assert record.trade_id == trade.trade_id and record.cost_basis == Decimal("1900.20")


def test_the_seed_example_the_strategy_says_buy_and_the_gate_says_wait(runtime):
    runtime.market.set_quote("BTC/USD", 49_950, 50_050)
    result = runtime.runner.run(manual("BTC/USD", qty=Decimal("0.5")))
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.signal.signal_type is SignalType.BUY  # what the strategy wanted
    assert result.routing.action is GateAction.WAIT  # what the gate decided
    assert result.routing.cost_check is CostCheck.EXCEEDED
    assert result.routing.reason == "Spread 0.20% exceeds threshold 0.10% (default)"
    assert result.message == result.routing.reason
    assert result.execution.order is None and result.execution.trade is None
    assert runtime.ledger.trades("local-tenant") == []
    assert runtime.broker.get_account().positions == {}
    shown = result.model_dump(mode="json")
    assert shown["signal"]["signal_type"] == "BUY" and shown["routing"]["action"] == "wait"


def test_a_stricter_strategy_max_slippage_binds_and_says_so(runtime):
    runtime.market.set_quote("BTC/USD", 49_980, 50_020)  # 0.08%: inside the 0.10% default
    strict = manual("BTC/USD", qty=Decimal("0.1"), config={"max_slippage_pct": 0.0005})
    result = runtime.runner.run(strict)
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.signal.signal_type is SignalType.BUY
    assert result.routing.threshold_source == "strategy max_slippage_pct"
    assert result.routing.threshold_pct == Decimal("0.0005")
    assert result.routing.reason == (
        "Spread 0.08% exceeds threshold 0.05% (strategy max_slippage_pct)"
    )
    default = runtime.runner.run(manual("BTC/USD", qty=Decimal("0.1")))
    assert default.status is ExecutionStatus.FILLED
    assert default.routing.threshold_source == "default"


def test_a_looser_strategy_max_slippage_does_not_loosen_the_gate(runtime):
    runtime.market.set_quote("BTC/USD", 49_950, 50_050)
    loose = manual("BTC/USD", qty=Decimal("0.1"), config={"max_slippage_pct": 0.003})
    result = runtime.runner.run(loose)
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.routing.threshold_source == "default"
    assert result.routing.threshold_pct == Decimal("0.001")


def test_a_strategy_that_does_not_signal_holds(runtime):
    runtime.market.set_closes("SOL/USD", [100.0] * 20)
    result = runtime.runner.run(
        StrategyRunRequest(strategy_id="crypto_momentum", symbol="SOL/USD", qty=1)
    )
    assert result.status is ExecutionStatus.HOLD
    assert result.signal.signal_type is SignalType.HOLD
    assert result.execution is None and result.routing is None


def test_a_strategy_sells_at_most_what_it_holds(runtime):
    # 0.9975 SOL held (a venue took its fee in the coin); the config says sell 1.
    runtime.runner.run(manual("SOL/USD", qty=Decimal("0.9975")))
    runtime.market.set_closes("SOL/USD", [100.0] * 19 + [90.0])  # a downtrend: SELL
    result = runtime.runner.run(
        StrategyRunRequest(strategy_id="crypto_momentum", symbol="SOL/USD", qty=1)
    )
    assert result.signal.signal_type is SignalType.SELL
    assert result.status is ExecutionStatus.FILLED, result.message
    assert result.execution.trade.qty == Decimal("0.9975")
    assert runtime.broker.get_account().position_qty("SOL/USD") == 0


def test_an_expired_option_is_rejected_before_any_quote_is_fetched(runtime):
    runner, counting = counting_runner(runtime)
    result = runner.run(manual("AAPL251219C00190000", qty=1))
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == "AAPL251219C00190000 expired on 2025-12-19"
    assert result.routing.action is GateAction.REJECT
    assert result.signal.reasoning.startswith("not evaluated")
    assert counting.quotes == []
    assert runtime.ledger.trades("local-tenant") == []


def test_an_off_grid_option_quantity_is_invalid_before_any_quote_is_fetched(runtime):
    runner, counting = counting_runner(runtime)
    result = runner.run(manual("AAPL261218C00190000", qty=Decimal("0.37")))
    assert result.status is ExecutionStatus.INVALID
    assert result.message == "qty: 0.37 is not a multiple of the increment 1 contracts"
    assert counting.quotes == []


def test_a_live_option_runs_through_with_its_quote(runtime):
    runner, counting = counting_runner(runtime)
    result = runner.run(manual("AAPL261218C00190000", qty=1))
    assert result.status is ExecutionStatus.FILLED
    assert counting.quotes[0] == "AAPL261218C00190000"


def test_the_same_idempotency_key_twice_makes_one_trade(runtime):
    first = runtime.runner.run(manual(idempotency_key="dbl"))
    second = runtime.runner.run(manual(idempotency_key="dbl"))
    assert first.execution.trade == second.execution.trade
    assert len(runtime.ledger.trades("local-tenant")) == 1
    assert len(runtime.portfolio.history("local-user")) == 1


def test_dry_run_sends_nothing(runtime):
    result = runtime.runner.run(manual(dry_run=True))
    assert result.status is ExecutionStatus.DRY_RUN
    assert result.routing.should_execute
    assert runtime.ledger.trades("local-tenant") == []
    assert runtime.broker.get_account().positions == {}


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
    runtime.engine.market_data = Down()
    result = StrategyRunner(runtime.engine).run(manual())
    assert result.routing.cost_check is CostCheck.UNAVAILABLE  # fail-open skips the cost check
    assert "data feed down" in result.routing.reason
    # ... but with no price to size the order by, nothing is sent.
    assert result.status is ExecutionStatus.REJECTED
    assert "no price was available to check the size" in result.message


def test_one_gate_decision_is_logged_per_run(runtime, log_records):
    runtime.runner.run(manual())
    runtime.market.set_quote("BTC/USD", 49_950, 50_050)
    runtime.runner.run(manual("BTC/USD", qty=Decimal("0.5")))
    runtime.runner.run(manual("AAPL251219C00190000", qty=1))
    routing = [r for r in log_records() if r["event"] == "exec.smart_routing"]
    assert [(r["symbol"], r["action"]) for r in routing] == [
        ("AAPL", "execute"),
        ("BTC/USD", "wait"),
        ("AAPL251219C00190000", "reject"),
    ]
