"""Ending a user's link to their Alpaca brokerage account (unlink_venue_account), through the
functions emulator and the Broker API fake: each refusal writes nothing; an unlinked user's
order is refused as unlinked; the user can be linked again, to another account, and the old
account to another user; no unlink while an order can still fill, and a fill that arrives
after the unlink still reaches the ledger exactly once; the user's drift report stops naming
the old account; no order is sent, and no drift written, while an unlink is ending a link."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing_firebase.handlers.run_scheduled_strategies import schedule_tick
from smart_routing_firebase.reconciliation.account_fanout import run_account
from smart_routing_firebase.stores.venue_accounts import FirestoreLinkedAccounts
from tests.emulator_broker.broker_users import (
    link,
    linked_user,
    position_qty,
    reconcile_until,
    trade,
)
from tests.emulator_broker.conftest import KEYS
from tools.emulator_client import CallResult, User, call, new_admin, new_user
from venues.alpaca.broker_api import AlpacaBrokerApi
from venues.settings import AlpacaBrokerSettings


def unlink(caller: User, uid: str, account_id: str, **extra: Any) -> CallResult:
    data = {"uid": uid, "venue": "alpaca", "account_id": account_id, **extra}
    return call("unlink_venue_account", data, caller.id_token)


def link_state(db, tenant: str, uid: str, account_id: str) -> tuple[Any, ...]:
    """Everything an unlink writes: the link, its reverse index, the tenant's unlink
    entries in the audit log."""
    unlinks = (
        db.collection(f"tenants/{tenant}/audit_log")
        .where(filter=FieldFilter("action", "==", "venue_account_unlinked"))
        .stream()
    )
    return (
        db.document(f"tenants/{tenant}/venue_accounts/{uid}").get().to_dict(),
        db.document(f"venue_account_owners/alpaca-{account_id}").get().to_dict(),
        sorted(entry.id for entry in unlinks),
    )


def test_each_refusal_says_why_and_writes_nothing(db, fakes):
    _, broker = fakes
    tenant = f"unr-{uuid.uuid4().hex[:8]}"
    admin, user, unlinked = new_admin(tenant), new_user(tenant), new_user(tenant)
    foreigner, foreign_admin = new_user(f"{tenant}-x"), new_admin(f"{tenant}-x")
    account, other_account = broker.add_account(), broker.add_account()
    assert link(admin, user.uid, account).result["changed"] is True
    before = link_state(db, tenant, user.uid, account)
    assert before[0]["account_id"] == account and before[2] == []

    refusals = [
        (unlink(user, user.uid, account), "PERMISSION_DENIED",
         "only the tenant's admin unlinks venue accounts"),
        (unlink(foreign_admin, user.uid, account), "PERMISSION_DENIED",
         f"uid: {user.uid} is not a user of your tenant"),
        (unlink(admin, foreigner.uid, account), "PERMISSION_DENIED",
         f"uid: {foreigner.uid} is not a user of your tenant"),
        (unlink(admin, unlinked.uid, account), "NOT_FOUND",
         f"uid: {unlinked.uid} has no alpaca account linked"),
        (unlink(admin, user.uid, other_account), "FAILED_PRECONDITION",
         f"account_id: {user.uid} is linked to alpaca account {account}, not {other_account}"),
        (unlink(admin, user.uid, "not-a-uuid"), "INVALID_ARGUMENT",
         "account_id: 'not-a-uuid' is not a UUID"),
        (call("unlink_venue_account", {"uid": user.uid, "venue": "alpaca"}, admin.id_token),
         "INVALID_ARGUMENT", "account_id: Field required"),
        (unlink(admin, user.uid, account, note="x"), "INVALID_ARGUMENT", "note: unknown field"),
    ]  # fmt: skip
    for refused, code, message in refusals:
        assert refused.code == code, refused
        assert message in refused.error["message"], refused.error
    assert link_state(db, tenant, user.uid, account) == before  # no mark left, nothing else


def test_unlink_then_the_user_is_refused_then_linked_to_another_account_trades_there(
    db, fakes, symbol
):
    _, broker = fakes
    tenant = f"unl-{uuid.uuid4().hex[:8]}"
    admin, user, other = new_admin(tenant), new_user(tenant), new_user(tenant)
    old, new = broker.add_account(), broker.add_account()
    assert link(admin, user.uid, old).result["changed"] is True
    bought = trade(user, symbol, "buy", 3).result
    assert bought["status"] == "filled", bought
    assert broker.order_accounts[bought["order"]["client_order_id"]] == old
    drift_path = f"reconciliation/alpaca/user_drift/{tenant}-{user.uid}"
    reconcile_until(lambda: db.document(drift_path).get().exists)
    assert db.document(drift_path).get().to_dict()["account_id"] == old

    done = unlink(admin, user.uid, old, reason="account closed after a transfer")
    assert done.result is not None, done
    audit_id = done.result.pop("audit_id")
    assert done.result == {"uid": user.uid, "tenant_id": tenant, "venue": "alpaca",
                           "account_id": old, "unlinked": True,
                           "positions_of_record": {symbol: 3}}  # fmt: skip
    assert link_state(db, tenant, user.uid, old) == (None, None, [audit_id])
    entry = db.document(f"tenants/{tenant}/audit_log/{audit_id}").get().to_dict()
    assert {k: entry[k] for k in ("action", "scope", "uid", "venue", "account_id", "by",
                                  "reason", "from", "to", "linked_by")} == {
        "action": "venue_account_unlinked", "scope": "user", "uid": user.uid,
        "venue": "alpaca", "account_id": old, "by": admin.uid,
        "reason": "account closed after a transfer", "from": f"alpaca account {old}",
        "to": "unlinked", "linked_by": admin.uid,
    }  # fmt: skip
    assert entry["at"] >= entry["linked_at"]
    report = db.document(drift_path).get().to_dict()
    assert report["unlinked"] is True and report["account_id"] == old
    again = unlink(admin, user.uid, old)  # nothing left to unlink
    assert again.code == "NOT_FOUND"

    sent = len(broker.orders)
    refused = trade(user, symbol, "buy", 1)
    assert refused.code == "FAILED_PRECONDITION", refused
    assert f"user {user.uid} has no Alpaca account linked" in refused.error["message"]
    assert len(broker.orders) == sent  # nothing reached the venue

    # The old account can go to another user of the tenant, the user to another account.
    assert link(admin, other.uid, old).result["changed"] is True
    assert link(admin, user.uid, new).result["changed"] is True
    bought = trade(user, symbol, "buy", 2).result
    assert bought["status"] == "filled", bought
    assert broker.order_accounts[bought["order"]["client_order_id"]] == new
    assert position_qty(db, user, symbol) == 5  # the record is the user's, whatever account
    # The next report is against the new account (no longer marked unlinked).
    reconcile_until(lambda: db.document(drift_path).get().to_dict()["account_id"] == new)
    assert "unlinked" not in db.document(drift_path).get().to_dict()


def test_no_unlink_while_an_order_can_still_fill_and_a_later_fill_is_recorded_once(
    db, fakes, symbol
):
    _, broker = fakes
    tenant, admin, user, account = linked_user(broker, "uno")
    broker.order_mode = "accept"
    try:
        first = trade(user, symbol, "buy", 10).result
        second = trade(user, symbol, "buy", 6).result
    finally:
        broker.order_mode = "fill"
    assert (first["status"], second["status"]) == ("accepted", "accepted"), (first, second)
    first_id = first["order"]["client_order_id"]
    second_id = second["order"]["client_order_id"]
    before = link_state(db, tenant, user.uid, account)

    refused = unlink(admin, user.uid, account)
    assert refused.code == "FAILED_PRECONDITION", refused
    named = ", ".join(sorted([first_id, second_id]))
    assert refused.error["message"] == (
        f"{user.uid} has 2 alpaca orders that can still fill ({named}): cancel them or wait "
        "until they are filled or ended, then unlink; nothing was unlinked"
    )
    assert link_state(db, tenant, user.uid, account) == before  # the link usable, unmarked

    # The first fills completely; the second fills 4 and is canceled at the venue, its fill
    # held back from the stream until after the unlink.
    broker.fill(first_id, "10", "100.02")
    late = broker.fill(second_id, "4", "100.01")
    broker.events.remove(late)
    broker.order(second_id)["status"] = "canceled"
    order_path = f"tenants/{tenant}/orders/{{}}"
    reconcile_until(
        lambda: (
            (
                db.document(order_path.format(first_id)).get().get("status"),
                db.document(order_path.format(second_id)).get().get("status"),
            )
            == ("filled", "canceled")
        )
    )
    refused = unlink(admin, user.uid, account)  # nothing can fill any more
    assert refused.result is not None and refused.result["unlinked"] is True, refused
    assert position_qty(db, user, symbol) == 10

    broker.add_event({**late, "event_id": broker.next_event_id()})  # arrives now
    reconcile_until(lambda: position_qty(db, user, symbol) == 14)
    trades = [t.to_dict() for t in db.collection(f"tenants/{tenant}/ledger_trades").stream()]
    assert sorted((t["client_order_id"], t["qty"]) for t in trades) == sorted(
        [(first_id, 10), (second_id, 4)]
    )
    order = db.document(order_path.format(second_id)).get().to_dict()
    assert (order["status"], order["recorded_qty"]) == ("canceled", 4)  # not reopened
    assert Decimal(str(order["filled_qty"])) == 4


def test_no_order_is_sent_on_a_link_being_ended_and_an_unlink_cut_off_is_finished(
    db, fakes, symbol
):
    _, broker = fakes
    tenant, admin, user, account = linked_user(broker, "unm")
    link_ref = db.document(f"tenants/{tenant}/venue_accounts/{user.uid}")
    link_ref.update({"unlinking_since": datetime.now(UTC)})  # an unlink cut off after step 1

    sent = len(broker.orders)
    refused = trade(user, symbol, "buy", 1)
    assert refused.code == "FAILED_PRECONDITION", refused
    assert "no Alpaca account linked" in refused.error["message"]
    assert len(broker.orders) == sent
    # Nor is a drift report written against it.
    settings = AlpacaBrokerSettings(api_key=KEYS["ALPACA_BROKER_API_KEY"],
                                    secret_key=KEYS["ALPACA_BROKER_SECRET_KEY"],
                                    url=broker.url)  # fmt: skip
    api = AlpacaBrokerApi(settings, 2.0, FirestoreLinkedAccounts(db))
    run = schedule_tick(datetime.now(UTC))
    assert run_account(db, api, "alpaca", run, link_ref.path, account) == {"skipped": 1}
    assert not db.document(f"reconciliation/alpaca/user_drift/{tenant}-{user.uid}").get().exists

    # Linking the same account again takes the mark off, and the user trades again.
    assert link(admin, user.uid, account).result["changed"] is True
    assert "unlinking_since" not in link_ref.get().to_dict()
    assert trade(user, symbol, "buy", 1).result["status"] == "filled"

    link_ref.update({"unlinking_since": datetime.now(UTC)})  # cut off again: calling it again
    done = unlink(admin, user.uid, account)  # finishes the unlink
    assert done.result is not None and done.result["unlinked"] is True, done
    assert link_state(db, tenant, user.uid, account)[:2] == (None, None)
