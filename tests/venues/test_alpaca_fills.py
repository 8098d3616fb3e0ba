"""AlpacaFills through the real alpaca-py client against the fake Alpaca's FILL activities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import VenueUnavailable
from smart_routing.domain.fills import FillPage, VenueFill
from smart_routing.domain.orders import OrderRequest, OrderSide, OrderStatus
from tests.venues.conftest import TIMEOUT_S
from tools.fakes.alpaca import fill_activity
from tools.fakes.http import Fault
from venues.alpaca.fills import AlpacaFills

ACTIVITIES = "/v2/account/activities/FILL"


@pytest.fixture
def fills(alpaca_settings) -> AlpacaFills:
    return AlpacaFills(alpaca_settings, TIMEOUT_S, sleep=lambda _: None)


@pytest.fixture
def place(fake_alpaca, alpaca_broker):
    """An order the venue accepts now and fills only when the test says."""
    fake_alpaca.order_mode = "accept"

    def place(key: str, symbol="AAPL", qty=10, side=OrderSide.BUY, asset_class=None):
        request = OrderRequest(
            client_order_id=key, symbol=symbol, qty=qty, side=side,
            asset_class=asset_class or AssetClass.EQUITY,
        )  # fmt: skip
        order = alpaca_broker.submit_order(request)
        assert order.status is OrderStatus.ACCEPTED and order.filled_qty == 0
        return order

    return place


def add(fake, **changes) -> dict:
    """A FILL activity the test writes itself, in sequence with the fake's own."""
    entry = fill_activity(fake.next_activity_id(), **changes)
    fake.add_activity(entry)
    return entry


def read_all(fills: AlpacaFills, cursor: str | None, limit: int) -> tuple[list[FillPage], str]:
    pages = [fills.fills_since(cursor, limit)]
    while pages[-1].more:
        pages.append(fills.fills_since(pages[-1].cursor, limit))
    return pages, pages[-1].cursor


def test_a_delayed_fill_in_parts_is_read_once_per_part_with_its_cum_qty(
    fake_alpaca, fills, place, alpaca_broker
):
    order = place("late-1", qty=10)
    first = fills.fills_since(None, 50)
    assert first.fills == [] and first.cursor is None and not first.more

    fake_alpaca.fill("late-1", "3", "100.05")
    page = fills.fills_since(first.cursor, 50)
    (part,) = page.fills
    assert part == VenueFill(
        venue="alpaca", fill_id=fake_alpaca.activities[0]["id"],
        broker_order_id=order.broker_order_id, symbol="AAPL", asset_class=AssetClass.EQUITY,
        side=OrderSide.BUY, qty=Decimal(3), price=Decimal("100.05"), cum_qty=Decimal(3),
        filled_at=part.filled_at,
    )  # fmt: skip
    assert part.filled_at.tzinfo is not None and page.cursor == part.fill_id

    fake_alpaca.fill("late-1", "2.5", "100.07")
    fake_alpaca.fill("late-1", "4.5", "100.1")
    later = fills.fills_since(page.cursor, 50)
    assert [(f.qty, f.price, f.cum_qty) for f in later.fills] == [
        (Decimal("2.5"), Decimal("100.07"), Decimal("5.5")),
        (Decimal("4.5"), Decimal("100.1"), Decimal(10)),
    ]
    assert fills.fills_since(later.cursor, 50) == FillPage(fills=[], cursor=later.cursor)
    final = alpaca_broker.get_order_by_client_id("late-1")
    assert final.status is OrderStatus.FILLED and final.filled_qty == 10


def test_paging_with_a_small_limit_loses_and_repeats_no_fill(fake_alpaca, fills, place):
    for n in range(7):
        place(f"page-{n}", qty=2)
        fake_alpaca.fill(f"page-{n}", 1, "100")
        fake_alpaca.fill(f"page-{n}", 1, "101")
    pages, cursor = read_all(fills, None, limit=3)
    read = [f.fill_id for page in pages for f in page.fills]
    assert read == [a["id"] for a in fake_alpaca.activities]
    assert len(read) == 14 and len(set(read)) == 14
    assert [len(p.fills) for p in pages] == [3, 3, 3, 3, 2]
    requests = fake_alpaca.server.requests_to(ACTIVITIES)
    assert requests[0].query == {"direction": ["asc"], "page_size": ["3"]}
    assert requests[1].query["page_token"] == [pages[0].cursor]
    assert fills.fills_since(cursor, 3) == FillPage(fills=[], cursor=cursor)


def test_a_rerun_from_the_last_cursor_returns_nothing_new(fake_alpaca, fills, place):
    place("again", qty=1)
    fake_alpaca.fill("again", 1, "99.5")
    page = fills.fills_since(None, 10)
    assert len(page.fills) == 1
    assert fills.fills_since(page.cursor, 10).fills == []
    fake_alpaca.fill("again", "0.5", "99.4")  # an over-fill is the venue's word, reported
    (extra,) = fills.fills_since(page.cursor, 10).fills
    assert extra.fill_id != page.fills[0].fill_id and extra.cum_qty == Decimal("1.5")


