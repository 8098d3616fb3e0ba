"""Nothing lost between venue and ledger: the order's document exists (`submitting`) before the
venue is called, so when the Firestore write after the venue took the order fails, the
reconciler (through the functions emulator) finds the order by client_order_id and the fill
reaches the ledger exactly once. The submissions run in-process on the real alpaca-py and
oandapyV20 clients against the fakes, with the real Firestore stores; the fault is a store
whose write raises."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from smart_routing.adapters.clock import SystemClock
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountOwner, OrderIntent, OrderRequest, OrderType
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.gate.router import SmartRouter
from smart_routing_firebase.stores.ledger import FirestoreLedgerStore
from smart_routing_firebase.stores.orders import FirestoreOrderBook
from smart_routing_firebase.stores.venue_positions import VenuePositions
from tests.emulator_venues.conftest import KEYS
from tools.emulator_client import run_scheduled
from tools.fakes.alpaca import equity_asset
from venues.alpaca.broker import AlpacaBroker
from venues.alpaca.instruments import AlpacaInstruments
from venues.alpaca.market_data import AlpacaQuoteSource
from venues.instrument_specs import CachedInstruments
from venues.oanda.broker import OandaBroker
from venues.oanda.client import oanda_api
from venues.quote_sources import VenueMarketData
from venues.recording import RecordingBroker
from venues.settings import AlpacaSettings, OandaSettings


class FailingOrderWrites(FirestoreOrderBook):
    """The order book whose write after the venue's answer fails (Firestore unavailable)."""

    def record(self, owner, order):
        raise ConnectionError("firestore unavailable")


class FailingLedger(FirestoreLedgerStore):
    def append(self, trade):
        raise ConnectionError("firestore unavailable")


def reconcile(at=None):
    response = run_scheduled("reconcile_venues", at)
    assert response.status_code == 200, response.text


def ledger(db, tenant_id):
    return {d.id: d.to_dict() for d in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()}


def order_doc(db, tenant_id, client_order_id):
    return db.document(f"tenants/{tenant_id}/orders/{client_order_id}").get().to_dict()


def alpaca_engine(db, alpaca, ledger_store):
    settings = AlpacaSettings(api_key=KEYS["ALPACA_API_KEY"], secret_key=KEYS["ALPACA_SECRET_KEY"],
                              trading_url=alpaca.url, data_url=alpaca.url)  # fmt: skip
    clock = SystemClock()
    instruments = CachedInstruments(AlpacaInstruments(settings, 2), clock, ttl_s=0.0)
    broker = RecordingBroker(
        AlpacaBroker(settings, 2), FailingOrderWrites(db), VenuePositions(db), instruments
    )
    return ExecutionEngine(
        broker=broker,
        market_data=VenueMarketData({AssetClass.EQUITY: AlpacaQuoteSource(settings, 2)}, clock, 0),
        instruments=instruments,
        ledger=ledger_store,
        router=SmartRouter(RoutingPolicy(), enabled=True),
        clock=clock,
    )


def a_buy(alpaca, tenant):
    symbol = "L" + "".join(chr(65 + b % 26) for b in uuid.uuid4().bytes[:3])
    alpaca.assets[symbol] = equity_asset(symbol)
    alpaca.set_quote(symbol, 100.00, 100.02)
    return OrderIntent(symbol=symbol, side="buy", qty=2, tenant_id=tenant, uid="trader-1",
                       idempotency_key=uuid.uuid4().hex)  # fmt: skip


def test_the_order_write_fails_after_the_fill_and_the_fill_is_in_the_ledger_once(db, fakes):
    alpaca, _ = fakes
    tenant = f"lost-{uuid.uuid4().hex[:8]}"
    result = alpaca_engine(db, alpaca, FirestoreLedgerStore(db)).execute_intent(
        a_buy(alpaca, tenant)
    )
    assert result.status is ExecutionStatus.FILLED, result.message
    coid = result.client_order_id
    left = order_doc(db, tenant, coid)
    assert left["status"] == "submitting" and left["recorded_qty"] == 2
    reconcile()
    reconcile()
    trades = ledger(db, tenant)
    assert list(trades) == [coid] and trades[coid]["qty"] == 2
    resolved = order_doc(db, tenant, coid)
    assert (
        resolved["status"] == "filled" and resolved["broker_order_id"] == alpaca.order(coid)["id"]
    )
    assert resolved["recorded_qty"] == 2


