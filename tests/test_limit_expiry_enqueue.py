"""The expiry task's enqueue: which orders get one, its delay and deterministic id, and how
Cloud Tasks' answers are read (a taken id is "already enqueued"; the emulator's unparseable
answer to a created task is "enqueued"; anything else is logged, never raised: the
reconciler's sweep ends the order all the same). The Cloud Tasks client is a stand-in here;
tests/emulator_venues runs the real one against the tasks emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from firebase_admin import exceptions, functions

from smart_routing_firebase.platform import app
from smart_routing_firebase.reconciliation.limit_expiry import schedule_expiry, task_id_for

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


class Queue:
    def __init__(self, raises: Exception | None = None) -> None:
        self.raises, self.sent = raises, []

    def enqueue(self, data, opts):
        self.sent.append((data, opts))
        if self.raises is not None:
            raise self.raises
        return opts.task_id


@pytest.fixture
def queue(monkeypatch):
    made = Queue()
    names = []
    monkeypatch.setattr(app, "initialize", lambda: None)
    monkeypatch.setattr(functions, "task_queue", lambda name, app=None: names.append(name) or made)
    monkeypatch.delenv("CLOUD_TASKS_EMULATOR_HOST", raising=False)
    made.names = names
    return made


def order(**changes):
    expires_at = NOW + timedelta(seconds=59.2)
    return {"tenant_id": "t-1", "client_order_id": "sr-abc", "uid": "u-1", "broker": "alpaca",
            "status": "accepted", "expires_at": expires_at, **changes}  # fmt: skip


def test_a_working_fallback_gets_one_task_at_its_expiry(queue):
    assert schedule_expiry(order(), NOW) == "enqueued"
    ((data, opts),) = queue.sent
    assert data == {"data": {"tenant_id": "t-1", "client_order_id": "sr-abc"}}
    assert (opts.schedule_delay_seconds, opts.task_id) == (60, task_id_for("t-1", "sr-abc"))
    assert queue.names == ["locations/us-central1/functions/expirelimitorder"]
    assert task_id_for("t-1", "sr-abc") == task_id_for("t-1", "sr-abc")
    assert task_id_for("t-1", "sr-abc") != task_id_for("t-2", "sr-abc")
    assert schedule_expiry(order(expires_at=NOW - timedelta(seconds=5)), NOW) == "enqueued"
    assert queue.sent[-1][1].schedule_delay_seconds == 0  # already due: at once


@pytest.mark.parametrize(
    "data",
    [None, order(expires_at=None), order(broker="oanda"), order(status="filled"),
     order(status="canceled"), order(tenant_id="")],
    ids=["no-order", "no-ttl", "oanda-gtd", "filled", "canceled", "no-tenant"],
)  # fmt: skip
def test_orders_that_need_no_task_get_none(queue, data):
    assert schedule_expiry(data, NOW) == "not_needed" and queue.sent == []


@pytest.mark.parametrize(
    "error", [exceptions.AlreadyExistsError("exists", None), exceptions.ConflictError("409", None)]
)
def test_a_taken_task_id_means_already_enqueued(queue, error):
    queue.raises = error
    assert schedule_expiry(order(), NOW) == "already_enqueued"


def test_the_emulators_unparseable_answer_is_read_as_enqueued_only_on_the_emulator(
    queue, monkeypatch, log_records
):
    queue.raises = ValueError("Invalid resource name format.")
    assert schedule_expiry(order(), NOW) == "enqueue_failed"
    (failed,) = [r for r in log_records() if r["event"] == "exec.reconcile_failed"]
    assert failed["step"] == "limit_expiry_enqueue" and "Invalid resource" in failed["error"]
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:9499")
    assert schedule_expiry(order(), NOW) == "enqueued"


def test_any_other_failure_is_logged_and_left_to_the_sweep(queue, log_records):
    queue.raises = exceptions.UnavailableError("cloud tasks down", None)
    assert schedule_expiry(order(), NOW) == "enqueue_failed"
    failed = [r for r in log_records() if r["event"] == "exec.reconcile_failed"]
    assert [(r["client_order_id"], r["severity"]) for r in failed] == [("sr-abc", "WARNING")]
