"""A new working order is reconciled by itself, with the venue calls for that order only: the
deployed reconcile_new_order trigger on the Alpaca fake through alpaca-py (its requests
counted), and the same reconciler in-process for what the trigger cannot be timed to see (a
fill, a cancel that the venue shows by the time it asks)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from smart_routing.adapters.clock import SystemClock
from smart_routing.config.engine_config import EngineConfig
from smart_routing.gate.fees import FeeSchedule
from smart_routing_firebase.reconciliation.one_order import OrderReconciler
from smart_routing_firebase.stores.orders import FirestoreOrderBook
from smart_routing_firebase.stores.paper_account import FirestorePaperAccounts
from smart_routing_firebase.stores.venue_positions import VenuePositions
from tests.emulator_venues.conftest import KEYS, LOG_PATH
from tools.emulator_client import call, new_user
from tools.emulator_logs import wait_for_log
from venues.settings import load_venue_settings
from venues.wiring import build_venues

LOOKUP = "/v2/orders:by_client_order_id"


def working_at_alpaca(alpaca, qty=5):
    """A manual buy the fake accepts and leaves working; once its trigger has run."""
    alpaca.order_mode = "accept"
    try:
        tenant = f"one-{uuid.uuid4().hex[:8]}"
        data = {"strategy_id": "manual", "symbol": "MSFT", "side": "buy", "qty": qty}
        result = call("execute_strategy", data, new_user(tenant).id_token).result
    finally:
        alpaca.order_mode = "fill"
    assert result["status"] == "accepted", result
    return tenant, result["order"]["client_order_id"]


def trigger_done(client_order_id):
    return wait_for_log(LOG_PATH, "exec.reconcile_summary", scope="order",
                        client_order_id=client_order_id)  # fmt: skip


def lookups(requests):
    return [r.query.get("client_order_id") for r in requests if r.path.startswith(LOOKUP)]


def test_a_new_working_orders_trigger_asks_the_venue_for_that_order_only(db, fakes):
    alpaca, oanda = fakes
    _, earlier = working_at_alpaca(alpaca)  # another working order in the book
    trigger_done(earlier)
    alpaca_from, oanda_from = len(alpaca.server.requests), len(oanda.server.requests)

    _, coid = working_at_alpaca(alpaca)
    summary = trigger_done(coid)

    assert summary["alpaca.unchanged"] == 1
    window = alpaca.server.requests[alpaca_from:]
    assert lookups(window) == [[coid]]  # not the earlier order's, nor anyone else's
    assert not [r for r in window if r.path.startswith("/v2/account/activities")]
    # (The rest of the window is the callable's own: account, positions, quote, the order.)
    assert oanda.server.requests[oanda_from:] == []


def order_reconciler(db, alpaca, oanda) -> OrderReconciler:
    urls = {"ALPACA_TRADING_URL": alpaca.url, "ALPACA_DATA_URL": alpaca.url,
            "OANDA_API_URL": oanda.url}  # fmt: skip
    settings = load_venue_settings({**KEYS, **urls})
    accounts = FirestorePaperAccounts(db, Decimal(100_000))
    venues = build_venues(settings, EngineConfig(), SystemClock(), accounts,
                          FirestoreOrderBook(db), VenuePositions(db))  # fmt: skip
    return OrderReconciler(db, venues.broker, venues.paper, accounts, venues.fill_sources,
                           venues.instruments, FeeSchedule())  # fmt: skip


def test_one_order_reconciled_records_its_fill_or_its_cancel(db, fakes):
    alpaca, oanda = fakes
    reconciler = order_reconciler(db, alpaca, oanda)

    tenant, coid = working_at_alpaca(alpaca, qty=4)
    trigger_done(coid)
    fill = alpaca.fill(coid, "4", "410.10")
    start = len(alpaca.server.requests)
    tally = reconciler.reconcile(tenant, coid, datetime.now(UTC))
    assert lookups(alpaca.server.requests[start:]).count([coid]) == 1
    trade = db.document(f"tenants/{tenant}/ledger_trades/alpaca-{fill['id']}").get()
    assert (trade.get("qty"), trade.get("price")) == (4, 410.1)
    order = db.document(f"tenants/{tenant}/orders/{coid}").get()
    assert (order.get("status"), order.get("filled_qty")) == ("filled", 4)
    # The account's fill feed may hold other orders' fills not yet read: recorded with it.
    assert tally["alpaca.unchanged"] == 1 and tally["alpaca.recorded"] >= 1, tally

    assert reconciler.reconcile(tenant, coid, datetime.now(UTC)) == {"not_working": 1}

    tenant, coid = working_at_alpaca(alpaca)
    trigger_done(coid)
    alpaca.cancel(coid)
    start = len(alpaca.server.requests)
    assert reconciler.reconcile(tenant, coid, datetime.now(UTC)) == {"alpaca.now_canceled": 1}
    assert lookups(alpaca.server.requests[start:]) == [[coid]]
    assert len(alpaca.server.requests) == start + 1
    assert db.document(f"tenants/{tenant}/orders/{coid}").get().get("status") == "canceled"
