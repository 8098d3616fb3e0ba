"""Fallback limit orders end at their time to live (`expires_at`, see limit_fallback.py).

Two paths, each enough on its own:
- a Cloud Tasks task, enqueued by the order trigger once the order is recorded, scheduled for
  its expires_at, under a task id derived from the order (a redelivered trigger enqueues
  nothing more). It cancels the order if it still works, then reconciles, so the cancel and
  any fill that raced it are recorded at once. OANDA's orders are GTD: OANDA ends them itself
  and no task is enqueued for them.
- every reconciler run cancels each working order past its expires_at (`LimitExpiry`, run
  before the fills and order states are read), so a lost task costs at most one interval.

The cancel is idempotent at every venue (Broker.cancel_order): a second delivery, or an order
that filled meanwhile, changes nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing.domain.orders import WORKING_STATUSES, AccountOwner
from smart_routing.ports import Broker
from smart_routing_firebase.platform import task_queue
from smart_routing_firebase.platform.task_queue import MalformedTask
from smart_routing_firebase.stores import paths

# Cloud Tasks queue ids take letters, digits and hyphens only: the function's name has no "_".
TASK_FUNCTION = "expirelimitorder"
TASK_RUNS = "limit_expiry_tasks"  # one document per task id: how often it ran, how it ended
# Venues that end an order at its expires_at themselves (OANDA's GTD): no task for those.
SELF_EXPIRING_VENUES = frozenset({"oanda"})
ENQUEUED, ALREADY_ENQUEUED = task_queue.ENQUEUED, task_queue.ALREADY_ENQUEUED
NOT_NEEDED = "not_needed"
ENQUEUE_FAILED = "enqueue_failed"
NOT_DUE, ENDED, NOT_FOUND, CANCEL_FAILED = "not_due", "ended", "not_found", "cancel_failed"
_WORKING = frozenset(status.value for status in WORKING_STATUSES)


def task_id_for(tenant_id: str, client_order_id: str) -> str:
    """The same order always gives the same task id (Cloud Tasks refuses a second task with
    it); a digest, since ids take only letters, digits, '-' and '_'."""
    digest = hashlib.sha256(f"{tenant_id}\x1f{client_order_id}".encode()).hexdigest()
    return f"expire-{digest[:40]}"


def schedule_expiry(data: dict[str, Any] | None, now: datetime | None = None) -> str:
    """Enqueue the expiry task of a newly recorded fallback limit order that works and whose
    venue does not end it itself; anything else needs none. A failure is logged, not raised:
    the reconciler's sweep ends the order all the same."""
    if not _needs_task(data):
        return NOT_NEEDED
    assert data is not None
    try:
        return _enqueue(data, now or datetime.now(UTC))
    except Exception as exc:  # the sweep covers it: at most one reconciler interval late
        logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="WARNING",
                       step="limit_expiry_enqueue", client_order_id=data["client_order_id"],
                       error=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
        return ENQUEUE_FAILED


def _enqueue(data: dict[str, Any], now: datetime) -> str:
    delay = max(0, math.ceil((data["expires_at"] - now).total_seconds()))
    task_id = task_id_for(data["tenant_id"], data["client_order_id"])
    payload = {"tenant_id": data["tenant_id"], "client_order_id": data["client_order_id"]}
    outcome = task_queue.enqueue(TASK_FUNCTION, payload, task_id, delay)
    if outcome == ENQUEUED:
        logs.log_event(logs.LogEvent.LIMIT_EXPIRY_ENQUEUED, task_id=task_id, delay_s=delay,
                       client_order_id=data["client_order_id"])  # fmt: skip
    return outcome


def _needs_task(data: dict[str, Any] | None) -> bool:
    return (
        data is not None
        and data.get("status") in _WORKING
        and isinstance(data.get("expires_at"), datetime)
        and data.get("broker") not in SELF_EXPIRING_VENUES
        and bool(data.get("tenant_id"))
        and bool(data.get("client_order_id"))
    )


