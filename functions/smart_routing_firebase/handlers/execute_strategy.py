"""The execute_strategy callable: identity, payload, idempotency, then one strategy run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from firebase_functions.https_fn import CallableRequest, FunctionsErrorCode, HttpsError
from google.cloud.firestore import DocumentReference
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import ConfigError, UnknownStrategyError
from smart_routing.domain.identifiers import InvalidIdentifier, check_id
from smart_routing.domain.orders import MAX_IDEMPOTENCY_KEY_LENGTH, client_order_id_for
from smart_routing.execution.decision_record import DecisionSource
from smart_routing.execution.pipeline import StrategyRunRequest, StrategyRunResult
from smart_routing.execution.result import ExecutionStatus, status_of
from smart_routing.gate.decision import SmartRoutingDecision
from smart_routing.strategies import STRATEGIES
from smart_routing_firebase.platform.callable_data import payload_of
from smart_routing_firebase.platform.order_guards import admit_order
from smart_routing_firebase.platform.services import Services, services, settles_in_firestore
from smart_routing_firebase.reconciliation.earlier_attempt import venue_order_of_earlier_attempt
from smart_routing_firebase.stores import idempotency, paths
from smart_routing_firebase.stores.decision_record import record_decision
from smart_routing_firebase.stores.one_commit import (
    CommitContended,
    PendingCommit,
    commit_with_backoff,
    pending,
    run_in_one_commit,
)
from smart_routing_firebase.stores.venue_accounts import unlinked_refusal

StrictText = Annotated[str, Field(strict=True, min_length=1)]
T = TypeVar("T")


class ExecuteStrategyPayload(BaseModel):
    """The callable's `data`. Unknown fields are rejected; identity never comes from here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy_id: Annotated[StrictText, Field(max_length=64)]
    symbol: Annotated[StrictText, Field(max_length=32)]
    qty: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
    side: Literal["buy", "sell"] | None = None
    asset_class: AssetClass | None = None
    dry_run: StrictBool = False
    idempotency_key: Annotated[StrictText, Field(max_length=MAX_IDEMPOTENCY_KEY_LENGTH)] | None = (
        None
    )

    @field_validator("asset_class", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


@dataclass(frozen=True)
class CallableOrder:
    """One execute_strategy call, validated once at the edge: the caller's ids checked, the
    payload parsed, the symbol canonical (in `run`), the client_order_id and every document
    the order may write derived. Nothing after this re-derives them."""

    uid: str
    tenant_id: str
    payload: ExecuteStrategyPayload
    run: StrategyRunRequest
    # Of the idempotency key; without one, of a stand-in key: the same shape of id for any
    # key, so the paths are checked all the same (the engine then derives the real one).
    paths: paths.OrderPaths


def handle_execute_strategy(request: CallableRequest) -> dict[str, Any]:
    order = callable_order(request)
    try:
        svc = services()
    except ConfigError as exc:
        logs.log_event(logs.LogEvent.CONFIG_ERROR, severity="ERROR", error=str(exc))
        raise HttpsError(FunctionsErrorCode.INTERNAL, "the service is misconfigured") from exc
    in_firestore = _settles_in_firestore(svc, order.run)
    claim = None
    if order.payload.idempotency_key is not None:
        claim = idempotency.Claim(
            path=order.paths.execution_claim,
            fingerprint=idempotency.fingerprint(order.payload.model_dump(mode="json")),
            uid=order.uid,
        )
    if not in_firestore:  # before the key is claimed and the venue called
        replayed = _admitted_at_the_edge(svc, order, claim)
        if replayed is not None:
            return replayed
    if claim is None:
        return _execute_committed(svc, order)
    if in_firestore:
        # Nothing leaves Firestore, so the claim is created in the fill's own commit: a second
        # caller with the key finds the claim in its first read, or its commit refused, and
        # takes the claimed path below.
        work = lambda: _execute_and_finish(svc, order.run, claim, create_claim=True)  # noqa: E731
        unclaimed = _admitted(svc, order, work, unless_claimed=claim.path)
        try:
            response = _serialized(lambda: commit_with_backoff(svc.db, unclaimed))
        except KeyClaimed:
            response = None
        if response is not None:
            return response
    return _execute_claimed(svc, order, claim)


def _admitted_at_the_edge(
    svc: Services, order: CallableOrder, claim: idempotency.Claim | None
) -> dict[str, Any] | None:
    """A real venue's order takes its rate token before its key is claimed. Refused, a call
    again with a key already answered gets that answer instead (one read, only then): None
    when admitted."""
    try:
        admit_order(svc, order.tenant_id, order.uid, order.payload.dry_run)
    except HttpsError:
        replayed = None if claim is None else idempotency.answered(svc.db, claim)
        if replayed is None:
            raise
        return replayed
    return None


def callable_order(request: CallableRequest) -> CallableOrder:
    """Every check that needs no I/O, so a bad request fails before anything is claimed."""
    uid, tenant_id = _identity(request)
    payload = payload_of(ExecuteStrategyPayload, request.data)
    _check_strategy(payload)
    key = payload.idempotency_key
    client_order_id = client_order_id_for(tenant_id, uid, key or "no-key")
    run = _run_request(payload, uid, tenant_id, client_order_id if key else None)
    try:
        order_paths = paths.order_paths(tenant_id, uid, client_order_id, run.symbol)
    except InvalidIdentifier as exc:
        raise HttpsError(FunctionsErrorCode.INVALID_ARGUMENT, str(exc)) from exc
    return CallableOrder(uid=uid, tenant_id=tenant_id, payload=payload, run=run, paths=order_paths)


def _settles_in_firestore(svc: Services, run_request: StrategyRunRequest) -> bool:
    assert run_request.asset_class is not None  # the request parsed its symbol
    return settles_in_firestore(svc.runner, run_request.asset_class)


def _execute_claimed(
    svc: Services, order: CallableOrder, claim: idempotency.Claim
) -> dict[str, Any]:
    """Claim the key first (a real venue is called at most once per key), then execute."""
    try:
        stored = idempotency.claim(svc.db, claim.path, claim.fingerprint, claim.uid)
    except idempotency.IdempotencyConflict as exc:
        raise HttpsError(FunctionsErrorCode.INVALID_ARGUMENT, str(exc)) from exc
    except idempotency.ExecutionInProgress as exc:
        raise HttpsError(FunctionsErrorCode.ABORTED, f"{exc}; retry shortly") from exc
    if stored is not None:
        return stored
    try:
        found = _earlier_attempt_answer(svc, order)
        if found is None:
            return _execute_committed(svc, order, claim)
    except BaseException:
        idempotency.release(svc.db, claim.path)
        raise
    idempotency.complete(svc.db, claim.path, found)
    return found


def _earlier_attempt_answer(svc: Services, order: CallableOrder) -> dict[str, Any] | None:
    """The answer the key's earlier attempt should have had, when its outcome was left unclear
    and the venue holds its order (reconciliation/earlier_attempt.py): nothing is decided or
    sent again. None: run the key as usual."""
    if order.run.client_order_id is None or _settles_in_firestore(svc, order.run):
        return None
    found = venue_order_of_earlier_attempt(
        svc.db, svc.venues.broker, order.tenant_id, order.run.client_order_id,
        datetime.now(UTC),
    )  # fmt: skip
    if found is None:
        return None
    status, message = status_of(found)
    return {
        "status": status.value,
        "message": f"{message}: the order of this idempotency_key's earlier attempt, whose "
        "outcome was unknown, as the venue holds it (nothing was decided or sent again)",
        "currency": None,
        "signal": None,
        "routing": None,
        "quote": None,
        "order": _dump(found, ORDER_FIELDS),
        "trade_id": None,
    }


def _execute_committed(
    svc: Services, order: CallableOrder, claim: idempotency.Claim | None = None
) -> dict[str, Any]:
    """On the paper venue the rate token, fill, account, positions, order, ledger trade and
    the claim's response in one commit (see one_commit.py). A real venue's order is placed by
    the first run, so a refused commit must not run it again: there each store writes at
    once."""
    work = lambda: _execute_and_finish(svc, order.run, claim, create_claim=False)  # noqa: E731
    if _settles_in_firestore(svc, order.run):
        # Without a key, each run of `work` is a new order of its own ids: a commit refused
        # with them all existing was this call's, applied (one_commit.py, own_ids).
        admitted = _admitted(svc, order, work)
        return _serialized(lambda: run_in_one_commit(svc.db, admitted, own_ids=claim is None))
    return work()


class KeyClaimed(Exception):
    """The idempotency key was claimed before this call read it: answer from the claim."""


def _admitted(
    svc: Services, order: CallableOrder, work: Callable[[], T], unless_claimed: str | None = None
) -> Callable[[], T]:
    """`work` once the order's rate token is taken, in the same commit (stores/order_rate.py):
    refused over the rate, it raises resource-exhausted and nothing is written. With
    `unless_claimed`, the key's claim is read in the same round trip, and a claim found
    raises KeyClaimed first, whatever the rate or the gate would say now: a call again
    with its key is answered what the first was."""

    def admitted() -> T:
        claim = _prefetched(svc, unless_claimed)
        try:
            admit_order(svc, order.tenant_id, order.uid, order.payload.dry_run)
        except HttpsError:
            _raise_if_claimed(claim)
            raise
        _raise_if_claimed(claim)
        return work()

    return admitted


def _prefetched(
    svc: Services, claim_path: str | None
) -> tuple[PendingCommit, DocumentReference] | None:
    """The claim, to be read in the commit's first round trip (none outside a commit)."""
    commit = pending()
    if claim_path is None or commit is None:
        return None
    ref = svc.db.document(claim_path)
    commit.prefetch(ref)
    return commit, ref


def _raise_if_claimed(claim: tuple[PendingCommit, DocumentReference] | None) -> None:
    if claim is None:
        return
    commit, ref = claim
    if commit.read_together([ref], also=[])[ref.path].exists:
        raise KeyClaimed(ref.path)


def _serialized(commit: Callable[[], T]) -> T:
    """One user's orders that arrive together commit one after another on their account
    (one_commit.py); one that found no turn within the budget is `aborted`: nothing was placed
    and its key is free."""
    try:
        return commit()
    except CommitContended as exc:
        raise HttpsError(
            FunctionsErrorCode.ABORTED, f"{exc}; retry (with the same idempotency_key)"
        ) from exc


def _execute_and_finish(
    svc: Services,
    run_request: StrategyRunRequest,
    claim: idempotency.Claim | None,
    *,
    create_claim: bool,
) -> dict[str, Any]:
    response = _execute(svc, run_request)
    _finish_claim(svc, claim, response, create=create_claim)
    return response


def _finish_claim(
    svc: Services, claim: idempotency.Claim | None, response: dict[str, Any], *, create: bool
) -> None:
    if claim is None:
        return
    if response["status"] == ExecutionStatus.UNKNOWN:
        if not create:  # a retry must look again, not replay "unknown"
            idempotency.release(svc.db, claim.path)
    elif create:
        idempotency.create_done(svc.db, claim, response)
    else:
        idempotency.complete(svc.db, claim.path, response)


def _identity(request: CallableRequest) -> tuple[str, str]:
    """The user and tenant, each a valid document id (smart_routing.domain.identifiers)."""
    if request.auth is None or not request.auth.uid:
        raise HttpsError(FunctionsErrorCode.UNAUTHENTICATED, "sign in to execute strategies")
    tenant_id = (request.auth.token or {}).get("tenant_id")
    if tenant_id is None or tenant_id == "":
        raise HttpsError(
            FunctionsErrorCode.FAILED_PRECONDITION, "this account has no tenant_id claim"
        )
    try:
        return (
            check_id(request.auth.uid, "this account's uid"),
            check_id(tenant_id, "this account's tenant_id claim"),
        )
    except InvalidIdentifier as exc:
        raise HttpsError(FunctionsErrorCode.FAILED_PRECONDITION, str(exc)) from exc


def _check_strategy(payload: ExecuteStrategyPayload) -> None:
    if payload.strategy_id not in STRATEGIES:
        raise HttpsError(
            FunctionsErrorCode.NOT_FOUND, f"strategy_id: no strategy {payload.strategy_id!r}"
        )
    if payload.strategy_id == "manual" and payload.side is None:
        raise HttpsError(
            FunctionsErrorCode.INVALID_ARGUMENT, "side: the manual strategy needs buy or sell"
        )
    if payload.strategy_id != "manual" and payload.side is not None:
        raise HttpsError(
            FunctionsErrorCode.INVALID_ARGUMENT, "side: only the manual strategy takes a side"
        )


def _run_request(
    payload: ExecuteStrategyPayload, uid: str, tenant_id: str, client_order_id: str | None
) -> StrategyRunRequest:
    """The strategy run, its symbol parsed (the one place it is)."""
    try:
        return StrategyRunRequest(
            strategy_id=payload.strategy_id,
            symbol=payload.symbol,
            qty=payload.qty,
            side=payload.side,
            asset_class=payload.asset_class,
            dry_run=payload.dry_run,
            idempotency_key=payload.idempotency_key,
            tenant_id=tenant_id,
            uid=uid,
            client_order_id=client_order_id,
        )
    except ValidationError as exc:
        raise HttpsError(
            FunctionsErrorCode.INVALID_ARGUMENT, f"symbol: {_symbol_problem(exc)}"
        ) from exc


def _symbol_problem(exc: ValidationError) -> str:
    """The parser's own words: pydantic wraps a validator's ValueError as "Value error, ..."."""
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    return str(cause) if cause is not None else error["msg"]


def _execute(svc: Services, run_request: StrategyRunRequest) -> dict[str, Any]:
    refusal = unlinked_refusal(svc.venues, svc.runner, run_request)
    if refusal is not None:  # raising releases the key: the same key works once linked
        raise HttpsError(FunctionsErrorCode.FAILED_PRECONDITION, refusal)
    try:
        result = svc.runner.run(run_request)
    except UnknownStrategyError as exc:
        raise HttpsError(FunctionsErrorCode.NOT_FOUND, str(exc)) from exc
    except ValueError as exc:
        raise HttpsError(FunctionsErrorCode.INVALID_ARGUMENT, str(exc)) from exc
    if result.status is ExecutionStatus.ERROR:
        raise HttpsError(FunctionsErrorCode.UNAVAILABLE, result.message)
    if result.status is ExecutionStatus.INVALID:
        raise HttpsError(FunctionsErrorCode.INVALID_ARGUMENT, result.message)
    if result.routing is not None and result.routing.trading_state is not None:
        # The kill switch: nothing placed, nothing recorded, and raising releases the key.
        raise HttpsError(FunctionsErrorCode.FAILED_PRECONDITION, result.message)
    record_decision(svc.db, svc.runner, run_request, result, DecisionSource.CALLABLE)
    return response_of(result)


ROUTING_FIELDS = {
    "should_execute", "downgraded", "reason", "action", "cost_check", "spread_pct",
    "threshold_pct", "threshold_source", "estimated_slippage", "venue", "qty", "currency",
    "price", "notional", "estimated_spread_cost", "estimated_fees", "account_currency",
    "notional_in_account_currency", "fallback", "limit_price", "session", "cost_model",
}  # fmt: skip
QUOTE_FIELDS = {"bid", "ask", "as_of", "source"}
ORDER_FIELDS = {
    "broker", "broker_order_id", "client_order_id", "status", "order_type", "qty",
    "filled_qty", "filled_avg_price", "limit_price", "expires_at", "fallback",
}  # fmt: skip


def response_of(result: StrategyRunResult) -> dict[str, Any]:
    """The callable's answer, JSON-shaped so it is stored and replayed unchanged."""
    execution = result.execution
    order = execution.order if execution else None
    trade = execution.trade if execution else None
    quote = None
    if result.quote is not None:
        quote = result.quote.model_dump(mode="json", include=QUOTE_FIELDS)
        quote["mid"] = float(result.quote.mid)
    currency = result.routing.currency if result.routing else None
    return {
        "status": result.status.value,
        "message": result.message,
        "currency": trade.currency if trade else currency,
        "signal": result.signal.model_dump(mode="json"),
        "routing": _dump(result.routing, ROUTING_FIELDS),
        "quote": quote,
        "order": _dump(order, ORDER_FIELDS),
        "trade_id": trade.trade_id if trade else None,
    }


def _dump(
    model: BaseModel | SmartRoutingDecision | None, fields: set[str]
) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json", include=fields)
