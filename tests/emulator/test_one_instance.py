"""One instance at its deployed concurrency: execute_strategy served as Cloud Functions runs
it (functions-framework's gunicorn, one process, a thread per request, as many threads as the
manifest's concurrency), cold, then sent that many requests at once.

The functions emulator sends one request at a time to each of its workers, so it cannot show
this: the instance here is started by the test, on the same code, against the same Auth and
Firestore emulators (ID tokens verified by the Admin SDK against the Auth emulator)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tools.emulator_client import User, new_user
from tools.emulators import ROOT
from tools.one_instance import Instance, InstanceError, running_instance

LOG_PATH = ROOT / ".cache" / "one-instance.log"
# Several asset classes, so the instance's caches (instruments, quotes, market context,
# sessions, thresholds) fill from many threads at once.
ORDERS = [("AAPL", 1), ("MSFT", 2), ("ETH/USD", 0.01), ("EUR/USD", 1000), ("SOL/USD", 0.5)]


@pytest.fixture(scope="module")
def instance(emulators) -> Iterator[Instance]:
    """One cold execute_strategy instance, on the emulators the package fixture started."""
    try:
        with running_instance("execute_strategy", LOG_PATH) as started:
            yield started
            assert started.process.poll() is None, "the instance died while serving"
    except InstanceError as exc:
        pytest.fail(str(exc), pytrace=False)


def call(url: str, user: User, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = requests.post(
        url, json={"data": data}, headers={"Authorization": f"Bearer {user.id_token}"}, timeout=120
    )
    return response.status_code, response.json()


def test_one_instance_serves_its_concurrency_at_once_from_cold(db, tenant_id, instance):
    url, threads = instance.url, instance.threads
    assert threads == 80  # what the manifest deploys
    with ThreadPoolExecutor(max_workers=16) as pool:
        users = list(pool.map(lambda _: new_user(tenant_id), range(threads // 2)))
    # Per user: a keyed buy, and the same key again at the same moment (a client's retry).
    calls = []
    for i, user in enumerate(users):
        symbol, qty = ORDERS[i % len(ORDERS)]
        data = {"strategy_id": "manual", "symbol": symbol, "side": "buy", "qty": qty,
                "idempotency_key": f"buy-{i}"}  # fmt: skip
        calls += [(user, data), (user, data)]
    start = threading.Barrier(len(calls))

    def send(index: int) -> tuple[int, dict[str, Any]]:
        start.wait()
        return call(url, *calls[index])

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = list(pool.map(send, range(len(calls))))

    assert [status for status, _ in answers] == [200] * len(calls), answers
    results = [body["result"] for _, body in answers]
    assert {r["status"] for r in results} == {"filled"}
    # Each pair got one answer, the same trade; every user's trade is its own.
    pairs = list(zip(results[::2], results[1::2], strict=True))
    assert all(a["trade_id"] == b["trade_id"] for a, b in pairs)
    trade_ids = {a["trade_id"] for a, _ in pairs}
    assert len(trade_ids) == len(users)

    ledger = [d.to_dict() for d in db.collection(f"tenants/{tenant_id}/ledger_trades").stream()]
    assert sorted(t["trade_id"] for t in ledger) == sorted(trade_ids)
    assert len({t["broker_order_id"] for t in ledger}) == len(users)
    assert {t["uid"] for t in ledger} == {u.uid for u in users}
    orders = list(db.collection(f"tenants/{tenant_id}/orders").stream())
    assert len(orders) == len(users)
    assert "Traceback" not in LOG_PATH.read_text(errors="replace")
