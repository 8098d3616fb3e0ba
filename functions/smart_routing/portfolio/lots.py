"""FIFO tax lots: what a ledger trade does to a user's lots of one symbol.

Pure logic: the Firestore trigger and the in-memory store both apply it inside their own
atomic update. Triggers arrive at least once and in any order. The lots of one (user, symbol)
are a `LotHead` (totals and the window of the latest trades applied, in (timestamp, trade_id)
order) plus the open lots, kept apart in a `LotSource` because they may be many. A trade
already in the window changes nothing; a trade that sorts after the last applied one reads
only the lots it consumes; one that sorts before it undoes the later trades of the window,
takes its place and replays them, which also revises the history of the later trades it
moves. The lots and history then always equal those of an in-order delivery.
"""

from __future__ import annotations

import bisect
from datetime import date, datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smart_routing.domain.currency_model import CurrencyModel
from smart_routing.domain.money import ZERO, Amount, Money
from smart_routing.domain.orders import OrderSide
from smart_routing.portfolio.history import (
    LotBasis,
    LotConsumed,
    PortfolioHistoryRecord,
    history_record,
)
from smart_routing.portfolio.holding_term import holding_term
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.lot_book import MAX_PAGE, LotBook, LotDelta, LotSource, TaxLot


class AppliedTrade(CurrencyModel):
    """One entry of the applied window: what replaying a trade needs, and for a sell the part
    of each lot it took (in FIFO order), which is what undoing it needs."""

    model_config = ConfigDict(frozen=True)

    trade_id: str
    timestamp: AwareDatetime
    trading_date: date
    side: OrderSide
    qty: Amount
    notional: Money
    fees: Money
    currency: str
    taken: list[TaxLot] = Field(default_factory=list)

    @property
    def key(self) -> tuple[datetime, str]:
        return (self.timestamp, self.trade_id)


class LotHead(CurrencyModel):
    """The compact state of one (user, symbol) apart from its open lots: their totals (the
    cost in `currency`, None until a first trade names it) and the window of the latest
    applied trades, in (timestamp, trade_id) order.

    The window keeps the last `MAX_APPLIED` trades; `folded_through` is the latest trade that
    left it. However many trades a user makes, the head stays this size and a trade that sorts
    last reads it and the lots it consumes, nothing more.
    """

    model_config = ConfigDict(frozen=True)

    currency: str | None = None
    qty: Amount = ZERO
    cost: Money | None = None
    open_lots: int = 0
    applied: list[AppliedTrade] = Field(default_factory=list)
    folded_through: AppliedTrade | None = None


class LotState(LotHead):
    """The head with every open lot, oldest first: the whole state, kept in memory."""

    lots: list[TaxLot] = Field(default_factory=list)


# Trades a late delivery may sort before: a trigger would have to be late by this many later
# trades of the same user and symbol for its trade to fall behind the window.
MAX_APPLIED = 200


class TooLate(ValueError):
    """The trade sorts before the applied window: the lots it would have changed may since
    have been consumed by trades no longer in the window, so it cannot be put in its place."""


class MirrorUpdate(BaseModel):
    """What one trade changes: the new head, the open lots to write (None: closed, to delete),
    its own history record, and the revised basis of later trades it moved (by trade_id)."""

    model_config = ConfigDict(frozen=True)

    head: LotHead
    lots: dict[str, TaxLot | None] = Field(default_factory=dict)
    record: PortfolioHistoryRecord
    revised: dict[str, LotBasis] = Field(default_factory=dict)


class StateUpdate(BaseModel):
    """`apply_trade`'s answer: the whole new state, the record and the revised bases."""

    model_config = ConfigDict(frozen=True)

    state: LotState
    record: PortfolioHistoryRecord
    revised: dict[str, LotBasis] = Field(default_factory=dict)


_APPLIED_FIELDS = set(AppliedTrade.model_fields) - {"taken"}


def apply_to_lots(head: LotHead, trade: LedgerTrade, source: LotSource) -> MirrorUpdate | None:
    """The head and lots after the trade, as if every trade had arrived in (timestamp,
    trade_id) order; None when the trade was applied before.

    A trade that sorts last reads only the lots a sell consumes. One that sorts earlier undoes
    the window's later trades (reading the lots they touched), applies itself, and replays
    them. Raises TooLate for a trade that sorts before the window.
    """
    if any(entry.trade_id == trade.trade_id for entry in head.applied):
        return None
    entry = AppliedTrade.model_validate(trade.model_dump(include=_APPLIED_FIELDS))
    if head.folded_through is not None and entry.key < head.folded_through.key:
        raise TooLate(
            f"trade {trade.trade_id} sorts before the {MAX_APPLIED} latest trades of "
            f"{trade.symbol} and those before them, already folded into the lots"
        )
    index = bisect.bisect_left([applied.key for applied in head.applied], entry.key)
    later = head.applied[index:]
    book = LotBook(source, first_page=_lots_needed(head, entry))
    for applied in reversed(later):
        _undo(book, applied)
    placed = _step(book, entry)
    replayed = [_step(book, applied) for applied in later]
    revised = {
        new.trade_id: lot_basis(new)
        for old, new in zip(later, replayed, strict=True)
        if lot_basis(old) != lot_basis(new)
    }
    window = [*head.applied[:index], placed, *replayed]
    return MirrorUpdate(
        head=_folded(_with_totals(head, book.delta(entry.currency), window)),
        lots=book.changes(),
        record=history_record(trade, lot_basis(placed)),
        revised=revised,
    )