class LimitExpiry:
    """The reconciler's step: cancel every working order whose expires_at has passed."""

    def __init__(self, db: Client, broker: Broker, paper: PaperBroker, now: datetime) -> None:
        self.db, self.broker, self.paper, self.now = db, broker, paper, now

    def run(self) -> Counter[str]:
        tally: Counter[str] = Counter()
        for snapshot in self._due():
            tally[self.expire(snapshot)] += 1
        return tally

    def _due(self) -> Iterator[Any]:
        query = (
            self.db.collection_group("orders")
            .where(filter=FieldFilter("status", "in", sorted(_WORKING)))
            .where(filter=FieldFilter("expires_at", "<=", self.now))
        )
        yield from query.stream()

    def expire(self, snapshot: Any) -> str:
        """Cancel one order past its time to live; how the venue shows it after. The order
        book learns the new state from the reconciler, with the fills."""
        data = snapshot.to_dict()
        owner = AccountOwner(tenant_id=data["tenant_id"], uid=data["uid"])
        broker = self.paper if data.get("broker") == PaperBroker.name else self.broker
        try:
            found = broker.cancel_order(snapshot.id, AssetClass(data["asset_class"]), owner)
        except Exception as exc:  # logged; the next run (or the task's retry) asks again
            logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="WARNING",
                           step="limit_expiry", client_order_id=snapshot.id,
                           error=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
            return CANCEL_FAILED
        outcome = NOT_FOUND if found is None else found.status.value
        logs.log_event(logs.LogEvent.LIMIT_EXPIRED, client_order_id=snapshot.id,
                       expires_at=data.get("expires_at"), outcome=outcome)  # fmt: skip
        return outcome


def run_expiry_task(expiry: LimitExpiry, data: Any, reconcile: Callable[[], object]) -> str:
    """Cancel the task's order if it still works and its time has come, then `reconcile`, so
    the cancel and any fill that raced it are recorded at once. Delivered early (the emulator
    runs delayed tasks at once) or again, it changes nothing: an early one leaves the order to
    the reconciler's first run after its expires_at. Raises MalformedTask for a malformed task
    and RuntimeError when the venue could not be asked (Cloud Tasks then retries)."""
    tenant_id, client_order_id = _task_order(data)
    snapshot = expiry.db.document(paths.order(tenant_id, client_order_id)).get()
    outcome = _outcome_before_cancel(snapshot, expiry.now)
    if outcome is None:
        outcome = expiry.expire(snapshot)
        if outcome != CANCEL_FAILED:
            reconcile()
    _record_run(expiry.db, task_id_for(tenant_id, client_order_id), tenant_id, client_order_id,
                outcome, expiry.now)  # fmt: skip
    if outcome == CANCEL_FAILED:
        raise RuntimeError(f"the venue could not cancel {client_order_id}; retried")
    return outcome


def _task_order(data: Any) -> tuple[str, str]:
    if not isinstance(data, dict):
        raise MalformedTask("the task's data must be an object")
    tenant_id, client_order_id = data.get("tenant_id"), data.get("client_order_id")
    if not isinstance(tenant_id, str) or not isinstance(client_order_id, str):
        raise MalformedTask("the task's data needs tenant_id and client_order_id")
    try:
        paths.order(tenant_id, client_order_id)
    except InvalidIdentifier as exc:
        raise MalformedTask(str(exc)) from exc
    return tenant_id, client_order_id


def _outcome_before_cancel(snapshot: Any, now: datetime) -> str | None:
    """Why nothing is to be canceled, or None when the order is due."""
    if not snapshot.exists:
        return NOT_FOUND
    data = snapshot.to_dict()
    if data.get("status") not in _WORKING:
        return ENDED
    expires_at = data.get("expires_at")
    if not isinstance(expires_at, datetime) or now < expires_at:
        return NOT_DUE
    return None


def _record_run(
    db: Client, task_id: str, tenant_id: str, client_order_id: str, outcome: str, now: datetime
) -> None:
    """limit_expiry_tasks/{task id}: each delivery counted, the last one's outcome; kept off
    the order's document, whose update time the reconciler's writes are conditioned on."""
    db.document(f"{TASK_RUNS}/{task_id}").set(
        {"tenant_id": tenant_id, "client_order_id": client_order_id,
         "runs": firestore.Increment(1), "last_outcome": outcome, "last_run_at": now},
        merge=True,
    )  # fmt: skip
