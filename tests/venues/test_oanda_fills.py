"""OandaFills through the real oandapyV20 client against the fake OANDA's transactions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from oandapyV20.endpoints import orders

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import VenueUnavailable
from smart_routing.domain.fills import CursorExpired, FillPage, VenueFill
from smart_routing.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType
from tools.fakes.http import Fault
from tools.fakes.oanda import ACCOUNT_ID, FakeOanda, order_fill
from venues.oanda.broker import OandaBroker
from venues.oanda.client import oanda_api
from venues.oanda.fills import OandaFills
from venues.settings import OandaSettings

TOKEN = "oanda-token-0123456789abcdef-0123456789abcdef"
TIMEOUT_S = 0.5
TRANSACTIONS = f"/v3/accounts/{ACCOUNT_ID}/transactions"
SINCE = f"{TRANSACTIONS}/sinceid"


@pytest.fixture
def fake():
    server = FakeOanda().start()
    yield server
    server.server.stop()


@pytest.fixture
def settings(fake) -> OandaSettings:
    logs.register_secret(TOKEN)
    return OandaSettings(access_token=TOKEN, account_id=ACCOUNT_ID, api_url=fake.url)


@pytest.fixture
def fills(settings) -> OandaFills:
    return OandaFills(settings, TIMEOUT_S, sleep=lambda _: None)


@pytest.fixture
def broker(settings) -> OandaBroker:
    return OandaBroker(oanda_api(settings, TIMEOUT_S), ACCOUNT_ID)


@pytest.fixture
def place(broker):
    """A limit order: OANDA accepts it now and fills it only when the test says."""

    def place(key: str, units=10_000, side=OrderSide.BUY, symbol="EUR/USD"):
        request = OrderRequest(
            client_order_id=key, symbol=symbol, asset_class=AssetClass.FOREX, side=side,
            qty=units, order_type=OrderType.LIMIT, limit_price=Decimal("1.09"),
        )  # fmt: skip
        order = broker.submit_order(request)
        assert order.status is OrderStatus.ACCEPTED and order.filled_qty == 0
        return order

    return place


def add(fake, **changes) -> dict:
    """A transaction the test writes itself, in sequence with the fake's own."""
    entry = order_fill(fake.next_transaction_id(), **changes)
    fake.add_transaction(entry)
    return entry


def fill_ids(fake) -> list[str]:
    return [t["id"] for t in fake.transactions.values() if t["type"] == "ORDER_FILL"]


def test_a_delayed_fill_in_parts_is_read_once_per_part(fake, fills, place):
    fake.commission, fake.financing = "0.2500", "-0.0400"
    order = place("fx-late", units=10_000)
    start = fills.fills_since(None, 50)
    assert start.fills == [] and start.problems == [] and not start.more
    assert start.cursor == order.broker_order_id  # the ORDER_CREATE, read and passed over

    fake.fill("fx-late", 4_000, "1.08990")
    page = fills.fills_since(start.cursor, 50)
    (part,) = page.fills
    assert part == VenueFill(
        venue="oanda", fill_id=fill_ids(fake)[0], broker_order_id=order.broker_order_id,
        client_order_id="fx-late", symbol="EUR/USD", asset_class=AssetClass.FOREX,
        side=OrderSide.BUY, qty=Decimal(4000), price=Decimal("1.08990"),
        fees=Decimal("0.2900"), fee_currency="USD", filled_at=part.filled_at,
    )  # fmt: skip
    assert part.filled_at.tzinfo is not None and page.cursor == part.fill_id

    fake.fill("fx-late", 6_000, "1.08980")
    later = fills.fills_since(page.cursor, 50)
    assert [(f.qty, f.price) for f in later.fills] == [(Decimal(6000), Decimal("1.08980"))]
    assert fills.fills_since(later.cursor, 50) == FillPage(fills=[], cursor=later.cursor)
    assert fake.orders["fx-late"]["state"] == "FILLED"


def test_a_sell_is_negative_units(fake, fills, place):
    place("fx-sell", units=5_000, side=OrderSide.SELL)
    fake.fill("fx-sell", 5_000, "1.10100")
    (fill,) = fills.fills_since(None, 10).fills
    assert (fill.side, fill.qty, fill.client_order_id) == (OrderSide.SELL, 5000, "fx-sell")


def test_paging_with_a_small_limit_loses_and_repeats_no_fill(fake, fills, place):
    for n in range(5):
        place(f"fx-{n}", units=3)
        for _ in range(3):
            fake.fill(f"fx-{n}", 1, "1.09")
    pages = [fills.fills_since(None, 4)]
    while pages[-1].more:
        pages.append(fills.fills_since(pages[-1].cursor, 4))
    read = [f.fill_id for page in pages for f in page.fills]
    assert read == fill_ids(fake) and len(read) == 15 and len(set(read)) == 15
    assert len(pages) == 5  # 20 transactions (5 creates, 15 fills), 4 to a page
    assert pages[-1].cursor == fake.last_transaction_id
    assert fills.fills_since(pages[-1].cursor, 4) == FillPage(fills=[], cursor=pages[-1].cursor)
    (first,) = fake.server.requests_to(f"{TRANSACTIONS}/idrange")
    assert (first.query["from"], first.query["to"]) == (["6000"], ["6003"])
    assert [r.query["id"] for r in fake.server.requests_to(SINCE)][:2] == [["6003"], ["6007"]]


