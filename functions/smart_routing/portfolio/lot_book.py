"""The open tax lots of one (user, symbol), read only as far as a trade needs them.

The lots may be far too many to load for every trade (10,000 trades leave thousands open), so
they sit in a `LotSource` that hands them out oldest first, a page at a time, or one by id. A
`LotBook` is one trade's view of them: the lots it read, the changes it made (kept aside until
the caller writes them), and the oldest-first order of both together.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from pydantic import AwareDatetime, ConfigDict, Field

from smart_routing.domain.currency_model import CurrencyModel
from smart_routing.domain.money import ZERO, Amount, Money

_Total = TypeVar("_Total", Decimal, Money)
# The most lots one read asks for; pages double up to it.
MAX_PAGE = 256


class TaxLot(CurrencyModel):
    """What remains of one buy: its quantity and what that quantity cost (notional plus fees,
    in the trade's currency). Keeping the total, not a unit cost, keeps it exact: a partial
    sale takes its share rounded to the cent and leaves the exact remainder.

    Its currency is not written with it: a lot document has its trade's beside it, and a lot
    in the applied window takes the window entry's."""

    model_config = ConfigDict(frozen=True)

    currency: str = Field(exclude=True)
    trade_id: str
    qty: Amount
    cost: Money
    opened_at: AwareDatetime
    acquired_on: date  # the buy's trading date: where its holding period starts

    @property
    def key(self) -> tuple[datetime, str]:
        """FIFO order: the buy's (timestamp, trade_id), as trades are applied."""
        return (self.opened_at, self.trade_id)


def lot_sort_key(lot: TaxLot) -> str:
    """A string that sorts as `lot.key` does, for a store that orders by one field: the UTC
    time at a fixed width, then the trade id (code point order is UTF-8 byte order)."""
    return f"{lot.opened_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}|{lot.trade_id}"


class LotSource(Protocol):
    """Where the open lots are stored."""

    def after(self, lot: TaxLot | None, limit: int) -> list[TaxLot]:
        """Up to `limit` open lots that sort after `lot` (from the oldest when None), oldest
        first."""
        ...

    def lot(self, trade_id: str) -> TaxLot | None:
        """The open lot the buy `trade_id` opened, or None when it is closed or never was."""
        ...


class LotDelta(CurrencyModel):
    """What the changed lots add to the totals."""

    model_config = ConfigDict(frozen=True)

    currency: str
    qty: Amount = ZERO
    # CurrencyModel reads a bare default in the model's own currency: a typed Money needs one.
    cost: Money = ZERO  # type: ignore[assignment]
    open_lots: int = 0


class LotBook:
    """One update's view of the open lots: read lazily from the source, changed in memory."""

    def __init__(self, source: LotSource, first_page: int = 1) -> None:
        self._source = source
        self._page = max(1, min(first_page, MAX_PAGE))
        self._read: list[TaxLot] = []  # the source's oldest lots, as far as read
        self._exhausted = False
        self._stored: dict[str, TaxLot | None] = {}  # what the source holds, by trade id
        self._changed: dict[str, TaxLot | None] = {}  # what it will hold (None: closed)

    def oldest_first(self) -> Iterator[TaxLot]:
        """The open lots, oldest first, as changed so far; reads pages only as consumed."""
        changed = sorted((lot for lot in self._changed.values() if lot), key=_by_key)
        unchanged = (lot for lot in self._in_order() if lot.trade_id not in self._changed)
        return heapq.merge(unchanged, changed, key=_by_key)

    def lot(self, trade_id: str) -> TaxLot | None:
        """The lot as it is now; read from the source the first time."""
        if trade_id in self._changed:
            return self._changed[trade_id]
        if trade_id not in self._stored:
            self._stored[trade_id] = self._source.lot(trade_id)
        return self._stored[trade_id]

    def open(self, lot: TaxLot) -> None:
        """A buy's new lot. A buy being applied has no stored lot, unless this update undid
        it, which read it."""
        self._stored.setdefault(lot.trade_id, None)
        self._changed[lot.trade_id] = lot

    def put(self, lot: TaxLot) -> None:
        self.lot(lot.trade_id)
        self._changed[lot.trade_id] = lot

    def close(self, trade_id: str) -> None:
        self.lot(trade_id)
        self._changed[trade_id] = None

    def changes(self) -> dict[str, TaxLot | None]:
        """The lots to write, by trade id; None for a lot to delete."""
        return {
            trade_id: lot
            for trade_id, lot in self._changed.items()
            if lot != self._stored[trade_id]
        }

    def delta(self, currency: str) -> LotDelta:
        """What the changes add to the totals; the lots' cost is in `currency`."""
        changes = self.changes()
        before = [self._stored[trade_id] for trade_id in changes]
        after = list(changes.values())
        no_cost = Money.zero(currency)
        return LotDelta(
            currency=currency,
            qty=_total(after, "qty", ZERO) - _total(before, "qty", ZERO),
            cost=_total(after, "cost", no_cost) - _total(before, "cost", no_cost),
            open_lots=sum(lot is not None for lot in after)
            - sum(lot is not None for lot in before),
        )

    def _in_order(self) -> Iterator[TaxLot]:
        index = 0
        while index < len(self._read) or not self._exhausted:
            if index == len(self._read):
                self._read_page()
                continue
            yield self._read[index]
            index += 1

    def _read_page(self) -> None:
        page = self._source.after(self._read[-1] if self._read else None, self._page)
        self._exhausted = len(page) < self._page
        self._read.extend(page)
        for lot in page:
            self._stored.setdefault(lot.trade_id, lot)
        self._page = min(self._page * 2, MAX_PAGE)


def _by_key(lot: TaxLot) -> tuple[datetime, str]:
    return lot.key


def _total(lots: list[TaxLot | None], field: str, zero: _Total) -> _Total:
    return sum((getattr(lot, field) for lot in lots if lot is not None), zero)
