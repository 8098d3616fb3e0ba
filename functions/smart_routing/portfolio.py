"""Portfolio history with FIFO tax lots: what a ledger trade does to a user's holdings.

Pure logic: the Firestore trigger and the in-memory store both apply it inside their own
atomic update, keyed by trade_id so a trade delivered twice is applied once.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.assets import AssetClass
from smart_routing.ledger import LedgerTrade
from smart_routing.money import ZERO, Amount, round_money
from smart_routing.orders import OrderSide

TAX_LOT_METHOD = "FIFO"


class TaxLot(BaseModel):
    """What remains of one buy: its quantity and what that quantity cost (notional plus fees,
    in the trade's currency). Keeping the total, not a unit cost, keeps it exact: a partial
    sale takes its share rounded to the cent and leaves the exact remainder."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    qty: Amount
    cost: Amount
    opened_at: AwareDatetime


class LotConsumed(BaseModel):
    model_config = ConfigDict(frozen=True)

    trade_id: str
    qty: Amount
    cost: Amount


class PortfolioHistoryRecord(BaseModel):
    """Stored at users/{uid}/portfolio/history/trades/{trade_id}: the seed's schema, plus the
    realized gain and the lots a sell consumed."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    tenant_id: str
    symbol: str
    asset_class: AssetClass
    side: OrderSide
    qty: Amount
    price: Amount
    notional: Amount
    currency: str
    timestamp: AwareDatetime
    trading_date: date
    strategy_id: str
    estimated_slippage: Amount | None
    fees: Amount
    cost_basis: Amount
    tax_lot_method: str = TAX_LOT_METHOD
    realized_gain: Amount | None = None
    lots_consumed: list[LotConsumed] = Field(default_factory=list)
    unmatched_qty: Amount = ZERO


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
            "currency", "timestamp", "trading_date", "strategy_id", "estimated_slippage", "fees",
        }
    )  # fmt: skip
    if trade.side is OrderSide.BUY:
        cost = trade.notional + trade.fees
        lot = TaxLot(trade_id=trade.trade_id, qty=trade.qty, cost=cost, opened_at=trade.timestamp)
        return [*lots, lot], PortfolioHistoryRecord(**common, cost_basis=cost)

    remaining, consumed, left = trade.qty, [], []
    for lot in sorted(lots, key=lambda lot: (lot.opened_at, lot.trade_id)):
        take = min(lot.qty, remaining)
        if take <= 0:
            left.append(lot)
            continue
        cost = (
            lot.cost if take == lot.qty else round_money(lot.cost * take / lot.qty, trade.currency)
        )
        consumed.append(LotConsumed(trade_id=lot.trade_id, qty=take, cost=cost))
        remaining -= take
        if take < lot.qty:
            left.append(lot.model_copy(update={"qty": lot.qty - take, "cost": lot.cost - cost}))
    cost_basis = sum((part.cost for part in consumed), ZERO)
    matched = trade.qty - remaining
    proceeds = trade.notional - trade.fees
    if remaining > 0:  # only the matched share of the sale has a basis
        proceeds = round_money(proceeds * matched / trade.qty, trade.currency)
    record = PortfolioHistoryRecord(
        **common,
        cost_basis=cost_basis,
        realized_gain=proceeds - cost_basis,
        lots_consumed=consumed,
        unmatched_qty=remaining,
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
