"""The order that goes to the venue, and submitting it: when the outcome is unclear the order
is looked up by client_order_id before it is called unknown."""

from __future__ import annotations

from datetime import datetime

from smart_routing.domain.errors import OrderOutcomeUnknown, OrderRejected, VenueUnavailable
from smart_routing.domain.orders import (
    Order,
    OrderIntent,
    OrderRequest,
    OrderType,
    account_owner,
)
from smart_routing.domain.slippage import Arrival
from smart_routing.gate.decision import SmartRoutingDecision
from smart_routing.ports import Broker


def order_request(
    intent: OrderIntent,
    routing: SmartRoutingDecision,
    client_order_id: str,
    decided_at: datetime,
    expires_at: datetime | None = None,
) -> OrderRequest:
    assert intent.asset_class is not None  # OrderIntent fills it in
    return OrderRequest(
        client_order_id=client_order_id,
        owner=account_owner(intent.tenant_id, intent.uid),
        symbol=intent.symbol,
        asset_class=intent.asset_class,
        side=intent.side,
        qty=routing.qty,
        order_type=OrderType.LIMIT if routing.fallback else intent.order_type,
        limit_price=routing.limit_price,
        time_in_force=intent.time_in_force,
        strategy_id=intent.strategy_id,
        arrival=_arrival(routing, decided_at),
        expires_at=expires_at,
        fallback=routing.fallback,
    )


def _arrival(routing: SmartRoutingDecision, decided_at: datetime) -> Arrival | None:
    if routing.quote is None:
        return None
    return Arrival(mid=routing.quote.mid, spread_pct=routing.spread_pct, decided_at=decided_at)


def submit(broker: Broker, request: OrderRequest) -> Order:
    """Submit; when the outcome is unclear, look the order up before calling it unknown.

    The one place maybe-sent recovery lives: adapters raise OrderOutcomeUnknown (or let a
    timeout through) and never look the order up themselves.
    """
    try:
        return broker.submit_order(request)
    except (OrderRejected, VenueUnavailable):
        raise
    except Exception as exc:  # a timeout or anything else after sending: the order may exist
        cause = f"{type(exc).__name__}: {exc}"
    try:
        found = broker.get_order_by_client_id(request.client_order_id)
    except Exception as exc:
        raise OrderOutcomeUnknown(f"{cause}; lookup failed: {exc}") from exc
    if found is None:
        raise OrderOutcomeUnknown(f"{cause}; the venue does not show the order yet")
    return found
