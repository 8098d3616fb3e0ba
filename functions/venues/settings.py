"""Venue settings from the environment (in Firebase: SecretParams and params), checked at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.config.environment import env_bool, env_positive, env_text
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError


class Venue(StrEnum):
    ALPACA = "alpaca"
    OANDA = "oanda"
    PAPER = "paper"


class AlpacaFeed(StrEnum):
    IEX = "iex"
    SIP = "sip"


# Which venues can trade which asset classes.
CAPABLE = {
    Venue.ALPACA: {AssetClass.EQUITY, AssetClass.CRYPTO, AssetClass.OPTIONS},
    Venue.OANDA: {AssetClass.FOREX},
    Venue.PAPER: set(AssetClass),
}
DEFAULT_ROUTES = {
    AssetClass.EQUITY: Venue.ALPACA,
    AssetClass.CRYPTO: Venue.ALPACA,
    AssetClass.OPTIONS: Venue.ALPACA,
    AssetClass.FOREX: Venue.OANDA,
}


class AlpacaApi(StrEnum):
    """EXEC_ALPACA_API: one platform account (trading) or one account per end user (broker)."""

    TRADING = "trading"
    BROKER = "broker"


class AlpacaSettings(BaseModel):
    """The platform's Alpaca keys for market data and listings, and in trading mode for its one
    account. In broker mode they are the broker keys (`api` BROKER): market data is read with
    them as HTTP Basic auth, from the broker sandbox's data host unless `live`."""

    model_config = ConfigDict(frozen=True)

    api_key: str = Field(repr=False)
    secret_key: str = Field(repr=False)
    live: bool = False
    api: AlpacaApi = AlpacaApi.TRADING
    feed: AlpacaFeed = AlpacaFeed.IEX
    trading_url: str | None = None
    data_url: str | None = None


class AlpacaBrokerSettings(BaseModel):
    """The Broker API: the platform's broker keys, each end user's own brokerage account."""

    model_config = ConfigDict(frozen=True)

    api_key: str = Field(repr=False)
    secret_key: str = Field(repr=False)
    live: bool = False  # the sandbox unless ALPACA_LIVE_TRADING
    url: str | None = None  # ALPACA_BROKER_URL, for a fake in the tests


class OandaSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    access_token: str = Field(repr=False)
    account_id: str
    live: bool = False
    api_url: str | None = None


class VenueSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    routes: dict[AssetClass, Venue] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))
    # EXEC_VENUES_<CLASS>: the venues each order of the class is priced on, the cheapest taking
    # it (smart_routing/gate/venue_selection.py); the first is the class's route. Unset: one venue.
    choices: dict[AssetClass, tuple[Venue, ...]] = Field(default_factory=dict)
    alpaca: AlpacaSettings | None = None
    # Set in broker mode (EXEC_ALPACA_API=broker): orders, fills and listings per end user's
    # account; `alpaca` then holds the same broker keys for market data.
    alpaca_broker: AlpacaBrokerSettings | None = None
    oanda: OandaSettings | None = None
    quote_cache_ttl_s: float = 1.0
    # Instrument specs change rarely (a listing, a halt): minutes, not seconds.
    instrument_cache_ttl_s: float = 300.0
    timeout_s: float = 10.0

    def venue_for(self, asset_class: AssetClass) -> Venue:
        """The configured venue, or paper when that venue has no keys."""
        venue = self.routes[asset_class]
        configured = {Venue.ALPACA: self.alpaca, Venue.OANDA: self.oanda}
        if venue is not Venue.PAPER and configured[venue] is None:
            return Venue.PAPER
        return venue


def load_venue_settings(environ: Mapping[str, str] | None = None) -> VenueSettings:
    """Raises ConfigError naming the variable; registers every secret for log redaction."""
    env = os.environ if environ is None else environ
    routes = {c: _venue(env, c) for c in AssetClass}
    broker = _alpaca_broker(env)
    alpaca = _alpaca(env, broker)
    oanda_token, oanda_account = _pair(env, "OANDA_ACCESS_TOKEN", "OANDA_ACCOUNT_ID")
    logs.register_secret(oanda_token)
    logs.register_secret(oanda_account)  # a Secret Manager secret too: it is in OANDA's URLs
    oanda_env = (env_text(env, "OANDA_ENVIRONMENT") or "practice").lower()
    if oanda_env not in ("practice", "live"):
        raise ConfigError(f"OANDA_ENVIRONMENT={oanda_env!r} must be practice or live")
    keyed = {Venue.ALPACA: alpaca is not None, Venue.OANDA: oanda_token is not None}
    choices = {c: found for c in AssetClass if (found := _venues(env, c, keyed))}
    for asset_class, venues in choices.items():
        single = f"EXEC_VENUE_{asset_class.value}"
        if env_text(env, single) is not None and routes[asset_class] is not venues[0]:
            raise ConfigError(
                f"{single}={routes[asset_class].value!r} but EXEC_VENUES_{asset_class.value} "
                f"starts with {venues[0].value}: set one of them"
            )
        routes[asset_class] = venues[0]
    return VenueSettings(
        routes=routes,
        choices=choices,
        alpaca=alpaca,
        alpaca_broker=broker,
        oanda=None
        if oanda_token is None
        else OandaSettings(
            access_token=oanda_token,
            account_id=oanda_account,
            live=oanda_env == "live",
            api_url=env_text(env, "OANDA_API_URL"),
        ),
        quote_cache_ttl_s=env_positive(env, "EXEC_QUOTE_CACHE_TTL_S", 1.0),
        instrument_cache_ttl_s=env_positive(env, "EXEC_INSTRUMENT_CACHE_TTL_S", 300.0),
        timeout_s=env_positive(env, "EXEC_VENUE_TIMEOUT_S", 10.0),
    )


