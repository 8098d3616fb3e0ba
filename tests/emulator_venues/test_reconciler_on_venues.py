"""The reconciler, run through the functions emulator, over the real alpaca-py and oandapyV20
clients against the fakes: fills that arrive after the submission, in parts, after a cancel,
for no known order, malformed, or past a purged cursor; each recorded once, nothing lost."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountOwner, OrderRequest, OrderType
from smart_routing_firebase.stores.orders import FirestoreOrderBook
from tests.emulator_venues.conftest import KEYS
from tools.emulator_client import call, new_user, run_scheduled
from tools.fakes.alpaca import fill_activity
from tools.fakes.oanda import order_fill
from venues.oanda.broker import OandaBroker
from venues.oanda.client import oanda_api
from venues.recording import RecordingBroker
from venues.settings import OandaSettings


def ledger(db, tenant_id):
    return {d.id: d.to_dict() for d in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()}


def reconcile():
    response = run_scheduled("reconcile_venues")
    assert response.status_code == 200, response.text


def accepted_at_alpaca(alpaca, symbol="MSFT", qty=5, mode="accept"):
    alpaca.order_mode = mode
    try:
        tenant = f"rec-{uuid.uuid4().hex[:8]}"
        data = {"strategy_id": "manual", "symbol": symbol, "side": "buy", "qty": qty}
        result = call("execute_strategy", data, new_user(tenant).id_token).result
    finally:
        alpaca.order_mode = "fill"
    return tenant, result


def test_an_alpaca_order_filled_later_in_parts_gets_one_trade_per_fill(db, fakes):
    alpaca, _ = fakes
    tenant, result = accepted_at_alpaca(alpaca)
    assert result["status"] == "accepted"
    coid = result["order"]["client_order_id"]
    first = alpaca.fill(coid, "3", "410.10")
    second = alpaca.fill(coid, "2", "410.20")
    reconcile()
    trades = ledger(db, tenant)
    assert set(trades) == {f"alpaca-{first['id']}", f"alpaca-{second['id']}"}
    assert sorted((t["qty"], t["price"]) for t in trades.values()) == [(2, 410.2), (3, 410.1)]
    assert {t["client_order_id"] for t in trades.values()} == {coid}
    order = db.document(f"tenants/{tenant}/orders/{coid}").get().to_dict()
    assert order["status"] == "filled" and order["filled_qty"] == 5
    assert Decimal(str(order["filled_avg_price"])) == Decimal("410.14")

    reconcile()  # a rerun over the same fills adds nothing
    assert ledger(db, tenant).keys() == trades.keys()


def test_what_the_submission_recorded_is_not_recorded_again(db, fakes):
    alpaca, _ = fakes
    tenant, result = accepted_at_alpaca(alpaca, qty=4, mode="partial")
    assert result["status"] == "partially_filled" and result["trade_id"]
    coid = result["order"]["client_order_id"]
    rest = alpaca.fill(coid, "2", "410.30")
    reconcile()
    trades = ledger(db, tenant)
    # The first half is held once: by the submission's trade, or (when the reconciler, run
    # right after the order was recorded, got there first) by its venue fill's own trade.
    assert f"alpaca-{rest['id']}" in trades and len(trades) == 2
    assert sum(t["qty"] for t in trades.values()) == 4


def test_a_fill_that_races_the_cancel_is_recorded_and_the_order_stays_canceled(db, fakes):
    alpaca, _ = fakes
    tenant, result = accepted_at_alpaca(alpaca, qty=3)
    coid = result["order"]["client_order_id"]
    alpaca.cancel(coid)
    raced = alpaca.fill(coid, "1", "410.00")
    reconcile()
    assert set(ledger(db, tenant)) == {f"alpaca-{raced['id']}"}
    order = db.document(f"tenants/{tenant}/orders/{coid}").get().to_dict()
    assert order["status"] == "canceled" and order["filled_qty"] == 1


def test_unknown_and_malformed_fills_are_held_or_reported_and_later_fills_still_land(db, fakes):
    alpaca, _ = fakes
    stranger = fill_activity(alpaca.next_activity_id(), order_id=str(uuid.uuid4()))
    alpaca.add_activity(stranger)
    alpaca.add_activity(fill_activity(alpaca.next_activity_id(), qty="lots"))
    tenant, result = accepted_at_alpaca(alpaca, qty=1)
    after = alpaca.fill(result["order"]["client_order_id"], "1", "410.00")
    reconcile()
    assert set(ledger(db, tenant)) == {f"alpaca-{after['id']}"}
    held = db.document(f"reconciliation/alpaca/unmatched_fills/{stranger['id']}").get()
    assert held.exists and held.to_dict()["kind"] == "unmatched"


def test_oanda_fills_in_parts_and_past_a_purged_cursor_are_recorded_once(db, fakes):
    _, oanda = fakes
    tenant = f"rec-{uuid.uuid4().hex[:8]}"
    owner = AccountOwner(tenant_id=tenant, uid="trader-1")
    settings = OandaSettings(access_token=KEYS["OANDA_ACCESS_TOKEN"],
                             account_id=KEYS["OANDA_ACCOUNT_ID"], api_url=oanda.url)  # fmt: skip
    broker = RecordingBroker(
        OandaBroker(oanda_api(settings, 2), settings.account_id), FirestoreOrderBook(db)
    )
    coid = f"sr-{uuid.uuid4().hex[:20]}"
    placed = broker.submit_order(
        OrderRequest(client_order_id=coid, owner=owner, symbol="EUR/USD",
                     asset_class=AssetClass.FOREX, side="buy", qty=10_000,
                     order_type=OrderType.LIMIT, limit_price=Decimal("1.08")),
    )  # fmt: skip
    assert placed.status.value == "accepted"
    first = oanda.fill(coid, "4000", "1.07990")
    reconcile()
    second = oanda.fill(coid, "6000", "1.07980")
    oanda.purge(first["id"])  # the cursor now points into history OANDA no longer keeps
    reconcile()
    trades = ledger(db, tenant)
    assert set(trades) == {f"oanda-{first['id']}", f"oanda-{second['id']}"}
    assert sorted(t["qty"] for t in trades.values()) == [4000, 6000]
    order = db.document(f"tenants/{tenant}/orders/{coid}").get().to_dict()
    assert order["status"] == "filled" and order["filled_qty"] == 10_000
    stray = order_fill(oanda.next_transaction_id(), orderID="999999", clientOrderID="nobody")
    oanda.add_transaction(stray)
    reconcile()
    assert ledger(db, tenant).keys() == trades.keys()


def test_a_reconciler_that_dies_before_moving_its_cursor_is_finished_by_the_next_run(db, fakes):
    from smart_routing.adapters.builtin_instruments import BuiltinInstruments
    from smart_routing.gate.fees import FeeSchedule
    from smart_routing_firebase.reconciliation.venue_fills import VenueReconciler
    from venues.alpaca.fills import AlpacaFills
    from venues.settings import AlpacaSettings

    alpaca, _ = fakes
    tenant, result = accepted_at_alpaca(alpaca, qty=6)
    coid = result["order"]["client_order_id"]
    fills = [alpaca.fill(coid, "2", price) for price in ("410.01", "410.02", "410.03")]
    settings = AlpacaSettings(api_key=KEYS["ALPACA_API_KEY"], secret_key=KEYS["ALPACA_SECRET_KEY"],
                              trading_url=alpaca.url, data_url=alpaca.url)  # fmt: skip

    class DiesAtTheCursor(VenueReconciler):
        """Writes the page's trades, then dies before the cursor moves."""

        def _record_page(self, page, known, tally):
            super()._record_page(page, known, tally)
            raise RuntimeError("instance killed")

    dying = DiesAtTheCursor(db, AlpacaFills(settings), BuiltinInstruments(), FeeSchedule())
    with pytest.raises(RuntimeError, match="instance killed"):
        dying.run()
    reconcile()  # the deployed function reads the page again and finds it recorded
    assert set(ledger(db, tenant)) == {f"alpaca-{fill['id']}" for fill in fills}
    order = db.document(f"tenants/{tenant}/orders/{coid}").get().to_dict()
    assert order["filled_qty"] == 6 and order["recorded_qty"] == 6
