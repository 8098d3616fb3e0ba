"""One user's orders that arrive together: each gets an answer that says what happened.

Every paper order of a user writes that user's account document in its one commit, so a burst
collides there. A commit refused because the account moved runs the execution again after a
jittered backoff (stores/one_commit.py), so the burst serializes; one that finds no turn within
the budget is answered `aborted` with nothing placed and its key free. Never `unknown`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from smart_routing.domain.orders import AccountOwner, client_order_id_for
from smart_routing_firebase.stores.one_commit import (
    CommitContended,
    commit_with_backoff,
    pending,
)
from smart_routing_firebase.stores.paper_account import FirestorePaperAccounts
from tests.emulator.conftest import wait_for
from tools.emulator_client import call

BURST = 20
STARTING_CASH = Decimal(100_000)


def keyed_buy(n: int) -> dict:
    return {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1,
            "idempotency_key": f"burst-{n}"}  # fmt: skip


def ids(db, collection: str) -> set[str]:
    return {doc.id for doc in db.collection(collection).list_documents()}


def test_twenty_keyed_buys_of_one_user_at_once_each_fill_or_are_refused_with_nothing_placed(
    db, make_user, tenant_id
):
    user = make_user(tenant_id)  # a new user: the burst also races to open the account
    with ThreadPoolExecutor(BURST) as pool:
        outcomes = list(pool.map(lambda n: call("execute_strategy", keyed_buy(n), user.id_token),
                                 range(BURST)))  # fmt: skip

    filled: dict[int, dict] = {}
    refused: list[int] = []
    for n, outcome in enumerate(outcomes):
        if outcome.result is not None:
            assert outcome.result["status"] == "filled", outcome.result
            filled[n] = outcome.result
        else:  # the only other answer allowed: retryable, and it says nothing was placed
            assert outcome.code == "ABORTED", outcome
            assert "nothing was placed" in outcome.error["message"], outcome
            refused.append(n)
    assert filled, outcomes

    trade_ids = {answer["trade_id"] for answer in filled.values()}
    assert len(trade_ids) == len(filled)
    # The ledger, the orders and the claims hold exactly the filled ones.
    assert ids(db, f"tenants/{tenant_id}/ledger_trades") == trade_ids
    assert ids(db, f"tenants/{tenant_id}/orders") == trade_ids
    assert ids(db, f"tenants/{tenant_id}/executions") == trade_ids
    for n in refused:  # refused: its key is free, nothing recorded under its id
        assert client_order_id_for(tenant_id, user.uid, f"burst-{n}") not in trade_ids

    # The account took every fill, once: cash moved by exactly the filled notionals and fees.
    owner = AccountOwner(tenant_id=tenant_id, uid=user.uid)
    account = FirestorePaperAccounts(db, STARTING_CASH).account(owner)
    assert account.positions["AAPL"].qty == len(filled)
    ledger = [doc.to_dict() for doc in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()]
    spent = sum(Decimal(str(t["notional"])) + Decimal(str(t["fees"])) for t in ledger)
    assert account.cash.amount == STARTING_CASH - spent

    # The mirror misses none: the history holds exactly the filled trades.
    history = f"users/{user.uid}/portfolio/history/trades"
    wait_for(lambda: ids(db, history) == trade_ids, timeout_s=60)

    # A refused order retried with its key fills; a filled one resent is answered the same.
    for n in refused:
        again = call("execute_strategy", keyed_buy(n), user.id_token)
        assert again.result and again.result["status"] == "filled", again
    first = next(iter(filled))
    resent = call("execute_strategy", keyed_buy(first), user.id_token).result
    assert resent == filled[first]
    assert len(ids(db, f"tenants/{tenant_id}/ledger_trades")) == BURST


def test_a_commit_that_never_gets_its_turn_is_contended_and_writes_nothing(db, tenant_id):
    account = db.document(f"users/{tenant_id}-user/portfolio/account")
    order = db.document(f"tenants/{tenant_id}/orders/contended")
    account.set({"orders": 0})
    moved = []

    def work() -> None:
        commit = pending()
        assert commit is not None
        commit.remember(account.get())
        # Another order of the same user commits between this one's read and its commit,
        # every time.
        moved.append(1)
        account.set({"orders": len(moved)})
        commit.replace_if_unchanged(account, {"orders": -1})
        commit.create(order, {"status": "filled"})

    with pytest.raises(CommitContended, match="nothing was placed"):
        commit_with_backoff(db, work, budget_s=0.5)
    assert len(moved) > 1  # it did retry
    assert not order.get().exists
    assert account.get().to_dict() == {"orders": len(moved)}


def test_a_commit_refused_because_its_order_exists_is_not_retried(db, tenant_id):
    account = db.document(f"users/{tenant_id}-user/portfolio/account")
    order = db.document(f"tenants/{tenant_id}/orders/exists")
    account.set({"orders": 1})
    order.set({"status": "filled"})
    runs = []

    def work() -> None:
        commit = pending()
        assert commit is not None
        commit.remember(account.get())
        runs.append(1)
        commit.replace_if_unchanged(account, {"orders": 2})
        commit.create(order, {"status": "again"})

    assert commit_with_backoff(db, work) is None  # the caller reads what exists instead
    assert runs == [1]
    assert account.get().to_dict() == {"orders": 1}
    assert order.get().to_dict() == {"status": "filled"}


def test_a_commit_refused_only_for_a_retakeable_steps_document_retakes_that_step_alone(
    db, tenant_id
):
    account = db.document(f"users/{tenant_id}-user/portfolio/account")
    shard = db.document(f"tenants/{tenant_id}/rate_buckets/order/tenant_shards/0")
    order = db.document(f"tenants/{tenant_id}/orders/retaken")
    account.set({"orders": 0})
    shard.set({"taken": 0})
    runs, takes = [], []

    def take() -> None:  # a rate token: read the shard, write it back one more
        commit = pending()
        assert commit is not None
        seen = commit.read_together([shard], also=[])[shard.path]
        takes.append(seen.get("taken"))
        if len(takes) == 1:  # another order of the tenant takes from it first, once
            shard.set({"taken": 10})
        commit.replace_if_unchanged(shard, {"taken": seen.get("taken") + 1})

    def work() -> str:
        commit = pending()
        assert commit is not None
        runs.append(1)
        commit.retakeable(take)
        commit.remember(account.get())
        commit.replace_if_unchanged(account, {"orders": 1})
        commit.create(order, {"status": "filled"})
        return "filled"

    assert commit_with_backoff(db, work) == "filled"
    assert runs == [1]  # the execution ran once; its token was taken again on the shard
    assert takes == [0, 10]
    assert shard.get().to_dict() == {"taken": 11}
    assert account.get().to_dict() == {"orders": 1}
    assert order.get().to_dict() == {"status": "filled"}


def test_a_commit_whose_account_moved_too_runs_the_whole_execution_again(db, tenant_id):
    account = db.document(f"users/{tenant_id}-user/portfolio/account")
    shard = db.document(f"tenants/{tenant_id}/rate_buckets/order/tenant_shards/0")
    account.set({"orders": 0})
    shard.set({"taken": 0})
    runs = []

    def take() -> None:
        commit = pending()
        assert commit is not None
        seen = commit.read_together([shard], also=[])[shard.path]
        commit.replace_if_unchanged(shard, {"taken": seen.get("taken") + 1})

    def work() -> int:
        commit = pending()
        assert commit is not None
        runs.append(1)
        commit.retakeable(take)
        seen = account.get()
        commit.remember(seen)
        if len(runs) == 1:  # another order of the same user commits first: both documents move
            both = db.batch()
            both.set(account, {"orders": 5})
            both.set(shard, {"taken": 5})
            both.commit()
        commit.replace_if_unchanged(account, {"orders": seen.get("orders") + 1})
        return len(runs)

    assert commit_with_backoff(db, work) == 2
    assert account.get().to_dict() == {"orders": 6}
    assert shard.get().to_dict() == {"taken": 6}


def test_a_keyless_order_whose_commit_was_applied_but_not_answered_is_not_placed_again(
    db, tenant_id, monkeypatch
):
    """The client library sends a commit again when its answer was lost (UNAVAILABLE): when
    the first send was applied, the second is refused by what the first wrote. That refusal
    is this order's own commit, not another order's: it fills once, and is answered so."""
    from firebase_functions.https_fn import AuthData, CallableRequest
    from google.cloud.firestore_v1.services.firestore.client import FirestoreClient

    from smart_routing_firebase.handlers.execute_strategy import handle_execute_strategy

    real_commit = FirestoreClient.commit
    resent: list[int] = []

    def applied_then_sent_again(self, *args, **kwargs):
        answer = real_commit(self, *args, **kwargs)
        if not resent:
            resent.append(1)
            return real_commit(self, *args, **kwargs)  # refused: the first send's documents
        return answer

    monkeypatch.setattr(FirestoreClient, "commit", applied_then_sent_again)
    uid = f"{tenant_id}-user"
    request = CallableRequest(
        data={"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1},
        raw_request=None, auth=AuthData(uid=uid, token={"tenant_id": tenant_id}),
    )  # fmt: skip

    answer = handle_execute_strategy(request)

    assert resent == [1]
    assert answer["status"] == "filled"
    assert ids(db, f"tenants/{tenant_id}/ledger_trades") == {answer["trade_id"]}
    assert ids(db, f"tenants/{tenant_id}/orders") == {answer["trade_id"]}
    account = FirestorePaperAccounts(db, STARTING_CASH).account(
        AccountOwner(tenant_id=tenant_id, uid=uid)
    )
    assert account.positions["AAPL"].qty == 1
