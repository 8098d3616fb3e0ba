"""The functions on the emulators, trading through the real alpaca-py and oandapyV20 clients
against the loopback fakes. Keys reach the functions as SecretParams do (.secret.local), the
base URLs as environment parameters (.env.local)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smart_routing.market.sessions import Session
from tests.emulator_session import emulators_for_package
from tools.emulators import (
    ROOT,
    functions_overrides,
)
from tools.fakes.alpaca import FakeAlpaca
from tools.fakes.oanda import ACCOUNT_ID, FakeOanda

KEYS = {
    "ALPACA_API_KEY": "AKEMULATORTEST0001",
    "ALPACA_SECRET_KEY": "emulator-alpaca-secret-0001",
    "OANDA_ACCESS_TOKEN": "emulator-oanda-token-0001",
    "OANDA_ACCOUNT_ID": ACCOUNT_ID,
}
LOG_PATH = ROOT / ".cache" / "emulators-venues-test.log"
LIMIT_TTL_S = 120  # long enough that a slow run still reconciles before it
FANOUT_CONCURRENCY = 4


@pytest.fixture(scope="package")
def fakes() -> Iterator[tuple[FakeAlpaca, FakeOanda]]:
    alpaca, oanda = FakeAlpaca().start(), FakeOanda().start()
    yield alpaca, oanda
    alpaca.server.stop()
    oanda.server.stop()


@pytest.fixture(scope="package", autouse=True)
def emulators(fakes) -> Iterator[None]:
    alpaca, oanda = fakes
    # A spread above the threshold places the limit fallback (the quotes the other tests use
    # are within it).
    env = {"ALPACA_TRADING_URL": alpaca.url, "ALPACA_DATA_URL": alpaca.url,
           "OANDA_API_URL": oanda.url, "EXEC_VENUE_TIMEOUT_S": "2",
           "EXEC_WIDE_SPREAD_ACTION": "limit", "EXEC_LIMIT_TTL_S": str(LIMIT_TTL_S),
           # The tests' quotes are chosen against the class thresholds: every session keeps
           # them, whatever the hour the tests run at (docs/cost-model.md).
           **{f"EXEC_SESSION_MULTIPLIER_{s.value.upper()}": "1" for s in Session},
           # A tick's shared quotes stay usable however slowly two cores drain its tasks
           # (test_scheduled_fanout.py counts one quote request per tick); the fakes' quotes
           # are always fresh, so no other test sees a difference.
           "EXEC_MAX_QUOTE_AGE_S": "600",
           # Each task the emulator runs at once is a Python worker process of its own.
           "RUNSCHEDULEDSTRATEGY_MAX_CONCURRENT_DISPATCHES": str(FANOUT_CONCURRENCY),
           "RUNSCHEDULEDSTRATEGY_MAX_DISPATCHES_PER_SECOND": "50"}  # fmt: skip
    with emulators_for_package(LOG_PATH, setup=(functions_overrides(env, KEYS),)):
        yield


@pytest.fixture(scope="package")
def db(emulators):
    from smart_routing_firebase.platform.app import firestore_client

    return firestore_client()
