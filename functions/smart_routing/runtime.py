"""The embedded defaults wired together: simulated market, paper broker, in-memory ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.memory_portfolio import InMemoryPortfolio
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket, simulated_market
from smart_routing.config.engine_config import EngineConfig, load_config
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountOwner
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.pipeline import StrategyRunner
from smart_routing.gate.router import SmartRouter
from smart_routing.ports import (
    Broker,
    Clock,
    InstrumentSource,
    LedgerStore,
    MarketDataProvider,
    OrderCaps,
    PaperAccountStore,
    TradingStates,
    VenueBreaker,
    VenuePorts,
)


@dataclass(frozen=True)
class LocalRuntime:
    config: EngineConfig
    market: SimulatedMarket
    broker: PaperBroker
    ledger: InMemoryLedgerStore
    portfolio: InMemoryPortfolio
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
    instruments = BuiltinInstruments()
    broker = paper_broker(config, market, instruments, clock)
    portfolio = InMemoryPortfolio()
    ledger = InMemoryLedgerStore(on_created=portfolio.mirror)
    engine = configured_engine(config, broker, market, instruments, ledger, clock)
    return LocalRuntime(config, market, broker, ledger, portfolio, engine, StrategyRunner(engine))


def paper_broker(
    config: EngineConfig,
    market_data: MarketDataProvider,
    instruments: InstrumentSource,
    clock: Clock,
    accounts: PaperAccountStore | None = None,
) -> PaperBroker:
    """The paper venue with the configured starting cash, fees and forex margin; orders and
    reads that name no owner are the configured user's. `accounts` defaults to memory."""
    return PaperBroker(
        market_data,
        instruments,
        clock,
        accounts=accounts,
        starting_cash=config.paper_starting_cash,
        default_owner=AccountOwner(tenant_id=config.tenant_id, uid=config.uid),
        max_quote_age_s=config.routing.max_quote_age_s,
        fees=config.fees,
        forex_margin_rate=config.routing.forex_margin_rate,
    )


def configured_engine(
    config: EngineConfig,
    broker: Broker,
    market_data: MarketDataProvider,
    instruments: InstrumentSource,
    ledger: LedgerStore,
    clock: Clock,
    venues: Mapping[AssetClass, Sequence[VenuePorts]] | None = None,
    trading_states: TradingStates | None = None,
    order_caps: OrderCaps | None = None,
    venue_breaker: VenueBreaker | None = None,
) -> ExecutionEngine:
    """An engine with the configured gate, switches and default identity, on these ports;
    `venues`: the classes priced on several venues (venue_selection.py); `trading_states`:
    the kill switch (None: everyone trades)."""
    return ExecutionEngine(
        broker=broker,
        market_data=market_data,
        instruments=instruments,
        ledger=ledger,
        router=SmartRouter(config.routing, config.fees, enabled=config.smart_routing_enabled),
        clock=clock,
        dry_run=config.dry_run,
        tenant_id=config.tenant_id,
        uid=config.uid,
        wide_spread_action=config.wide_spread_action,
        limit_ttl_s=config.limit_ttl_s,
        venues=venues,
        trading_states=trading_states,
        order_caps=order_caps,
        venue_breaker=venue_breaker,
    )
