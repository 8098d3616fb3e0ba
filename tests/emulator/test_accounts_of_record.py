"""Each user's paper account of record, in Firestore, through the callable on the emulators."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

from smart_routing.domain.orders import AccountOwner
from smart_routing_firebase.stores.paper_account import FirestorePaperAccounts
from tools.emulator_client import call, firestore_rest, run_scheduled
from tools.scheduled_fanout import wait_for_tasks

STARTING_CASH = Decimal(100_000)


def trade(symbol, side, qty, key=None):
    data = {"strategy_id": "manual", "symbol": symbol, "side": side, "qty": qty}
    return {**data, "idempotency_key": key} if key else data


def ledger(db, tenant_id):
    return [doc.to_dict() for doc in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()]


def test_two_users_in_two_tenants_each_trade_their_own_account(db, make_user, tenant_id):
    alice = make_user(tenant_id)
    bob = make_user(f"{tenant_id}-b")
    bought = call("execute_strategy", trade("MSFT", "buy", 5), alice.id_token).result
    assert bought["status"] == "filled"
    sold = call("execute_strategy", trade("MSFT", "sell", 5), bob.id_token).result
    # Bob cannot sell Alice's shares, and is told only about his own holding.
    assert sold["status"] == "rejected"
    assert sold["message"].startswith("insufficient position: selling 5 MSFT, holding 0")
    assert ledger(db, f"{tenant_id}-b") == []

    accounts = FirestorePaperAccounts(db, STARTING_CASH)  # a fresh reader: another process
    alices = accounts.account(AccountOwner(tenant_id=tenant_id, uid=alice.uid))
    bobs = accounts.account(AccountOwner(tenant_id=f"{tenant_id}-b", uid=bob.uid))
    assert alices.positions["MSFT"].qty == 5
    (fill,) = ledger(db, tenant_id)
    assert alices.cash == STARTING_CASH - Decimal(str(fill["notional"])) - Decimal(
        str(fill["fees"])
    )
    assert bobs.positions == {} and bobs.cash == STARTING_CASH


def test_the_owner_reads_their_account_and_positions_and_a_sale_realizes(db, make_user, tenant_id):
    user = make_user(tenant_id)
    call("execute_strategy", trade("MSFT", "buy", 3), user.id_token)
    call("execute_strategy", trade("MSFT", "sell", 1), user.id_token)
    position = firestore_rest(
        "GET", f"users/{user.uid}/portfolio/positions/symbols/MSFT", user.id_token
    )
    assert position.status_code == 200, position.text
    fields = position.json()["fields"]
    assert fields["symbol"]["stringValue"] == "MSFT" and fields["currency"]["stringValue"] == "USD"
    assert float(fields["qty"].get("integerValue", fields["qty"].get("doubleValue"))) == 2
    assert {"avg_cost", "cost_basis", "realized_pnl", "asset_class", "updated_at"} <= set(fields)
    account = firestore_rest("GET", f"users/{user.uid}/portfolio/account", user.id_token)
    assert account.status_code == 200, account.text
    assert "USD" in account.json()["fields"]["cash"]["mapValue"]["fields"]
    order_ids = [doc.id for doc in db.collection(f"tenants/{tenant_id}/orders").stream()]
    assert len(order_ids) == 2


def test_twenty_concurrent_sells_of_one_unit_fill_exactly_once(db, make_user, tenant_id):
    user = make_user(tenant_id)
    assert call("execute_strategy", trade("MSFT", "buy", 1), user.id_token).result["status"] == (
        "filled"
    )

    def sell(n):
        return call("execute_strategy", trade("MSFT", "sell", 1, key=f"sell-{n}"), user.id_token)

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(sell, range(20)))
    statuses = sorted(o.result["status"] if o.result else o.code for o in outcomes)
    assert statuses == ["filled"] + ["rejected"] * 19, statuses
    sells = [t for t in ledger(db, tenant_id) if t["side"] == "sell"]
    assert len(sells) == 1
    held = FirestorePaperAccounts(db, STARTING_CASH).account(
        AccountOwner(tenant_id=tenant_id, uid=user.uid)
    )
    assert held.positions == {}


def test_the_callable_and_a_scheduled_run_see_the_same_account(db, make_user, tenant_id):
    user = make_user(tenant_id)
    assert call("execute_strategy", trade("MSFT", "buy", 2), user.id_token).result["status"] == (
        "filled"
    )
    config = db.document(f"tenants/{tenant_id}/strategies/msft_dca")
    config.set({"enabled": True, "uid": user.uid, "symbols": ["MSFT"], "qty": 1,
                "strategy_id": "manual", "side": "buy"})  # fmt: skip
    try:
        # A tick of its own: every test that runs the schedule runs every tenant's configs.
        tick = datetime(2026, 2, 2, 12, 34, tzinfo=UTC)
        response = run_scheduled("run_scheduled_strategies", tick)
        assert response.status_code == 200, response.text
        wait_for_tasks(db, tick, [config.path], timeout_s=60)
    finally:
        config.update({"enabled": False})
    owner = AccountOwner(tenant_id=tenant_id, uid=user.uid)
    # The scheduled run (another function, another instance) bought into the same account.
    assert FirestorePaperAccounts(db, STARTING_CASH).account(owner).positions["MSFT"].qty >= 3
    held = FirestorePaperAccounts(db, STARTING_CASH).account(owner).positions["MSFT"].qty
    sold = call("execute_strategy", trade("MSFT", "sell", float(held)), user.id_token).result
    assert sold["status"] == "filled", sold["message"]


def test_a_buy_writes_fill_account_position_order_trade_and_claim_in_one_commit(
    db, make_user, tenant_id
):
    user = make_user(tenant_id)
    result = call("execute_strategy", trade("MSFT", "buy", 2, key="one-commit"), user.id_token)
    assert result.result["status"] == "filled", result
    trade_id = result.result["trade_id"]
    documents = [
        f"users/{user.uid}/portfolio/account",
        f"users/{user.uid}/portfolio/positions/symbols/MSFT",
        f"tenants/{tenant_id}/orders/{trade_id}",
        f"tenants/{tenant_id}/ledger_trades/{trade_id}",
        f"tenants/{tenant_id}/executions/{trade_id}",
    ]
    snapshots = [db.document(path).get() for path in documents]
    assert all(snapshot.exists for snapshot in snapshots), documents
    # Documents written by one commit carry that commit's time, and only they do.
    assert len({snapshot.update_time for snapshot in snapshots}) == 1
    assert snapshots[-1].to_dict()["state"] == "done"


def test_an_order_recorded_before_its_commit_refuses_it_and_the_transaction_path_finishes(
    db, make_user, tenant_id
):
    user = make_user(tenant_id)
    first = call("execute_strategy", trade("MSFT", "buy", 1, key="again"), user.id_token).result
    assert first["status"] == "filled"
    # The claim is gone (as after a crash between the commit and the answer): the one-commit
    # attempt finds the order exists, writes nothing, and the transactional path answers
    # with the stored order and trade.
    db.document(f"tenants/{tenant_id}/executions/{first['trade_id']}").delete()
    again = call("execute_strategy", trade("MSFT", "buy", 1, key="again"), user.id_token).result
    assert again["status"] == "filled" and again["trade_id"] == first["trade_id"]
    assert again["order"]["broker_order_id"] == first["order"]["broker_order_id"]
    assert len(ledger(db, tenant_id)) == 1
    held = FirestorePaperAccounts(db, STARTING_CASH).account(
        AccountOwner(tenant_id=tenant_id, uid=user.uid)
    )
    assert held.positions["MSFT"].qty == 1
