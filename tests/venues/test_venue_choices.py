"""EXEC_VENUES_<CLASS>: settings checks, and the lowest-cost choice between the real alpaca-py
client on the fake Alpaca and the paper venue on the simulated market, both listing BTC/USD."""

from decimal import Decimal

import pytest

from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError
from smart_routing.domain.orders import OrderIntent, OrderSide
from smart_routing.execution.result import ExecutionStatus
from smart_routing.runtime import configured_engine
from venues.settings import Venue, load_venue_settings
from venues.wiring import build_venues

ALPACA_KEYS = {"ALPACA_API_KEY": "k" * 12, "ALPACA_SECRET_KEY": "s" * 12}
OANDA_KEYS = {"OANDA_ACCESS_TOKEN": "t" * 12, "OANDA_ACCOUNT_ID": "101-1"}


def test_without_the_setting_each_class_has_one_venue():
    settings = load_venue_settings(ALPACA_KEYS)
    assert settings.choices == {}
    assert build_venues(settings, EngineConfig(), SystemClock()).choices == {}


def test_the_setting_lists_the_venues_and_its_first_is_the_route():
    settings = load_venue_settings({**ALPACA_KEYS, "EXEC_VENUES_CRYPTO": " Paper , alpaca"})
    assert settings.choices == {AssetClass.CRYPTO: (Venue.PAPER, Venue.ALPACA)}
    assert settings.venue_for(AssetClass.CRYPTO) is Venue.PAPER
    assert settings.venue_for(AssetClass.EQUITY) is Venue.ALPACA


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EXEC_VENUES_CRYPTO": "alpaca,kraken", **ALPACA_KEYS}, "'kraken' is not a venue"),
        ({"EXEC_VENUES_CRYPTO": "alpaca,paper"}, "alpaca has no keys configured"),
        ({"EXEC_VENUES_FOREX": "paper,oanda"}, "oanda has no keys configured"),
        ({"EXEC_VENUES_FOREX": "oanda,alpaca", **OANDA_KEYS, **ALPACA_KEYS},
         "alpaca does not trade FOREX"),
        ({"EXEC_VENUES_EQUITY": "paper,paper"}, "paper is listed twice"),
        ({"EXEC_VENUES_EQUITY": "paper,", **ALPACA_KEYS}, "'' is not a venue"),
        ({"EXEC_VENUES_EQUITY": "paper,alpaca", "EXEC_VENUE_EQUITY": "alpaca", **ALPACA_KEYS},
         "EXEC_VENUE_EQUITY='alpaca' but EXEC_VENUES_EQUITY starts with paper"),
    ],
)  # fmt: skip
def test_bad_venue_lists_are_errors(env, message):
    with pytest.raises(ConfigError, match=message):
        load_venue_settings(env)


@pytest.fixture
def priced_on_alpaca_and_paper(fake_alpaca):
    """The functions' engine as the wiring builds it: crypto priced on Alpaca and paper."""
    env = {**ALPACA_KEYS, "ALPACA_TRADING_URL": fake_alpaca.url,
           "ALPACA_DATA_URL": fake_alpaca.url, "EXEC_VENUES_CRYPTO": "alpaca,paper",
           "EXEC_QUOTE_CACHE_TTL_S": "0.001"}  # fmt: skip
    clock, config = SystemClock(), EngineConfig(smart_routing_enabled=True)
    venues = build_venues(load_venue_settings(env), config, clock)
    assert [p.name for p in venues.choices[AssetClass.CRYPTO]] == ["alpaca", "paper"]
    engine = configured_engine(
        config, venues.broker, venues.market_data, venues.instruments,
        InMemoryLedgerStore(), clock, venues.choices,
    )  # fmt: skip
    return engine, venues


def buy(key):
    return OrderIntent(symbol="BTC/USD", side=OrderSide.BUY, qty=Decimal("0.01"),
                       idempotency_key=key)  # fmt: skip


def test_a_tighter_alpaca_quote_takes_the_order(fake_alpaca, priced_on_alpaca_and_paper):
    engine, venues = priced_on_alpaca_and_paper
    fake_alpaca.set_quote("BTC/USD", 49_995, 50_005)  # paper quotes 49,987.5 / 50,012.5
    result = engine.execute_intent(buy("tight-alpaca"))
    assert result.status is ExecutionStatus.FILLED, result.message
    assert result.order.broker == "alpaca"
    assert fake_alpaca.order(result.client_order_id)["status"] == "filled"
    assert venues.paper.get_order_by_client_id(result.client_order_id) is None
    candidates = {c.venue: c for c in result.routing.candidates}
    assert candidates["alpaca"].chosen and candidates["alpaca"].ask == Decimal(50_005)
    assert candidates["paper"].ask == Decimal("50012.5") and not candidates["paper"].chosen
    assert venues.broker.get_order_by_client_id(result.client_order_id).broker == "alpaca"


def test_a_wider_alpaca_quote_leaves_the_order_to_paper(fake_alpaca, priced_on_alpaca_and_paper):
    engine, venues = priced_on_alpaca_and_paper
    fake_alpaca.set_quote("BTC/USD", 49_980, 50_020)
    result = engine.execute_intent(buy("wide-alpaca"))
    assert result.status is ExecutionStatus.FILLED, result.message
    assert result.order.broker == "paper"
    assert result.order.filled_avg_price == Decimal("50012.5")
    assert venues.paper.get_order_by_client_id(result.client_order_id) is not None
    assert result.client_order_id not in fake_alpaca.orders
    assert {c.venue for c in result.routing.candidates if c.chosen} == {"paper"}
