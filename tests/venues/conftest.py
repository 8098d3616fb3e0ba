from __future__ import annotations

import pytest

from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.assets import AssetClass
from smart_routing.clock import SystemClock
from smart_routing.engine import ExecutionEngine
from smart_routing.routing import FailMode, RoutingPolicy, SmartRouter
from tools.fakes.alpaca import FakeAlpaca
from venues.alpaca import AlpacaBroker, AlpacaQuoteSource
from venues.market_data import VenueMarketData
from venues.routing import VenueRouter
from venues.settings import AlpacaSettings

ALPACA_KEY, ALPACA_SECRET = "AKTESTKEY0123456789", "alpaca-secret-0123456789abcdef"
TIMEOUT_S = 0.5


@pytest.fixture
def fake_alpaca():
    fake = FakeAlpaca().start()
    yield fake
    fake.server.stop()


@pytest.fixture
def alpaca_settings(fake_alpaca) -> AlpacaSettings:
    from smart_routing import logs

    logs.register_secret(ALPACA_KEY)
    logs.register_secret(ALPACA_SECRET)
    return AlpacaSettings(
        api_key=ALPACA_KEY,
        secret_key=ALPACA_SECRET,
        trading_url=fake_alpaca.url,
        data_url=fake_alpaca.url,
    )


@pytest.fixture
def alpaca_source(alpaca_settings) -> AlpacaQuoteSource:
    return AlpacaQuoteSource(alpaca_settings, TIMEOUT_S)


@pytest.fixture
def alpaca_broker(alpaca_settings) -> AlpacaBroker:
    return AlpacaBroker(alpaca_settings, TIMEOUT_S, sleep=lambda _: None)


@pytest.fixture
def make_engine(alpaca_source, alpaca_broker):
    """An engine on the fake Alpaca for its three asset classes, smart routing on."""

    def make(fail_mode: FailMode = FailMode.OPEN, ledger=None) -> ExecutionEngine:
        clock = SystemClock()
        classes = (AssetClass.EQUITY, AssetClass.CRYPTO, AssetClass.OPTIONS)
        market_data = VenueMarketData(dict.fromkeys(classes, alpaca_source), clock, ttl_s=0.0)
        policy = RoutingPolicy(fail_mode=fail_mode)
        return ExecutionEngine(
            VenueRouter(dict.fromkeys(classes, alpaca_broker)),
            enable_smart_routing=True,
            market_data=market_data,
            ledger=ledger if ledger is not None else InMemoryLedgerStore(),
            router=SmartRouter(policy, clock),
            clock=clock,
        )

    return make
