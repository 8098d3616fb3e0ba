"""How an execution ended, as the callable and the scheduled runs report it, and its log line."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from smart_routing import logs
from smart_routing.domain.money import format_qty
from smart_routing.domain.orders import Order, OrderIntent, OrderStatus
from smart_routing.gate.decision import GateAction, SmartRoutingDecision
from smart_routing.portfolio.ledger import LedgerTrade


class ExecutionStatus(StrEnum):
    """How an execution ended.

    filled            the venue filled the whole order; the trade is in the ledger
    partially_filled  the venue filled part of it; exactly that part is in the ledger
    accepted          the venue took the order and has not filled it yet (a limit fallback
                      says so in `routing.fallback`, with the limit price)
    downgraded        smart routing held it back (WAIT); nothing was sent
    dry_run           everything up to the venue ran; nothing was sent
    hold              the strategy did not signal a trade; nothing was sent
    rejected          the gate (instrument, size, account) or the venue refused it;
                      `message` carries the reason
    invalid           the request is wrong as typed (a qty off the instrument's grid)
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
    INVALID = "invalid"
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


# What a gate that did not say EXECUTE makes of the execution.
GATE_STATUS = {
    GateAction.WAIT: ExecutionStatus.DOWNGRADED,
    GateAction.REJECT: ExecutionStatus.REJECTED,
    GateAction.INVALID: ExecutionStatus.INVALID,
}


def status_of(order: Order) -> tuple[ExecutionStatus, str]:
    venue = f"{order.broker} order {order.broker_order_id}"
    match order.status:
        case OrderStatus.FILLED:
            return ExecutionStatus.FILLED, f"{venue} filled {format_qty(order.filled_qty)}"
        case OrderStatus.REJECTED:
            return ExecutionStatus.REJECTED, order.reject_reason or f"{venue} rejected"
        case _ if order.filled_qty > 0:
            return (
                ExecutionStatus.PARTIALLY_FILLED,
                f"{venue} {order.status.value}: filled {format_qty(order.filled_qty)} "
                f"of {format_qty(order.qty)}",
            )
        case OrderStatus.NEW | OrderStatus.ACCEPTED:
            return ExecutionStatus.ACCEPTED, f"{venue} accepted, not filled yet"
        case _:
            reason = order.reject_reason or f"{venue} {order.status.value} without a fill"
            return ExecutionStatus.REJECTED, reason


def log_result(result: ExecutionResult) -> None:
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
