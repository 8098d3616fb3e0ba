"""The real oandapyV20 client against a fake OANDA v20 API on 127.0.0.1, with faults."""

from __future__ import annotations

import itertools
import json
import time
from decimal import Decimal

import pytest
from oandapyV20.endpoints import orders

from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import OrderIntent, OrderRequest, OrderSide, OrderStatus, OrderType
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.policy import FailMode
from tests.venues.conftest import OANDA_TOKEN
from tools.fakes.http import Fault
from tools.fakes.oanda import ACCOUNT_ID
from venues.oanda import broker as oanda_broker
from venues.oanda.broker import OandaBroker
from venues.oanda.market_data import OandaQuoteSource

TOKEN = OANDA_TOKEN
HANG_S = 1.5
ORDERS = f"/v3/accounts/{ACCOUNT_ID}/orders"
PRICING = f"/v3/accounts/{ACCOUNT_ID}/pricing"


@pytest.fixture
def fake(fake_oanda):
    return fake_oanda


@pytest.fixture
def api(oanda_client):
    return oanda_client


@pytest.fixture
def make_engine(make_oanda_engine):
    return make_oanda_engine


def buy(symbol="EUR/USD", qty=10_000.0, key="fx-1", **kwargs):
    return OrderIntent(symbol=symbol, side="buy", qty=qty, idempotency_key=key, **kwargs)


def test_prices_for_many_pairs_take_one_request(fake, api):
    fake.set_price("GBP_USD", 1.27000, 1.27012)
    fake.prices["USD_TRY"] = None
    source = OandaQuoteSource(api, ACCOUNT_ID)
    quotes = source.latest_quotes(AssetClass.FOREX, ["EUR/USD", "GBP/USD", "USD/TRY"])
    assert fake.price_requests() == 1
    assert (quotes["GBP/USD"].bid, quotes["GBP/USD"].ask) == (Decimal("1.27"), Decimal("1.27012"))
    assert quotes["GBP/USD"].source == "oanda" and quotes["GBP/USD"].as_of.tzinfo is not None
    assert quotes["USD/TRY"] is None
    (request,) = fake.server.requests_to(PRICING)
    assert request.query["instruments"] == ["EUR_USD,GBP_USD,USD_TRY"]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_market_order_fills_and_is_recorded_with_the_venue(fake, make_engine):
    ledger = InMemoryLedgerStore()
    result = make_engine(ledger=ledger).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.FILLED
    assert result.trade.broker == "oanda" and result.routing.venue == "oanda"
    assert result.trade.price == Decimal("1.1001") and result.trade.qty == 10_000
    (sent,) = fake.server.requests_to(ORDERS)
    order = sent.body["order"]
    assert (order["type"], order["units"], order["timeInForce"]) == ("MARKET", "10000", "FOK")
    assert order["clientExtensions"]["id"] == result.client_order_id


def test_a_sell_sends_negative_units(fake, make_engine):
    intent = OrderIntent(symbol="EUR/USD", side="sell", qty=5_000, idempotency_key="s")
    result = make_engine().execute_intent(intent=intent)
    assert result.trade.price == Decimal("1.1")
    assert fake.server.requests_to(ORDERS)[0].body["order"]["units"] == "-5000"


def test_a_rejection_comes_back_with_the_venues_reason(fake, make_engine):
    fake.order_mode = "reject"
    result = make_engine().execute_intent(intent=buy())
    assert result.status is ExecutionStatus.REJECTED
    assert "INSUFFICIENT_MARGIN" in result.message


def test_a_fill_or_kill_that_was_killed_is_rejected_with_the_reason(fake, make_engine):
    fake.order_mode = "cancel"
    result = make_engine().execute_intent(intent=buy())
    assert result.status is ExecutionStatus.REJECTED
    assert "MARKET_HALTED" in result.message and result.trade is None


def test_a_resting_limit_order_is_accepted(fake, make_engine):
    intent = buy(order_type=OrderType.LIMIT, limit_price=1.05)
    result = make_engine().execute_intent(intent=intent)
    assert result.status is ExecutionStatus.ACCEPTED
    body = fake.server.requests_to(ORDERS)[0].body["order"]
    assert (body["type"], body["price"], body["timeInForce"]) == ("LIMIT", "1.05000", "GTC")


