"""One Alpaca account per end user, through the functions emulator and the Broker API fake:
the admin's link and its refusals, orders in each user's own account, a partial fill that
arrives later through the Activity SSE, a sell, and each user's drift."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from tests.emulator_broker.broker_users import (
    link,
    linked_user,
    position_qty,
    reconcile_until,
    trade,
)
from tools.emulator_client import firestore_rest, new_admin, new_user
from tools.fakes.http import Fault


def test_a_link_is_refused_with_a_clear_error_and_nothing_written(db, fakes):
    _, broker = fakes
    tenant = f"lnk-{uuid.uuid4().hex[:8]}"
    admin, user, other = new_admin(tenant), new_user(tenant), new_user(tenant)
    foreigner = new_user(f"{tenant}-x")
    active, pending = broker.add_account(), broker.add_account(status="APPROVAL_PENDING")

    assert link(user, user.uid, active).code == "PERMISSION_DENIED"  # not an admin
    refused = link(admin, user.uid, "not-a-uuid")
    assert (refused.code, refused.error["message"]) == (
        "INVALID_ARGUMENT", "account_id: 'not-a-uuid' is not a UUID")  # fmt: skip
    refused = link(admin, user.uid, str(uuid.uuid4()))
    assert refused.code == "NOT_FOUND" and "alpaca has no account" in refused.error["message"]
    refused = link(admin, user.uid, pending)
    assert refused.code == "FAILED_PRECONDITION"
    assert f"{pending} is APPROVAL_PENDING, not ACTIVE" in refused.error["message"]
    refused = link(admin, foreigner.uid, active)
    assert refused.code == "PERMISSION_DENIED" and "not a user of your tenant" in str(refused.error)
    assert not db.document(f"tenants/{tenant}/venue_accounts/{user.uid}").get().exists
    assert not db.document(f"tenants/{tenant}/venue_accounts/{foreigner.uid}").get().exists
    assert not db.document(f"venue_account_owners/alpaca-{active}").get().exists

    linked = link(admin, user.uid, active)
    assert linked.result == {"uid": user.uid, "tenant_id": tenant, "venue": "alpaca",
                             "account_id": active, "changed": True}  # fmt: skip
    assert link(admin, user.uid, active).result["changed"] is False  # again: nothing new
    taken = link(admin, other.uid, active)
    assert taken.code == "ALREADY_EXISTS" and "already linked to another user" in str(taken.error)
    assert not db.document(f"tenants/{tenant}/venue_accounts/{other.uid}").get().exists
    owner = db.document(f"venue_account_owners/alpaca-{active}").get().to_dict()
    assert (owner["tenant_id"], owner["uid"]) == (tenant, user.uid)
    # Clients read neither document, the linked user included.
    for path in (f"tenants/{tenant}/venue_accounts/{user.uid}",
                 f"venue_account_owners/alpaca-{active}"):  # fmt: skip
        assert firestore_rest("GET", path, user.id_token).status_code == 403


def test_link_buy_a_partial_fill_later_sell_and_per_user_drift(db, fakes, symbol):
    _, broker = fakes
    tenant = f"e2e-{uuid.uuid4().hex[:8]}"
    admin, user, bystander = new_admin(tenant), new_user(tenant), new_user(tenant)
    account, bystander_account = broker.add_account(), broker.add_account()

    refused = trade(user, symbol, "buy", 10)  # not linked yet
    assert refused.code == "FAILED_PRECONDITION"
    assert "no Alpaca account linked" in refused.error["message"]
    assert broker.orders == {} or all(o["symbol"] != symbol for o in broker.orders.values())

    assert link(admin, user.uid, account).result["changed"] is True
    assert link(admin, bystander.uid, bystander_account).result["changed"] is True
    broker.order_mode = "partial"
    try:
        bought = trade(user, symbol, "buy", 10).result
    finally:
        broker.order_mode = "fill"
    assert bought["status"] == "partially_filled", bought
    coid = bought["order"]["client_order_id"]
    assert broker.order_accounts[coid] == account  # the user's own account, nobody else's
    assert position_qty(db, user, symbol) == 5

    later = broker.fill(coid, "5", "100.04")  # the rest fills later, on the activity stream
    reconcile_until(lambda: position_qty(db, user, symbol) == 10)
    trades = {t.id: t.to_dict() for t in db.collection(f"tenants/{tenant}/ledger_trades").stream()}
    assert sorted((t["qty"], t["price"]) for t in trades.values()) == [(5, 100.02), (5, 100.04)]
    assert set(trades) == {coid, f"alpaca-{later['ref_id']}"}  # the fill's ref_id: once
    windows = broker.server.requests_to("/v2beta1/events/activities")
    assert "since_id" in windows[-1].query and "until_id" in windows[-1].query
    order = db.document(f"tenants/{tenant}/orders/{coid}").get().to_dict()
    assert order["status"] == "filled" and order["recorded_qty"] == 10

    sold = trade(user, symbol, "sell", 4).result
    assert sold["status"] == "filled", sold
    assert position_qty(db, user, symbol) == 6
    assert broker.order_accounts[sold["order"]["client_order_id"]] == account

    # Each run writes each user's drift from a task of its own: wait for one after the sell.
    drift_path = f"reconciliation/alpaca/user_drift/{tenant}-{user.uid}"
    sold_at = datetime.now(UTC)
    reconcile_until(lambda: (db.document(drift_path).get().to_dict() or {}).get(
        "as_of", sold_at) > sold_at)  # fmt: skip
    report = db.document(drift_path).get().to_dict()
    assert report["account_id"] == account and report["drifted"] == []
    assert report["symbols"] == [{"symbol": symbol, "users_qty": 6, "venue_qty": 6,
                                  "difference": 0}]  # fmt: skip

    broker.extra_positions[(account, symbol)] = Decimal(1)  # the venue holds one more
    reconcile_until(lambda: db.document(drift_path).get().to_dict()["drifted"] == [symbol])
    row = db.document(drift_path).get().to_dict()["symbols"][0]
    assert (row["users_qty"], row["venue_qty"], row["difference"]) == (6, 7, 1)
    other = db.document(f"reconciliation/alpaca/user_drift/{tenant}-{bystander.uid}").get()
    assert other.to_dict()["drifted"] == []  # per user: the bystander is not touched by it


def test_an_inactive_account_or_crypto_without_the_agreement_is_refused_before_sending(
    db, fakes, symbol
):
    _, broker = fakes
    tenant = f"act-{uuid.uuid4().hex[:8]}"
    admin, user = new_admin(tenant), new_user(tenant)
    account = broker.add_account(crypto=False)
    assert link(admin, user.uid, account).result["changed"] is True
    sent = len(broker.orders)

    crypto = trade(user, "BTC/USD", "buy", 0.01).result
    assert crypto["status"] == "rejected"
    assert "has not signed the crypto agreement" in crypto["message"]

    broker.set_status(account, "ACCOUNT_CLOSED")
    closed = trade(user, symbol, "buy", 1).result
    assert closed["status"] == "rejected"
    assert f"alpaca account {account} is ACCOUNT_CLOSED, not ACTIVE" in closed["message"]
    assert len(broker.orders) == sent  # nothing reached the venue


def test_an_unclear_submission_is_found_by_client_order_id_and_recorded_once(db, fakes, symbol):
    _, broker = fakes
    tenant, _, user, account = linked_user(broker, "unk")
    # Alpaca takes the order, but its answer comes after the functions' 2 s timeout.
    broker.server.inject(Fault("hang_after", path=f"/v1/trading/accounts/{account}/orders",
                               method="POST", seconds=3))  # fmt: skip
    result = trade(user, symbol, "buy", 2).result
    assert result["status"] in ("filled", "unknown"), result  # looked up at once, or later
    reconcile_until(lambda: position_qty(db, user, symbol) == 2)
    placed = [o for o in broker.orders.values() if o["symbol"] == symbol]
    assert len(placed) == 1  # never resent
    coid = placed[0]["client_order_id"]
    order = db.document(f"tenants/{tenant}/orders/{coid}").get().to_dict()
    assert order["status"] == "filled" and order["recorded_qty"] == 2
    trades = [t.to_dict() for t in db.collection(f"tenants/{tenant}/ledger_trades").stream()]
    assert [t["qty"] for t in trades] == [2]
