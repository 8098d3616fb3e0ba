"""The engine as the functions run it: core, venues (paper on the simulated market for any
asset class whose venue has no keys) and the Firestore ledger, built once per instance."""

from __future__ import annotations

from dataclasses import dataclass

from google.cloud.firestore import Client

from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.config.engine_config import EngineConfig, load_config
from smart_routing.config.order_guards import OrderGuardSettings, load_order_guards
from smart_routing.domain.assets import AssetClass
from smart_routing.execution.pipeline import StrategyRunner
from smart_routing.runtime import configured_engine
from smart_routing_firebase.platform.app import firestore_client
from smart_routing_firebase.platform.once import once
from smart_routing_firebase.stores.ledger import FirestoreLedgerStore
from smart_routing_firebase.stores.order_limits import FirestoreOrderCaps
from smart_routing_firebase.stores.orders import FirestoreOrderBook
from smart_routing_firebase.stores.paper_account import FirestorePaperAccounts
from smart_routing_firebase.stores.trading_state import FirestoreTradingStates
from smart_routing_firebase.stores.venue_accounts import FirestoreLinkedAccounts
from smart_routing_firebase.stores.venue_breaker import FirestoreVenueBreaker
from smart_routing_firebase.stores.venue_positions import VenuePositions
from venues.settings import load_venue_settings
from venues.wiring import Venues, build_venues


@dataclass(frozen=True)
class Services:
    config: EngineConfig
    db: Client
    runner: StrategyRunner
    venues: Venues
    paper_accounts: FirestorePaperAccounts
    guards: OrderGuardSettings


@once
def services() -> Services:
    """Built once per instance, by the first of the request threads that ask at once (the
    others wait for it). Raises ConfigError on a malformed EXEC_* setting: the instance cannot
    serve."""
    config = load_config()
    guards = load_order_guards()
    clock = SystemClock()
    db = firestore_client()
    paper_accounts = FirestorePaperAccounts(db, config.paper_starting_cash)
    venues = build_venues(
        load_venue_settings(), config, clock, paper_accounts, FirestoreOrderBook(db),
        VenuePositions(db), FirestoreLinkedAccounts(db),
    )  # fmt: skip
    engine = configured_engine(
        config,
        venues.broker,
        venues.market_data,
        venues.instruments,
        FirestoreLedgerStore(db),
        clock,
        venues.choices,
        FirestoreTradingStates(db),
        FirestoreOrderCaps(db),
        FirestoreVenueBreaker(db, guards.breaker_failures, guards.breaker_window_s),
    )
    return Services(config, db, StrategyRunner(engine), venues, paper_accounts, guards)


def settles_in_firestore(runner: StrategyRunner, asset_class: AssetClass) -> bool:
    """Whether the order goes to the paper venue, whose fills are Firestore writes and nothing
    else: only such an execution may run again after a refused commit (see one_commit.py). A
    real venue's order is placed by the first run, so it is never run twice."""
    return all(v == PaperBroker.name for v in runner.engine.venues_for(asset_class))
