"""The order-rate limits and the tenant's notional caps through execute_strategy, on the
emulators: one user's burst over the limit is refused for the excess with resource-exhausted,
nothing of it placed and its keys left free; the user's peers and their own dry runs are
unaffected; the tenant's limit binds its users together; the caps refuse with the figures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tools.emulator_client import call


def order(key, qty=1, symbol="AAPL", dry_run=False):
    return {"strategy_id": "manual", "symbol": symbol, "qty": qty, "side": "buy",
            "idempotency_key": key, "dry_run": dry_run}  # fmt: skip


def at_once(calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda c: call("execute_strategy", c[0], c[1]), calls))


def docs(db, path):
    return list(db.collection(path).stream())


def set_limits(db, tenant_id, **limits):
    # Server-side only (firestore.rules): the platform writes a tenant's limits.
    db.document(f"tenants/{tenant_id}/settings/limits").set(limits)


def test_a_burst_over_the_users_limit_is_refused_for_the_excess(db, make_user, tenant_id):
    # Almost no refill during the test: exactly the burst gets through.
    set_limits(db, tenant_id, user_order_rate_per_s=0.001, user_order_burst=3,
               user_dry_run_rate_per_s=0.001, user_dry_run_burst=5)  # fmt: skip
    user, peer = make_user(tenant_id), make_user(tenant_id)
    answers = at_once([(order(f"burst-{n}"), user.id_token) for n in range(8)])
    filled = [a for a in answers if a.code is None]
    refused = [a for a in answers if a.code is not None]
    assert [(a.result or {}).get("status") for a in filled] == ["filled"] * 3, answers
    assert {a.code for a in refused} == {"RESOURCE_EXHAUSTED"}
    assert all(
        a.error["message"].startswith("too many orders: this user's limit is 0.001 a second "
                                      "(bursts of 3); retry in")
        for a in refused
    ), [a.error for a in refused]  # fmt: skip
    assert len(docs(db, f"tenants/{tenant_id}/orders")) == 3
    assert len(docs(db, f"tenants/{tenant_id}/ledger_trades")) == 3
    assert len(docs(db, f"tenants/{tenant_id}/executions")) == 3  # refused keys never claimed
    # Another user of the tenant is unaffected, and so are the user's own dry runs.
    assert call("execute_strategy", order("peer"), peer.id_token).result["status"] == "filled"
    previews = at_once([(order(f"look-{n}", dry_run=True), user.id_token) for n in range(6)])
    assert sorted(p.result["status"] if p.result else p.code for p in previews) == (
        ["RESOURCE_EXHAUSTED"] + ["dry_run"] * 5
    )
    refused_preview = next(p for p in previews if p.code)
    assert refused_preview.error["message"].startswith("too many dry runs: this user's limit")


def test_orders_whose_commits_contend_take_one_token_each(db, make_user, tenant_id):
    # On the paper venue the token is taken in the order's one commit: one user's orders sent
    # together are refused and run again on their account until each commits, and a refused
    # commit has taken nothing. So a burst of exactly the limit all fills, leaving it empty.
    set_limits(db, tenant_id, user_order_rate_per_s=0.001, user_order_burst=6)
    user = make_user(tenant_id)
    answers = at_once([(order(f"exact-{n}"), user.id_token) for n in range(6)])
    assert [(a.result or {}).get("status") for a in answers] == ["filled"] * 6, answers
    bucket = db.document(f"tenants/{tenant_id}/rate_buckets/order/users/{user.uid}").get()
    assert 0 <= bucket.get("tokens") < 1
    refused = call("execute_strategy", order("one-more"), user.id_token)
    assert refused.code == "RESOURCE_EXHAUSTED"


def test_the_tenants_limit_binds_its_users_together(db, make_user, tenant_id):
    set_limits(db, tenant_id, tenant_order_rate_per_s=0.001, tenant_order_burst=4)
    users = [make_user(tenant_id) for _ in range(3)]
    answers = at_once([(order(f"t-{n}"), users[n % 3].id_token) for n in range(7)])
    assert sorted(a.result["status"] if a.result else a.code for a in answers) == (
        ["RESOURCE_EXHAUSTED"] * 3 + ["filled"] * 4
    ), answers
    refused = next(a for a in answers if a.code)
    assert refused.error["message"].startswith("too many orders: this tenant's limit is 0.001")
    assert len(docs(db, f"tenants/{tenant_id}/orders")) == 4


def test_an_unreadable_limits_document_refuses_orders(db, make_user, tenant_id):
    set_limits(db, tenant_id, max_order_notional="a lot")
    user = make_user(tenant_id)
    refused = call("execute_strategy", order("k"), user.id_token)
    assert refused.code == "FAILED_PRECONDITION"
    assert "order limits are unreadable" in refused.error["message"]
    assert docs(db, f"tenants/{tenant_id}/orders") == []


def test_the_tenants_caps_refuse_with_the_figures_and_place_nothing(db, make_user, tenant_id):
    # AAPL is 190 USD on the simulated market.
    set_limits(db, tenant_id, max_order_notional=1000, max_user_daily_notional=1500)
    user, peer = make_user(tenant_id), make_user(tenant_id)
    big = call("execute_strategy", order("big", qty=6), user.id_token).result
    assert big["status"] == "rejected" and big["order"] is None and big["trade_id"] is None
    assert big["message"].startswith("order notional 1,14") and big["message"].endswith(
        "is above the tenant's maximum of 1,000.00 USD per order"
    ), big["message"]
    assert call("execute_strategy", order("a", qty=5), user.id_token).result["status"] == "filled"
    # A dry run says what the order would meet, and counts nothing.
    preview = call("execute_strategy", order("p", qty=3, dry_run=True), user.id_token).result
    assert preview["status"] == "rejected"
    assert "above the tenant's maximum of 1,500.00 USD per user per day" in preview["message"]
    over = call("execute_strategy", order("b", qty=3), user.id_token).result
    assert over["status"] == "rejected" and "per user per day" in over["message"]
    assert call("execute_strategy", order("c", qty=2), user.id_token).result["status"] == "filled"
    # The same key again counts its order once; a peer has a day of their own.
    assert call("execute_strategy", order("c", qty=2), user.id_token).result["status"] == "filled"
    assert call("execute_strategy", order("d", qty=5), peer.id_token).result["status"] == "filled"
    assert len(docs(db, f"tenants/{tenant_id}/orders")) == 3


def test_a_filled_order_sent_again_with_its_key_is_answered_as_it_was_over_the_rate(
    db, make_user, tenant_id
):
    # The client's answer was lost and it sends the order again with its key, by now over
    # its rate: it is told what happened (filled), not that nothing was placed.
    set_limits(db, tenant_id, user_order_rate_per_s=0.001, user_order_burst=1)
    user = make_user(tenant_id)
    first = call("execute_strategy", order("once"), user.id_token)
    assert first.result and first.result["status"] == "filled", first
    over = call("execute_strategy", order("other"), user.id_token)
    assert over.code == "RESOURCE_EXHAUSTED", over  # the rate is spent

    again = call("execute_strategy", order("once"), user.id_token)

    assert again.code is None and again.result == first.result, again
    assert len(docs(db, f"tenants/{tenant_id}/ledger_trades")) == 1
    # The key's own conflict rule still holds over the rate: same key, other order.
    conflict = call("execute_strategy", order("once", qty=2), user.id_token)
    assert conflict.code == "INVALID_ARGUMENT", conflict
