"""The engine as the functions run it: core + Firestore ledger, built once per instance."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from google.cloud.firestore import Client

from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import simulated_market
from smart_routing.clock import SystemClock
from smart_routing.config import EngineConfig, load_config
from smart_routing.pipeline import StrategyRunner
from smart_routing.routing import SmartRouter
from smart_routing.runtime import configured_engine
from smart_routing_firebase.app import firestore_client
from smart_routing_firebase.ledger_store import FirestoreLedgerStore


@dataclass(frozen=True)
class Services:
    config: EngineConfig
    db: Client
    runner: StrategyRunner


@cache
def services() -> Services:
    """Raises ConfigError on a malformed EXEC_* setting: the instance cannot serve."""
    config = load_config()
    clock = SystemClock()
    market = simulated_market(config, clock)
    broker = PaperBroker(market, clock, starting_cash=config.paper_starting_cash)
    db = firestore_client()
    router = SmartRouter(config.routing, clock)
    engine = configured_engine(config, broker, market, FirestoreLedgerStore(db), router)
    return Services(config, db, StrategyRunner(engine, market, router))
