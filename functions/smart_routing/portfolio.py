"""Portfolio history with FIFO tax lots: what a ledger trade does to a user's holdings.

Pure logic: the Firestore trigger and the in-memory store both apply it inside their own
atomic update. Triggers arrive at least once and in any order, so the lots of one (user,
symbol) are kept as a `LotState`: the open lots plus the log of the trades applied, in
(timestamp, trade_id) order. A trade already in the log changes nothing; a trade that sorts
after the last applied one is applied to the open lots alone; one that sorts before it is
inserted and the log replayed, which also revises the history of the later trades it moves.
The lots and history then always equal those of an in-order delivery.
"""

from __future__ import annotations

import bisect
from datetime import date, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.assets import AssetClass
from smart_routing.identifiers import id_problem
from smart_routing.ledger import LedgerTrade
from smart_routing.money import ZERO, Amount, round_money
from smart_routing.orders import OrderSide

TAX_LOT_METHOD = "FIFO"


class HoldingTerm(StrEnum):
    """US holding period: long when held more than one year."""

    SHORT = "short"
    LONG = "long"


class TaxLot(BaseModel):
    """What remains of one buy: its quantity and what that quantity cost (notional plus fees,
    in the trade's currency). Keeping the total, not a unit cost, keeps it exact: a partial
    sale takes its share rounded to the cent and leaves the exact remainder."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    qty: Amount
    cost: Amount
    opened_at: AwareDatetime
    acquired_on: date  # the buy's trading date: where its holding period starts


class LotConsumed(BaseModel):
    """The part of one lot a sell closed, with its holding period."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    qty: Amount
    cost: Amount
    acquired_at: AwareDatetime
    term: HoldingTerm


class LotBasis(BaseModel):
    """The history fields that depend on the trades before: what replaying revises."""

    model_config = ConfigDict(frozen=True)

    cost_basis: Amount
    realized_gain: Amount | None = None
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
    notional: Amount
    currency: str
    timestamp: AwareDatetime
    trading_date: date
    strategy_id: str
    estimated_slippage: Amount | None
    fees: Amount
    tax_lot_method: str = TAX_LOT_METHOD


class AppliedTrade(BaseModel):
    """One entry of the applied log: what replaying a trade needs."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    timestamp: AwareDatetime
    trading_date: date
    side: OrderSide
    qty: Amount
    notional: Amount
    fees: Amount
    currency: str

    @property
    def key(self) -> tuple[datetime, str]:
        return (self.timestamp, self.trade_id)


class LotState(BaseModel):
    """The lots of one (user, symbol): the open lots, oldest first, and the applied log.

    The log keeps the last `MAX_APPLIED` trades; older ones are folded into `base_lots` (the
    lots after every folded trade) up to `folded_through`, so the state, and the cost of each
    trade, stay bounded however many trades a user makes.
    """

    model_config = ConfigDict(frozen=True)

    lots: list[TaxLot] = Field(default_factory=list)
    applied: list[AppliedTrade] = Field(default_factory=list)
    base_lots: list[TaxLot] = Field(default_factory=list)
    folded_through: AppliedTrade | None = None


# Trades a late delivery may sort before: a trigger would have to be late by this many later
# trades of the same user and symbol for its trade to fall behind the fold.
MAX_APPLIED = 200


class TooLate(ValueError):
    """The trade sorts before trades already folded into the base lots: it cannot be put in
    its place from the lots document alone."""


class MirrorUpdate(BaseModel):
    """What one trade changes: the new state, its own history record, and the revised basis
    of trades applied before it that sort after it (by trade_id)."""

    model_config = ConfigDict(frozen=True)

    state: LotState
    record: PortfolioHistoryRecord
    revised: dict[str, LotBasis] = Field(default_factory=dict)


_RECORD_FIELDS = {
    "trade_id", "tenant_id", "symbol", "asset_class", "side", "qty", "price", "notional",
    "currency", "timestamp", "trading_date", "strategy_id", "estimated_slippage", "fees",
}  # fmt: skip
_APPLIED_FIELDS = set(AppliedTrade.model_fields)


def symbol_key(symbol: str) -> str:
    """A document id for a symbol ('BTC/USD' has a slash, which a document id cannot)."""
    return symbol.replace("/", "-")


def mirror_problem(trade: LedgerTrade, tenant_id: str, trade_id: str) -> str | None:
    """Why a ledger trade stored at tenants/{tenant_id}/ledger_trades/{trade_id} may not be
    mirrored, or None. A refused trade never reaches the lots: no negative lot, no division
    by zero, no NaN."""
    for name, value in (("uid", trade.uid), ("trade_id", trade.trade_id)):
        problem = id_problem(value)
        if problem is not None:
            return f"{name} {problem}"
    if id_problem(symbol_key(trade.symbol)) is not None:
        return "symbol is not a valid document id"
    if trade.tenant_id != tenant_id:
        return "tenant_id differs from the tenant in the document's path"
    if trade.trade_id != trade_id:
        return "trade_id differs from the document id"
    amounts = {
        "qty": trade.qty,
        "price": trade.price,
        "notional": trade.notional,
        "fees": trade.fees,
    }
    for name, value in amounts.items():
        if not value.is_finite():
            return f"{name} must be a finite number"
    if trade.qty <= 0 or trade.price <= 0:
        return "qty and price must be positive"
    if trade.notional < 0 or trade.fees < 0:
        return "notional and fees must not be negative"
    return None


def holding_term(acquired_on: date, sold_on: date) -> HoldingTerm:
    """Long when held more than one year: sold after the acquisition's anniversary (the
    holding period counts from the day after acquisition and includes the day of sale).
    A Feb 29 acquisition's anniversary is Feb 28."""
    try:
        anniversary = acquired_on.replace(year=acquired_on.year + 1)
    except ValueError:
        anniversary = acquired_on.replace(year=acquired_on.year + 1, day=28)
    return HoldingTerm.LONG if sold_on > anniversary else HoldingTerm.SHORT