def test_the_default_immediate_fill_is_an_activity_too(fake_alpaca, fills, alpaca_broker):
    request = OrderRequest(client_order_id="now", symbol="AAPL", qty=4, side=OrderSide.SELL,
                           asset_class=AssetClass.EQUITY)  # fmt: skip
    order = alpaca_broker.submit_order(request)
    assert order.status is OrderStatus.FILLED
    (fill,) = fills.fills_since(None, 10).fills
    assert (fill.broker_order_id, fill.side, fill.qty, fill.cum_qty) == (
        order.broker_order_id, OrderSide.SELL, Decimal(4), Decimal(4))  # fmt: skip
    assert fill.price == Decimal("100.0")


@pytest.mark.parametrize("written", ["BTC/USD", "BTCUSD"])
def test_crypto_fills_carry_the_engines_symbol(fake_alpaca, fills, written):
    add(fake_alpaca, symbol=written, qty="0.0125", price="64123.45")
    (fill,) = fills.fills_since(None, 10).fills
    assert (fill.symbol, fill.asset_class) == ("BTC/USD", AssetClass.CRYPTO)
    assert (fill.qty, fill.price) == (Decimal("0.0125"), Decimal("64123.45"))


def test_an_option_fill_and_a_short_sale_are_read(fake_alpaca, fills):
    add(fake_alpaca, symbol="AAPL250117C00150000", side="buy")
    add(fake_alpaca, side="sell_short", order_status=None, type="partial_fill")
    option, short = fills.fills_since(None, 10).fills
    assert (option.symbol, option.asset_class) == ("AAPL250117C00150000", AssetClass.OPTIONS)
    assert (short.symbol, short.side) == ("AAPL", OrderSide.SELL)


def test_a_malformed_activity_is_reported_and_skipped_and_the_cursor_moves_past_it(
    fake_alpaca, fills, place
):
    place("good", qty=2)
    fake_alpaca.fill("good", 1, "100")
    bad_qty = add(fake_alpaca, qty="lots")
    no_price = add(fake_alpaca)
    del no_price["price"]
    float_price = add(fake_alpaca, price=100.1)
    fake_alpaca.fill("good", 1, "100.5")
    page = fills.fills_since(None, 10)
    assert [f.price for f in page.fills] == [Decimal(100), Decimal("100.5")]
    assert len(page.problems) == 3
    for problem, entry, field in zip(
        page.problems, (bad_qty, no_price, float_price), ("qty", "price", "price"), strict=True
    ):
        assert entry["id"] in problem and field in problem
    assert page.cursor == fake_alpaca.activities[-1]["id"]

    add(fake_alpaca, side="sideways")
    last = fills.fills_since(page.cursor, 10)
    assert last.fills == [] and last.cursor == fake_alpaca.activities[-1]["id"]
    assert "side" in last.problems[0]
    assert fills.fills_since(last.cursor, 10) == FillPage(fills=[], cursor=last.cursor)


def test_a_fill_that_raced_a_cancel_is_returned(fake_alpaca, fills, place, alpaca_broker):
    order = place("raced", qty=10)
    fake_alpaca.fill("raced", 4, "100")
    alpaca_broker.client.cancel_order_by_id(order.broker_order_id)
    fake_alpaca.fill("raced", 2, "100.2")  # executed before the cancel took, reported after
    shown = alpaca_broker.get_order_by_client_id("raced")
    assert shown.status is OrderStatus.CANCELED and shown.filled_qty == 6
    page = fills.fills_since(None, 10)
    assert [(f.qty, f.cum_qty) for f in page.fills] == [
        (Decimal(4), Decimal(4)), (Decimal(2), Decimal(6))]  # fmt: skip
    assert {f.broker_order_id for f in page.fills} == {order.broker_order_id}


@pytest.mark.parametrize(
    "fault",
    [Fault("status", ACTIVITIES, status=503), Fault("status", ACTIVITIES, status=401),
     Fault("malformed", ACTIVITIES), Fault("hang", ACTIVITIES, seconds=1.5),
     Fault("status", ACTIVITIES, status=429, times=2, retry_after=0.01)],
    ids=["503", "401", "not-json", "timeout", "429-twice"],
)  # fmt: skip
def test_a_venue_that_cannot_answer_is_unavailable(fake_alpaca, fills, fault):
    fake_alpaca.server.inject(fault)
    with pytest.raises(VenueUnavailable, match="alpaca"):
        fills.fills_since(None, 10)


def test_an_account_that_cannot_be_read_is_unavailable_before_any_activity_is_read(
    fake_alpaca, fills
):
    fake_alpaca.server.inject(Fault("status", "/v2/account", status=500))
    with pytest.raises(VenueUnavailable, match="alpaca"):
        fills.fills_since(None, 10)
    assert fake_alpaca.server.requests_to(ACTIVITIES) == []
    assert fills.fills_since(None, 10).fills == []  # the next run reads


def test_an_unreachable_venue_is_unavailable(alpaca_settings):
    gone = alpaca_settings.model_copy(update={"trading_url": "http://127.0.0.1:9"})
    with pytest.raises(VenueUnavailable):
        AlpacaFills(gone, TIMEOUT_S).fills_since("20250106143000001::x", 10)


def test_one_429_is_waited_out(fake_alpaca, fills, place):
    place("slow", qty=1)
    fake_alpaca.fill("slow", 1, "100")
    fake_alpaca.server.inject(Fault("status", ACTIVITIES, status=429, retry_after=0.01))
    assert len(fills.fills_since(None, 10).fills) == 1
