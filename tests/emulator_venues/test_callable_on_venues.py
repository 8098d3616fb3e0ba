from __future__ import annotations

import uuid

from smart_routing.domain.orders import client_order_id_for
from tests.emulator_venues.conftest import KEYS, LOG_PATH
from tools.emulator_client import call, new_user, run_scheduled
from tools.fakes.http import Fault

VENUE_TIMEOUT_S = 2  # EXEC_VENUE_TIMEOUT_S in conftest.py


def ledger(db, tenant_id):
    return {d.id: d.to_dict() for d in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()}


def test_an_equity_order_goes_to_alpaca_through_the_callable(db, fakes):
    alpaca, _ = fakes
    tenant = f"venues-{uuid.uuid4().hex[:8]}"
    user = new_user(tenant)
    data = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 3,
            "idempotency_key": "e2e-1"}  # fmt: skip
    result = call("execute_strategy", data, user.id_token).result
    assert result["status"] == "filled", result
    assert result["routing"]["venue"] == "alpaca" and result["order"]["broker"] == "alpaca"
    assert result["quote"]["source"] == "alpaca:iex"
    assert list(alpaca.orders) == [result["trade_id"]]
    stored = ledger(db, tenant)[result["trade_id"]]
    assert stored["broker"] == "alpaca" and stored["price"] == 100.02
    order = db.document(f"tenants/{tenant}/orders/{result['trade_id']}").get().to_dict()
    assert (order["status"], order["broker"], order["uid"]) == ("filled", "alpaca", user.uid)
    assert order["broker_order_id"] == result["order"]["broker_order_id"]
    sent = alpaca.server.requests_to("/v2/orders")[-1]
    assert sent.headers["APCA-API-KEY-ID"] == KEYS["ALPACA_API_KEY"]

    again = call("execute_strategy", data, user.id_token).result
    assert again == result and len(alpaca.orders) == 1


def test_a_forex_order_goes_to_oanda(db, fakes):
    _, oanda = fakes
    tenant = f"venues-{uuid.uuid4().hex[:8]}"
    data = {"strategy_id": "manual", "symbol": "EUR/USD", "side": "buy", "qty": 1000}
    result = call("execute_strategy", data, new_user(tenant).id_token).result
    assert result["status"] == "filled", result
    assert result["routing"]["venue"] == "oanda" and result["quote"]["source"] == "oanda"
    assert ledger(db, tenant)[result["trade_id"]]["broker"] == "oanda"
    assert len(oanda.orders) == 1


def test_a_venue_rejection_reaches_the_caller_and_no_key_reaches_the_logs(db, fakes):
    alpaca, _ = fakes
    tenant = f"venues-{uuid.uuid4().hex[:8]}"
    echo = {"code": 40310000, "message": f"insufficient buying power ({KEYS['ALPACA_API_KEY']})"}
    alpaca.server.inject(Fault("status", "/v2/orders", method="POST", status=403, body=echo))
    data = {"strategy_id": "manual", "symbol": "MSFT", "side": "buy", "qty": 1}
    result = call("execute_strategy", data, new_user(tenant).id_token).result
    assert result["status"] == "rejected"
    assert "insufficient buying power" in result["message"]
    assert KEYS["ALPACA_API_KEY"] not in result["message"]
    assert ledger(db, tenant) == {}
    log = LOG_PATH.read_text(errors="replace")
    assert '"event":"exec.execution"' in log  # the functions' own lines are in this log
    for secret in KEYS.values():
        assert secret not in log


