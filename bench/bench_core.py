"""Core benchmarks. Prints one `BENCH name=value` line per figure.

routing_decision_median_us     the one gate (SmartRouter.decide) on a ready quote, spec and
                               account: instrument, grid, cost, size and buying power checks
routing_decision_full_median_us  the same with the market context the engine hands over:
                               session, the participation cap, the touch-size check and the
                               volatility rule on cached bar statistics and spreads seen
execute_intent_paper_median_us ExecutionEngine.execute_intent with smart routing on, the
                               simulated market, built-in instruments, the paper broker and the
                               in-memory ledger (fresh idempotency key each call: every call
                               places an order)
strategy_run_paper_median_us   a whole manual strategy run through the same parts
limit_fallback_decision_median_us  ExecutionEngine.decide on a spread above the threshold with
                               EXEC_WIDE_SPREAD_ACTION=limit: the gate, then its account checks
                               again on the fallback limit (account read from the paper broker)
two_venue_decision_median_us  ExecutionEngine.decide for BTC/USD priced on two paper venues
                               (two simulated markets): the gate twice, then the lowest-cost
                               choice with its candidates (venue_selection.py)
Logs are written as in production, to a stdout pointed at /dev/null.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import FixedClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountSnapshot, OrderIntent, OrderSide
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.market_context import MarketContextCache
from smart_routing.execution.pipeline import StrategyRunner, StrategyRunRequest
from smart_routing.gate.limit_fallback import WideSpreadAction
from smart_routing.gate.router import SmartRouter
from smart_routing.market.quotes import Quote
from smart_routing.ports import VenuePorts
from smart_routing.runtime import configured_engine, paper_broker


def median_us(
    call: Callable[[int], object], runs: int, warmup: int = 200, rounds: int = 5
) -> float:
    """Median wall time of one call, in microseconds, each call timed on its own.

    The runs are split into rounds and the median of the rounds' medians is reported: this
    machine's neighbours take the CPU in bursts of a few hundred milliseconds, and one burst
    must not become the figure.
    """
    for i in range(warmup):
        call(-1 - i)
    per_round = runs // rounds
    medians = []
    for r in range(rounds):
        samples = []
        for i in range(r * per_round, (r + 1) * per_round):
            start = time.perf_counter_ns()
            call(i)
            samples.append(time.perf_counter_ns() - start)
        medians.append(statistics.median(samples))
    return statistics.median(medians) / 1000


def bench_routing_decision() -> float:
    clock = FixedClock()
    router = SmartRouter()
    quote = Quote(symbol="BTC/USD", bid=49_990, ask=50_010, as_of=clock.now(), source="bench")
    intent = OrderIntent(symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.5"))
    spec = BuiltinInstruments().get_instrument("BTC/USD", intent.asset_class)
    account = AccountSnapshot(
        cash=Decimal(100_000), buying_power=Decimal(100_000), as_of=clock.now()
    )
    now = clock.now()
    return median_us(lambda _: router.decide(intent, spec, quote, now, account), runs=20_000)


def bench_routing_decision_full() -> float:
    """The decision a live venue gets: a quote with its sizes, and the cached context (bar
    statistics, the spreads seen) the engine hands the gate."""
    clock = FixedClock()
    router = SmartRouter()
    quote = Quote(
        symbol="BTC/USD", bid=49_990, ask=50_010, as_of=clock.now(), source="bench",
        bid_size=2, ask_size=2,
    )  # fmt: skip
    intent = OrderIntent(symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.5"))
    spec = BuiltinInstruments().get_instrument("BTC/USD", intent.asset_class)
    account = AccountSnapshot(
        cash=Decimal(100_000), buying_power=Decimal(100_000), as_of=clock.now()
    )
    now = clock.now()
    cache = MarketContextCache(SimulatedMarket(clock), clock, max_quote_age_s=5)
    session = router.policy.sessions.session_of(intent.asset_class, now)
    cache.context("BTC/USD", intent.asset_class, quote, session)  # one spread seen
    market = cache.context("BTC/USD", intent.asset_class, quote, session)
    decision = router.decide(intent, spec, quote, now, account, market=market)
    assert decision.cost_model is not None and decision.cost_model.rule == "volatility"
    return median_us(
        lambda _: router.decide(intent, spec, quote, now, account, market=market), runs=20_000
    )


def engine_and_runner() -> tuple[ExecutionEngine, StrategyRunner]:
    """Simulated market, paper broker, in-memory ledger. No portfolio mirror: in production
    that is the Firestore trigger's work, not the engine's."""
    clock = FixedClock()
    market = SimulatedMarket(clock)
    instruments = BuiltinInstruments()
    config = EngineConfig(smart_routing_enabled=True, paper_starting_cash=Decimal(10**15))
    broker = paper_broker(config, market, instruments, clock)
    engine = configured_engine(config, broker, market, instruments, InMemoryLedgerStore(), clock)
    return engine, StrategyRunner(engine)


def bench_execute_intent() -> float:
    engine, _ = engine_and_runner()
    intents = [
        OrderIntent(symbol="AAPL", side=OrderSide.BUY, qty=1, idempotency_key=f"bench-{i}")
        for i in range(-300, 5_000)
    ]
    return median_us(lambda i: engine.execute_intent(intent=intents[i]), runs=5_000)


def bench_strategy_run() -> float:
    _, runner = engine_and_runner()

    def run(i: int) -> object:
        request = StrategyRunRequest(
            strategy_id="manual", symbol="AAPL", side="buy", qty=1, idempotency_key=f"run-{i}"
        )
        return runner.run(request)

    return median_us(run, runs=3_000)


def bench_limit_fallback_decision() -> float:
    # Noon in New York: the regular session, where a 0.25% equity spread is above the threshold.
    clock = FixedClock(datetime(2025, 12, 30, 17, 0, tzinfo=UTC))
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100.00, 100.25)
    instruments = BuiltinInstruments()
    config = EngineConfig(smart_routing_enabled=True, wide_spread_action=WideSpreadAction.LIMIT)
    broker = paper_broker(config, market, instruments, clock)
    engine = configured_engine(config, broker, market, instruments, InMemoryLedgerStore(), clock)
    intent = OrderIntent(symbol="AAPL", side=OrderSide.BUY, qty=10)
    quote = market.get_quote("AAPL", intent.asset_class)
    assert engine.decide(intent, quote).fallback == "limit"
    return median_us(lambda _: engine.decide(intent, quote), runs=10_000)


def bench_two_venue_decision() -> float:
    clock = FixedClock(datetime(2025, 12, 30, 17, 0, tzinfo=UTC))
    config = EngineConfig(smart_routing_enabled=True)
    ports = []
    for name, ask in (("wide", 50_020), ("tight", 50_005)):
        market = SimulatedMarket(clock)
        market.set_quote("BTC/USD", 100_000 - ask, ask)
        instruments = BuiltinInstruments()
        broker = paper_broker(config, market, instruments, clock)
        ports.append(VenuePorts(name, broker, market, instruments, config.fees))
    first = ports[0]
    engine = configured_engine(
        config, first.broker, first.market_data, first.instruments, InMemoryLedgerStore(), clock,
        {AssetClass.CRYPTO: ports},
    )  # fmt: skip
    intent = OrderIntent(symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.01"))
    assert len(engine.decide(intent).candidates) == 2
    return median_us(lambda _: engine.decide(intent), runs=5_000)


def main() -> None:
    figures = {}
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        figures["routing_decision_median_us"] = bench_routing_decision()
        figures["routing_decision_full_median_us"] = bench_routing_decision_full()
        figures["execute_intent_paper_median_us"] = bench_execute_intent()
        figures["strategy_run_paper_median_us"] = bench_strategy_run()
        figures["limit_fallback_decision_median_us"] = bench_limit_fallback_decision()
        figures["two_venue_decision_median_us"] = bench_two_venue_decision()
    for name, value in figures.items():
        print(f"BENCH {name}={value:.2f}")


if __name__ == "__main__":
    main()
