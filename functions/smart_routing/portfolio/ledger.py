"""The append-only trade ledger record: one per order that filled, written once."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import AwareDatetime, ConfigDict

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.currency_model import CurrencyModel
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import Amount, Money
from smart_routing.domain.orders import Order, OrderSide
from smart_routing.domain.slippage import (
    Arrival,
    decision_to_fill_ms,
    effective_spread_pct,
    realized_slippage_pct,
)
from smart_routing.gate.fees import FeeSchedule, estimate_fees
from smart_routing.market.trading_calendar import trading_date


class LedgerTrade(CurrencyModel):
    """Stored at tenants/{tenant_id}/ledger_trades/{trade_id}. Never updated.

    Money is in `currency`, the instrument's quote currency: price and notional on its grid,
    fees to its minor unit. Stored as numbers (see money.CurrencyModel).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    trade_id: str
    tenant_id: str
    uid: str
    symbol: str
    asset_class: AssetClass
    side: OrderSide
    qty: Amount
    price: Amount
    notional: Money
    fees: Money
    currency: str
    estimated_slippage: Amount | None
    strategy_id: str
    timestamp: AwareDatetime
    trading_date: date
    broker: str
    broker_order_id: str
    client_order_id: str
    # Transaction cost analysis (tca.py): the quote the decision saw, and what the fill cost
    # against it; None where the decision saw no quote.
    arrival_mid: Amount | None = None
    arrival_spread_pct: Amount | None = None
    realized_slippage_pct: Amount | None = None
    decision_to_fill_ms: int | None = None
    # 2 * side * (fill - mid at the fill) / mid at the fill, where the venue gave that mid.
    effective_spread_pct: Amount | None = None


def _venue_fee(order: Order, spec: InstrumentSpec, price: Amount) -> Money | None:
    """The venue's fee in the trade's currency: as reported, or (a fee in the pair's base
    currency, as OANDA charges a USD account on USD/JPY) times the fill price."""
    if order.fees is None:
        return None
    currency = order.fee_currency or spec.quote_currency
    if currency == spec.quote_currency:
        return Money(order.fees, spec.quote_currency)
    if currency == spec.base and spec.asset_class in (AssetClass.FOREX, AssetClass.CRYPTO):
        return Money(order.fees * price, spec.quote_currency)
    return None


def trade_from_fill(
    order: Order,
    *,
    spec: InstrumentSpec,
    fee_schedule: FeeSchedule,
    tenant_id: str,
    uid: str,
    strategy_id: str,
    estimated_slippage: Amount | None,
    filled_at: AwareDatetime,
    trade_id: str | None = None,
    arrival: Arrival | None = None,
) -> LedgerTrade:
    """The ledger record of an order's fill: exactly the filled quantity, at its average price.

    The trade_id is the client_order_id unless given: what an order fills at once makes one
    record; each later venue fill makes its own (see reconcile.py). Fees are
    the venue's when it reported them in a currency the fill itself converts, else the fee
    model's estimate.
    """
    price = order.filled_avg_price
    if price is None or order.filled_qty <= 0:
        raise ValueError(f"order {order.client_order_id} has no fill to record")
    fees = _venue_fee(order, spec, price)
    if fees is None:
        fees = estimate_fees(fee_schedule, spec, order.side, order.filled_qty, price)
    return LedgerTrade(
        trade_id=trade_id or order.client_order_id,
        tenant_id=tenant_id,
        uid=uid,
        symbol=order.symbol,
        asset_class=order.asset_class,
        side=order.side,
        qty=order.filled_qty,
        price=price,
        notional=Money(spec.notional(order.filled_qty, price), spec.quote_currency),
        fees=fees.rounded(),
        currency=spec.quote_currency,
        estimated_slippage=estimated_slippage,
        strategy_id=strategy_id,
        timestamp=filled_at,
        trading_date=trading_date(order.asset_class, filled_at),
        broker=order.broker,
        broker_order_id=order.broker_order_id,
        client_order_id=order.client_order_id,
        **_cost_analysis(arrival, order.side, price, filled_at),
        effective_spread_pct=None
        if order.fill_mid is None
        else effective_spread_pct(order.side, price, order.fill_mid),
    )


def _cost_analysis(
    arrival: Arrival | None, side: OrderSide, price: Amount, filled_at: AwareDatetime
) -> dict[str, Any]:
    if arrival is None:
        return {}
    return {
        "arrival_mid": arrival.mid,
        "arrival_spread_pct": arrival.spread_pct,
        "realized_slippage_pct": realized_slippage_pct(side, price, arrival.mid),
        "decision_to_fill_ms": decision_to_fill_ms(arrival.decided_at, filled_at),
    }
