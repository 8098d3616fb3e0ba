"""The functions on the emulators with Alpaca on the Broker API (EXEC_ALPACA_API=broker): each
end user trades in their own brokerage account at the Broker API fake, which also serves the
listings; quotes come from the market-data fake, which accepts only the broker keys as HTTP
Basic auth. No Trading API keys are set: a broker deployment needs none. Keys reach the
functions as SecretParams do (.secret.local), the base URLs as environment parameters
(.env.local)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smart_routing.market.sessions import Session
from tests.emulator_broker.broker_users import new_symbol
from tests.emulator_session import emulators_for_package
from tools.emulators import ROOT, functions_overrides
from tools.fakes.alpaca import FakeAlpaca
from tools.fakes.alpaca_broker import FakeAlpacaBroker

KEYS = {
    "ALPACA_BROKER_API_KEY": "CKEMULATORBROKER01",
    "ALPACA_BROKER_SECRET_KEY": "emulator-broker-secret-0001",
}
LOG_PATH = ROOT / ".cache" / "emulators-broker-test.log"


@pytest.fixture(scope="package")
def fakes() -> Iterator[tuple[FakeAlpaca, FakeAlpacaBroker]]:
    broker_keys = (KEYS["ALPACA_BROKER_API_KEY"], KEYS["ALPACA_BROKER_SECRET_KEY"])
    market = FakeAlpaca(keys=broker_keys, basic_auth=True).start()
    broker = FakeAlpacaBroker(broker_keys).start()
    yield market, broker
    market.server.stop()
    broker.server.stop()


@pytest.fixture(scope="package", autouse=True)
def emulators(fakes) -> Iterator[None]:
    market, broker = fakes
    env = {"EXEC_ALPACA_API": "broker", "ALPACA_BROKER_URL": broker.url,
           "ALPACA_DATA_URL": market.url,
           "EXEC_VENUE_TIMEOUT_S": "2",
           # Each task the emulator runs at once is a Python worker process of its own.
           "RECONCILEVENUEACCOUNT_MAX_CONCURRENT_DISPATCHES": "4",
           # The tests' quotes are chosen against the class thresholds, whatever the hour.
           **{f"EXEC_SESSION_MULTIPLIER_{s.value.upper()}": "1" for s in Session}}  # fmt: skip
    with emulators_for_package(LOG_PATH, setup=(functions_overrides(env, KEYS),)):
        yield


@pytest.fixture(scope="package")
def db(emulators):
    from smart_routing_firebase.platform.app import firestore_client

    return firestore_client()


@pytest.fixture
def symbol(fakes):
    """An equity no other test trades (broker_users.new_symbol)."""
    return new_symbol(*fakes)