def test_an_order_the_venue_has_not_filled_is_accepted_and_in_the_order_book(db, fakes):
    alpaca, _ = fakes
    alpaca.order_mode = "accept"
    try:
        tenant = f"venues-{uuid.uuid4().hex[:8]}"
        data = {"strategy_id": "manual", "symbol": "MSFT", "side": "buy", "qty": 2}
        result = call("execute_strategy", data, new_user(tenant).id_token).result
    finally:
        alpaca.order_mode = "fill"
    assert result["status"] == "accepted" and result["trade_id"] is None
    order_id = result["order"]["client_order_id"]
    order = db.document(f"tenants/{tenant}/orders/{order_id}").get().to_dict()
    assert order["status"] == "accepted" and order["filled_qty"] == 0
    assert ledger(db, tenant) == {}


def test_a_key_sent_again_after_an_unknown_outcome_is_answered_with_the_venues_order(db, fakes):
    """The first attempt's order was placed and its answer lost (unknown; the key given back).
    By the time the caller sends the key again, the spread is wide: deciding again would say
    WAIT. The order is asked of the venue first, and is the answer: nothing decided or sent
    again."""
    alpaca, _ = fakes
    tenant = f"venues-{uuid.uuid4().hex[:8]}"
    user = new_user(tenant)
    data = {"strategy_id": "manual", "symbol": "KHC", "side": "buy", "qty": 1,
            "idempotency_key": "lost-answer"}  # fmt: skip
    client_order_id = client_order_id_for(tenant, user.uid, "lost-answer")
    alpaca.server.inject(Fault("hang_after", "/v2/orders", method="POST",
                               seconds=VENUE_TIMEOUT_S + 1.5))  # fmt: skip
    alpaca.server.inject(Fault("status", "/v2/orders:by_client_order_id", method="GET",
                               status=404, body={"message": "order not found"},
                               query={"client_order_id": client_order_id}))  # fmt: skip
    first = call("execute_strategy", data, user.id_token).result
    assert first["status"] == "unknown", first
    assert alpaca.orders[client_order_id]["status"] == "filled"  # the venue took it
    alpaca.set_quote("KHC", 90.0, 110.0)  # deciding again now would hold the order back
    try:
        again = call("execute_strategy", data, user.id_token).result
    finally:
        alpaca.set_quote("KHC", 100.0, 100.02)

    assert again["status"] == "filled", again
    assert "earlier attempt" in again["message"]
    assert again["order"]["client_order_id"] == client_order_id
    posts = [r for r in alpaca.server.requests_to("/v2/orders")
             if r.method == "POST" and r.body["client_order_id"] == client_order_id]  # fmt: skip
    assert len(posts) == 1  # never sent again
    order = db.document(f"tenants/{tenant}/orders/{client_order_id}").get().to_dict()
    assert order["status"] == "filled"
    assert call("execute_strategy", data, user.id_token).result == again  # the key's answer now
    # Its fill reaches the ledger once, from the venue's fills, however often reconciled.
    for _ in range(2):
        assert run_scheduled("reconcile_venues").status_code == 200
    trades = [t for t in ledger(db, tenant).values() if t["client_order_id"] == client_order_id]
    assert [(t["symbol"], t["qty"]) for t in trades] == [("KHC", 1)], trades


def test_a_filled_order_sent_again_with_its_key_over_the_rate_is_answered_as_it_was(db, fakes):
    """A real venue's order takes its rate token before its key is claimed; a call again with
    a key already answered is told that answer, not that nothing was placed."""
    tenant = f"venues-{uuid.uuid4().hex[:8]}"
    db.document(f"tenants/{tenant}/settings/limits").set(
        {"user_order_rate_per_s": 0.001, "user_order_burst": 1}
    )
    user = new_user(tenant)
    data = {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1,
            "idempotency_key": "answered"}  # fmt: skip
    first = call("execute_strategy", data, user.id_token)
    assert first.result and first.result["status"] == "filled", first
    over = call("execute_strategy", {**data, "idempotency_key": "other"}, user.id_token)
    assert over.code == "RESOURCE_EXHAUSTED", over

    again = call("execute_strategy", data, user.id_token)

    assert again.code is None and again.result == first.result, again
    assert list(ledger(db, tenant)) == [first.result["trade_id"]]
