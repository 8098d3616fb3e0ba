"""Portfolio history with FIFO tax lots: what a ledger trade does to a user's holdings.

Pure logic: the Firestore trigger and the in-memory store both apply it inside their own
atomic update, keyed by trade_id so a trade delivered twice is applied once.
"""

from __future__ import annotations

import math
from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.assets import AssetClass
from smart_routing.ledger import LedgerTrade
from smart_routing.orders import OrderSide

TAX_LOT_METHOD = "FIFO"
_DUST = 1e-12  # quantities below this are float residue, not holdings


class TaxLot(BaseModel):
    """What remains of one buy: `unit_cost` includes its fees and the contract multiplier."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    qty: float
    unit_cost: float
    opened_at: AwareDatetime


class LotConsumed(BaseModel):
    model_config = ConfigDict(frozen=True)

    trade_id: str
    qty: float
    cost: float


class PortfolioHistoryRecord(BaseModel):
    """Stored at users/{uid}/portfolio/history/trades/{trade_id}: the seed's schema, plus the
    realized gain and the lots a sell consumed."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    tenant_id: str
    symbol: str
    asset_class: AssetClass
    side: OrderSide
    qty: float
    price: float
    notional: float
    timestamp: AwareDatetime
    trading_date: date
    strategy_id: str
    estimated_slippage: float | None
    fees: float
    cost_basis: float
    tax_lot_method: str = TAX_LOT_METHOD
    realized_gain: float | None = None
    lots_consumed: list[LotConsumed] = Field(default_factory=list)
    unmatched_qty: float = 0.0


def symbol_key(symbol: str) -> str:
    """A document id for a symbol ('BTC/USD' has a slash, which a document id cannot)."""
    return symbol.replace("/", "-")


def apply_fifo(
    lots: list[TaxLot], trade: LedgerTrade
) -> tuple[list[TaxLot], PortfolioHistoryRecord]:
    """The lots after the trade, and the trade's history record.

    A buy opens a lot at its cost (notional plus fees). A sell consumes the oldest lots first;
    its cost_basis is the cost of what it consumed and its realized_gain is its proceeds, net
    of fees, less that cost. Selling more than is held leaves the excess as `unmatched_qty`,
    with no basis and no gain.
    """
    common = trade.model_dump(
        include={
            "trade_id", "tenant_id", "symbol", "asset_class", "side", "qty", "price", "notional",
            "timestamp", "trading_date", "strategy_id", "estimated_slippage", "fees",
        }
    )  # fmt: skip
    if trade.side is OrderSide.BUY:
        cost = trade.notional + trade.fees
        lot = TaxLot(
            trade_id=trade.trade_id,
            qty=trade.qty,
            unit_cost=cost / trade.qty,
            opened_at=trade.timestamp,
        )
        return [*lots, lot], PortfolioHistoryRecord(**common, cost_basis=cost)

    remaining, consumed, left = trade.qty, [], []
    for lot in sorted(lots, key=lambda lot: (lot.opened_at, lot.trade_id)):
        take = min(lot.qty, remaining)
        if take > _DUST:
            consumed.append(LotConsumed(trade_id=lot.trade_id, qty=take, cost=take * lot.unit_cost))
            remaining -= take
        if lot.qty - take > _DUST:
            left.append(lot.model_copy(update={"qty": lot.qty - take}))
    unmatched = remaining if remaining > _DUST else 0.0
    matched_share = (trade.qty - unmatched) / trade.qty
    cost_basis = math.fsum(part.cost for part in consumed)
    proceeds = (trade.notional - trade.fees) * matched_share
    record = PortfolioHistoryRecord(
        **common,
        cost_basis=cost_basis,
        realized_gain=proceeds - cost_basis,
        lots_consumed=consumed,
        unmatched_qty=unmatched,
    )
    return left, record


def log_history_written(uid: str, record: PortfolioHistoryRecord) -> None:
    logs.log_event(
        logs.PORTFOLIO_HISTORY_WRITTEN,
        uid=uid,
        symbol=record.symbol,
        qty=record.qty,
        price=record.price,
        trade_id=record.trade_id,
        side=record.side.value,
        cost_basis=record.cost_basis,
        realized_gain=record.realized_gain,
    )
