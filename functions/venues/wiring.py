"""Per asset class: its configured venue when that venue has keys, else paper on the simulated
market. Venue client libraries are imported only for the venues in use."""

from __future__ import annotations

from dataclasses import dataclass

from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import simulated_market
from smart_routing.assets import AssetClass
from smart_routing.config import EngineConfig
from smart_routing.ports import Broker, Clock
from venues.market_data import QuoteSource, SimulatedQuoteSource, VenueMarketData
from venues.routing import VenueRouter
from venues.settings import Venue, VenueSettings


@dataclass(frozen=True)
class Venues:
    market_data: VenueMarketData
    broker: VenueRouter


def build_venues(settings: VenueSettings, config: EngineConfig, clock: Clock) -> Venues:
    market = simulated_market(config, clock)
    paper = PaperBroker(market, clock, starting_cash=config.paper_starting_cash)
    built: dict[Venue, tuple[QuoteSource, Broker]] = {
        Venue.PAPER: (SimulatedQuoteSource(market), paper)
    }
    sources: dict[AssetClass, QuoteSource] = {}
    brokers: dict[AssetClass, Broker] = {}
    for asset_class in AssetClass:
        venue = settings.venue_for(asset_class)
        if venue not in built:
            built[venue] = _connect(venue, settings)
        sources[asset_class], brokers[asset_class] = built[venue]
    return Venues(VenueMarketData(sources, clock, settings.quote_cache_ttl_s), VenueRouter(brokers))


def _connect(venue: Venue, settings: VenueSettings) -> tuple[QuoteSource, Broker]:
    if venue is Venue.ALPACA and settings.alpaca is not None:
        from venues.alpaca import AlpacaBroker, AlpacaQuoteSource

        return (
            AlpacaQuoteSource(settings.alpaca, settings.timeout_s),
            AlpacaBroker(settings.alpaca, settings.timeout_s),
        )
    if venue is Venue.OANDA and settings.oanda is not None:
        from venues.oanda import OandaBroker, OandaQuoteSource, oanda_api

        api = oanda_api(settings.oanda, settings.timeout_s)
        return (
            OandaQuoteSource(api, settings.oanda.account_id),
            OandaBroker(api, settings.oanda.account_id),
        )
    raise ValueError(f"venue {venue.value} has no settings")
