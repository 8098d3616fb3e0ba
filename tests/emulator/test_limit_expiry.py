"""A paper fallback limit ends at its time to live: through the deployed reconciler, whose
clock is the scheduled tick's time (working before it, canceled on the first run after it,
left alone by later runs), and through the expiry task's body on a controlled clock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.orders import AccountOwner, OrderIntent
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.limit_fallback import WideSpreadAction
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.gate.router import SmartRouter
from smart_routing_firebase.platform.task_queue import MalformedTask
from smart_routing_firebase.reconciliation.limit_expiry import (
    TASK_RUNS,
    LimitExpiry,
    run_expiry_task,
    task_id_for,
)
from smart_routing_firebase.stores.ledger import FirestoreLedgerStore
from smart_routing_firebase.stores.paper_account import FirestorePaperAccounts
from tools.emulator_client import run_scheduled

CASH = Decimal(100_000)


def reconcile(at):
    response = run_scheduled("reconcile_venues", at)
    assert response.status_code == 200, response.text


def test_a_paper_fallback_limit_is_canceled_by_the_first_reconciler_run_after_its_ttl(
    db, tenant_id
):
    owner = AccountOwner(tenant_id=tenant_id, uid="ttl-user")
    clock = SystemClock()
    market = SimulatedMarket(clock)
    # Mid 11.99: below the emulator's own F ask (12.00), so its reconciler never fills it.
    market.set_quote("F", 11.88, 12.10)
    accounts = FirestorePaperAccounts(db, CASH)
    paper = PaperBroker(market, BuiltinInstruments(), clock, accounts=accounts)
    engine = ExecutionEngine(
        broker=paper, market_data=market, instruments=BuiltinInstruments(),
        ledger=FirestoreLedgerStore(db), router=SmartRouter(RoutingPolicy()), clock=clock,
        tenant_id=owner.tenant_id, uid=owner.uid, wide_spread_action=WideSpreadAction.LIMIT,
        limit_ttl_s=60,
    )  # fmt: skip
    result = engine.execute_intent(OrderIntent(symbol="F", side="buy", qty=10))
    assert result.status is ExecutionStatus.ACCEPTED, result.message
    coid = result.client_order_id
    ref = db.document(f"tenants/{tenant_id}/orders/{coid}")
    stored = ref.get().to_dict()
    assert (stored["broker"], stored["fallback"]) == ("paper", "limit")
    assert stored["limit_price"] == 11.99
    expires_at = stored["expires_at"]
    assert expires_at == result.order.expires_at

    reconcile(expires_at - timedelta(seconds=1))
    assert ref.get().to_dict()["status"] == "accepted"

    reconcile(expires_at + timedelta(seconds=1))
    ended = ref.get()
    assert (ended.get("status"), ended.get("filled_qty")) == ("canceled", 0)

    reconcile(expires_at + timedelta(seconds=120))
    assert ref.get().update_time == ended.update_time  # an ended order is left alone
    assert accounts.account(owner).cash == CASH  # a cancel moves no money
    trades = db.collection(f"tenants/{tenant_id}/ledger_trades").stream()
    assert list(trades) == []


def test_the_expiry_task_cancels_a_due_order_once_and_leaves_ended_orders_alone(db, tenant_id):
    owner = AccountOwner(tenant_id=tenant_id, uid="task-user")
    clock = SystemClock()
    market = SimulatedMarket(clock)
    market.set_quote("F", 11.88, 12.10)  # a fallback buy at 11.99 (see above)
    accounts = FirestorePaperAccounts(db, CASH)
    paper = PaperBroker(market, BuiltinInstruments(), clock, accounts=accounts)
    engine = ExecutionEngine(
        broker=paper, market_data=market, instruments=BuiltinInstruments(),
        ledger=FirestoreLedgerStore(db), router=SmartRouter(RoutingPolicy()), clock=clock,
        tenant_id=owner.tenant_id, uid=owner.uid, wide_spread_action=WideSpreadAction.LIMIT,
        limit_ttl_s=60,
    )  # fmt: skip
    resting = engine.execute_intent(OrderIntent(symbol="F", side="buy", qty=10)).order
    task = {"tenant_id": tenant_id, "client_order_id": resting.client_order_id}
    ref = db.document(f"tenants/{tenant_id}/orders/{resting.client_order_id}")
    reconciled = []

    def deliver(at):
        expiry = LimitExpiry(db, paper, paper, at)
        return run_expiry_task(expiry, task, lambda: reconciled.append(at))

    assert deliver(resting.expires_at - timedelta(seconds=1)) == "not_due"
    assert ref.get().get("status") == "accepted" and reconciled == []

    assert deliver(resting.expires_at) == "canceled"
    ended = ref.get()
    assert (ended.get("status"), ended.get("filled_qty")) == ("canceled", 0)
    assert reconciled == [resting.expires_at]  # the cancel is recorded at once

    assert deliver(resting.expires_at + timedelta(seconds=5)) == "ended"  # delivered again
    assert ref.get().update_time == ended.update_time and len(reconciled) == 1
    runs = db.document(f"{TASK_RUNS}/{task_id_for(tenant_id, resting.client_order_id)}").get()
    assert runs.get("last_outcome") == "ended"

    market.set_quote("F", 11.99, 12.00)
    filled = engine.execute_intent(OrderIntent(symbol="F", side="buy", qty=1)).order
    assert filled.status.value == "filled"
    done = {"tenant_id": tenant_id, "client_order_id": filled.client_order_id}
    before = db.document(f"tenants/{tenant_id}/orders/{filled.client_order_id}").get()
    expiry = LimitExpiry(db, paper, paper, resting.expires_at + timedelta(days=1))
    assert run_expiry_task(expiry, done, lambda: reconciled.append("no")) == "ended"
    assert before.reference.get().update_time == before.update_time and len(reconciled) == 1

    with pytest.raises(MalformedTask, match="tenant_id and client_order_id"):
        run_expiry_task(expiry, {"tenant_id": tenant_id}, lambda: None)
