"""Every order status Alpaca and OANDA document, by what it means for fills: "can still fill" or
"done". Parametrized over the venues' own lists (alpaca-py's OrderStatus, oandapyV20's
OrderState), so a status the adapters do not map fails here. A sell's reservation is freed
only when the venue says the order can fill no more."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alpaca.trading.enums import OrderStatus as AlpacaStatus
from oandapyV20.definitions.orders import definitions as oanda_definitions

from smart_routing.domain.orders import (
    WORKING_STATUSES,
    AccountOwner,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
)
from tools.fakes.oanda import ACCOUNT_ID
from venues.alpaca import broker as alpaca_broker
from venues.oanda import broker as oanda_broker
from venues.oanda.broker import OandaBroker
from venues.recording import RecordingBroker

OWNER = AccountOwner(tenant_id="t", uid="u")

# What each documented status means, from the venues' documentation (not from the adapters).
ALPACA_DONE = {"filled", "canceled", "expired", "replaced", "rejected"}
ALPACA_STATUSES = [s.value for s in AlpacaStatus]
OANDA_DONE = {"FILLED", "CANCELLED"}
OANDA_STATES = list(oanda_definitions["OrderState"])


def test_the_lists_are_the_venues_documented_ones():
    assert {"stopped", "suspended", "done_for_day", "calculated", "held"} <= set(ALPACA_STATUSES)
    assert set(OANDA_STATES) == {"PENDING", "FILLED", "TRIGGERED", "CANCELLED"}


@pytest.mark.parametrize("status", ALPACA_STATUSES)
def test_each_alpaca_status_is_mapped_by_what_it_means_for_fills(status):
    assert (status in alpaca_broker.DONE) != (status in alpaca_broker.CAN_STILL_FILL)
    assert (status in alpaca_broker.CAN_STILL_FILL) == (status not in ALPACA_DONE)


@pytest.mark.parametrize("state", OANDA_STATES)
def test_each_oanda_state_is_mapped_by_what_it_means_for_fills(state):
    assert (state in oanda_broker.DONE) != (state in oanda_broker.CAN_STILL_FILL)
    assert (state in oanda_broker.CAN_STILL_FILL) == (state not in OANDA_DONE)


@pytest.mark.parametrize("status", ALPACA_STATUSES)
def test_an_alpaca_order_in_each_status_reads_back_working_or_done(
    fake_alpaca, alpaca_broker, status
):
    fake_alpaca.order_mode = "accept"
    alpaca_broker.submit_order(request("AAPL", "a-1", OrderSide.BUY))
    fake_alpaca.orders["a-1"]["status"] = status
    order = alpaca_broker.get_order_by_client_id("a-1")
    assert order.venue_status == status
    assert order.is_working == (status not in ALPACA_DONE)
    if status in ALPACA_DONE:
        assert order.status not in WORKING_STATUSES


@pytest.mark.parametrize("status", ALPACA_STATUSES)
def test_an_alpaca_sell_keeps_its_reservation_until_the_venue_says_done(
    fake_alpaca, alpaca_broker, status
):
    """The answer to the submission carries the status; the wrapper frees the reservation
    only for a done one."""
    fake_alpaca.order_mode = "accept"
    fake_alpaca.resting_status = status
    positions = Reservations()
    broker = RecordingBroker(alpaca_broker, Book(), positions)
    order = broker.submit_order(request("AAPL", "s-1", OrderSide.SELL))
    assert order.venue_status == status
    assert positions.reserved == {"s-1"}
    assert positions.released == ({"s-1"} if status in ALPACA_DONE else set())


@pytest.mark.parametrize("state", OANDA_STATES)
def test_an_oanda_order_in_each_state_reads_back_working_or_done(fake_oanda, oanda_client, state):
    broker = OandaBroker(oanda_client, ACCOUNT_ID)
    limit = request("EUR/USD", "o-1", OrderSide.BUY, qty=Decimal(1000), price=Decimal("1.09"))
    broker.submit_order(limit)
    if state == "FILLED":  # a filled order names its fill: the fake makes one
        fake_oanda.fill("o-1", "1000", "1.09")
    fake_oanda.orders["o-1"]["state"] = state
    order = broker.get_order_by_client_id("o-1")
    assert order.venue_status == state
    assert order.is_working == (state not in OANDA_DONE)


def test_a_stopped_alpaca_order_with_a_fill_is_partially_filled_and_working(
    fake_alpaca, alpaca_broker
):
    fake_alpaca.order_mode = "accept"
    alpaca_broker.submit_order(request("AAPL", "a-2", OrderSide.BUY, qty=Decimal(4)))
    fake_alpaca.fill("a-2", "1", "100.02")
    fake_alpaca.orders["a-2"]["status"] = "stopped"
    order = alpaca_broker.get_order_by_client_id("a-2")
    assert (order.status, order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal(1))


def request(symbol, key, side, qty=Decimal(2), price=None):
    return OrderRequest(
        client_order_id=key, owner=OWNER, symbol=symbol,
        asset_class="FOREX" if "/" in symbol else "EQUITY", side=side, qty=qty,
        order_type=OrderType.LIMIT if price else OrderType.MARKET, limit_price=price,
    )  # fmt: skip


class Book:
    def record_submitting(self, owner, request, venue):
        pass

    def record(self, owner, order):
        pass

    def record_unknown(self, owner, request, cause):
        pass


class Reservations:
    """The owner's positions, as far as the wrapper reserves and releases on them."""

    def __init__(self):
        self.reserved, self.released = set(), set()

    def owned(self, owner, venue):
        return {}

    def reserve(self, owner, request, venue):
        self.reserved.add(request.client_order_id)

    def release(self, owner, symbol, client_order_id, keep=Decimal(0)):
        self.released.add(client_order_id)
