"""Per asset class: its configured venue when that venue has keys, else paper on the simulated
market. Venue client libraries are imported only for the venues in use."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import simulated_market
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.ports import (
    Broker,
    Clock,
    FillSource,
    InstrumentSource,
    OrderBook,
    PaperAccountStore,
    UserPositions,
    VenuePorts,
)
from smart_routing.runtime import paper_broker
from venues.class_router import VenueRouter
from venues.instrument_specs import CachedInstruments, VenueInstruments
from venues.quote_sources import QuoteSource, SimulatedQuoteSource, VenueMarketData
from venues.recording import RecordingBroker
from venues.settings import Venue, VenueSettings

if TYPE_CHECKING:  # alpaca-py loads only where Alpaca is configured
    from venues.alpaca.broker_api import AlpacaBrokerApi, LinkedAccounts


@dataclass(frozen=True)
class Venues:
    market_data: VenueMarketData
    broker: VenueRouter
    instruments: VenueInstruments
    paper: PaperBroker
    # Where the reconciler reads each real venue account's fills.
    fill_sources: tuple[FillSource, ...] = ()
    # The venues each order of a class is priced on, when EXEC_VENUES_<CLASS> names several.
    choices: dict[AssetClass, tuple[VenuePorts, ...]] = field(default_factory=dict)
    # The Broker API adapter when Alpaca runs one account per end user (EXEC_ALPACA_API=broker).
    alpaca_per_user: AlpacaBrokerApi | None = None

    def quote_providers(self) -> list[VenueMarketData]:
        """Every market data provider an order may be priced on: the classes' own venues and
        each venue a class chooses between."""
        chosen = [ports.market_data for options in self.choices.values() for ports in options]
        return [self.market_data, *(p for p in chosen if isinstance(p, VenueMarketData))]


@dataclass(frozen=True)
class _Connected:
    quotes: QuoteSource
    broker: Broker
    instruments: InstrumentSource


def build_venues(
    settings: VenueSettings,
    config: EngineConfig,
    clock: Clock,
    paper_accounts: PaperAccountStore | None = None,
    order_book: OrderBook | None = None,
    user_positions: UserPositions | None = None,
    linked_accounts: LinkedAccounts | None = None,
) -> Venues:
    """`paper_accounts` keeps the paper venue's per-user accounts (the functions pass their
    Firestore store); without one they live in this process's memory. With an `order_book`,
    every order a real venue takes is recorded there (the paper venue records its own); with
    `user_positions` too, each user trades a real venue on their own positions there.
    `linked_accounts` (venues.alpaca.broker_api.LinkedAccounts) says whose brokerage account
    is whose when Alpaca runs on the Broker API."""
    market = simulated_market(config, clock)
    paper_instruments = BuiltinInstruments()
    paper = paper_broker(config, market, paper_instruments, clock, paper_accounts)
    built = {Venue.PAPER: _Connected(SimulatedQuoteSource(market), paper, paper_instruments)}
    fill_sources: list[FillSource] = []
    per_user: list[AlpacaBrokerApi] = []

    def connected(venue: Venue) -> _Connected:
        if venue not in built:
            built[venue] = _connect(venue, settings, clock, linked_accounts)
            per_user.extend(_per_user(built[venue].broker))
            fill_sources.append(_fill_source(venue, settings))
            if order_book is not None:
                found = built[venue]
                recording = RecordingBroker(
                    found.broker, order_book, user_positions, found.instruments
                )
                built[venue] = replace(found, broker=recording)
        return built[venue]

    per_class = {c: connected(settings.venue_for(c)) for c in AssetClass}
    choices = {
        c: tuple(_ports(v, c, connected(v), config, clock, settings) for v in venues)
        for c, venues in settings.choices.items()
        if len(venues) > 1
    }
    return Venues(
        market_data=VenueMarketData(
            {c: v.quotes for c, v in per_class.items()}, clock, settings.quote_cache_ttl_s
        ),
        broker=VenueRouter(
            {c: v.broker for c, v in per_class.items()},
            [p.broker for ports in choices.values() for p in ports],
        ),
        instruments=VenueInstruments({c: v.instruments for c, v in per_class.items()}),
        paper=paper,
        fill_sources=tuple(fill_sources),
        choices=choices,
        alpaca_per_user=per_user[0] if per_user else None,
    )


def _per_user(broker: Broker) -> list[AlpacaBrokerApi]:
    """The broker, when it is the Broker API's account per end user."""
    if getattr(broker, "links", None) is None:
        return []
    from venues.alpaca.broker_api import AlpacaBrokerApi

    return [broker] if isinstance(broker, AlpacaBrokerApi) else []


