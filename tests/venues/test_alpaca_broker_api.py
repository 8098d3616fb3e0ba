"""Alpaca's Broker API (one account per end user) against the loopback fake: the fake's answers
read by alpaca-py's broker models, orders per account, the checks before sending, and fills
from the Activity SSE in bounded windows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alpaca.broker.client import BrokerClient
from alpaca.broker.models import Account

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderRejected
from smart_routing.domain.orders import AccountOwner, OrderRequest, OrderSide, OrderStatus
from tools.fakes.alpaca_broker import FakeAlpacaBroker
from venues.alpaca.activity_fills import AlpacaActivityFills, ulid_time
from venues.alpaca.broker_api import AccountNotLinked, AlpacaBrokerApi, has_crypto_agreement
from venues.alpaca.ulid import is_ulid, last_ulid_at, ulid_at
from venues.settings import AlpacaBrokerSettings, load_venue_settings

ALICE = AccountOwner(tenant_id="t1", uid="alice")
BOB = AccountOwner(tenant_id="t1", uid="bob")


class Links:
    """The admin's links, in memory (Firestore's are tested on the emulators)."""

    def __init__(self) -> None:
        self.by_owner: dict[AccountOwner, str] = {}
        self.orders: dict[str, AccountOwner] = {}

    def account_of(self, owner: AccountOwner) -> str | None:
        return self.by_owner.get(owner)

    def account_of_order(self, client_order_id: str) -> str | None:
        owner = self.orders.get(client_order_id)
        return None if owner is None else self.account_of(owner)


@pytest.fixture
def fake():
    server = FakeAlpacaBroker(keys=("CKBROKER01", "broker-secret")).start()
    yield server
    server.server.stop()


@pytest.fixture
def settings(fake) -> AlpacaBrokerSettings:
    return AlpacaBrokerSettings(api_key="CKBROKER01", secret_key="broker-secret", url=fake.url)


def order(owner: AccountOwner, client_order_id: str, symbol: str = "AAPL", qty: str = "2",
          side: OrderSide = OrderSide.BUY) -> OrderRequest:  # fmt: skip
    asset_class = AssetClass.CRYPTO if "/" in symbol else AssetClass.EQUITY
    return OrderRequest(client_order_id=client_order_id, owner=owner, symbol=symbol,
                        asset_class=asset_class, side=side, qty=Decimal(qty))  # fmt: skip


def test_the_fake_answers_in_the_broker_api_shapes(fake):
    active, inactive = fake.add_account(), fake.add_account(status="ACTION_REQUIRED", crypto=False)
    client = BrokerClient("CKBROKER01", "broker-secret", url_override=fake.url)
    read = client.get_account_by_id(active)
    assert isinstance(read, Account) and read.status.value == "ACTIVE"
    assert has_crypto_agreement(read)
    other = client.get_account_by_id(inactive)
    assert other.status.value == "ACTION_REQUIRED" and not has_crypto_agreement(other)
    assert client.get_trade_account_by_id(active).cash == "50000.0"
    assert client.get_all_positions_for_account(active) == []


def test_orders_go_to_the_owners_own_account(fake, settings):
    links = Links()
    alice_account, bob_account = fake.add_account(), fake.add_account()
    links.by_owner.update({ALICE: alice_account, BOB: bob_account})
    broker = AlpacaBrokerApi(settings, 2.0, links)
    placed = broker.submit_order(order(ALICE, "a-1"))
    assert placed.status is OrderStatus.FILLED and placed.filled_qty == 2
    assert fake.order_accounts["a-1"] == alice_account
    links.orders["a-1"] = ALICE
    assert broker.get_order_by_client_id("a-1").broker_order_id == placed.broker_order_id
    assert broker.get_account(AssetClass.EQUITY, ALICE).positions["AAPL"].qty == 2
    assert broker.get_account(AssetClass.EQUITY, BOB).positions == {}
    # The same client_order_id again is the order Alpaca has: no second order.
    assert broker.submit_order(order(ALICE, "a-1")).broker_order_id == placed.broker_order_id
    assert len(fake.orders) == 1


def test_an_unlinked_user_sends_nothing(fake, settings):
    broker = AlpacaBrokerApi(settings, 2.0, Links())
    with pytest.raises(AccountNotLinked, match="no Alpaca account linked"):
        broker.submit_order(order(ALICE, "a-1"))
    assert fake.server.requests_to("/v1/trading") == []


def test_an_inactive_account_or_a_crypto_order_without_the_agreement_is_refused_before_sending(
    fake, settings
):
    links = Links()
    links.by_owner[ALICE] = account = fake.add_account(crypto=False)
    broker = AlpacaBrokerApi(settings, 2.0, links)
    with pytest.raises(OrderRejected, match="has not signed the crypto agreement"):
        broker.submit_order(order(ALICE, "c-1", symbol="BTC/USD", qty="0.1"))
    fake.set_status(account, "ACCOUNT_CLOSED")
    with pytest.raises(OrderRejected, match="is ACCOUNT_CLOSED, not ACTIVE"):
        broker.submit_order(order(ALICE, "e-1"))
    assert fake.orders == {}


def test_fills_come_from_the_activity_stream_once_in_bounded_windows(fake, settings):
    links = Links()
    links.by_owner.update({ALICE: fake.add_account(), BOB: fake.add_account()})
    broker = AlpacaBrokerApi(settings, 2.0, links)
    moment = [datetime.now(UTC)]
    fake.clock = lambda: moment[0]
    fake.order_mode = "accept"
    broker.submit_order(order(ALICE, "a-1", qty="10"))
    broker.submit_order(order(BOB, "b-1", qty="3"))
    fake.fill("a-1", "4", "100.5")
    fake.fill("b-1", "3", "99")
    fake.add_event({**fake.events[0], "event_id": fake.next_event_id(),
                    "activity_type": "DIV", "ref_id": str(uuid.uuid4())})  # fmt: skip
    moment[0] += timedelta(seconds=10)  # the reader runs once the window has settled
    source = AlpacaActivityFills(settings, 2.0, now=lambda: moment[0])
    page = source.fills_since(None, 100)
    assert [(f.client_order_id, f.qty, f.price) for f in page.fills] == [
        ("a-1", Decimal("4"), Decimal("100.5")), ("b-1", Decimal("3"), Decimal("99"))]  # fmt: skip
    assert page.fills[0].fill_id == fake.events[0]["ref_id"] and page.problems == []
    assert is_ulid(page.cursor) and ulid_time(page.cursor) <= moment[0]
    request = fake.server.requests_to("/v2beta1/events/activities")[-1]
    assert {"since", "until"} <= request.query.keys()
    # The next window starts at the cursor: what was read is not read again.
    fake.fill("a-1", "6", "101")  # published after the first window ended
    moment[0] += timedelta(seconds=10)
    second = source.fills_since(page.cursor, 100)
    assert [(f.client_order_id, f.qty, f.cum_qty) for f in second.fills] == [
        ("a-1", Decimal("6"), Decimal("10"))]  # fmt: skip
    request = fake.server.requests_to("/v2beta1/events/activities")[-1]
    assert request.query["since_id"] == [page.cursor]
    assert source.fills_since(second.cursor, 100).fills == []


def test_a_run_reads_at_most_limit_fills_and_resumes_after_the_last_one(fake, settings):
    links = Links()
    links.by_owner[ALICE] = fake.add_account()
    broker = AlpacaBrokerApi(settings, 2.0, links)
    fake.order_mode = "accept"
    broker.submit_order(order(ALICE, "a-1", qty="3"))
    for _ in range(3):
        fake.fill("a-1", "1", "100")
    source = AlpacaActivityFills(
        settings, 2.0, now=lambda: datetime.now(UTC) + timedelta(seconds=10)
    )
    first = source.fills_since(None, 2)
    assert len(first.fills) == 2 and first.more and first.cursor == fake.events[1]["event_id"]
    rest = source.fills_since(first.cursor, 2)
    assert [f.fill_id for f in rest.fills] == [fake.events[2]["ref_id"]]


def test_corrections_and_malformed_events_are_reported_not_applied(fake, settings):
    account = fake.add_account()
    now = datetime.now(UTC)
    base = {"account_id": account, "activity_type": "TRD", "status": "executed",
            "at": now.isoformat(), "executed_at": now.isoformat(), "settle_date": "2026-01-05",
            "qty": "1", "price": "10", "currency": "USD",
            "details": {"order_id": str(uuid.uuid4()), "symbol": "AAPL", "side": "buy",
                        "execution_type": "trade_bust"}}  # fmt: skip
    fake.add_event({**base, "event_id": ulid_at(now), "ref_id": "bust-1"})
    a_fill = {**base["details"], "execution_type": "fill"}
    fake.add_event({**base, "event_id": ulid_at(now + timedelta(milliseconds=1)),
                    "ref_id": "bad-1", "qty": 1.5, "details": a_fill})  # fmt: skip
    source = AlpacaActivityFills(settings, 2.0, now=lambda: now + timedelta(seconds=10))
    page = source.fills_since(None, 10)
    assert page.fills == []
    assert "bust-1 is a trade_bust" in page.problems[0] and "bad-1 skipped" in page.problems[1]


def test_broker_mode_needs_its_keys_and_no_others():
    data = {"ALPACA_API_KEY": "AK1", "ALPACA_SECRET_KEY": "s1"}
    assert load_venue_settings(data).alpaca_broker is None
    broker = {"EXEC_ALPACA_API": "broker", "ALPACA_BROKER_API_KEY": "CK1",
              "ALPACA_BROKER_SECRET_KEY": "s2"}  # fmt: skip
    assert load_venue_settings({**data, **broker}).alpaca_broker.api_key == "CK1"
    with pytest.raises(ValueError, match="needs ALPACA_BROKER_API_KEY"):
        load_venue_settings({**data, "EXEC_ALPACA_API": "broker"})
    # Market data and listings come through the broker keys too.
    assert load_venue_settings(broker).alpaca.api_key == "CK1"
    with pytest.raises(ValueError, match="must be trading or broker"):
        load_venue_settings({**data, "EXEC_ALPACA_API": "both"})


def test_ulids_sort_as_their_times():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert ulid_at(now) < last_ulid_at(now) < ulid_at(now + timedelta(milliseconds=1))
    assert ulid_time(last_ulid_at(now)) == now


def test_an_unclear_outcome_is_unknown_and_found_again_by_client_order_id(fake, settings):
    from smart_routing.domain.errors import OrderOutcomeUnknown
    from tools.fakes.http import Fault

    links = Links()
    links.by_owner[ALICE] = fake.add_account()
    broker = AlpacaBrokerApi(settings, 0.5, links)
    # Alpaca takes the order but answers too late: the outcome is unknown, never resent.
    fake.server.inject(Fault("hang_after", path="/v1/trading/accounts/", method="POST",
                             seconds=1.0))  # fmt: skip
    with pytest.raises(OrderOutcomeUnknown):
        broker.submit_order(order(ALICE, "late-1"))
    assert len(fake.orders) == 1
    links.orders["late-1"] = ALICE
    assert broker.get_order_by_client_id("late-1").status is OrderStatus.FILLED
    fake.server.inject(Fault("status", path="/v1/trading/accounts/", method="POST", status=503))
    with pytest.raises(OrderOutcomeUnknown, match="alpaca 503"):
        broker.submit_order(order(ALICE, "five-1"))


def test_the_stream_is_read_with_the_broker_keys(fake, settings):
    from smart_routing.domain.errors import VenueUnavailable

    wrong = settings.model_copy(update={"secret_key": "not-the-secret"})
    with pytest.raises(VenueUnavailable, match="HTTP 401"):
        AlpacaActivityFills(wrong, 2.0).fills_since(None, 10)
    assert AlpacaActivityFills(settings, 2.0).fills_since(None, 10).fills == []