@pytest.mark.parametrize(
    "fault",
    [Fault("status", PRICING, status=503), Fault("malformed", PRICING),
     Fault("hang", PRICING, seconds=HANG_S)],
    ids=["503", "malformed", "timeout"],
)  # fmt: skip
@pytest.mark.parametrize("mode", list(FailMode))
def test_a_pricing_failure_follows_the_fail_mode(fake, make_engine, fault, mode):
    """Fail-open skips the cost check, sizing the order at the last price the engine saw;
    with no price at all, nothing is sent."""
    fake.server.inject(fault)
    unpriced = make_engine(mode).execute_intent(intent=buy(key="unpriced"))
    assert "Quote unavailable" in unpriced.routing.reason
    held = ExecutionStatus.REJECTED if mode is FailMode.OPEN else ExecutionStatus.DOWNGRADED
    assert unpriced.status is held
    engine = make_engine(mode)
    assert engine.execute_intent(intent=buy(key="seen")).status is ExecutionStatus.FILLED
    fake.server.inject(fault)
    result = engine.execute_intent(intent=buy())
    assert "Quote unavailable" in result.routing.reason
    expected = ExecutionStatus.FILLED if mode is FailMode.OPEN else ExecutionStatus.DOWNGRADED
    assert result.status is expected


def test_a_crossed_price_is_unavailable(fake, make_engine):
    fake.set_price("EUR_USD", 1.1010, 1.1000)
    result = make_engine(FailMode.CLOSED).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.DOWNGRADED and "crossed" in result.routing.reason


def test_a_429_on_pricing_is_retried(fake, make_engine):
    fake.server.inject(Fault("status", PRICING, status=429, retry_after=0.05))
    result = make_engine(FailMode.CLOSED).execute_intent(intent=buy())
    assert result.status is ExecutionStatus.FILLED and fake.price_requests() == 2


@pytest.mark.parametrize(
    "fault",
    [Fault("status", ORDERS, method="POST", status=500),
     Fault("hang_after", ORDERS, method="POST", seconds=HANG_S)],
    ids=["500-not-placed", "late-reply-placed"],
)  # fmt: skip
def test_an_unclear_submit_is_looked_up_never_doubled(fake, make_engine, fault):
    fake.server.inject(fault)
    result = make_engine().execute_intent(intent=buy())
    assert len(fake.orders) <= 1
    if fault.kind == "hang_after":
        assert result.status is ExecutionStatus.FILLED
    else:
        assert result.status is ExecutionStatus.UNKNOWN
    retry = make_engine().execute_intent(intent=buy())
    assert retry.status is ExecutionStatus.FILLED and len(fake.orders) == 1


def test_a_hung_venue_gives_unknown(fake, make_engine):
    fake.server.inject(Fault("hang", ORDERS, times=2, seconds=HANG_S))
    result = make_engine().execute_intent(intent=buy())
    assert result.status is ExecutionStatus.UNKNOWN and len(fake.orders) <= 1
    time.sleep(HANG_S)
    assert make_engine().execute_intent(intent=buy()).status is ExecutionStatus.FILLED
    assert len(fake.orders) == 1


def test_fractional_units_are_refused_by_the_gate_before_the_call(fake, make_engine):
    result = make_engine().execute_intent(intent=buy(qty=10.5))
    assert result.status is ExecutionStatus.INVALID and "not a multiple" in result.message
    assert fake.server.requests_to(ORDERS) == []


def test_the_account_snapshot(fake, make_engine, api):
    make_engine().execute_intent(intent=buy())
    account = OandaBroker(api, ACCOUNT_ID).get_account()
    assert account.currency == "USD" and account.cash == Decimal(50_000)
    assert account.position_qty("EUR/USD") == Decimal(10_000)


def test_the_token_never_appears_in_logs_or_results(fake, make_engine, capsys):
    fake.server.inject(Fault("status", ORDERS, method="POST", status=401,
                             body={"errorMessage": f"bad token {TOKEN}"}))  # fmt: skip
    result = make_engine().execute_intent(intent=buy())
    assert result.status is ExecutionStatus.REJECTED
    everything = capsys.readouterr().out + json.dumps(result.model_dump(mode="json"))
    assert "[redacted]" in everything and TOKEN not in everything


def rest(broker, key, units=10_000, side=OrderSide.BUY):
    """A limit order OANDA accepts and leaves resting until the test fills or cancels it."""
    order = broker.submit_order(OrderRequest(
        client_order_id=key, symbol="EUR/USD", asset_class=AssetClass.FOREX, side=side,
        qty=units, order_type=OrderType.LIMIT, limit_price=Decimal("1.09"),
    ))  # fmt: skip
    assert order.status is OrderStatus.ACCEPTED and order.filled_qty == 0
    return order