def _ports(
    venue: Venue,
    asset_class: AssetClass,
    connected: _Connected,
    config: EngineConfig,
    clock: Clock,
    settings: VenueSettings,
) -> VenuePorts:
    """One venue as a candidate for the class: its own quotes, specs, account and fees."""
    return VenuePorts(
        name=venue.value,
        broker=connected.broker,
        market_data=VenueMarketData(
            {asset_class: connected.quotes}, clock, settings.quote_cache_ttl_s
        ),
        instruments=VenueInstruments({asset_class: connected.instruments}),
        fees=config.fees,
    )


def _fill_source(venue: Venue, settings: VenueSettings) -> FillSource:
    if venue is Venue.ALPACA and settings.alpaca_broker is not None:
        from venues.alpaca.activity_fills import AlpacaActivityFills

        return AlpacaActivityFills(settings.alpaca_broker, settings.timeout_s)
    if venue is Venue.ALPACA and settings.alpaca is not None:
        from venues.alpaca.fills import AlpacaFills

        return AlpacaFills(settings.alpaca, settings.timeout_s)
    if venue is Venue.OANDA and settings.oanda is not None:
        from venues.oanda.fills import OandaFills

        return OandaFills(settings.oanda, settings.timeout_s)
    raise ValueError(f"venue {venue.value} has no settings")


def _alpaca_broker(settings: VenueSettings, linked_accounts: LinkedAccounts | None) -> Broker:
    """The Trading API's one account, or the Broker API's account per end user."""
    if settings.alpaca_broker is None:
        from venues.alpaca.broker import AlpacaBroker

        assert settings.alpaca is not None
        return AlpacaBroker(settings.alpaca, settings.timeout_s)
    from venues.alpaca.broker_api import AlpacaBrokerApi

    if linked_accounts is None:
        raise ValueError("EXEC_ALPACA_API=broker needs the users' linked accounts")
    return AlpacaBrokerApi(settings.alpaca_broker, settings.timeout_s, linked_accounts)


def _connect(
    venue: Venue, settings: VenueSettings, clock: Clock, linked_accounts: LinkedAccounts | None
) -> _Connected:
    ttl_s = settings.instrument_cache_ttl_s
    if venue is Venue.ALPACA and settings.alpaca is not None:
        from venues.alpaca.instruments import AlpacaInstruments
        from venues.alpaca.market_data import AlpacaQuoteSource

        return _Connected(
            AlpacaQuoteSource(settings.alpaca, settings.timeout_s),
            _alpaca_broker(settings, linked_accounts),
            CachedInstruments(
                AlpacaInstruments(settings.alpaca_broker or settings.alpaca, settings.timeout_s),
                clock,
                ttl_s,
            ),
        )
    if venue is Venue.OANDA and settings.oanda is not None:
        from venues.oanda.broker import OandaBroker
        from venues.oanda.client import oanda_api
        from venues.oanda.instruments import OandaInstruments
        from venues.oanda.market_data import OandaQuoteSource

        api = oanda_api(settings.oanda, settings.timeout_s)
        account_id = settings.oanda.account_id
        instruments = CachedInstruments(OandaInstruments(api, account_id), clock, ttl_s)
        return _Connected(
            OandaQuoteSource(api, account_id),
            OandaBroker(api, account_id, instruments),
            instruments,
        )
    raise ValueError(f"venue {venue.value} has no settings")
