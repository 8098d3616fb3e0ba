"""Decision records (smart_routing.execution.decision_record) into
tenants/{tenant_id}/decisions/{id}.

Staged in the execution's own commit where there is one (the paper venue: no extra round
trip, and the record commits with the claim, the order and the trade or not at all); else
created at once. A record that exists already (a retry of the same idempotency key) is left
as it is: create() never overwrites it.
"""

from __future__ import annotations

import uuid

from google.api_core.exceptions import AlreadyExists
from google.cloud.firestore import Client

from smart_routing import logs
from smart_routing.domain.orders import client_order_id_for
from smart_routing.execution.decision_record import DecisionRecord, DecisionSource, decision_record
from smart_routing.execution.pipeline import StrategyRunner, StrategyRunRequest, StrategyRunResult
from smart_routing.gate.venue_selection import chosen_venue
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import to_document
from smart_routing_firebase.stores.one_commit import pending


def record_decision(
    db: Client,
    runner: StrategyRunner,
    request: StrategyRunRequest,
    result: StrategyRunResult,
    source: DecisionSource,
) -> DecisionRecord | None:
    """Record the run's decision unless it was a dry run or decided nothing (see
    decision_record); the record, or None."""
    if request.dry_run or result.routing is None:
        return None
    assert request.tenant_id and request.uid  # the callable and the scheduler set both
    try:
        record = decision_record(
            result,
            tenant_id=request.tenant_id,
            uid=request.uid,
            strategy_id=request.strategy_id,
            client_order_id=_client_order_id(request, result),
            venue=chosen_venue(result.routing)
            or runner.engine.broker.venue_for(result.routing.asset_class),
            decided_at=runner.engine.clock.now(),
            source=source,
        )
    except Exception as exc:  # a record that cannot be built must not stop the order
        _log_failure(None, exc)
        return None
    if record is not None:
        write(db, record)
    return record


def write(db: Client, record: DecisionRecord) -> None:
    ref = db.document(paths.decision(record.tenant_id, record.decision_id))
    document = to_document(record, ("decided_at",))
    commit = pending()
    if commit is not None:
        commit.create(ref, document)
        return
    try:
        ref.create(document)
    except AlreadyExists:  # recorded by an earlier attempt of the same key
        pass
    except Exception as exc:  # the order stands whatever happens to its record: say so
        _log_failure(record.decision_id, exc)


def _log_failure(decision_id: str | None, exc: Exception) -> None:
    logs.log_event(logs.LogEvent.DECISION_RECORD_FAILED, severity="ERROR",
                   decision_id=decision_id, error=f"{type(exc).__name__}: {exc}")  # fmt: skip


def _client_order_id(request: StrategyRunRequest, result: StrategyRunResult) -> str:
    """The order's id: the one the engine used, else the one the key gives. A request without
    a key gets a fresh id, as its order would (each such request is its own decision)."""
    if result.execution is not None:
        return result.execution.client_order_id
    if request.client_order_id is not None:
        return request.client_order_id
    assert request.tenant_id and request.uid
    key = request.idempotency_key or uuid.uuid4().hex
    return client_order_id_for(request.tenant_id, request.uid, key)
