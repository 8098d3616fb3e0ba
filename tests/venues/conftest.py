from __future__ import annotations

import pytest

from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.domain.assets import AssetClass
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.gate.policy import FailMode, RoutingPolicy
from smart_routing.gate.router import SmartRouter
from tools.fakes.alpaca import FakeAlpaca
from tools.fakes.oanda import ACCOUNT_ID as OANDA_ACCOUNT_ID
from tools.fakes.oanda import FakeOanda
from venues.alpaca.broker import AlpacaBroker
from venues.alpaca.instruments import AlpacaInstruments
from venues.alpaca.market_data import AlpacaQuoteSource
from venues.class_router import VenueRouter
from venues.instrument_specs import CachedInstruments
from venues.oanda.broker import OandaBroker
from venues.oanda.client import oanda_api
from venues.oanda.instruments import OandaInstruments
from venues.oanda.market_data import OandaQuoteSource
from venues.quote_sources import VenueMarketData
from venues.settings import AlpacaSettings, OandaSettings

ALPACA_KEY, ALPACA_SECRET = "AKTESTKEY0123456789", "alpaca-secret-0123456789abcdef"
OANDA_TOKEN = "oanda-token-0123456789abcdef-0123456789abcdef"
TIMEOUT_S = 0.5
ALPACA_CLASSES = (AssetClass.EQUITY, AssetClass.CRYPTO, AssetClass.OPTIONS)


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
def alpaca_instruments(alpaca_settings) -> AlpacaInstruments:
    return AlpacaInstruments(alpaca_settings, TIMEOUT_S)


def engine_on(broker, market_data, instruments, clock, fail_mode=FailMode.OPEN, ledger=None):
    """The core's engine on these ports, smart routing on."""
    return ExecutionEngine(
        broker=broker,
        market_data=market_data,
        instruments=instruments,
        ledger=ledger if ledger is not None else InMemoryLedgerStore(),
        router=SmartRouter(RoutingPolicy(fail_mode=fail_mode), enabled=True),
        clock=clock,
    )


@pytest.fixture
def make_engine(alpaca_source, alpaca_broker, alpaca_instruments):
    """An engine on the fake Alpaca for its three asset classes, smart routing on."""

    def make(fail_mode: FailMode = FailMode.OPEN, ledger=None) -> ExecutionEngine:
        clock = SystemClock()
        market_data = VenueMarketData(dict.fromkeys(ALPACA_CLASSES, alpaca_source), clock, 0.0)
        instruments = CachedInstruments(alpaca_instruments, clock, ttl_s=0.0)
        broker = VenueRouter(dict.fromkeys(ALPACA_CLASSES, alpaca_broker))
        return engine_on(broker, market_data, instruments, clock, fail_mode, ledger)

    return make


@pytest.fixture
def fake_oanda():
    server = FakeOanda().start()
    yield server
    server.server.stop()


@pytest.fixture
def oanda_client(fake_oanda):
    from smart_routing import logs

    logs.register_secret(OANDA_TOKEN)
    settings = OandaSettings(
        access_token=OANDA_TOKEN, account_id=OANDA_ACCOUNT_ID, api_url=fake_oanda.url
    )
    return oanda_api(settings, timeout_s=TIMEOUT_S)


@pytest.fixture
def make_oanda_engine(oanda_client):
    """An engine on the fake OANDA for forex, smart routing on."""

    def make(fail_mode: FailMode = FailMode.OPEN, ledger=None) -> ExecutionEngine:
        clock = SystemClock()
        source = OandaQuoteSource(oanda_client, OANDA_ACCOUNT_ID, sleep=lambda _: None)
        specs = OandaInstruments(oanda_client, OANDA_ACCOUNT_ID)
        instruments = CachedInstruments(specs, clock, ttl_s=0.0)
        market_data = VenueMarketData({AssetClass.FOREX: source}, clock, ttl_s=0.0)
        broker = OandaBroker(oanda_client, OANDA_ACCOUNT_ID, instruments)
        return engine_on(broker, market_data, instruments, clock, fail_mode, ledger)

    return make
