"""The append-only trade ledger record: one per order that filled, written once."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict

from smart_routing.assets import AssetClass, contract_multiplier
from smart_routing.orders import Order, OrderSide
from smart_routing.trading_calendar import trading_date


class LedgerTrade(BaseModel):
    """Stored at tenants/{tenant_id}/ledger_trades/{trade_id}. Never updated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trade_id: str
    tenant_id: str
    uid: str
    symbol: str
    asset_class: AssetClass
    side: OrderSide
    qty: float
    price: float
    notional: float
    fees: float
    estimated_slippage: float | None
    strategy_id: str
    timestamp: AwareDatetime
    trading_date: date
    broker: str
    broker_order_id: str
    client_order_id: str


def trade_from_fill(
    order: Order,
    *,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    estimated_slippage: float | None,
    filled_at: AwareDatetime,
) -> LedgerTrade:
    """The ledger record of an order's fill: exactly the filled quantity, at its average price.

    The trade_id is the client_order_id, so one order can only ever make one record.
    """
    price = order.filled_avg_price
    if price is None or order.filled_qty <= 0:
        raise ValueError(f"order {order.client_order_id} has no fill to record")
    notional = order.filled_qty * price * contract_multiplier(order.asset_class)
    return LedgerTrade(
        trade_id=order.client_order_id,
        tenant_id=tenant_id,
        uid=uid,
        symbol=order.symbol,
        asset_class=order.asset_class,
        side=order.side,
        qty=order.filled_qty,
        price=price,
        notional=notional,
        fees=order.fees,
        estimated_slippage=estimated_slippage,
        strategy_id=strategy_id,
        timestamp=filled_at,
        trading_date=trading_date(order.asset_class, filled_at),
        broker=order.broker,
        broker_order_id=order.broker_order_id,
        client_order_id=order.client_order_id,
    )
