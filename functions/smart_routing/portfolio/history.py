"""The portfolio history a user reads: one record per ledger trade, with its cost basis, its
realized gain and the FIFO lots a sell consumed (portfolio/lots.py decides those).

Stored at users/{uid}/portfolio/history/trades/{trade_id}.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import AwareDatetime, ConfigDict, Field

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.currency_model import CurrencyModel
from smart_routing.domain.money import ZERO, Amount, Money
from smart_routing.domain.orders import OrderSide
from smart_routing.portfolio.holding_term import HoldingTerm
from smart_routing.portfolio.ledger import LedgerTrade

TAX_LOT_METHOD = "FIFO"


class LotConsumed(CurrencyModel):
    """The part of one lot a sell closed, with its holding period; stored without its
    currency, which is its record's."""

    model_config = ConfigDict(frozen=True)

    currency: str = Field(exclude=True)
    trade_id: str
    qty: Amount
    cost: Money
    acquired_at: AwareDatetime
    term: HoldingTerm


class LotBasis(CurrencyModel):
    """The history fields that depend on the trades before: what replaying revises; money in
    the trade's `currency`."""

    model_config = ConfigDict(frozen=True)

    currency: str
    cost_basis: Money
    realized_gain: Money | None = None
    lots_consumed: list[LotConsumed] = Field(default_factory=list)
    unmatched_qty: Amount = ZERO


class PortfolioHistoryRecord(LotBasis):
    """Stored at users/{uid}/portfolio/history/trades/{trade_id}: the seed's schema, plus the
    realized gain and the lots a sell consumed."""

    trade_id: str
    tenant_id: str
    symbol: str
    asset_class: AssetClass
    side: OrderSide
    qty: Amount
    price: Amount
    notional: Money
    timestamp: AwareDatetime
    trading_date: date
    strategy_id: str
    estimated_slippage: Amount | None
    fees: Money
    tax_lot_method: str = TAX_LOT_METHOD
    # The fill's cost against the quote its decision saw (tca.py), where known.
    arrival_mid: Amount | None = None
    arrival_spread_pct: Amount | None = None
    realized_slippage_pct: Amount | None = None
    decision_to_fill_ms: int | None = None
    effective_spread_pct: Amount | None = None


_RECORD_FIELDS = {
    "trade_id", "tenant_id", "symbol", "asset_class", "side", "qty", "price", "notional",
    "currency", "timestamp", "trading_date", "strategy_id", "estimated_slippage", "fees",
    "arrival_mid", "arrival_spread_pct", "realized_slippage_pct", "decision_to_fill_ms",
    "effective_spread_pct",
}  # fmt: skip


def history_record(trade: LedgerTrade, basis: LotBasis) -> PortfolioHistoryRecord:
    """The history record of a trade, with the basis its place in the FIFO order gave it."""
    return PortfolioHistoryRecord(**(trade.model_dump(include=_RECORD_FIELDS) | dict(basis)))


def log_history_written(
    uid: str, record: PortfolioHistoryRecord, revised: list[str] | None = None
) -> None:
    """One line per record written; `revised` names the later trades whose history a late
    trade changed."""
    fields: dict[str, Any] = {
        "uid": uid,
        "symbol": record.symbol,
        "qty": record.qty,
        "price": record.price,
        "trade_id": record.trade_id,
        "side": record.side.value,
        "cost_basis": record.cost_basis,
        "realized_gain": record.realized_gain,
    }
    if revised:
        fields["revised"] = revised
    logs.log_event(logs.PORTFOLIO_HISTORY_WRITTEN, **fields)
