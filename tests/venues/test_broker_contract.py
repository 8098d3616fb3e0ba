"""One contract, three brokers: the core's paper broker, AlpacaBroker (alpaca-py) on the fake
Alpaca, and OandaBroker (oandapyV20) on the fake OANDA.

Maybe-sent recovery is driven through the core's engine (`configured_engine`), so the recovery
under test is the engine's one implementation, never an adapter's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.memory_paper_accounts import InMemoryPaperAccounts
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import simulated_market
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderRejected
from smart_routing.domain.money import Money
from smart_routing.domain.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderIntent,
    OrderRequest,
)
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.result import ExecutionStatus
from smart_routing.portfolio.paper_account import PaperAccount
from smart_routing.ports import Broker, InstrumentSource, MarketDataProvider
from smart_routing.runtime import configured_engine
from tests.venues.conftest import ALPACA_CLASSES
from tools.fakes.alpaca import equity_asset
from tools.fakes.http import Fault
from tools.fakes.oanda import ACCOUNT_ID, FakeOanda
from venues.instrument_specs import CachedInstruments
from venues.oanda.broker import OandaBroker
from venues.oanda.client import oanda_api
from venues.oanda.instruments import OandaInstruments
from venues.oanda.market_data import OandaQuoteSource
from venues.quote_sources import VenueMarketData
from venues.settings import OandaSettings

HANG_S = 1.5  # longer than the clients' 0.5 s timeout


class TimesOutAfterTaking:
    """The paper broker behind a connection that drops the reply: the order is placed, the
    caller sees a read timeout. The HTTP venues get the same from the fakes' `hang_after`."""

    def __init__(self, inner: PaperBroker) -> None:
        self.inner, self.name, self.armed, self.lookups = inner, inner.name, False, 0

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.inner.venue_for(asset_class)

    def submit_order(self, request: OrderRequest) -> Order:
        order = self.inner.submit_order(request)
        if self.armed:
            self.armed = False
            raise requests.ReadTimeout("read timed out after the venue took the order")
        return order

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        self.lookups += 1
        return self.inner.get_order_by_client_id(client_order_id)

    def get_account(self, asset_class=None, owner=None) -> AccountSnapshot:
        return self.inner.get_account(asset_class, owner)


@dataclass
class Venue:
    """A broker under the contract, with the knobs its venue (or fake) offers."""

    broker: Broker
    market_data: MarketDataProvider
    instruments: InstrumentSource
    symbol: str
    asset_class: AssetClass
    qty: Decimal
    off_grid: tuple[str, AssetClass, Decimal, str]  # symbol, class, qty, the venue's words
    order_count: Callable[[], int]
    reject: Callable[[], str]  # makes the venue refuse the next order; returns its reason
    arm_read_timeout: Callable[[], None]
    lookups: Callable[[], int]  # order lookups by client_order_id the venue has seen
    partial: Callable[[], None] | None = None

    def request(self, qty: Decimal | None = None, **changes: object) -> OrderRequest:
        fields = {"client_order_id": f"contract-{uuid.uuid4().hex[:12]}",
                  "symbol": self.symbol, "asset_class": self.asset_class, "side": "buy",
                  "qty": qty or self.qty, **changes}  # fmt: skip
        return OrderRequest(**fields)

    def engine(self) -> ExecutionEngine:
        config = EngineConfig(smart_routing_enabled=False)
        return configured_engine(config, self.broker, self.market_data, self.instruments,
                                 InMemoryLedgerStore(), SystemClock())  # fmt: skip


def _paper() -> Venue:
    clock = SystemClock()
    market = simulated_market(EngineConfig(), clock)
    instruments = BuiltinInstruments()
    accounts = InMemoryPaperAccounts(Decimal(100_000))
    owner = AccountOwner(tenant_id="local-tenant", uid="local-user")
    paper = PaperBroker(market, instruments, clock, accounts=accounts, default_owner=owner)
    broker = TimesOutAfterTaking(paper)

    def reject() -> str:
        accounts._accounts[owner] = PaperAccount(cash=Money(Decimal(0), "USD"))
        return "insufficient buying power"

    return Venue(
        broker=broker, market_data=market, instruments=instruments, symbol="AAPL",
        asset_class=AssetClass.EQUITY, qty=Decimal(10),
        off_grid=("AAPL", AssetClass.EQUITY, Decimal("0.0000000001"), "not a multiple"),
        order_count=lambda: len(accounts._orders), reject=reject,
        arm_read_timeout=lambda: setattr(broker, "armed", True),
        lookups=lambda: broker.lookups,
    )  # fmt: skip


@pytest.fixture
def paper_venue() -> Venue:
    return _paper()


