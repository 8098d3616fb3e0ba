"""An order whose account never stops moving is answered `aborted`, through the real callable.

A paper order's one commit writes the user's account only if it is unchanged since the order
read it (stores/one_commit.py); a commit refused for contention runs the order again after a
backoff, for the contention budget (CONTENTION_BUDGET_S). Here two writers take turns on the
account for as long as the callable works, each holding it in a transaction for a moment and
moving it (a harmless `updated_at`) as it lets go: the answer is ABORTED, nothing is written for
the key, and the same key sent again once the writers stop fills, once.

Why held, not just written in a loop: a loop of plain writes leaves gaps (a writer stalled on a
busy machine) in which an attempt's read and commit both fit, and the order fills. A held
account makes every attempt's commit wait for its holder, which moves the account after the
attempt read it (refused: FailedPrecondition, the account moved), or, on the emulator, which
stops a write's wait at 2 s, refused with ABORTED (a transaction holds the account): the two
refusals one_commit treats as contention. With two holders, one is always waiting for the
account when the other lets go.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore

from smart_routing.domain.orders import client_order_id_for
from smart_routing_firebase.stores import paths
from tests.emulator.conftest import wait_for
from tools.emulator_client import call

HOLDERS = 2
HOLD_S = 0.3  # well under the emulator's 2 s wait for a held document


def keyed_buy(key: str) -> dict[str, Any]:
    return {"strategy_id": "manual", "symbol": "AAPL", "side": "buy", "qty": 1,
            "idempotency_key": key}  # fmt: skip


class AccountMover:
    """Writers that hold `ref` in turn, each moving it as it lets go, until stopped."""

    def __init__(self, db: Any, ref: Any) -> None:
        self.db, self.ref = db, ref
        self.moves = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"account-holder-{n}", daemon=True)
            for n in range(HOLDERS)
        ]

    def _run(self) -> None:
        @firestore.transactional
        def hold_then_move(transaction: Any) -> None:
            self.ref.get(transaction=transaction)  # the emulator locks it for this transaction
            self._stop.wait(HOLD_S)
            transaction.update(self.ref, {"updated_at": datetime.now(UTC)})

        try:
            while not self._stop.is_set():
                hold_then_move(self.db.transaction())
                self.moves += 1
        except BaseException as exc:  # reported by stop(): a silent writer proves nothing
            self.errors.append(exc)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        wait_for(lambda: self.moves >= HOLDERS or self.errors, timeout_s=30, interval_s=0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
            assert not thread.is_alive()
        assert not self.errors, f"a writer failed: {self.errors!r}"


@contextmanager
def account_kept_moving(db: Any, ref: Any) -> Iterator[AccountMover]:
    mover = AccountMover(db, ref)
    mover.start()
    try:
        yield mover
    finally:
        mover.stop()


def without_update_time(snapshot: Any) -> dict[str, Any]:
    data = snapshot.to_dict()
    data.pop("updated_at")
    return data


def test_an_order_whose_account_moves_for_the_whole_budget_is_aborted_and_its_key_fills_later(
    db, make_user, tenant_id
):
    user = make_user(tenant_id)
    opening = call("execute_strategy", keyed_buy("opening"), user.id_token).result
    assert opening and opening["status"] == "filled", opening
    trade_id = client_order_id_for(tenant_id, user.uid, "contended")  # its order's id too
    order = paths.order_paths(tenant_id, user.uid, trade_id, "AAPL")
    account, position = db.document(order.paper_account), db.document(order.position)
    account_before, position_before = account.get(), position.get()

    with account_kept_moving(db, account) as mover:
        contended = call("execute_strategy", keyed_buy("contended"), user.id_token)
        moves_during_call = mover.moves

    assert (contended.http_status, contended.code) == (409, "ABORTED"), contended
    message = contended.error["message"]
    assert "nothing was placed" in message, message
    assert "retry (with the same idempotency_key)" in message, message
    assert moves_during_call > HOLDERS

    # The answer came after the order's last commit was refused: nothing for its key exists.
    for path in (
        order.execution_claim, order.order, order.ledger_trade, order.history_trade,
        order.open_lot, paths.unmirrored_trade(tenant_id, trade_id),
        paths.decision(tenant_id, trade_id),
    ):  # fmt: skip
        assert not db.document(path).get().exists, path
    # The account and the position are as the opening order left them: only the writers'
    # `updated_at` moved.
    assert without_update_time(account.get()) == without_update_time(account_before)
    assert position.get().update_time == position_before.update_time

    # Once the account is quiet, the same key fills, and only once.
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
