"""The execution engine: smart routing gate, then the broker, then the ledger."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from smart_routing import logs
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.assets import AssetClass
from smart_routing.clock import SystemClock
from smart_routing.errors import OrderOutcomeUnknown, OrderRejected, VenueUnavailable
from smart_routing.ledger import LedgerTrade, trade_from_fill
from smart_routing.market_data import Quote
from smart_routing.orders import Order, OrderIntent, OrderRequest, OrderStatus, client_order_id_for
from smart_routing.ports import Broker, Clock, LedgerStore, MarketDataProvider
from smart_routing.routing import SmartRouter, SmartRoutingDecision, log_decision


class ExecutionStatus(StrEnum):
    """How an execution ended.

    filled            the venue filled the whole order; the trade is in the ledger
    partially_filled  the venue filled part of it; exactly that part is in the ledger
    accepted          the venue took the order and has not filled it yet
    downgraded        smart routing held it back (WAIT); nothing was sent
    dry_run           everything up to the venue ran; nothing was sent
    hold              the strategy did not signal a trade; nothing was sent
    rejected          the venue refused it; `message` carries the venue's reason
    error             it failed before reaching the venue; nothing was placed
    unknown           it may or may not have reached the venue: check before retrying
                      (retrying with the same idempotency_key is always safe)
    """

    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    ACCEPTED = "accepted"
    DOWNGRADED = "downgraded"
    DRY_RUN = "dry_run"
    HOLD = "hold"
    REJECTED = "rejected"
    ERROR = "error"
    UNKNOWN = "unknown"


class ExecutionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ExecutionStatus
    message: str
    intent: OrderIntent
    client_order_id: str
    routing: SmartRoutingDecision | None = None
    order: Order | None = None
    trade: LedgerTrade | None = None


class ExecutionEngine:
    """Runs one OrderIntent to its end. Safe to call again with the same intent."""

    def __init__(
        self,
        broker: Broker,
        enable_smart_routing: bool = False,
        dry_run: bool = False,
        *,
        market_data: MarketDataProvider | None = None,
        ledger: LedgerStore | None = None,
        router: SmartRouter | None = None,
        clock: Clock | None = None,
        tenant_id: str = "local-tenant",
        uid: str = "local-user",
    ) -> None:
        self.broker = broker
        self.enable_smart_routing = enable_smart_routing
        self.dry_run = dry_run
        self.market_data = market_data
        self.ledger = ledger if ledger is not None else InMemoryLedgerStore()
        self.clock = clock or SystemClock()
        self.router = router or SmartRouter(clock=self.clock)
        self.tenant_id = tenant_id
        self.uid = uid

    def execute_intent(
        self, intent: OrderIntent, *, quote: Quote | None = None, dry_run: bool | None = None
    ) -> ExecutionResult:
        """With a quote given, smart routing decides on it instead of fetching a fresh one."""
        intent = intent.model_copy(
            update={"tenant_id": intent.tenant_id or self.tenant_id, "uid": intent.uid or self.uid}
        )
        client_order_id = client_order_id_for(intent.tenant_id, intent.uid, intent.idempotency_key)

        def result(status: ExecutionStatus, message: str, **parts: object) -> ExecutionResult:
            outcome = ExecutionResult(
                status=status,
                message=message,
                intent=intent,
                client_order_id=client_order_id,
                **parts,
            )
            _log_result(outcome)
            return outcome

        routing = self._route(intent, quote) if self.enable_smart_routing else None
        if routing is not None and not routing.should_execute:
            return result(ExecutionStatus.DOWNGRADED, routing.reason, routing=routing)
        if self.dry_run if dry_run is None else dry_run:
            return result(ExecutionStatus.DRY_RUN, "dry run: no order sent", routing=routing)

        request = _order_request(intent, client_order_id)
        try:
            order = self._submit(request)
        except OrderRejected as exc:
            return result(ExecutionStatus.REJECTED, exc.reason, routing=routing)
        except VenueUnavailable as exc:
            return result(ExecutionStatus.ERROR, f"venue unavailable: {exc}", routing=routing)
        except OrderOutcomeUnknown as exc:
            message = (
                f"order outcome unknown ({exc}); check the venue for client_order_id "
                f"{client_order_id}, or retry with the same idempotency_key"
            )
            return result(ExecutionStatus.UNKNOWN, message, routing=routing)

        status, message = _status_of(order)
        if not order.has_fill:
            return result(status, message, routing=routing, order=order)
        try:
            trade = self._record(intent, order, routing)
        except Exception as exc:  # the fill happened; say so, and how to record it
            message = (
                f"{message}, but the ledger write failed ({type(exc).__name__}: {exc}); "
                "retry with the same idempotency_key to record it"
            )
            logs.log_event(
                logs.LEDGER_WRITE_FAILED,
                severity="ERROR",
                client_order_id=client_order_id,
                error=str(exc),
            )
            return result(status, message, routing=routing, order=order)
        return result(status, message, routing=routing, order=order, trade=trade)

    def venue_for(self, asset_class: AssetClass) -> str:
        """The venue the broker sends this asset class to."""
        venue_for = getattr(self.broker, "venue_for", None)
        return venue_for(asset_class) if venue_for else self.broker.name

    def _route(self, intent: OrderIntent, quote: Quote | None) -> SmartRoutingDecision:
        asset_class = intent.asset_class
        assert asset_class is not None  # OrderIntent fills it in
        venue = self.venue_for(asset_class)
        if quote is not None:
            decision = self.router.decide(intent.symbol, asset_class, quote, venue)
        else:
            decision = self.router.route(intent.symbol, asset_class, self.market_data, venue)
        log_decision(decision, gate="engine")
        return decision

    def _submit(self, request: OrderRequest) -> Order:
        """Submit; when the outcome is unclear, look the order up before calling it unknown."""
        try:
            return self.broker.submit_order(request)
        except (OrderRejected, VenueUnavailable):
            raise
        except Exception as exc:  # a timeout or anything else after sending: the order may exist
            cause = f"{type(exc).__name__}: {exc}"
        try:
            found = self.broker.get_order_by_client_id(request.client_order_id)
        except Exception as exc:
            raise OrderOutcomeUnknown(f"{cause}; lookup failed: {exc}") from exc
        if found is None:
            raise OrderOutcomeUnknown(f"{cause}; the venue does not show the order yet")
        return found

    def _record(
        self, intent: OrderIntent, order: Order, routing: SmartRoutingDecision | None
    ) -> LedgerTrade:
        slippage = routing.estimated_slippage if routing else None
        trade = trade_from_fill(
            order,
            tenant_id=intent.tenant_id,
            uid=intent.uid,
            strategy_id=intent.strategy_id,
            estimated_slippage=slippage if slippage is not None else intent.estimated_slippage,
            filled_at=order.filled_at or self.clock.now(),
        )
        return self.ledger.append(trade)


def _order_request(intent: OrderIntent, client_order_id: str) -> OrderRequest:
    assert intent.asset_class is not None  # OrderIntent fills it in
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=intent.symbol,
        asset_class=intent.asset_class,
        side=intent.side,
        qty=intent.qty,
        order_type=intent.order_type,
        limit_price=intent.limit_price,
        time_in_force=intent.time_in_force,
    )


def _status_of(order: Order) -> tuple[ExecutionStatus, str]:
    venue = f"{order.broker} order {order.broker_order_id}"
    match order.status:
        case OrderStatus.FILLED:
            return ExecutionStatus.FILLED, f"{venue} filled {order.filled_qty:g}"
        case OrderStatus.REJECTED:
            return ExecutionStatus.REJECTED, order.reject_reason or f"{venue} rejected"
        case _ if order.filled_qty > 0:
            return (
                ExecutionStatus.PARTIALLY_FILLED,
                f"{venue} {order.status.value}: filled {order.filled_qty:g} of {order.qty:g}",
            )
        case OrderStatus.NEW | OrderStatus.ACCEPTED:
            return ExecutionStatus.ACCEPTED, f"{venue} accepted, not filled yet"
        case _:
            reason = order.reject_reason or f"{venue} {order.status.value} without a fill"
            return ExecutionStatus.REJECTED, reason


def _log_result(result: ExecutionResult) -> None:
    severity = (
        "ERROR" if result.status in (ExecutionStatus.ERROR, ExecutionStatus.UNKNOWN) else "INFO"
    )
    logs.log_event(
        logs.EXECUTION,
        severity=severity,
        status=result.status.value,
        message=result.message,
        symbol=result.intent.symbol,
        side=result.intent.side.value,
        qty=result.intent.qty,
        client_order_id=result.client_order_id,
        trade_id=result.trade.trade_id if result.trade else None,
    )
