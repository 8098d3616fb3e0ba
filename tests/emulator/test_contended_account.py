"""An order whose account stays contended past the budget is answered `aborted`, through the
real callable.

A paper order's one commit writes the user's account only if it is unchanged since the order
read it (stores/one_commit.py); a commit refused for contention runs the order again after a
backoff, until the contention budget (CONTENTION_BUDGET_S) is spent. Here a transaction holds
the account for as long as the callable works: the emulator locks what a transaction read, and
a write to a locked document waits 2 s and is refused ABORTED ("a transaction holds a
document", which one_commit counts as contention). So every attempt is refused, the answer is
ABORTED, nothing is written for the key, and the same key sent again once the account is let
go fills, once.

Why held, not moved by writes in a loop: no writer outside the function can be sure to land
between an attempt's read and its commit. Measured here: a loop of plain writes (about 400 a
second) let an attempt through after 4 and after 15 refusals, and two writers taking turns
holding and moving the account let one through on the second attempt. The refusal for an
account that moved is shown deterministically in-process
(test_concurrent_orders.py::test_a_commit_that_never_gets_its_turn_is_contended_and_writes_nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.cloud import firestore

from smart_routing.domain.orders import client_order_id_for
from smart_routing_firebase.stores import paths
from tests.emulator.conftest import wait_for
from tools.emulator_client import call


def keyed_buy(key: str) -> dict[str, Any]:
    return {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1,
            "idempotency_key": key}  # fmt: skip


class LetGo(Exception):
    """Ends the holding transaction: it rolls back, having written nothing."""


@contextmanager
def account_held(db: Any, ref: Any) -> Iterator[None]:
    """A transaction that has read `ref` and stays open until the block ends."""
    held, let_go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    @firestore.transactional
    def hold(transaction: Any) -> None:
        ref.get(transaction=transaction)  # the emulator locks it for this transaction
        held.set()
        let_go.wait(timeout=120)
        raise LetGo

    def run() -> None:
        try:
            hold(db.transaction())
        except LetGo:
            pass
        except BaseException as exc:  # reported below: a holder that failed proves nothing
            errors.append(exc)

    holder = threading.Thread(target=run, name="account-holder", daemon=True)
    holder.start()
    wait_for(lambda: held.is_set() or errors, timeout_s=30, interval_s=0.05)
    try:
        yield
    finally:
        let_go.set()
        holder.join(timeout=30)
        assert not holder.is_alive()
        assert not errors, f"the holder failed: {errors!r}"


def test_an_order_whose_account_is_held_past_the_budget_is_aborted_and_its_key_fills_later(
    db, make_user, tenant_id
):
    user = make_user(tenant_id)
    opening = call("execute_strategy", keyed_buy("opening"), user.id_token).result
    assert opening and opening["status"] == "filled", opening
    trade_id = client_order_id_for(tenant_id, user.uid, "contended")  # its order's id too
    order = paths.order_paths(tenant_id, user.uid, trade_id, "AAPL")
    account, position = db.document(order.paper_account), db.document(order.position)
    account_before, position_before = account.get(), position.get()

    with account_held(db, account):
        contended = call("execute_strategy", keyed_buy("contended"), user.id_token)

    assert (contended.http_status, contended.code) == (409, "ABORTED"), contended
    message = contended.error["message"]
    assert "nothing was placed" in message, message
    assert "retry (with the same idempotency_key)" in message, message

    # The answer came after the order's last commit was refused: nothing for its key exists.
    for path in (
        order.execution_claim, order.order, order.ledger_trade, order.history_trade,
        order.open_lot, paths.unmirrored_trade(tenant_id, trade_id),
        paths.decision(tenant_id, trade_id),
    ):  # fmt: skip
        assert not db.document(path).get().exists, path
    # The account and the position are as the opening order left them.
    assert account.get().update_time == account_before.update_time
    assert position.get().update_time == position_before.update_time

    # Once the account is let go, the same key fills, and only once.
    filled = call("execute_strategy", keyed_buy("contended"), user.id_token).result
    assert filled and filled["status"] == "filled", filled
    assert filled["trade_id"] == trade_id
    resent = call("execute_strategy", keyed_buy("contended"), user.id_token).result
    assert resent == filled
    ledger = {doc.id for doc in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()}
    assert ledger == {opening["trade_id"], trade_id}
    history = db.collection(f"users/{user.uid}/portfolio/history/trades")
    wait_for(lambda: {doc.id for doc in history.list_documents()} == ledger, timeout_s=60)
    assert position.get().to_dict()["qty"] == 2
