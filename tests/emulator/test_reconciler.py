"""The reconciler on the emulators: working paper orders fill in parts on later runs, each part
its own ledger trade, through the deployed scheduled function and the order trigger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountOwner, OrderRequest
from smart_routing.portfolio.positions import HeldPosition
from smart_routing_firebase.stores.orders import FirestoreOrderBook
from smart_routing_firebase.stores.paper_account import FirestorePaperAccounts
from smart_routing_firebase.stores.venue_positions import VenuePositions, venue_position_document
from tests.emulator.conftest import wait_for
from tools.emulator_client import call, run_scheduled

BUY_F = {"strategy_id": "manual", "symbol": "F", "side": "buy", "qty": 250}  # the touch shows 100


def trades_of(db, tenant_id, client_order_id):
    query = db.collection(f"tenants/{tenant_id}/ledger_trades").where(
        filter=FieldFilter("client_order_id", "==", client_order_id)
    )
    return {doc.id: doc.to_dict() for doc in query.stream()}


def test_an_order_larger_than_the_touch_completes_on_later_reconciler_runs(
    db, make_user, tenant_id
):
    user = make_user(tenant_id)
    result = call("execute_strategy", {**BUY_F, "idempotency_key": "parts"}, user.id_token).result
    assert result["status"] == "partially_filled", result
    assert result["order"]["filled_qty"] == 100
    coid = result["order"]["client_order_id"]
    order_ref = db.document(f"tenants/{tenant_id}/orders/{coid}")

    def filled():
        response = run_scheduled("reconcile_venues")
        assert response.status_code == 200, response.text
        return order_ref.get().to_dict()["status"] == "filled"

    wait_for(filled, timeout_s=60, interval_s=0)
    trades = trades_of(db, tenant_id, coid)
    assert sum(Decimal(str(t["qty"])) for t in trades.values()) == 250
    assert trades[coid]["qty"] == 100  # what the submission filled, under the order's id
    assert all(t["qty"] <= 100 for t in trades.values()) and len(trades) == 3
    assert all(t["price"] == 12.00 and t["strategy_id"] == "manual" for t in trades.values())
    # Every part is measured against the quote the decision saw (mid 11.995).
    assert all(t["arrival_mid"] == 11.995 for t in trades.values())
    assert {t["realized_slippage_pct"] for t in trades.values()} == {
        float((Decimal("0.005") / Decimal("11.995")).quantize(Decimal("1e-10")))
    }
    stored = order_ref.get().to_dict()
    assert (stored["filled_qty"], stored["filled_avg_price"]) == (250, 12.00)
    held = FirestorePaperAccounts(db, Decimal(100_000)).account(
        AccountOwner(tenant_id=tenant_id, uid=user.uid)
    )
    assert held.positions["F"].qty == 250
    assert held.cash == Decimal(100_000) - Decimal("3000.00")

    # A rerun adds nothing: the order no longer works.
    assert run_scheduled("reconcile_venues").status_code == 200
    assert trades_of(db, tenant_id, coid).keys() == trades.keys()


def test_orders_that_filled_at_once_get_nothing_more_from_the_reconciler(db, make_user, tenant_id):
    user = make_user(tenant_id)
    bought = call("execute_strategy", {**BUY_F, "qty": 100}, user.id_token).result
    assert bought["status"] == "filled"
    sold = call("execute_strategy", {**BUY_F, "side": "sell", "qty": 100}, user.id_token).result
    assert sold["status"] == "filled"
    assert run_scheduled("reconcile_venues").status_code == 200
    trades = db.collection(f"tenants/{tenant_id}/ledger_trades").stream()
    assert sorted(t.to_dict()["side"] for t in trades) == ["buy", "sell"]


def test_an_unknown_order_the_venue_never_shows_ends_not_placed_and_frees_its_reservation(
    db, tenant_id
):
    """A sell whose submission timed out holds its qty; after an hour of runs that find no
    such order at the venue, it was never placed: the hold goes, the order says why."""
    owner = AccountOwner(tenant_id=tenant_id, uid="unknown-seller")
    held = HeldPosition(symbol="AAPL", asset_class=AssetClass.EQUITY, currency="USD",
                        qty=Decimal(5), avg_cost=Decimal(100))  # fmt: skip
    position = db.document(f"users/{owner.uid}/portfolio/positions/symbols/AAPL")
    position.set(venue_position_document(tenant_id, "alpaca", held))
    sell = OrderRequest(client_order_id=f"never-placed-{tenant_id}", owner=owner, symbol="AAPL",
                        asset_class=AssetClass.EQUITY, side="sell", qty=Decimal(3))  # fmt: skip
    VenuePositions(db).reserve(owner, sell, "alpaca")
    FirestoreOrderBook(db).record_unknown(owner, sell, "timed out")
    order = db.document(f"tenants/{tenant_id}/orders/{sell.client_order_id}")
    since = order.get().to_dict()["unknown_since"]

    for minutes, status, reserved in [(30, "unknown", 3), (61, "not_placed", 0),
                                      (120, "not_placed", 0)]:  # fmt: skip
        response = run_scheduled("reconcile_venues", since + timedelta(minutes=minutes))
        assert response.status_code == 200, response.text
        stored = order.get().to_dict()
        assert stored["status"] == status, (minutes, stored)
        assert position.get().to_dict()["reserved"] == reserved, minutes
    assert "never placed" in stored["reject_reason"]
    assert position.get().to_dict()["qty"] == 5
