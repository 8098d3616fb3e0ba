"""Execution claims on the Firestore emulator: a dead holder's claim is taken over once its
lease runs out; a live holder's claim never is."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from smart_routing_firebase.stores import idempotency
from smart_routing_firebase.stores.idempotency import (
    ClaimState,
    ExecutionInProgress,
    claim,
    complete,
)

FINGERPRINT = idempotency.fingerprint({"symbol": "AAPL", "side": "buy", "qty": 1})


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "WAIT_S", 1.0)
    monkeypatch.setattr(idempotency, "POLL_S", 0.02)


@pytest.fixture
def path(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/executions/{uuid.uuid4().hex}"


@pytest.fixture
def dead_claim(db, path: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A claim made through claim() whose holder died: its lease has already run out."""
    with monkeypatch.context() as patched:
        patched.setattr(idempotency, "LEASE", timedelta(0))
        assert claim(db, path, FINGERPRINT, "dead-holder") is None
    return db.document(path).get().to_dict()


def test_a_dead_holders_claim_is_taken_over_and_the_new_caller_executes(db, path, dead_claim):
    assert dead_claim["state"] == ClaimState.RUNNING

    assert claim(db, path, FINGERPRINT, "new-caller") is None

    taken = db.document(path).get().to_dict()
    assert taken["state"] == ClaimState.RUNNING
    assert taken["lease_until"] > dead_claim["lease_until"] + idempotency.LEASE / 2
    assert "taken_over_at" in taken
    complete(db, path, {"status": "filled"})
    assert claim(db, path, FINGERPRINT, "a-retry") == {"status": "filled"}


def test_of_two_callers_finding_a_dead_claim_one_executes_and_the_other_gets_its_response(
    db, path, dead_claim
):
    start = threading.Barrier(2)
    executed: list[str] = []

    def caller(name: str) -> dict:
        start.wait()
        response = claim(db, path, FINGERPRINT, name)
        if response is None:
            executed.append(name)
            response = {"executed_by": name}
            complete(db, path, response)
        return response

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(caller, ["first", "second"]))

    assert len(executed) == 1
    assert outcomes == [{"executed_by": executed[0]}] * 2


def test_a_live_claim_is_not_taken_over(db, path):
    assert claim(db, path, FINGERPRINT, "live-holder") is None
    before = db.document(path).get()

    with pytest.raises(ExecutionInProgress):
        claim(db, path, FINGERPRINT, "impatient-caller")

    after = db.document(path).get()
    assert after.update_time == before.update_time
    assert "taken_over_at" not in after.to_dict()


def test_a_caller_waiting_on_a_live_claim_gets_the_holders_response(db, path):
    assert claim(db, path, FINGERPRINT, "live-holder") is None
    finishing = threading.Timer(0.3, complete, (db, path, {"status": "filled"}))
    finishing.start()
    try:
        assert claim(db, path, FINGERPRINT, "waiting-caller") == {"status": "filled"}
    finally:
        finishing.join()