@pytest.fixture
def alpaca_venue(fake_alpaca, alpaca_source, alpaca_broker, alpaca_instruments) -> Venue:
    clock = SystemClock()
    fake_alpaca.assets["BRK.A"] = equity_asset("BRK.A", fractionable=False)

    def reject() -> str:
        fake_alpaca.order_mode = "reject"
        return fake_alpaca.reject_message

    def arm() -> None:
        fake_alpaca.server.inject(Fault("hang_after", "/v2/orders", method="POST",
                                        seconds=HANG_S))  # fmt: skip

    return Venue(
        broker=alpaca_broker,
        market_data=VenueMarketData(dict.fromkeys(ALPACA_CLASSES, alpaca_source), clock, 0.0),
        instruments=CachedInstruments(alpaca_instruments, clock, ttl_s=60),
        symbol="AAPL", asset_class=AssetClass.EQUITY, qty=Decimal(10),
        off_grid=("BRK.A", AssetClass.EQUITY, Decimal("0.5"), "qty must be integer"),
        order_count=lambda: len(fake_alpaca.orders), reject=reject, arm_read_timeout=arm,
        partial=lambda: setattr(fake_alpaca, "order_mode", "partial"),
        lookups=lambda: len(fake_alpaca.server.requests_to("/v2/orders:by_client_order_id")),
    )  # fmt: skip


@pytest.fixture
def oanda_venue():
    fake = FakeOanda().start()
    settings = OandaSettings(access_token="oanda-contract-token-0123456789",
                             account_id=ACCOUNT_ID, api_url=fake.url)  # fmt: skip
    api = oanda_api(settings, timeout_s=0.5)
    clock = SystemClock()
    instruments = CachedInstruments(OandaInstruments(api, ACCOUNT_ID), clock, ttl_s=60)
    source = OandaQuoteSource(api, ACCOUNT_ID, sleep=lambda _: None)

    def reject() -> str:
        fake.order_mode = "reject"
        return "INSUFFICIENT_MARGIN"

    def arm() -> None:
        orders = f"/v3/accounts/{ACCOUNT_ID}/orders"
        fake.server.inject(Fault("hang_after", orders, method="POST", seconds=HANG_S))

    yield Venue(
        broker=OandaBroker(api, ACCOUNT_ID, instruments),
        market_data=VenueMarketData({AssetClass.FOREX: source}, clock, 0.0),
        instruments=instruments, symbol="EUR/USD", asset_class=AssetClass.FOREX,
        qty=Decimal(10_000),
        off_grid=("EUR/USD", AssetClass.FOREX, Decimal("10.5"), "UNITS_PRECISION_EXCEEDED"),
        order_count=lambda: len(fake.orders), reject=reject, arm_read_timeout=arm,
        lookups=lambda: len(fake.server.requests_to(f"/v3/accounts/{ACCOUNT_ID}/orders/@")),
    )  # fmt: skip
    fake.server.stop()


@pytest.fixture(params=["paper", "alpaca", "oanda"])
def venue(request) -> Venue:
    return request.getfixturevalue(f"{request.param}_venue")


def test_submit_is_idempotent_on_the_client_order_id(venue):
    request = venue.request()
    first = venue.broker.submit_order(request)
    second = venue.broker.submit_order(request)
    assert second.broker_order_id == first.broker_order_id
    assert second.client_order_id == request.client_order_id
    assert venue.order_count() == 1


def test_an_off_grid_qty_is_rejected_by_the_venue(venue):
    symbol, asset_class, qty, words = venue.off_grid
    request = venue.request(qty, symbol=symbol, asset_class=asset_class)
    with pytest.raises(OrderRejected, match=words):
        venue.broker.submit_order(request)
    assert venue.order_count() == 0


def test_a_fill_reports_exactly_the_filled_qty(venue):
    """Where the venue fills in parts (Alpaca), half of 10 is 5; where it fills whole or not at
    all (paper; OANDA's fill-or-kill market orders), all 10."""
    fills_in_parts = venue.partial is not None
    if fills_in_parts:
        venue.partial()
    order = venue.broker.submit_order(venue.request(Decimal(10)))
    expected = Decimal(5) if fills_in_parts else Decimal(10)
    assert order.filled_qty == expected and isinstance(order.filled_qty, Decimal)
    assert order.qty == Decimal(10)


def test_a_venue_rejection_carries_the_venues_reason(venue):
    reason = venue.reject()
    with pytest.raises(OrderRejected, match=reason) as raised:
        venue.broker.submit_order(venue.request())
    assert reason in raised.value.reason
    assert venue.order_count() == 0


def test_a_read_timeout_after_the_venue_took_it_is_found_by_the_engine(venue):
    venue.arm_read_timeout()
    intent = OrderIntent(symbol=venue.symbol, side="buy", qty=venue.qty,
                         asset_class=venue.asset_class, idempotency_key="maybe-sent")  # fmt: skip
    result = venue.engine().execute_intent(intent)
    assert result.status is ExecutionStatus.FILLED, result.message
    assert result.order.client_order_id == result.client_order_id
    assert result.trade is not None and result.trade.qty == venue.qty
    assert venue.order_count() == 1 and venue.lookups() == 1


def test_the_account_snapshot_has_a_currency_and_decimal_cash(venue):
    account = venue.broker.get_account()
    assert account.currency == "USD"
    assert isinstance(account.cash, Decimal) and isinstance(account.buying_power, Decimal)
    assert account.cash > 0
