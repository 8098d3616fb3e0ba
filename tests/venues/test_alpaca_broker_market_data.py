"""Broker mode (EXEC_ALPACA_API=broker) reads Alpaca's market data and listings with the broker
keys alone: quotes as HTTP Basic auth from the broker sandbox's data host (data.alpaca.markets
when live), listings from the Broker API. The Trading API keys are not needed there, and are
ignored when set. Trading mode keeps its keys, sent as Alpaca's key headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alpaca.common.exceptions import APIError

from smart_routing import logs
from smart_routing.adapters.clock import FixedClock
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import InstrumentUnavailable
from tools.fakes.alpaca import FakeAlpaca, basic_header, option_contract
from tools.fakes.alpaca_broker import FakeAlpacaBroker
from venues.alpaca.client import trading_client
from venues.alpaca.market_data import AlpacaQuoteSource
from venues.settings import AlpacaApi, load_venue_settings
from venues.wiring import build_venues

BROKER_KEYS = ("CKBROKERDATA01", "broker-secret-01")
TRADING_KEYS = ("AKTRADING0001", "trading-secret-01")
BROKER_ENV = {"EXEC_ALPACA_API": "broker", "ALPACA_BROKER_API_KEY": BROKER_KEYS[0],
              "ALPACA_BROKER_SECRET_KEY": BROKER_KEYS[1]}  # fmt: skip
QUOTE_PATH = "/v2/stocks/quotes/latest"
OPTION = "SPY260116C00400000"


class NoLinks:
    def account_of(self, owner):
        return None

    def account_of_order(self, client_order_id):
        return None


@pytest.fixture
def fakes() -> Iterator[tuple[FakeAlpaca, FakeAlpacaBroker]]:
    market = FakeAlpaca(keys=BROKER_KEYS, basic_auth=True).start()
    broker = FakeAlpacaBroker(keys=BROKER_KEYS).start()
    yield market, broker
    market.server.stop()
    broker.server.stop()


def broker_venues(market: FakeAlpaca, broker: FakeAlpacaBroker, **env: str):
    settings = load_venue_settings(
        {**BROKER_ENV, "ALPACA_DATA_URL": market.url, "ALPACA_BROKER_URL": broker.url, **env}
    )
    return build_venues(settings, EngineConfig(), FixedClock(), linked_accounts=NoLinks())


def test_broker_mode_is_valid_without_the_trading_keys():
    settings = load_venue_settings(BROKER_ENV)
    assert settings.alpaca is not None and settings.alpaca_broker is not None
    assert settings.alpaca.api is AlpacaApi.BROKER
    assert (settings.alpaca.api_key, settings.alpaca.secret_key) == BROKER_KEYS
    assert settings.venue_for(AssetClass.EQUITY).value == "alpaca"


def test_trading_keys_set_in_broker_mode_are_ignored():
    env = {**BROKER_ENV, "ALPACA_API_KEY": TRADING_KEYS[0], "ALPACA_SECRET_KEY": TRADING_KEYS[1]}
    settings = load_venue_settings(env)
    assert settings.alpaca is not None
    assert (settings.alpaca.api_key, settings.alpaca.secret_key) == BROKER_KEYS
    assert TRADING_KEYS[1] not in logs.redact(f"leaked {TRADING_KEYS[1]}")  # still redacted
    # Even half a pair: nothing reads them.
    assert load_venue_settings({**BROKER_ENV, "ALPACA_API_KEY": "x"}).alpaca is not None


def test_a_one_space_placeholder_secret_counts_as_unset():
    """Secret Manager refuses an empty secret, so the unused mode's secrets hold a space."""
    placeholders = {"ALPACA_BROKER_API_KEY": " ", "ALPACA_BROKER_SECRET_KEY": " "}
    trading_keys = {"ALPACA_API_KEY": TRADING_KEYS[0], "ALPACA_SECRET_KEY": TRADING_KEYS[1]}
    trading = load_venue_settings({**trading_keys, **placeholders})
    assert trading.alpaca is not None and trading.alpaca.api is AlpacaApi.TRADING
    assert trading.alpaca_broker is None
    broker = load_venue_settings({**BROKER_ENV, "ALPACA_API_KEY": " ", "ALPACA_SECRET_KEY": " "})
    assert broker.alpaca is not None and broker.alpaca.api_key == BROKER_KEYS[0]
    with pytest.raises(ValueError, match="needs ALPACA_BROKER_API_KEY"):
        load_venue_settings({**placeholders, "EXEC_ALPACA_API": "broker"})


