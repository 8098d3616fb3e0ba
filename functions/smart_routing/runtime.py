"""The embedded defaults wired together: simulated market, paper broker, in-memory ledger."""

from __future__ import annotations

from dataclasses import dataclass

from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.memory_portfolio import InMemoryPortfolio
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket, simulated_market
from smart_routing.clock import SystemClock
from smart_routing.config import EngineConfig, load_config
from smart_routing.engine import ExecutionEngine
from smart_routing.pipeline import StrategyRunner
from smart_routing.ports import Broker, Clock, LedgerStore, MarketDataProvider
from smart_routing.routing import SmartRouter


@dataclass(frozen=True)
class LocalRuntime:
    config: EngineConfig
    market: SimulatedMarket
    broker: PaperBroker
    ledger: InMemoryLedgerStore
    portfolio: InMemoryPortfolio
    router: SmartRouter
    engine: ExecutionEngine
    runner: StrategyRunner


def build_local_runtime(
    config: EngineConfig | None = None, clock: Clock | None = None
) -> LocalRuntime:
    """Everything runs with no account and no keys; ledger trades mirror into the portfolio
    in-process, as the Firestore trigger does in the cloud."""
    config = config or load_config()
    clock = clock or SystemClock()
    market = simulated_market(config, clock)
    broker = PaperBroker(market, clock, starting_cash=config.paper_starting_cash)
    portfolio = InMemoryPortfolio()
    ledger = InMemoryLedgerStore(on_created=portfolio.mirror)
    router = SmartRouter(config.routing, clock)
    engine = configured_engine(config, broker, market, ledger, router)
    runner = StrategyRunner(engine, market, router)
    return LocalRuntime(config, market, broker, ledger, portfolio, router, engine, runner)


def configured_engine(
    config: EngineConfig,
    broker: Broker,
    market_data: MarketDataProvider,
    ledger: LedgerStore,
    router: SmartRouter,
) -> ExecutionEngine:
    """An engine with the configured switches and default identity, on the given adapters."""
    return ExecutionEngine(
        broker,
        enable_smart_routing=config.smart_routing_enabled,
        dry_run=config.dry_run,
        market_data=market_data,
        ledger=ledger,
        router=router,
        clock=router.clock,
        tenant_id=config.tenant_id,
        uid=config.uid,
    )
