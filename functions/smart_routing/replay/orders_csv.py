"""Reading ORDERS.csv: every order (the file fits in memory), each on its instrument's grid,
bad rows counted and skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import numpy as np

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.instruments import InstrumentSpec, builtin_spec
from smart_routing.domain.orders import OrderSide
from smart_routing.replay.csv_input import (
    FIELDS,
    QTY_INVALID,
    QTY_OFF_GRID,
    SIDE_INVALID,
    SYMBOL_UNKNOWN,
    header,
    strings_reader,
    timestamps,
)

ORDER_COLUMNS = ("timestamp", "symbol", "side", "qty")


@dataclass(frozen=True, slots=True)
class Order:
    row: int  # the order's line in ORDERS.csv (the header is line 1)
    ts: int  # ns since the epoch, UTC
    timestamp: str  # as written
    symbol: str  # canonical
    asset_class: AssetClass
    side: OrderSide
    qty: Decimal
    spec: InstrumentSpec


@dataclass(slots=True)
class OrderStats:
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def read_orders(path: Path, venue: str = "paper") -> tuple[list[Order], OrderStats]:
    """Every order of ORDERS.csv, bad rows counted and skipped."""
    names = header(path, ORDER_COLUMNS, "orders")
    stats = OrderStats()
    skipped_lines: list[int] = []
    reader = strings_reader(path, names, list(ORDER_COLUMNS), stats.skipped, skipped_lines)
    table = reader.read_all()
    line_numbers = _lines(table.num_rows, skipped_lines)
    stats.rows = table.num_rows + stats.skipped[FIELDS]
    bad_ts: dict[int, str] = {}

    def fail(mask: np.ndarray, why: str) -> None:
        for i in np.flatnonzero(mask):
            bad_ts.setdefault(int(i), why)

    ts = timestamps(table.column("timestamp"), fail) if table.num_rows else np.empty(0)
    orders = []
    texts = zip(*(table.column(name).to_pylist() for name in ORDER_COLUMNS), strict=True)
    for i, (timestamp, symbol, side, qty) in enumerate(texts):
        order, why = _order(line_numbers[i], int(ts[i]), timestamp, symbol, side, qty, venue)
        why = bad_ts.get(i) or why
        if why is not None:
            stats.skipped[why] += 1
        else:
            assert order is not None
            orders.append(order)
    return orders, stats


def _lines(rows: int, skipped: list[int]) -> list[int]:
    """The file line of each row read: from line 2 on, past the lines skipped."""
    lines: list[int] = []
    line, gaps = 2, set(skipped)
    while len(lines) < rows:
        if line not in gaps:
            lines.append(line)
        line += 1
    return lines


@lru_cache(maxsize=4096)
def _spec(symbol: str, asset_class: AssetClass, venue: str) -> InstrumentSpec:
    return builtin_spec(parse_symbol(symbol, asset_class), venue)


def _order(
    row: int, ts: int, timestamp: str, symbol: str, side: str, qty: str, venue: str
) -> tuple[Order | None, str | None]:
    try:
        instrument = parse_symbol(symbol)
    except ValueError:
        return None, SYMBOL_UNKNOWN
    try:
        order_side = OrderSide(side.strip().lower())
    except ValueError:
        return None, SIDE_INVALID
    try:
        amount = Decimal(qty.strip())
    except InvalidOperation:
        return None, QTY_INVALID
    if not amount.is_finite() or amount <= 0:
        return None, QTY_INVALID
    spec = _spec(instrument.symbol, instrument.asset_class, venue)
    if spec.qty_problem(amount) is not None:
        return None, QTY_OFF_GRID
    return Order(
        row=row, ts=ts, timestamp=timestamp.strip(), symbol=instrument.symbol,
        asset_class=instrument.asset_class, side=order_side, qty=amount, spec=spec,
    ), None  # fmt: skip