def test_an_order_filled_in_two_parts_reports_the_sum_and_the_weighted_average(fake, api):
    fake.commission, fake.financing = "0.2500", "-0.0400"  # 0.29 a part, as _fees counts it
    broker = OandaBroker(api, ACCOUNT_ID)
    placed = rest(broker, "fx-parts")
    rest(broker, "fx-other", units=500)
    fake.fill("fx-parts", 4_000, "1.08990")
    fake.fill("fx-other", 500, "1.10000")  # another order's fill between the parts
    part = broker.get_order_by_client_id("fx-parts")
    assert part.status is OrderStatus.PARTIALLY_FILLED
    assert (part.filled_qty, part.filled_avg_price, part.fees) == (
        Decimal(4000), Decimal("1.08990"), Decimal("0.2900"))  # fmt: skip
    assert part.limit_price == Decimal("1.09") and part.filled_at is not None

    fake.fill("fx-parts", 6_000, "1.08980")
    order = broker.get_order_by_client_id("fx-parts")
    assert order.status is OrderStatus.FILLED and order.broker_order_id == placed.broker_order_id
    assert order.qty == order.filled_qty == Decimal(10_000)
    assert (
        order.filled_avg_price == (4_000 * Decimal("1.08990") + 6_000 * Decimal("1.08980")) / 10_000
    )
    assert order.filled_avg_price == Decimal("1.08984")
    assert (order.fees, order.fee_currency) == (Decimal("0.5800"), "USD")
    filling = fake.transactions[fake.orders["fx-parts"]["fillingTransactionID"]]
    assert order.filled_at.isoformat().startswith(filling["time"][:19])
    ranges = fake.server.requests_to(f"/v3/accounts/{ACCOUNT_ID}/transactions/idrange")
    assert ranges[-1].query == {"from": [placed.broker_order_id], "to": [filling["id"]],
                                "type": ["ORDER_FILL"]}  # fmt: skip


def test_an_uneven_average_is_the_exact_quotient_of_the_parts(fake, api):
    broker = OandaBroker(api, ACCOUNT_ID)
    rest(broker, "fx-thirds", units=3, side=OrderSide.SELL)
    fake.fill("fx-thirds", 1, "1.09000")
    fake.fill("fx-thirds", 2, "1.09050")
    order = broker.get_order_by_client_id("fx-thirds")
    assert (order.status, order.side, order.filled_qty) == (OrderStatus.FILLED, OrderSide.SELL, 3)
    assert order.filled_avg_price == Decimal("3.27100") / 3
    assert order.fees == 0


def test_a_canceled_order_with_one_part_filled_stays_canceled_with_that_qty(fake, api):
    fake.commission = "0.1000"
    broker = OandaBroker(api, ACCOUNT_ID)
    rest(broker, "fx-cut")
    fake.fill("fx-cut", 2_500, "1.08995")
    api.request(orders.OrderCancel(ACCOUNT_ID, orderID="@fx-cut"))
    assert fake.orders["fx-cut"]["state"] == "CANCELLED"
    order = broker.get_order_by_client_id("fx-cut")
    assert (order.status, order.qty, order.filled_qty) == (
        OrderStatus.CANCELED, Decimal(10_000), Decimal(2_500))  # fmt: skip
    assert (order.filled_avg_price, order.fees) == (Decimal("1.08995"), Decimal("0.1000"))


def test_a_canceled_order_never_filled_reports_nothing_filled(fake, api):
    broker = OandaBroker(api, ACCOUNT_ID)
    rest(broker, "fx-none")
    api.request(orders.OrderCancel(ACCOUNT_ID, orderID="@fx-none"))
    order = broker.get_order_by_client_id("fx-none")
    assert (order.status, order.filled_qty, order.filled_avg_price, order.fees) == (
        OrderStatus.CANCELED, 0, None, None)  # fmt: skip


def test_a_long_history_is_read_in_ranges_and_no_part_is_lost(fake, api, monkeypatch):
    monkeypatch.setattr(oanda_broker, "FILL_RANGE", 3)
    broker = OandaBroker(api, ACCOUNT_ID)
    placed = rest(broker, "fx-long", units=5)
    for n in range(5):
        rest(broker, f"fx-noise-{n}", units=1)
        fake.fill("fx-long", 1, f"1.0{n}")
    order = broker.get_order_by_client_id("fx-long")
    assert (order.status, order.filled_qty) == (OrderStatus.FILLED, 5)
    assert order.filled_avg_price == Decimal("1.02")
    ranges = fake.server.requests_to(f"/v3/accounts/{ACCOUNT_ID}/transactions/idrange")
    spans = [(int(r.query["from"][0]), int(r.query["to"][0])) for r in ranges]
    last = int(fake.orders["fx-long"]["fillingTransactionID"])
    assert spans[0][0] == int(placed.broker_order_id) and spans[-1][1] == last
    assert all(b - a == 2 for a, b in spans[:-1])
    assert all(b + 1 == c for (_, b), (c, _) in itertools.pairwise(spans))
