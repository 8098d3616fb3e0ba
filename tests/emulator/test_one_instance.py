"""One instance at its deployed concurrency: execute_strategy served as Cloud Functions runs
it (functions-framework's gunicorn, one process, a thread per request, as many threads as the
manifest's concurrency), cold, then sent that many requests at once.

The functions emulator sends one request at a time to each of its workers, so it cannot show
this: the instance here is started by the test, on the same code, against the same Auth and
Firestore emulators (ID tokens verified by the Admin SDK against the Auth emulator)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tools.deploy_manifest import render_manifest
from tools.emulator_client import User, new_user
from tools.emulators import PROJECT_ID, ROOT

FUNCTIONS = ROOT / "functions"
LOG_PATH = ROOT / ".cache" / "one-instance.log"
START_TIMEOUT_S = 60
# Several asset classes, so the instance's caches (instruments, quotes, market context,
# sessions, thresholds) fill from many threads at once.
ORDERS = [("AAPL", 1), ("MSFT", 2), ("ETH/USD", 0.01), ("EUR/USD", 1000), ("SOL/USD", 0.5)]


def concurrency() -> int:
    return int(render_manifest()["endpoints"]["execute_strategy"]["concurrency"])


def project_env() -> dict[str, str]:
    """functions/.env.<project>, as the CLI loads it for the emulated functions."""
    lines = (FUNCTIONS / f".env.{PROJECT_ID}").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def instance(emulators) -> Iterator[tuple[str, int]]:
    """The URL of one cold execute_strategy instance, and its thread count."""
    threads, port = concurrency(), free_port()
    env = {
        **os.environ,  # the emulators' addresses and the project, from the package fixture
        **project_env(),
        "FUNCTION_TARGET": "execute_strategy",
        "FUNCTION_SIGNATURE_TYPE": "http",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "THREADS": str(threads),
        "PYTHONUNBUFFERED": "1",
    }
    LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    with open(LOG_PATH, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework"],
            cwd=FUNCTIONS, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_listening(process, port)
        yield f"http://127.0.0.1:{port}/", threads
        assert process.poll() is None, "the instance died while serving"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_listening(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the instance exited with {process.returncode}: see {LOG_PATH}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"the instance did not listen within {START_TIMEOUT_S}s: see {LOG_PATH}")


def call(url: str, user: User, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = requests.post(
        url, json={"data": data}, headers={"Authorization": f"Bearer {user.id_token}"}, timeout=120
    )
    return response.status_code, response.json()


def test_one_instance_serves_its_concurrency_at_once_from_cold(db, tenant_id, instance):
    url, threads = instance
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
