"""The limit fallback through the real oandapyV20 and alpaca-py clients against the fakes: a
GTD order at OANDA that the venue ends at its gtdTime, and the cancel of each venue, which
changes nothing the second time or once the order has ended."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from smart_routing.adapters.clock import SystemClock
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import OrderIntent, OrderRequest, OrderStatus, OrderType
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.limit_fallback import WideSpreadAction
from tests.venues.conftest import engine_on
from tools.fakes.http import Fault
from tools.fakes.oanda import ACCOUNT_ID, FakeOanda
from venues.instrument_specs import CachedInstruments
from venues.oanda.broker import OandaBroker
from venues.oanda.client import oanda_api
from venues.oanda.formats import gtd_time
from venues.oanda.instruments import OandaInstruments
from venues.oanda.market_data import OandaQuoteSource
from venues.quote_sources import VenueMarketData
from venues.settings import OandaSettings

ORDERS = f"/v3/accounts/{ACCOUNT_ID}/orders"


@pytest.fixture
def oanda():
    fake = FakeOanda().start()
    yield fake
    fake.server.stop()


@pytest.fixture
def oanda_broker(oanda):
    settings = OandaSettings(access_token="oanda-token-limit-0001", account_id=ACCOUNT_ID,
                             api_url=oanda.url)  # fmt: skip
    api = oanda_api(settings, timeout_s=0.5)
    clock = SystemClock()
    instruments = CachedInstruments(OandaInstruments(api, ACCOUNT_ID), clock, ttl_s=0.0)
    broker = OandaBroker(api, ACCOUNT_ID, instruments)
    market_data = VenueMarketData(
        {AssetClass.FOREX: OandaQuoteSource(api, ACCOUNT_ID)}, clock, ttl_s=0.0
    )
    engine = engine_on(broker, market_data, instruments, clock)
    engine.wide_spread_action, engine.limit_ttl_s = WideSpreadAction.LIMIT, 30
    return broker, engine


def test_an_oanda_fallback_is_a_gtd_order_the_venue_ends_at_its_time(oanda, oanda_broker):
    broker, engine = oanda_broker
    oanda.set_price("EUR_USD", 1.10000, 1.10233)  # 0.21%: above 0.10%; mid 1.101165
    intent = OrderIntent(symbol="EUR/USD", side="buy", qty=10_000, idempotency_key="gtd")
    result = engine.execute_intent(intent)
    assert result.status is ExecutionStatus.ACCEPTED and result.routing.fallback == "limit"
    order = result.order
    assert order.limit_price == Decimal("1.10116") and order.fallback == "limit"
    body = oanda.server.requests_to(ORDERS)[0].body["order"]
    assert (body["type"], body["price"], body["timeInForce"]) == ("LIMIT", "1.10116", "GTD")
    assert body["gtdTime"] == gtd_time(order.expires_at)
    assert order.expires_at - result.routing.quote.as_of < timedelta(seconds=31)

    coid = result.client_order_id
    oanda.fill(coid, 4_000, "1.10116")  # part of it fills while it rests
    assert broker.get_order_by_client_id(coid).status is OrderStatus.PARTIALLY_FILLED
    oanda.set_time(order.expires_at - timedelta(seconds=1))
    assert broker.get_order_by_client_id(coid).status is OrderStatus.PARTIALLY_FILLED
    oanda.set_time(order.expires_at)  # OANDA cancels it: TIME_IN_FORCE_EXPIRED
    ended = broker.get_order_by_client_id(coid)
    assert (ended.status, ended.filled_qty) == (OrderStatus.CANCELED, 4_000)
    cancel = oanda.transactions[oanda.orders[coid]["cancellingTransactionID"]]
    assert cancel["reason"] == "TIME_IN_FORCE_EXPIRED"

    # Canceling what OANDA already ended changes nothing (OANDA answers 404: not pending).
    assert broker.cancel_order(coid, AssetClass.FOREX) == ended
    assert [t["type"] for t in oanda.transactions.values()].count("ORDER_CANCEL") == 1


def test_oanda_refuses_a_gtd_time_in_the_past(oanda, oanda_broker):
    broker, _ = oanda_broker
    request = OrderRequest(
        client_order_id="late", symbol="EUR/USD", asset_class=AssetClass.FOREX, side="buy",
        qty=1_000, order_type=OrderType.LIMIT, limit_price=Decimal("1.1"),
        expires_at=SystemClock().now() - timedelta(seconds=1),
    )  # fmt: skip
    with pytest.raises(Exception, match="TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST"):
        broker.submit_order(request)


def test_an_oanda_cancel_ends_a_pending_order_once(oanda, oanda_broker):
    broker, _ = oanda_broker
    broker.submit_order(OrderRequest(
        client_order_id="c-once", symbol="EUR/USD", asset_class=AssetClass.FOREX, side="sell",
        qty=2_000, order_type=OrderType.LIMIT, limit_price=Decimal("1.2"),
    ))  # fmt: skip
    first = broker.cancel_order("c-once", AssetClass.FOREX)
    assert first.status is OrderStatus.CANCELED
    assert broker.cancel_order("c-once", AssetClass.FOREX) == first
    cancels = [t for t in oanda.transactions.values() if t["type"] == "ORDER_CANCEL"]
    assert len(cancels) == 1
    assert broker.cancel_order("never-placed", AssetClass.FOREX) is None


def test_an_alpaca_cancel_ends_a_working_order_once_and_leaves_a_filled_one(
    fake_alpaca, alpaca_broker
):
    fake_alpaca.order_mode = "accept"
    alpaca_broker.submit_order(OrderRequest(
        client_order_id="a-rest", symbol="AAPL", asset_class=AssetClass.EQUITY, side="buy",
        qty=5, order_type=OrderType.LIMIT, limit_price=Decimal("99.50"),
    ))  # fmt: skip
    fake_alpaca.fill("a-rest", "2", "99.50")
    first = alpaca_broker.cancel_order("a-rest", AssetClass.EQUITY)
    assert (first.status, first.filled_qty) == (OrderStatus.CANCELED, 2)
    assert alpaca_broker.cancel_order("a-rest", AssetClass.EQUITY) == first  # not asked again
    deletes = [r for r in fake_alpaca.server.requests_to("/v2/orders/") if r.method == "DELETE"]
    assert len(deletes) == 1

    # It filled between the lookup and the cancel: Alpaca's 422 leaves it as Alpaca has it.
    alpaca_broker.submit_order(OrderRequest(
        client_order_id="a-race", symbol="AAPL", asset_class=AssetClass.EQUITY, side="buy",
        qty=1, order_type=OrderType.LIMIT, limit_price=Decimal("99.50"),
    ))  # fmt: skip
    fake_alpaca.server.inject(
        Fault(
            "status",
            "/v2/orders/",
            method="DELETE",
            status=422,
            body={"code": 42210000, "message": "order is not cancelable"},
        )
    )
    still = alpaca_broker.cancel_order("a-race", AssetClass.EQUITY)
    assert still.status is OrderStatus.ACCEPTED and still.client_order_id == "a-race"

    fake_alpaca.order_mode = "fill"
    filled = alpaca_broker.submit_order(OrderRequest(
        client_order_id="a-done", symbol="AAPL", asset_class=AssetClass.EQUITY, side="buy", qty=1,
    ))  # fmt: skip
    assert alpaca_broker.cancel_order("a-done", AssetClass.EQUITY) == filled
    assert alpaca_broker.cancel_order("never-placed", AssetClass.EQUITY) is None