def apply_trade(state: LotState, trade: LedgerTrade) -> StateUpdate | None:
    """`apply_to_lots` on a state held whole in memory."""
    update = apply_to_lots(state, trade, ListSource(state.lots))
    if update is None:
        return None
    lots = {lot.trade_id: lot for lot in state.lots} | update.lots
    open_lots = sorted((lot for lot in lots.values() if lot is not None), key=lambda x: x.key)
    new_state = LotState(**(dict(update.head) | {"lots": open_lots}))
    return StateUpdate(state=new_state, record=update.record, revised=update.revised)


class ListSource:
    """A LotSource over lots held in a list, oldest first."""

    def __init__(self, lots: list[TaxLot]) -> None:
        self._lots = lots
        self._keys = [lot.key for lot in lots]
        self._by_id = {lot.trade_id: lot for lot in lots}

    def after(self, lot: TaxLot | None, limit: int) -> list[TaxLot]:
        start = 0 if lot is None else bisect.bisect_right(self._keys, lot.key)
        return self._lots[start : start + limit]

    def lot(self, trade_id: str) -> TaxLot | None:
        return self._by_id.get(trade_id)


def lot_basis(entry: AppliedTrade) -> LotBasis:
    """The history fields an applied trade's place in the order decides.

    A buy's cost_basis is its cost (notional plus fees). A sell's is the cost of the lots it
    took, and its realized_gain is its proceeds, net of fees, less that cost. Selling more
    than is held leaves the excess as `unmatched_qty`, with no basis and no gain.
    """
    if entry.side is OrderSide.BUY:
        return LotBasis(currency=entry.currency, cost_basis=entry.notional + entry.fees)
    matched = sum((part.qty for part in entry.taken), ZERO)
    cost_basis = sum((part.cost for part in entry.taken), Money.zero(entry.currency))
    proceeds = entry.notional - entry.fees
    if matched < entry.qty:  # only the matched share of the sale has a basis
        proceeds = (proceeds * matched / entry.qty).rounded()
    return LotBasis(
        currency=entry.currency,
        cost_basis=cost_basis,
        realized_gain=proceeds - cost_basis,
        lots_consumed=[_consumed(part, entry) for part in entry.taken],
        unmatched_qty=entry.qty - matched,
    )


def _lots_needed(head: LotHead, entry: AppliedTrade) -> int:
    """How many of the oldest lots a sell likely consumes, from the mean open lot: the first
    page asked for, so a typical sell costs one read."""
    if entry.side is OrderSide.BUY or head.open_lots == 0 or head.qty <= 0:
        return 1
    mean = head.qty / head.open_lots
    return int(min(entry.qty / mean, Decimal(MAX_PAGE))) + 2


def _with_totals(head: LotHead, delta: LotDelta, window: list[AppliedTrade]) -> LotHead:
    return head.model_copy(
        update={
            "currency": delta.currency,
            "qty": head.qty + delta.qty,
            "cost": delta.cost if head.cost is None else head.cost + delta.cost,
            "open_lots": head.open_lots + delta.open_lots,
            "applied": window,
        }
    )


def _folded(head: LotHead) -> LotHead:
    """The head with its window cut to the latest MAX_APPLIED trades. The open lots already
    hold every trade's effect: only the key of the latest trade dropped is kept."""
    excess = len(head.applied) - MAX_APPLIED
    if excess <= 0:
        return head
    folded, kept = head.applied[:excess], head.applied[excess:]
    last = folded[-1].model_copy(update={"taken": []})
    return head.model_copy(update={"applied": kept, "folded_through": last})


def _step(book: LotBook, entry: AppliedTrade) -> AppliedTrade:
    """One trade applied to the open lots: a buy opens a lot at its cost; a sell takes from
    the oldest lots first. Returns the entry with what it took."""
    if entry.side is OrderSide.BUY:
        book.open(
            TaxLot(
                trade_id=entry.trade_id,
                qty=entry.qty,
                currency=entry.currency,
                cost=entry.notional + entry.fees,
                opened_at=entry.timestamp,
                acquired_on=entry.trading_date,
            )
        )
        return entry.model_copy(update={"taken": []})
    remaining, taken = entry.qty, []
    lots = book.oldest_first()
    while remaining > 0 and (lot := next(lots, None)) is not None:
        part = _part(lot, min(lot.qty, remaining))
        taken.append(part)
        remaining -= part.qty
    for part in taken:
        lot = book.lot(part.trade_id)
        assert lot is not None  # taken from the book just above
        if part.qty == lot.qty:
            book.close(lot.trade_id)
        else:
            book.put(
                lot.model_copy(update={"qty": lot.qty - part.qty, "cost": lot.cost - part.cost})
            )
    return entry.model_copy(update={"taken": taken})


def _undo(book: LotBook, entry: AppliedTrade) -> None:
    """Take an applied trade back out of the lots: the exact inverse of `_step`, as the later
    trades have been undone first."""
    if entry.side is OrderSide.BUY:
        book.close(entry.trade_id)
        return
    for part in entry.taken:
        lot = book.lot(part.trade_id)
        if lot is None:
            book.put(part)
        else:
            book.put(
                lot.model_copy(update={"qty": lot.qty + part.qty, "cost": lot.cost + part.cost})
            )


def _part(lot: TaxLot, take: Amount) -> TaxLot:
    """The part of a lot a sale takes: the whole lot, or its share of the cost to the cent."""
    if take == lot.qty:
        return lot
    cost = (lot.cost * take / lot.qty).rounded()
    return lot.model_copy(update={"qty": take, "cost": cost})


def _consumed(part: TaxLot, sale: AppliedTrade) -> LotConsumed:
    return LotConsumed(
        currency=part.currency,
        trade_id=part.trade_id,
        qty=part.qty,
        cost=part.cost,
        acquired_at=part.opened_at,
        term=holding_term(part.acquired_on, sale.trading_date),
    )