def _alpaca(env: Mapping[str, str], broker: AlpacaBrokerSettings | None) -> AlpacaSettings | None:
    """The keys Alpaca's market data is read with: the Trading API keys in trading mode, the
    broker keys in broker mode (where ALPACA_API_KEY and ALPACA_SECRET_KEY are ignored)."""
    for name in ("ALPACA_API_KEY", "ALPACA_SECRET_KEY"):  # redacted even where unused
        logs.register_secret(env_text(env, name))
    feed = (env_text(env, "ALPACA_DATA_FEED") or "iex").lower()
    if feed not in {f.value for f in AlpacaFeed}:
        raise ConfigError(f"ALPACA_DATA_FEED={feed!r} must be iex or sip")
    live, data_url = env_bool(env, "ALPACA_LIVE_TRADING", False), env_text(env, "ALPACA_DATA_URL")
    if broker is not None:
        return AlpacaSettings(
            api_key=broker.api_key, secret_key=broker.secret_key, live=live,
            api=AlpacaApi.BROKER, feed=AlpacaFeed(feed), data_url=data_url,
        )  # fmt: skip
    key, secret = _pair(env, "ALPACA_API_KEY", "ALPACA_SECRET_KEY")
    if key is None or secret is None:
        return None
    return AlpacaSettings(
        api_key=key, secret_key=secret, live=live, feed=AlpacaFeed(feed),
        trading_url=env_text(env, "ALPACA_TRADING_URL"), data_url=data_url,
    )  # fmt: skip


def _alpaca_broker(env: Mapping[str, str]) -> AlpacaBrokerSettings | None:
    """The Broker API's settings in broker mode, None in trading mode; ConfigError when broker
    mode lacks its keys."""
    mode = (env_text(env, "EXEC_ALPACA_API") or AlpacaApi.TRADING.value).lower()
    if mode not in {m.value for m in AlpacaApi}:
        raise ConfigError(f"EXEC_ALPACA_API={mode!r} must be trading or broker")
    if mode == AlpacaApi.TRADING:
        return None
    key, secret = _pair(env, "ALPACA_BROKER_API_KEY", "ALPACA_BROKER_SECRET_KEY")
    if key is None or secret is None:
        raise ConfigError(
            "EXEC_ALPACA_API=broker needs ALPACA_BROKER_API_KEY and ALPACA_BROKER_SECRET_KEY"
        )
    logs.register_secret(key)
    logs.register_secret(secret)
    return AlpacaBrokerSettings(
        api_key=key,
        secret_key=secret,
        live=env_bool(env, "ALPACA_LIVE_TRADING", False),
        url=env_text(env, "ALPACA_BROKER_URL"),
    )


def _pair(env: Mapping[str, str], first: str, second: str) -> tuple[str | None, str | None]:
    a, b = env_text(env, first), env_text(env, second)
    if (a is None) != (b is None):
        missing = second if b is None else first
        raise ConfigError(f"{missing} is not set: {first} and {second} go together")
    return a, b


def _venues(
    env: Mapping[str, str], asset_class: AssetClass, keyed: dict[Venue, bool]
) -> tuple[Venue, ...]:
    """EXEC_VENUES_<CLASS>, checked: known, distinct venues that trade the class and have keys."""
    name = f"EXEC_VENUES_{asset_class.value}"
    value = env_text(env, name)
    if value is None:
        return ()
    venues: list[Venue] = []
    for part in (p.strip().lower() for p in value.split(",")):
        try:
            venue = Venue(part)
        except ValueError:
            raise ConfigError(
                f"{name}={value!r}: {part!r} is not a venue (alpaca, oanda or paper)"
            ) from None
        if asset_class not in CAPABLE[venue]:
            raise ConfigError(f"{name}={value!r}: {venue.value} does not trade {asset_class.value}")
        if not keyed.get(venue, True):
            raise ConfigError(f"{name}={value!r}: {venue.value} has no keys configured")
        if venue in venues:
            raise ConfigError(f"{name}={value!r}: {venue.value} is listed twice")
        venues.append(venue)
    return tuple(venues)


def _venue(env: Mapping[str, str], asset_class: AssetClass) -> Venue:
    name = f"EXEC_VENUE_{asset_class.value}"
    value = env_text(env, name)
    if value is None:
        return DEFAULT_ROUTES[asset_class]
    try:
        venue = Venue(value.lower())
    except ValueError:
        raise ConfigError(f"{name}={value!r} must be alpaca, oanda or paper") from None
    if asset_class not in CAPABLE[venue]:
        raise ConfigError(f"{name}={value!r}: {venue.value} does not trade {asset_class.value}")
    return venue
