"""At most one execution per idempotency key, with every caller getting the same answer.

A claim document at tenants/{tenant_id}/executions/{client_order_id} is created with create():
the caller whose create() succeeds runs the execution and stores its response there; callers
that find the claim wait for that response. A claim whose holder died is taken over when its
lease runs out, which is safe because the venue and the ledger are idempotent on the same id.
On the paper venue the claim is instead created already done, in the fill's own commit
(`create_done`, see execute.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound
from google.cloud.firestore import Client

from smart_routing_firebase.stores.one_commit import pending

LEASE = timedelta(seconds=60)
WAIT_S = 45.0
POLL_S = 0.1


class ClaimState(StrEnum):
    """A claim document's `state`: its holder is executing, or the response is stored."""

    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True)
class Claim:
    """Where a key's claim lives, what request it stands for, and whose it is."""

    path: str
    fingerprint: str
    uid: str


class IdempotencyConflict(ValueError):
    """The key was used before for a different request."""


class ExecutionInProgress(RuntimeError):
    """Another call with the same key is still running."""


def fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def claim(db: Client, path: str, request_fingerprint: str, uid: str) -> dict[str, Any] | None:
    """None when this caller should execute; the stored response when another caller did."""
    ref = db.document(path)
    deadline = time.monotonic() + WAIT_S
    while True:
        now = datetime.now(UTC)
        try:
            ref.create(
                {
                    "state": ClaimState.RUNNING,
                    "fingerprint": request_fingerprint,
                    "uid": uid,
                    "created_at": now,
                    "lease_until": now + LEASE,
                }
            )
            return None
        except AlreadyExists:
            pass
        snapshot = ref.get()
        if not snapshot.exists:
            continue  # released since: try to claim it again
        stored = snapshot.to_dict()
        assert stored is not None  # it exists
        if stored["fingerprint"] != request_fingerprint:
            raise IdempotencyConflict("idempotency_key: already used for a different request")
        if stored["state"] == ClaimState.DONE:
            return json.loads(stored["response"])
        if stored["lease_until"] < now and _take_over(db, ref, snapshot.update_time, now):
            return None
        if time.monotonic() > deadline:
            raise ExecutionInProgress("an execution with this idempotency_key is still running")
        time.sleep(POLL_S)


def _take_over(db: Client, ref: Any, seen_update_time: Any, now: datetime) -> bool:
    try:
        ref.update(
            {"lease_until": now + LEASE, "taken_over_at": now},
            option=db.write_option(last_update_time=seen_update_time),
        )
        return True
    except (FailedPrecondition, NotFound):  # someone else moved first
        return False


def answered(db: Client, claim: Claim) -> dict[str, Any] | None:
    """The stored response when this request was answered under its key before, else None
    (one read): what a call refused before its key is claimed checks first."""
    snapshot = db.document(claim.path).get()
    if not snapshot.exists:
        return None
    stored = snapshot.to_dict() or {}
    if stored.get("state") != ClaimState.DONE or stored.get("fingerprint") != claim.fingerprint:
        return None
    return json.loads(stored["response"])


def create_done(db: Client, claim: Claim, response: dict[str, Any]) -> None:
    """Create the claim with its response already stored: staged in the execution's commit,
    so the key is taken exactly when the fill is written (an existing claim refuses both)."""
    now = datetime.now(UTC)
    document = {
        "state": ClaimState.DONE,
        "fingerprint": claim.fingerprint,
        "uid": claim.uid,
        "created_at": now,
        "completed_at": now,
        "response": _stored(response),
    }
    commit = pending()
    if commit is not None:
        commit.create(db.document(claim.path), document)
    else:
        db.document(claim.path).create(document)


def complete(db: Client, path: str, response: dict[str, Any]) -> None:
    """Store the response; staged in the execution's commit when there is one."""
    done = {
        "state": ClaimState.DONE,
        "response": _stored(response),
        "completed_at": datetime.now(UTC),
    }
    commit = pending()
    if commit is not None:
        commit.update(db.document(path), done)
    else:
        db.document(path).update(done)


def _stored(response: dict[str, Any]) -> str:
    """The response as JSON text: replayed exactly as sent, and one field to encode instead of
    a nested map (building the nested write costs more than the rest of the commit's encoding)."""
    return json.dumps(response, separators=(",", ":"))


def release(db: Client, path: str) -> None:
    """Give the key back: nothing was placed, or the outcome must be checked again on retry.
    Staged in the execution's commit when there is one."""
    commit = pending()
    if commit is not None:
        commit.delete(db.document(path))
    else:
        db.document(path).delete()