@pytest.mark.parametrize(
    ("env", "basic", "host"),
    [
        (BROKER_ENV, True, "https://data.sandbox.alpaca.markets"),
        ({**BROKER_ENV, "ALPACA_LIVE_TRADING": "true"}, True, "https://data.alpaca.markets"),
        ({"ALPACA_API_KEY": TRADING_KEYS[0], "ALPACA_SECRET_KEY": TRADING_KEYS[1]}, False,
         "https://data.alpaca.markets"),
        ({"ALPACA_API_KEY": TRADING_KEYS[0], "ALPACA_SECRET_KEY": TRADING_KEYS[1],
          "ALPACA_LIVE_TRADING": "true"}, False, "https://data.alpaca.markets"),
    ],
)  # fmt: skip
def test_each_data_client_authenticates_and_targets_the_modes_host(env, basic, host):
    """Alpaca's hosts cannot be reached from the tests: the clients' own settings are read."""
    settings = load_venue_settings(env)
    assert settings.alpaca is not None
    source = AlpacaQuoteSource(settings.alpaca, 2.0)
    for client in (source.stocks, source.crypto, source.options):
        assert client._use_basic_auth is basic
        assert client._base_url == host
        headers = client._get_auth_headers()
        if basic:
            assert headers == {"Authorization": basic_header(BROKER_KEYS)}
        else:
            assert headers["APCA-API-KEY-ID"] == TRADING_KEYS[0]


def test_quotes_come_with_the_broker_keys_as_basic_auth(fakes):
    market, broker = fakes
    venues = broker_venues(market, broker)
    quote = venues.market_data.get_quote("AAPL", AssetClass.EQUITY)
    assert quote.source == "alpaca:iex"
    assert venues.market_data.get_quote("BTC/USD", AssetClass.CRYPTO).source == "alpaca"
    sent = market.server.requests_to(QUOTE_PATH)
    assert sent and all(r.headers["Authorization"] == basic_header(BROKER_KEYS) for r in sent)
    assert not any("APCA-API-KEY-ID" in r.headers for r in market.server.requests)


def test_the_data_fake_refuses_other_credentials(fakes):
    market, broker = fakes
    wrong = {"ALPACA_BROKER_SECRET_KEY": "not-the-secret"}
    with pytest.raises(APIError, match="request is not authorized"):
        broker_venues(market, broker, **wrong).market_data.get_quote("AAPL", AssetClass.EQUITY)
    (refused,) = market.server.requests_to(QUOTE_PATH)
    assert refused.headers["Authorization"] != basic_header(BROKER_KEYS)


def test_trading_mode_sends_its_keys_as_headers_and_the_fake_checks_them():
    market = FakeAlpaca(keys=TRADING_KEYS).start()
    try:
        env = {"ALPACA_API_KEY": TRADING_KEYS[0], "ALPACA_SECRET_KEY": TRADING_KEYS[1],
               "ALPACA_DATA_URL": market.url, "ALPACA_TRADING_URL": market.url}  # fmt: skip
        venues = build_venues(load_venue_settings(env), EngineConfig(), FixedClock())
        assert venues.market_data.get_quote("AAPL", AssetClass.EQUITY).source == "alpaca:iex"
        assert venues.instruments.get_instrument("AAPL", AssetClass.EQUITY).source == "alpaca"
        assert all("Authorization" not in r.headers for r in market.server.requests)
        wrong = {**env, "ALPACA_SECRET_KEY": "not-the-secret"}
        refused = build_venues(load_venue_settings(wrong), EngineConfig(), FixedClock())
        with pytest.raises(APIError, match="request is not authorized"):
            refused.market_data.get_quote("MSFT", AssetClass.EQUITY)
    finally:
        market.server.stop()


def test_listings_come_from_the_broker_api_with_the_broker_keys(fakes):
    market, broker = fakes
    broker.contracts[OPTION] = option_contract(OPTION)
    venues = broker_venues(market, broker)
    equity = venues.instruments.get_instrument("AAPL", AssetClass.EQUITY)
    option = venues.instruments.get_instrument(OPTION, AssetClass.OPTIONS)
    assert equity.source == "alpaca" and equity.tradable
    assert option.multiplier == 100 and option.base == "SPY"
    batch = ["SPY260116P00400000", "SPY260220C00410000"]
    broker.contracts[batch[0]] = option_contract(batch[0])
    venues.instruments.prefetch_instruments([(s, AssetClass.OPTIONS) for s in batch])
    (listing,) = [r for r in broker.server.requests_to("/v1/options/contracts")
                  if "underlying_symbols" in r.query]  # fmt: skip
    assert listing.query["underlying_symbols"] == ["SPY"]
    assert venues.instruments.get_instrument(batch[0], AssetClass.OPTIONS).tradable
    assert not venues.instruments.get_instrument(batch[1], AssetClass.OPTIONS).tradable
    assert broker.server.requests_to("/v1/assets/AAPL")
    assert broker.server.requests_to(f"/v1/options/contracts/{OPTION}")
    assert not market.server.requests_to("/v2/assets")
    assert all(r.headers["Authorization"] == basic_header(BROKER_KEYS)
               for r in broker.server.requests)  # fmt: skip


def test_the_trading_client_refuses_the_broker_keys():
    settings = load_venue_settings(BROKER_ENV)
    assert settings.alpaca is not None
    with pytest.raises(ValueError, match="Trading API keys"):
        trading_client(settings.alpaca, 2.0)


def test_an_unknown_listing_under_wrong_broker_keys_is_unavailable(fakes):
    market, broker = fakes
    venues = broker_venues(market, broker, ALPACA_BROKER_SECRET_KEY="not-the-secret")
    with pytest.raises(InstrumentUnavailable, match="401"):
        venues.instruments.get_instrument("AAPL", AssetClass.EQUITY)
