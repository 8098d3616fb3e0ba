"""runscheduledstrategy tasks through the tasks emulator that must place nothing: one of a
halted tenant, one whose config was disabled after the tick, and one whose tenant and config
no longer exist. Each is delivered once, and its log says why it did nothing (the in-process
versions are in test_scheduled_runs.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from smart_routing.domain.orders import client_order_id_for
from smart_routing.domain.trading_state import TradingState
from smart_routing_firebase.handlers.run_scheduled_strategies import (
    TASK_FUNCTION,
    scheduled_idempotency_key,
    strategy_task_id,
    task_payload,
)
from smart_routing_firebase.platform import task_queue
from smart_routing_firebase.stores.trading_state import change_state
from tests.emulator.conftest import LOG_PATH
from tools.emulator_logs import log_records, wait_for_log
from tools.scheduled_fanout import wait_for_tasks

TICK = datetime(2026, 2, 9, 15, 5, tzinfo=UTC)


def test_tasks_of_a_halted_tenant_or_a_config_gone_or_disabled_place_nothing_and_say_why(
    db, tenant_id
):
    uid = f"user-{uuid.uuid4().hex[:10]}"
    reason = f"market open chaos at {tenant_id}"  # this test's: the gate's log line names it
    buy = {"enabled": True, "uid": uid, "strategy_id": "manual", "side": "buy",
           "symbols": ["AAPL"], "qty": 1}  # fmt: skip
    halted = f"tenants/{tenant_id}/strategies/buy-aapl"
    disabled = f"tenants/{tenant_id}-paused/strategies/buy-aapl"
    gone = f"tenants/{tenant_id}-gone/strategies/buy-aapl"
    db.document(halted).set(buy)
    db.document(disabled).set({**buy, "enabled": False})  # since the tick enqueued it
    change_state(db, tenant_id, None, TradingState.HALTED, reason, by="ops-admin")
    paths = [halted, disabled, gone]
    try:
        for path in paths:
            task_id = strategy_task_id(TICK, path)
            assert task_queue.enqueue(TASK_FUNCTION, task_payload(TICK, path), task_id) == (
                "enqueued"
            )
        runs = wait_for_tasks(db, TICK, paths, timeout_s=60)
    finally:
        db.document(halted).update({"enabled": False})

    assert {path: (run["runs"], run["last_outcome"]) for path, run in runs.items()} == {
        halted: (1, {"status_rejected": 1}),
        disabled: (1, {"skipped": 1}),
        gone: (1, {"skipped": 1}),
    }
    for tenant in (tenant_id, f"{tenant_id}-paused", f"{tenant_id}-gone"):
        assert list(db.collection(f"tenants/{tenant}/ledger_trades").stream()) == []
        assert list(db.collection(f"tenants/{tenant}/orders").stream()) == []

    for path in paths:  # each task's last line is in the log: those before it are too
        wait_for_log(LOG_PATH, "exec.scheduled_task_summary", task_id=strategy_task_id(TICK, path))
    trade_id = client_order_id_for(
        tenant_id, uid, scheduled_idempotency_key("buy-aapl", "AAPL", TICK)
    )
    claim = db.document(f"tenants/{tenant_id}/executions/{trade_id}").get()
    assert json.loads(claim.get("response")) == {"status": "rejected"}  # a redelivery: no rerun
    why = f"trading is halted for this tenant ({reason}): no new orders"
    refusals = [r for r in log_records(LOG_PATH, "exec.smart_routing") if r.get("reason") == why]
    assert [(r["action"], r["symbol"]) for r in refusals] == [("reject", "AAPL")]
    skipped = {
        r["config"]: r["reason"]
        for r in log_records(LOG_PATH, "exec.scheduled_task_skipped")
        if r.get("config") in paths and r.get("schedule_time") == TICK.isoformat()
    }
    assert skipped == {
        disabled: "the config is disabled",
        gone: "the config no longer exists",
    }
