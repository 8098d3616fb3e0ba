"""Real venues' orders are recorded in the order book, also when their outcome was unclear."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from smart_routing.domain.errors import OrderOutcomeUnknown
from smart_routing.domain.orders import AccountOwner, Order, OrderRequest, OrderStatus
from venues.recording import RecordingBroker

OWNER = AccountOwner(tenant_id="t", uid="u")
NOW = datetime(2026, 1, 5, 15, tzinfo=UTC)


class Book:
    def __init__(self):
        self.recorded, self.unknown = [], []

    def record(self, owner, order):
        self.recorded.append((owner, order.client_order_id, order.status))

    def record_unknown(self, owner, request, cause):
        self.unknown.append((owner, request.client_order_id, cause))


class Venue:
    """A collaborator answering as told: the wrapper is what is tested."""

    name = "alpaca"

    def __init__(self, outcome):
        self.outcome, self.orders = outcome, {}

    def submit_order(self, request):
        order = order_of(request.client_order_id, OrderStatus.ACCEPTED)
        self.orders[request.client_order_id] = order
        if self.outcome == "timeout":
            raise OrderOutcomeUnknown("read timed out")
        return order

    def get_order_by_client_id(self, client_order_id):
        return self.orders.get(client_order_id)


def order_of(client_order_id, status):
    return Order(
        broker="alpaca", broker_order_id="a-1", client_order_id=client_order_id,
        symbol="AAPL", asset_class="EQUITY", side="buy", qty=Decimal(1),
        order_type="market", status=status, submitted_at=NOW,
    )  # fmt: skip


def request(key="c1", owner=OWNER):
    return OrderRequest(client_order_id=key, owner=owner, symbol="AAPL",
                        asset_class="EQUITY", side="buy", qty=Decimal(1))  # fmt: skip


def test_an_order_the_venue_takes_is_recorded_for_its_owner():
    book = Book()
    RecordingBroker(Venue("ok"), book).submit_order(request())
    assert book.recorded == [(OWNER, "c1", OrderStatus.ACCEPTED)] and book.unknown == []


def test_an_unclear_outcome_is_recorded_unknown_then_what_the_lookup_finds():
    book = Book()
    broker = RecordingBroker(Venue("timeout"), book)
    with pytest.raises(OrderOutcomeUnknown):
        broker.submit_order(request())
    assert [(owner, key) for owner, key, _ in book.unknown] == [(OWNER, "c1")]
    assert broker.get_order_by_client_id("c1").client_order_id == "c1"
    assert book.recorded == [(OWNER, "c1", OrderStatus.ACCEPTED)]
