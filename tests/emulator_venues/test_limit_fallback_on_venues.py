"""The limit fallback end to end on the emulators, through the real alpaca-py and oandapyV20
clients against the fakes: the callable answers `accepted` with the limit; part of it fills;
the time to live passes (the reconciler's clock is the scheduled tick's time, the fake
OANDA's its own); the order ends canceled, and a fill that raced the cancel is still
recorded. The expiry task is enqueued once per order, however often it is asked."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from smart_routing_firebase.reconciliation.limit_expiry import (
    ALREADY_ENQUEUED,
    NOT_NEEDED,
    TASK_RUNS,
    schedule_expiry,
    task_id_for,
)
from tests.emulator.conftest import wait_for
from tests.emulator_venues.conftest import LIMIT_TTL_S
from tools.emulator_client import call, new_user, run_scheduled


def ledger(db, tenant_id):
    return {d.id: d.to_dict() for d in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()}


def reconcile(at: datetime | None = None):
    response = run_scheduled("reconcile_venues", at)
    assert response.status_code == 200, response.text


def fallback(symbol, qty):
    tenant = f"lim-{uuid.uuid4().hex[:8]}"
    data = {"strategy_id": "manual", "symbol": symbol, "side": "buy", "qty": qty}
    outcome = call("execute_strategy", data, new_user(tenant).id_token)
    assert outcome.http_status == 200, outcome.error
    return tenant, outcome.result


def order_doc(db, tenant, coid):
    return db.document(f"tenants/{tenant}/orders/{coid}").get().to_dict()


def assert_fallback_answer(result, limit):
    assert result["status"] == "accepted", result
    routing, order = result["routing"], result["order"]
    assert (routing["fallback"], routing["cost_check"], routing["limit_price"]) == (
        "limit", "exceeded", limit)  # fmt: skip
    assert (order["order_type"], order["limit_price"], order["fallback"]) == (
        "limit", limit, "limit")  # fmt: skip
    assert order["status"] == "accepted" and order["filled_qty"] == 0
    assert order["client_order_id"] and order["broker_order_id"]


def assert_recorded_fallback(db, tenant, coid):
    """The order document says it is a fallback limit and when it expires: arrival + TTL."""
    stored = order_doc(db, tenant, coid)
    assert stored["fallback"] == "limit" and stored["order_type"] == "limit"
    decided_at = datetime.fromisoformat(stored["arrival"]["decided_at"])
    assert stored["expires_at"] - decided_at == timedelta(seconds=LIMIT_TTL_S)
    return stored


def test_an_alpaca_fallback_fills_in_part_is_canceled_at_its_ttl_and_a_raced_fill_lands(db, fakes):
    alpaca, _ = fakes
    alpaca.set_quote("NVDA", 100.00, 100.25)  # 0.25%: above the 0.10% threshold
    alpaca.order_mode = "accept"  # the limit rests
    try:
        tenant, result = fallback("NVDA", 5)
    finally:
        alpaca.order_mode = "fill"
    assert_fallback_answer(result, 100.12)
    coid = result["order"]["client_order_id"]
    assert Decimal(str(alpaca.orders[coid]["limit_price"])) == Decimal("100.12")
    assert alpaca.orders[coid]["type"] == "limit"
    stored = assert_recorded_fallback(db, tenant, coid)
    expires_at = stored["expires_at"]

    part = alpaca.fill(coid, "2", "100.12")
    reconcile(expires_at - timedelta(seconds=5))  # before its time: it works on
    assert alpaca.orders[coid]["status"] == "partially_filled"
    assert order_doc(db, tenant, coid)["status"] == "partially_filled"

    reconcile(expires_at + timedelta(seconds=1))  # the tick after its time to live
    assert alpaca.orders[coid]["status"] == "canceled"
    ended = order_doc(db, tenant, coid)
    assert (ended["status"], ended["filled_qty"]) == ("canceled", 2)

    raced = alpaca.fill(coid, "1", "100.12")  # filled at the venue as the cancel went out
    reconcile(expires_at + timedelta(seconds=61))
    trades = ledger(db, tenant)
    assert set(trades) == {f"alpaca-{part['id']}", f"alpaca-{raced['id']}"}
    assert sum(Decimal(str(t["qty"])) for t in trades.values()) == 3
    assert {t["price"] for t in trades.values()} == {100.12}
    ended = order_doc(db, tenant, coid)
    assert (ended["status"], ended["filled_qty"]) == ("canceled", 3)
    cancels = alpaca.server.requests_to(f"/v2/orders/{result['order']['broker_order_id']}")
    assert [r.method for r in cancels] == ["DELETE"]  # once: the later run saw it ended


def test_an_oanda_fallback_is_gtd_and_ends_at_the_venue_with_its_fills_recorded(db, fakes):
    _, oanda = fakes
    oanda.set_price("EUR_USD", 1.10000, 1.10233)  # 0.21%: above the 0.10% threshold
    try:
        tenant, result = fallback("EUR/USD", 10_000)
    finally:
        oanda.set_price("EUR_USD", 1.10000, 1.10010)
    assert_fallback_answer(result, 1.10116)
    coid = result["order"]["client_order_id"]
    sent = oanda.orders[coid]
    assert (sent["timeInForce"], sent["price"]) == ("GTD", "1.10116")
    stored = assert_recorded_fallback(db, tenant, coid)
    expires_at = stored["expires_at"]
    assert datetime.fromisoformat(sent["gtdTime"].replace("Z", "+00:00")) == expires_at

    part = oanda.fill(coid, 4_000, "1.10116")
    try:
        oanda.set_time(expires_at)  # OANDA ends it: TIME_IN_FORCE_EXPIRED
        raced = oanda.fill(coid, 1_000, "1.10116")
        reconcile(expires_at + timedelta(seconds=1))
    finally:
        oanda.clock = None
    assert oanda.orders[coid]["state"] == "CANCELLED"
    trades = ledger(db, tenant)
    assert set(trades) == {f"oanda-{part['id']}", f"oanda-{raced['id']}"}
    ended = order_doc(db, tenant, coid)
    assert (ended["status"], ended["filled_qty"]) == ("canceled", 5_000)
    # OANDA ends its own GTD orders: no expiry task for them.
    assert schedule_expiry(ended) == NOT_NEEDED
    assert not db.document(f"{TASK_RUNS}/{task_id_for(tenant, coid)}").get().exists


def test_the_expiry_task_is_enqueued_once_per_order(db, fakes):
    alpaca, _ = fakes
    alpaca.set_quote("AMD", 100.00, 100.25)
    alpaca.order_mode = "accept"
    try:
        tenant, result = fallback("AMD", 1)
    finally:
        alpaca.order_mode = "fill"
    coid = result["order"]["client_order_id"]
    runs = db.document(f"{TASK_RUNS}/{task_id_for(tenant, coid)}")
    # The order trigger enqueued it; the emulator runs a delayed task at once, before the
    # order is due, so it changes nothing.
    first = wait_for(lambda: runs.get().to_dict(), timeout_s=60)
    assert (first["runs"], first["last_outcome"]) == (1, "not_due")
    assert order_doc(db, tenant, coid)["status"] == "accepted"

    # A redelivered trigger asks again: the task id is taken, nothing more is enqueued.
    assert schedule_expiry(order_doc(db, tenant, coid)) == ALREADY_ENQUEUED
    time.sleep(3)  # the emulator dispatches queued tasks every second
    assert runs.get().to_dict()["runs"] == 1
    assert alpaca.orders[coid]["status"] == "accepted"
