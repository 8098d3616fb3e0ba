"""run_scheduled_strategies as deployed: the functions emulator runs it over HTTP for a given
X-CloudScheduler-ScheduleTime, against this test's own tenant.

The tick enqueues one runscheduledstrategy task per enabled config of every tenant, which the
tasks emulator runs: the test waits for this tenant's tasks, its assertions are on this
tenant's documents only, and the configs are disabled afterwards so that no later run picks
them up. The emulator
also runs the body once, at the current time, whenever it starts a worker for the function:
those runs are ticks of their own, so trades at any second of the test are allowed besides the
ticks the test sends.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smart_routing.domain.orders import client_order_id_for
from smart_routing_firebase.handlers.run_scheduled_strategies import scheduled_idempotency_key
from tools.emulator_client import run_scheduled
from tools.scheduled_fanout import task_runs, wait_for_tasks

FUNCTION = "run_scheduled_strategies"
TICK = datetime(2026, 2, 2, 15, 5, tzinfo=UTC)
CONFIGS = {
    "buy_aapl": {"symbols": ["AAPL"], "qty": 1},
    "buy_usdjpy": {"symbols": ["USD/JPY"], "qty": 1000},
}


@pytest.fixture
def uid() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def strategy_docs(db, tenant_id: str, uid: str) -> Iterator[list[Any]]:
    """This tenant's configs: two to run, one paused, one whose uid is unsafe, and one in a
    tenant whose id is unsafe."""
    manual = {"enabled": True, "uid": uid, "strategy_id": "manual", "side": "buy"}
    docs = {
        f"tenants/{tenant_id}/strategies/{name}": {**manual, **config}
        for name, config in CONFIGS.items()
    }
    docs[f"tenants/{tenant_id}/strategies/paused"] = {**manual, "enabled": False,
                                                      "symbols": ["MSFT"], "qty": 1}  # fmt: skip
    docs[f"tenants/{tenant_id}/strategies/bad_uid"] = {**manual, "uid": "a/b",
                                                       "symbols": ["MSFT"], "qty": 1}  # fmt: skip
    docs[f"tenants/{tenant_id} x/strategies/bad_tenant"] = {**manual, "symbols": ["MSFT"],
                                                            "qty": 1}  # fmt: skip
    refs = [db.document(path) for path in docs]
    for ref, data in zip(refs, docs.values(), strict=True):
        ref.set(data)
    yield refs[: len(CONFIGS)]  # the ones that run
    for ref in refs:
        ref.update({"enabled": False})


def expected_trade_ids(tenant_id: str, uid: str, tick: datetime) -> set[str]:
    return {
        client_order_id_for(tenant_id, uid, scheduled_idempotency_key(name, symbol, tick))
        for name, config in CONFIGS.items()
        for symbol in config["symbols"]
    }


def documents(db, collection: str) -> dict[str, dict[str, Any]]:
    return {doc.id: doc.to_dict() for doc in db.collection(collection).stream()}


def run_at(schedule_time: datetime | str) -> None:
    response = run_scheduled(FUNCTION, schedule_time)
    assert response.status_code == 200, response.text


def test_a_tick_runs_each_enabled_config_once_and_a_new_tick_runs_again(
    db, tenant_id, uid, strategy_docs
):
    ledger, claims = f"tenants/{tenant_id}/ledger_trades", f"tenants/{tenant_id}/executions"
    started = datetime.now(UTC)
    tick_ids = expected_trade_ids(tenant_id, uid, TICK)

    run_at(TICK)
    paths = [ref.path for ref in strategy_docs]
    wait_for_tasks(db, TICK, paths, timeout_s=60)

    trades = {key: doc for key, doc in documents(db, ledger).items() if key in tick_ids}
    assert set(trades) == tick_ids
    assert {trade["symbol"] for trade in trades.values()} == {"AAPL", "USD/JPY"}
    assert all(trade["uid"] == uid for trade in trades.values())
    tick_claims = {key: doc for key, doc in documents(db, claims).items() if key in tick_ids}
    assert set(tick_claims) == tick_ids
    assert {json.loads(claim["response"])["status"] for claim in tick_claims.values()} == {"filled"}

    # Retries of the tick, in any form its time may arrive in, run nothing again.
    run_at(TICK)
    run_at("2026-02-02T16:05:00.250+01:00")
    later = TICK + timedelta(minutes=5)
    run_at(later)
    wait_for_tasks(db, later, paths, timeout_s=60)  # ran after the retries were answered
    assert {key: documents(db, ledger)[key] for key in tick_ids} == trades
    assert {key: documents(db, claims)[key] for key in tick_ids} == tick_claims
    assert [run["runs"] for run in task_runs(db, TICK).values() if run["config"] in paths] == [
        1,
        1,
    ]

    later_ids = expected_trade_ids(tenant_id, uid, later)
    assert later_ids <= set(documents(db, ledger))

    now_ids = ids_at_every_second(tenant_id, uid, started, datetime.now(UTC))
    assert set(documents(db, ledger)) <= tick_ids | later_ids | now_ids
    assert documents(db, f"tenants/{tenant_id} x/ledger_trades") == {}


def ids_at_every_second(tenant_id: str, uid: str, start: datetime, end: datetime) -> set[str]:
    """The trade ids of runs at the current time between `start` and `end`."""
    seconds = int((end - start).total_seconds()) + 4
    first = start.replace(microsecond=0) - timedelta(seconds=2)
    return {
        trade_id
        for n in range(seconds)
        for trade_id in expected_trade_ids(tenant_id, uid, first + timedelta(seconds=n))
    }