def apply_trade(state: LotState, trade: LedgerTrade) -> MirrorUpdate | None:
    """The state after the trade, as if every trade had arrived in (timestamp, trade_id)
    order; None when the trade was applied before. O(1) work in the lots for a trade that
    sorts last; a trade that sorts earlier replays the log."""
    if any(entry.trade_id == trade.trade_id for entry in state.applied):
        return None
    entry = AppliedTrade.model_validate(trade.model_dump(include=_APPLIED_FIELDS))
    if state.folded_through is not None and entry.key < state.folded_through.key:
        raise TooLate(
            f"trade {trade.trade_id} sorts before the {MAX_APPLIED} latest trades of "
            f"{trade.symbol} and those before them, already folded into the lots"
        )
    if not state.applied or state.applied[-1].key < entry.key:
        lots, basis = _step(state.lots, entry)
        new_state = state.model_copy(update={"lots": lots, "applied": [*state.applied, entry]})
        return MirrorUpdate(state=_folded(new_state), record=_record(trade, basis))
    return _insert(state, trade, entry)


def _folded(state: LotState) -> LotState:
    """The state with its log cut to the latest MAX_APPLIED trades, the rest folded in."""
    excess = len(state.applied) - MAX_APPLIED
    if excess <= 0:
        return state
    folded, kept = state.applied[:excess], state.applied[excess:]
    base_lots, _ = _replay(state.base_lots, folded)
    return state.model_copy(
        update={"applied": kept, "base_lots": base_lots, "folded_through": folded[-1]}
    )


def _insert(state: LotState, trade: LedgerTrade, entry: AppliedTrade) -> MirrorUpdate:
    index = bisect.bisect_left([applied.key for applied in state.applied], entry.key)
    before, after = state.applied[:index], state.applied[index:]
    lots, _ = _replay(state.base_lots, before)
    _, old_bases = _replay(lots, after)
    lots, new_bases = _replay(lots, [entry, *after])
    revised = {
        applied.trade_id: new
        for applied, old, new in zip(after, old_bases, new_bases[1:], strict=True)
        if old != new
    }
    new_state = state.model_copy(update={"lots": lots, "applied": [*before, entry, *after]})
    return MirrorUpdate(
        state=_folded(new_state), record=_record(trade, new_bases[0]), revised=revised
    )


def _replay(lots: list[TaxLot], entries: list[AppliedTrade]) -> tuple[list[TaxLot], list[LotBasis]]:
    bases = []
    for entry in entries:
        lots, basis = _step(lots, entry)
        bases.append(basis)
    return lots, bases


def _record(trade: LedgerTrade, basis: LotBasis) -> PortfolioHistoryRecord:
    return PortfolioHistoryRecord(**trade.model_dump(include=_RECORD_FIELDS), **dict(basis))


def _step(lots: list[TaxLot], entry: AppliedTrade) -> tuple[list[TaxLot], LotBasis]:
    """One trade applied to the open lots (oldest first).

    A buy opens a lot at its cost (notional plus fees). A sell consumes the oldest lots first;
    its cost_basis is the cost of what it consumed and its realized_gain is its proceeds, net
    of fees, less that cost. Selling more than is held leaves the excess as `unmatched_qty`,
    with no basis and no gain.
    """
    if entry.side is OrderSide.BUY:
        cost = entry.notional + entry.fees
        lot = TaxLot(
            trade_id=entry.trade_id,
            qty=entry.qty,
            cost=cost,
            opened_at=entry.timestamp,
            acquired_on=entry.trading_date,
        )
        return [*lots, lot], LotBasis(cost_basis=cost)
    remaining, consumed, left = entry.qty, [], []
    for lot in lots:
        take = min(lot.qty, remaining)
        if take <= 0:
            left.append(lot)
            continue
        part = _consume(lot, take, entry)
        consumed.append(part)
        remaining -= take
        if take < lot.qty:
            left.append(
                lot.model_copy(update={"qty": lot.qty - take, "cost": lot.cost - part.cost})
            )
    cost_basis = sum((part.cost for part in consumed), ZERO)
    proceeds = entry.notional - entry.fees
    if remaining > 0:  # only the matched share of the sale has a basis
        proceeds = round_money(proceeds * (entry.qty - remaining) / entry.qty, entry.currency)
    return left, LotBasis(
        cost_basis=cost_basis,
        realized_gain=proceeds - cost_basis,
        lots_consumed=consumed,
        unmatched_qty=remaining,
    )


def _consume(lot: TaxLot, take: Amount, sale: AppliedTrade) -> LotConsumed:
    whole = take == lot.qty
    cost = lot.cost if whole else round_money(lot.cost * take / lot.qty, sale.currency)
    return LotConsumed(
        trade_id=lot.trade_id,
        qty=take,
        cost=cost,
        acquired_at=lot.opened_at,
        term=holding_term(lot.acquired_on, sale.trading_date),
    )


def log_history_written(
    uid: str, record: PortfolioHistoryRecord, revised: list[str] | None = None
) -> None:
    """One line per record written; `revised` names the later trades whose history a late
    trade changed."""
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
        **({"revised": revised} if revised else {}),
    )


def log_mirror_rejected(reason: str, **where: str) -> None:
    """A ledger trade the mirror refused: retrying will not fix it, so it is logged, not
    raised."""
    logs.log_event(logs.LogEvent.MIRROR_REJECTED, severity="ERROR", reason=reason, **where)
