"""Real venues' orders are recorded in the order book, also when their outcome was unclear."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from smart_routing import logs
from smart_routing.domain.errors import OrderOutcomeUnknown, OrderRejected, VenueUnavailable
from smart_routing.domain.orders import AccountOwner, Order, OrderRequest, OrderStatus
from venues.recording import RecordingBroker

OWNER = AccountOwner(tenant_id="t", uid="u")
NOW = datetime(2026, 1, 5, 15, tzinfo=UTC)


class Book:
    """The order book's writes, in order; `failing` names those that raise (Firestore down)."""

    def __init__(self, failing=()):
        self.recorded, self.unknown, self.writes, self.failing = [], [], [], set(failing)

    def _write(self, kind, *what):
        if kind in self.failing:
            raise ConnectionError(f"{kind} failed")
        self.writes.append((kind, *what))

    def record_submitting(self, owner, request, venue):
        self._write("submitting", request.client_order_id, venue)

    def record_refused(self, owner, request, reason):
        self._write("refused", request.client_order_id, reason)

    def discard_submitting(self, owner, client_order_id):
        self._write("discarded", client_order_id)

    def record(self, owner, order):
        self._write("record", order.client_order_id)
        self.recorded.append((owner, order.client_order_id, order.status))

    def record_unknown(self, owner, request, cause):
        self._write("unknown", request.client_order_id)
        self.unknown.append((owner, request.client_order_id, cause))


class Venue:
    """A collaborator answering as told: the wrapper is what is tested."""

    name = "alpaca"

    def __init__(self, outcome, book=None):
        self.outcome, self.orders, self.book = outcome, {}, book
        self.book_when_called = None

    def submit_order(self, request):
        if self.book is not None:
            self.book_when_called = list(self.book.writes)
        if self.outcome == "reject":
            raise OrderRejected("insufficient buying power")
        if self.outcome == "unreachable":
            raise VenueUnavailable("connection refused")
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


def test_the_order_is_recorded_submitting_before_the_venue_is_called():
    book = Book()
    venue = Venue("ok", book)
    RecordingBroker(venue, book).submit_order(request())
    assert venue.book_when_called == [("submitting", "c1", "alpaca")]
    assert book.writes[-1] == ("record", "c1")


def test_nothing_is_sent_when_the_submitting_record_cannot_be_written():
    book = Book(failing={"submitting"})
    venue = Venue("ok", book)
    with pytest.raises(VenueUnavailable, match="could not be recorded before sending"):
        RecordingBroker(venue, book).submit_order(request())
    assert venue.orders == {} and venue.book_when_called is None


def test_a_write_that_fails_after_the_venue_took_the_order_leaves_it_submitting(capsys):
    """The outcome stands (the venue has the order), the failure is logged at ERROR, and the
    `submitting` document is what the reconciler resolves by client_order_id."""
    book = Book(failing={"record"})
    order = RecordingBroker(Venue("ok", book), book).submit_order(request())
    assert order.status is OrderStatus.ACCEPTED
    assert book.writes == [("submitting", "c1", "alpaca")]
    (line,) = [logs_line for logs_line in capsys.readouterr().out.splitlines()
               if logs.LogEvent.ORDER_RECORD_FAILED.value in logs_line]  # fmt: skip
    assert '"severity":"ERROR"' in line and '"client_order_id":"c1"' in line


def test_a_refusal_is_recorded_with_its_reason():
    book = Book()
    with pytest.raises(OrderRejected):
        RecordingBroker(Venue("reject", book), book).submit_order(request())
    assert book.writes[-1] == ("refused", "c1", "insufficient buying power")


def test_an_order_that_never_reached_the_venue_leaves_no_document():
    book = Book()
    with pytest.raises(VenueUnavailable):
        RecordingBroker(Venue("unreachable", book), book).submit_order(request())
    assert book.writes[-1] == ("discarded", "c1")