def test_a_rerun_from_the_last_cursor_returns_nothing_new(fake, fills, place):
    place("fx-again", units=2)
    fake.fill("fx-again", 2, "1.09")
    page = fills.fills_since(None, 10)
    assert len(page.fills) == 1
    assert fills.fills_since(page.cursor, 10) == FillPage(fills=[], cursor=page.cursor)
    assert fills.fills_since(page.cursor, 10) == FillPage(fills=[], cursor=page.cursor)


def test_the_default_immediate_market_fill_is_read(fake, fills, broker):
    request = OrderRequest(client_order_id="fx-now", symbol="USD/JPY", qty=1000,
                           asset_class=AssetClass.FOREX, side=OrderSide.BUY)  # fmt: skip
    order = broker.submit_order(request)
    assert order.status is OrderStatus.FILLED
    (fill,) = fills.fills_since(None, 10).fills
    assert (fill.broker_order_id, fill.symbol, fill.qty) == (order.broker_order_id, "USD/JPY", 1000)
    assert fill.price == order.filled_avg_price and fill.fees == 0


def test_other_transaction_types_are_passed_over_silently(fake, fills, place):
    place("fx-gone", units=10)
    fake.cancel("fx-gone")
    page = fills.fills_since(None, 10)
    assert page.fills == [] and page.problems == []
    assert page.cursor == fake.last_transaction_id


def test_a_malformed_transaction_is_reported_and_skipped_and_the_cursor_moves_past_it(
    fake, fills, place
):
    place("fx-ok", units=2)
    fake.fill("fx-ok", 1, "1.09")
    bad_units = add(fake, units="many")
    no_order = add(fake)
    del no_order["orderID"]
    zero = add(fake, units="0")
    cfd = add(fake, instrument="DE30_EUR")
    untyped = add(fake)
    del untyped["type"]
    fake.fill("fx-ok", 1, "1.0905")
    page = fills.fills_since(None, 20)
    assert [f.price for f in page.fills] == [Decimal("1.09"), Decimal("1.0905")]
    bad = (bad_units, no_order, zero, cfd, untyped)
    assert len(page.problems) == len(bad)
    for problem, entry, what in zip(
        page.problems, bad, ("units", "orderID", "qty", "DE30", "type"), strict=True
    ):
        assert f"transaction {entry['id']} " in problem and what in problem
    assert page.cursor == fake.last_transaction_id

    add(fake, price=None, fullVWAP=None)
    last = fills.fills_since(page.cursor, 20)
    assert last.fills == [] and "price" in last.problems[0]
    assert last.cursor == fake.last_transaction_id
    assert fills.fills_since(last.cursor, 20).problems == []


def test_a_fill_that_raced_a_cancel_is_returned(fake, fills, place, settings):
    order = place("fx-raced", units=10)
    fake.fill("fx-raced", 4, "1.09")
    oanda_api(settings, TIMEOUT_S).request(orders.OrderCancel(ACCOUNT_ID, orderID="@fx-raced"))
    fake.fill("fx-raced", 2, "1.0899")  # executed before the cancel took, reported after
    assert fake.orders["fx-raced"]["state"] == "CANCELLED"
    page = fills.fills_since(None, 10)
    assert [(f.qty, f.broker_order_id) for f in page.fills] == [
        (4, order.broker_order_id), (2, order.broker_order_id)]  # fmt: skip
    assert page.problems == []


def test_a_purged_cursor_raises_cursor_expired(fake, fills, place):
    place("fx-old", units=2)
    fake.fill("fx-old", 2, "1.09")
    cursor = fills.fills_since(None, 10).cursor
    for n in range(3):
        place(f"fx-new-{n}", units=1)
    fake.purge(str(int(cursor) + 2))
    with pytest.raises(CursorExpired, match=cursor):
        fills.fills_since(cursor, 10)
    assert len(fills.fills_since(str(int(cursor) + 2), 10).fills) == 0  # the kept history reads
    restart = fills.fills_since(None, 10)  # from the oldest kept
    assert restart.cursor == fake.last_transaction_id and restart.problems == []


def test_an_account_with_no_history_kept_reads_nothing(fake, fills):
    assert fills.fills_since(None, 10) == FillPage(fills=[], cursor=None)


@pytest.mark.parametrize(
    "fault",
    [Fault("status", SINCE, status=503), Fault("status", SINCE, status=401),
     Fault("malformed", SINCE), Fault("hang", SINCE, seconds=1.5),
     Fault("status", SINCE, status=429, times=2)],
    ids=["503", "401", "not-json", "timeout", "429-twice"],
)  # fmt: skip
def test_a_venue_that_cannot_answer_is_unavailable(fake, fills, fault):
    fake.server.inject(fault)
    with pytest.raises(VenueUnavailable, match="oanda"):
        fills.fills_since("6000", 10)


def test_an_account_that_cannot_be_read_is_unavailable(fake, fills):
    fake.server.inject(Fault("status", f"/v3/accounts/{ACCOUNT_ID}/summary", status=500))
    with pytest.raises(VenueUnavailable, match="oanda"):
        fills.fills_since("6000", 10)
    assert fake.server.requests_to(SINCE) == []


def test_an_unreachable_venue_is_unavailable(settings):
    gone = settings.model_copy(update={"api_url": "http://127.0.0.1:9"})
    with pytest.raises(VenueUnavailable):
        OandaFills(gone, TIMEOUT_S).fills_since("6000", 10)


def test_one_429_is_waited_out(fake, fills, place):
    place("fx-slow", units=1)
    fake.fill("fx-slow", 1, "1.09")
    fake.server.inject(Fault("status", SINCE, status=429))
    assert len(fills.fills_since("6000", 10).fills) == 1