def test_the_order_and_ledger_writes_fail_and_the_reconciler_records_the_fill_once(db, fakes):
    alpaca, _ = fakes
    tenant = f"lost-{uuid.uuid4().hex[:8]}"
    result = alpaca_engine(db, alpaca, FailingLedger(db)).execute_intent(a_buy(alpaca, tenant))
    assert result.status is ExecutionStatus.FILLED and "ledger write failed" in result.message
    coid = result.client_order_id
    assert order_doc(db, tenant, coid)["status"] == "submitting" and ledger(db, tenant) == {}
    reconcile()
    reconcile()
    trades = ledger(db, tenant)
    (activity,) = [a for a in alpaca.activities if a.get("order_id") == alpaca.order(coid)["id"]]
    assert list(trades) == [f"alpaca-{activity['id']}"]
    assert trades[f"alpaca-{activity['id']}"]["qty"] == 2
    assert trades[f"alpaca-{activity['id']}"]["client_order_id"] == coid
    resolved = order_doc(db, tenant, coid)
    assert (resolved["status"], resolved["recorded_qty"]) == ("filled", 2)


def test_an_oanda_order_whose_write_failed_gets_its_later_fill_once(db, fakes):
    _, oanda = fakes
    tenant = f"lost-{uuid.uuid4().hex[:8]}"
    owner = AccountOwner(tenant_id=tenant, uid="trader-1")
    settings = OandaSettings(access_token=KEYS["OANDA_ACCESS_TOKEN"],
                             account_id=KEYS["OANDA_ACCOUNT_ID"], api_url=oanda.url)  # fmt: skip
    broker = RecordingBroker(
        OandaBroker(oanda_api(settings, 2), settings.account_id), FailingOrderWrites(db)
    )
    coid = f"sr-{uuid.uuid4().hex[:20]}"
    placed = broker.submit_order(
        OrderRequest(client_order_id=coid, owner=owner, symbol="EUR/USD",
                     asset_class=AssetClass.FOREX, side="buy", qty=10_000,
                     order_type=OrderType.LIMIT, limit_price=Decimal("1.08")),
    )  # fmt: skip
    assert placed.status.value == "accepted"
    assert order_doc(db, tenant, coid)["status"] == "submitting"
    fill = oanda.fill(coid, "10000", "1.07990")
    reconcile()
    reconcile()
    trades = ledger(db, tenant)
    assert (
        list(trades) == [f"oanda-{fill['id']}"] and trades[f"oanda-{fill['id']}"]["qty"] == 10_000
    )
    assert order_doc(db, tenant, coid)["status"] == "filled"


def test_an_order_the_venue_never_took_ends_not_placed_and_is_listed_for_the_admin(db, fakes):
    """Recorded `submitting`, then the instance died before the venue was called: an hour on,
    the reconciler ends it, logs it at ERROR and lists it under the tenant."""
    tenant = f"lost-{uuid.uuid4().hex[:8]}"
    owner = AccountOwner(tenant_id=tenant, uid="trader-1")
    coid = f"sr-{uuid.uuid4().hex[:20]}"
    request = OrderRequest(client_order_id=coid, owner=owner, symbol="AAPL",
                           asset_class=AssetClass.EQUITY, side="buy", qty=1)  # fmt: skip
    FirestoreOrderBook(db).record_submitting(owner, request, "alpaca")
    reconcile()
    assert order_doc(db, tenant, coid)["status"] == "submitting"
    reconcile(datetime.now(UTC) + timedelta(hours=2))
    ended = order_doc(db, tenant, coid)
    assert ended["status"] == "not_placed" and "never placed" in ended["reject_reason"]
    issue = db.document(f"tenants/{tenant}/execution_issues/not_placed-{coid}").get().to_dict()
    assert (issue["kind"], issue["client_order_id"], issue["uid"]) == ("not_placed", coid,
                                                                        "trader-1")  # fmt: skip
    assert issue["symbol"] == "AAPL" and issue["venue"] == "alpaca"
