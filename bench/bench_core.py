"""Core benchmarks. Prints one `BENCH name=value` line per figure.

routing_decision_median_us     SmartRouter.decide on a ready quote
execute_intent_paper_median_us ExecutionEngine.execute_intent with smart routing on, the
                               simulated market, the paper broker and the in-memory ledger
                               (fresh idempotency key each call: every call places an order)
strategy_run_paper_median_us   a whole manual strategy run through the same parts
Logs are written as in production, to a stdout pointed at /dev/null.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable

from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.assets import AssetClass
from smart_routing.clock import FixedClock
from smart_routing.engine import ExecutionEngine
from smart_routing.market_data import Quote
from smart_routing.orders import OrderIntent, OrderSide
from smart_routing.pipeline import StrategyRunner, StrategyRunRequest
from smart_routing.routing import SmartRouter


def median_us(call: Callable[[int], object], runs: int, warmup: int = 200) -> float:
    """Median wall time of one call, in microseconds, each call timed on its own."""
    for i in range(warmup):
        call(-1 - i)
    samples = []
    for i in range(runs):
        start = time.perf_counter_ns()
        call(i)
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def bench_routing_decision() -> float:
    clock = FixedClock()
    router = SmartRouter(clock=clock)
    quote = Quote(symbol="BTC/USD", bid=49_990, ask=50_010, as_of=clock.now(), source="bench")
    return median_us(lambda _: router.decide("BTC/USD", AssetClass.CRYPTO, quote), runs=20_000)


def engine_and_runner() -> tuple[ExecutionEngine, StrategyRunner]:
    """Simulated market, paper broker, in-memory ledger. No portfolio mirror: in production
    that is the Firestore trigger's work, not the engine's."""
    clock = FixedClock()
    market = SimulatedMarket(clock)
    router = SmartRouter(clock=clock)
    engine = ExecutionEngine(
        PaperBroker(market, clock, starting_cash=1e15),
        enable_smart_routing=True,
        market_data=market,
        ledger=InMemoryLedgerStore(),
        router=router,
        clock=clock,
    )
    return engine, StrategyRunner(engine, market, router)


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


def main() -> None:
    figures = {}
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        figures["routing_decision_median_us"] = bench_routing_decision()
        figures["execute_intent_paper_median_us"] = bench_execute_intent()
        figures["strategy_run_paper_median_us"] = bench_strategy_run()
    for name, value in figures.items():
        print(f"BENCH {name}={value:.2f}")


if __name__ == "__main__":
    main()
