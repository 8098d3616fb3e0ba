import pytest

from smart_routing.adapters.clock import FixedClock
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError
from tools.fakes.alpaca import FakeAlpaca
from venues.settings import Venue, load_venue_settings
from venues.wiring import build_venues


def test_without_keys_every_class_trades_on_paper():
    settings = load_venue_settings({})
    assert settings.alpaca is None and settings.oanda is None
    assert {settings.venue_for(c) for c in AssetClass} == {Venue.PAPER}
    venues = build_venues(settings, EngineConfig(), FixedClock())
    assert {venues.broker.venue_for(c) for c in AssetClass} == {"paper"}
    assert venues.market_data.source_name(AssetClass.FOREX) == "simulated"
    spec = venues.instruments.get_instrument("EUR/USD", AssetClass.FOREX)
    assert (spec.venue, spec.source) == ("paper", "builtin")


def test_the_default_routes_send_forex_to_oanda_and_the_rest_to_alpaca():
    env = {"ALPACA_API_KEY": "k" * 10, "ALPACA_SECRET_KEY": "s" * 10,
           "OANDA_ACCESS_TOKEN": "t" * 10, "OANDA_ACCOUNT_ID": "101-1"}  # fmt: skip
    settings = load_venue_settings(env)
    assert settings.venue_for(AssetClass.EQUITY) is Venue.ALPACA
    assert settings.venue_for(AssetClass.OPTIONS) is Venue.ALPACA
    assert settings.venue_for(AssetClass.CRYPTO) is Venue.ALPACA
    assert settings.venue_for(AssetClass.FOREX) is Venue.OANDA
    assert settings.alpaca.live is False and settings.oanda.live is False
    assert settings.alpaca.feed.value == "iex"


def test_a_venue_without_keys_falls_back_to_paper_for_its_classes():
    settings = load_venue_settings({"ALPACA_API_KEY": "k" * 10, "ALPACA_SECRET_KEY": "s" * 10})
    assert settings.venue_for(AssetClass.EQUITY) is Venue.ALPACA
    assert settings.venue_for(AssetClass.FOREX) is Venue.PAPER


def test_routes_are_configurable_per_class():
    settings = load_venue_settings(
        {"ALPACA_API_KEY": "k" * 10, "ALPACA_SECRET_KEY": "s" * 10, "EXEC_VENUE_CRYPTO": "paper"}
    )
    assert settings.venue_for(AssetClass.CRYPTO) is Venue.PAPER
    assert settings.venue_for(AssetClass.EQUITY) is Venue.ALPACA


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALPACA_API_KEY": "k" * 10}, "ALPACA_SECRET_KEY is not set"),
        ({"OANDA_ACCOUNT_ID": "101"}, "OANDA_ACCESS_TOKEN is not set"),
        ({"EXEC_VENUE_FOREX": "alpaca"}, "alpaca does not trade FOREX"),
        ({"EXEC_VENUE_EQUITY": "nyse"}, "must be alpaca, oanda or paper"),
        ({"ALPACA_DATA_FEED": "otc"}, "iex or sip"),
        ({"OANDA_ENVIRONMENT": "prod"}, "practice or live"),
        ({"EXEC_QUOTE_CACHE_TTL_S": "-1"}, "greater than 0"),
    ],
)
def test_bad_venue_settings_are_errors(env, message):
    with pytest.raises(ConfigError, match=message):
        load_venue_settings(env)


def test_live_trading_only_by_an_explicit_setting():
    env = {"ALPACA_API_KEY": "k" * 10, "ALPACA_SECRET_KEY": "s" * 10}
    assert load_venue_settings(env).alpaca.live is False
    assert load_venue_settings({**env, "ALPACA_LIVE_TRADING": "true"}).alpaca.live is True


def test_keys_are_not_in_the_settings_repr():
    env = {"ALPACA_API_KEY": "AKVISIBLE123", "ALPACA_SECRET_KEY": "SECRETVISIBLE123"}
    text = repr(load_venue_settings(env))
    assert "AKVISIBLE123" not in text and "SECRETVISIBLE123" not in text


def test_wiring_with_alpaca_keys_routes_orders_to_alpaca():
    fake = FakeAlpaca().start()
    try:
        env = {"ALPACA_API_KEY": "k" * 12, "ALPACA_SECRET_KEY": "s" * 12,
               "ALPACA_TRADING_URL": fake.url, "ALPACA_DATA_URL": fake.url}  # fmt: skip
        venues = build_venues(load_venue_settings(env), EngineConfig(), FixedClock())
        assert venues.broker.venue_for(AssetClass.EQUITY) == "alpaca"
        assert venues.broker.venue_for(AssetClass.FOREX) == "paper"
        assert venues.market_data.get_quote("AAPL", AssetClass.EQUITY).source == "alpaca:iex"
        assert venues.instruments.get_instrument("AAPL", AssetClass.EQUITY).source == "alpaca"
        assert venues.instruments.get_instrument("EUR/USD", AssetClass.FOREX).venue == "paper"
        assert venues.broker.get_account().currency == "USD"
    finally:
        fake.server.stop()


class _Account:
    def __init__(self, name, currency):
        self.name, self.currency = name, currency

    def get_account(self, asset_class=None, owner=None):
        from datetime import UTC, datetime
        from decimal import Decimal

        from smart_routing.domain.orders import AccountSnapshot

        return AccountSnapshot(currency=self.currency, cash=Decimal("10.50"),
                               buying_power=Decimal(20), as_of=datetime.now(UTC))  # fmt: skip


def test_the_router_sums_accounts_in_one_currency_and_refuses_to_mix_them():
    from decimal import Decimal

    from venues.class_router import VenueRouter

    same = VenueRouter({AssetClass.EQUITY: _Account("a", "USD"),
                        AssetClass.FOREX: _Account("b", "USD")})  # fmt: skip
    assert same.get_account().cash == Decimal("21.00")
    mixed = VenueRouter({AssetClass.EQUITY: _Account("a", "USD"),
                         AssetClass.FOREX: _Account("b", "EUR")})  # fmt: skip
    with pytest.raises(ValueError, match="EUR, USD"):
        mixed.get_account()
