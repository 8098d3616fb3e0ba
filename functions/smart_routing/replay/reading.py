"""Reading QUOTES.csv and ORDERS.csv: checked columns, streamed quotes, counted bad rows.

Quotes are streamed in blocks with pyarrow's CSV reader (the file may be far larger than
memory); each block is validated with vectorised casts. A block whose column does not cast as a
whole is split in halves until the bad rows are found, so one bad row costs a few extra casts,
and every row is judged by the same parser wherever it sits. Timestamps are ISO 8601 with a
UTC offset or Z, as Arrow parses them; one without an offset is a bad row, never read as UTC.

Prices are read as binary doubles for the scan and turned back into the decimal that was
written (the double's shortest text) for the figures. That is exact up to 15 significant
digits; a price written with more is a bad row (`price_precision`) rather than a rounded one.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.instruments import InstrumentSpec, builtin_spec
from smart_routing.domain.orders import OrderSide

QUOTE_COLUMNS = ("timestamp", "symbol", "bid", "ask")
SIZE_COLUMNS = ("bid_size", "ask_size")
ORDER_COLUMNS = ("timestamp", "symbol", "side", "qty")
BLOCK_BYTES = (
    4 << 20
)  # text parsed at a time; the reader reads several ahead, so this bounds memory
_SMALLEST_SPLIT = 32  # below this many rows a failing block is cast row by row
_EXACT_TEXT_LENGTH = 15  # a number written in at most 15 characters has <= 15 digits
UTC_NS = pa.timestamp("ns", tz="UTC")

# Why a row was skipped, in the order the checks run (a row counts under its first).
FIELDS = "wrong_number_of_fields"
TIMESTAMP_UNPARSEABLE = "timestamp_unparseable"
TIMESTAMP_NO_OFFSET = "timestamp_without_offset"
SYMBOL_UNKNOWN = "symbol_unknown"
PRICE_UNPARSEABLE = "price_unparseable"
PRICE_NOT_FINITE = "price_not_finite"
PRICE_PRECISION = "price_precision"
PRICE_NOT_POSITIVE = "price_not_positive"
CROSSED = "crossed"
SIZE_INVALID = "size_invalid"
SIDE_INVALID = "side_invalid"
QTY_INVALID = "qty_invalid"
QTY_OFF_GRID = "qty_off_grid"


class ReplayInputError(ValueError):
    """A file the replay cannot read at all: missing, empty, without the needed columns."""


@dataclass(slots=True)
class Symbols:
    """Canonical symbols seen so far, by id; `wanted` are the ones a figure needs."""

    names: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    classes: list[AssetClass] = field(default_factory=list)
    wanted: set[int] = field(default_factory=set)
    _raw: dict[str, int] = field(default_factory=dict)  # as written -> id, -1 unknown

    def id_of(self, raw: str) -> int:
        known = self._raw.get(raw)
        if known is not None:
            return known
        try:
            instrument = parse_symbol(raw)
        except ValueError:
            self._raw[raw] = -1
            return -1
        symbol_id = self.ids.get(instrument.symbol)
        if symbol_id is None:
            symbol_id = self.ids[instrument.symbol] = len(self.names)
            self.names.append(instrument.symbol)
            self.classes.append(instrument.asset_class)
        self._raw[raw] = symbol_id
        return symbol_id

    def want(self, symbol: str) -> int:
        symbol_id = self.id_of(symbol)
        assert symbol_id >= 0, symbol
        self.wanted.add(symbol_id)
        return symbol_id


@dataclass(slots=True)
class QuoteBlock:
    """Valid quotes of wanted symbols, in file order. Prices are doubles; sizes NaN when the
    file has none."""

    row: np.ndarray  # int64: the quote's position among all data rows, from 0
    ts: np.ndarray  # int64 ns since the epoch, UTC
    sym: np.ndarray  # int32 symbol id
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray

    def take(self, index: np.ndarray) -> QuoteBlock:
        return QuoteBlock(*(getattr(self, name)[index] for name in self.__slots__))


@dataclass(slots=True)
class QuoteStats:
    rows: int = 0
    valid: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    has_sizes: bool = False


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


def header(path: Path, required: tuple[str, ...], what: str) -> list[str]:
    """The file's column names; ReplayInputError when it is missing, empty or lacks one."""
    if not path.is_file():
        raise ReplayInputError(f"{what} {path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:  # a BOM is not a name
        first = next(csv.reader(handle), None)
        if first is None or not any(name.strip() for name in first):
            raise ReplayInputError(f"{what} {path}: the file is empty (expected a header)")
        if next(handle, None) is None:
            raise ReplayInputError(f"{what} {path}: the file has a header but no rows")
    names = [name.strip() for name in first]
    missing = [name for name in required if name not in names]
    if missing:
        raise ReplayInputError(
            f"{what} {path}: missing column(s) {', '.join(missing)}; the header must have "
            f"{','.join(required)} (found {','.join(names)})"
        )
    return names


def _strings_reader(
    path: Path,
    names: list[str],
    columns: list[str],
    skipped: Counter[str],
    lines: list[int] | None = None,
) -> pacsv.CSVStreamingReader:
    """Every column as text; a row with the wrong number of fields is counted (and its line
    number kept in `lines`) and skipped."""

    def wrong_fields(row: pacsv.InvalidRow) -> str:
        skipped[FIELDS] += 1
        if lines is not None and row.number is not None:
            lines.append(row.number)
        return "skip"

    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            use_threads=False, block_size=BLOCK_BYTES, column_names=names, skip_rows=1
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=wrong_fields),
        convert_options=pacsv.ConvertOptions(
            include_columns=columns,
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def read_quotes(path: Path, symbols: Symbols) -> tuple[Iterator[QuoteBlock], QuoteStats]:
    """The quotes of the wanted symbols, block by block, and the counts (complete once the
    iterator is exhausted). Valid quotes of other symbols are counted as valid, then dropped."""
    names = header(path, QUOTE_COLUMNS, "quotes")
    stats = QuoteStats(has_sizes=all(name in names for name in SIZE_COLUMNS))
    columns = list(QUOTE_COLUMNS) + (list(SIZE_COLUMNS) if stats.has_sizes else [])
    reader = _strings_reader(path, names, columns, stats.skipped)

    def blocks() -> Iterator[QuoteBlock]:
        for batch in reader:
            block = _quote_block(batch, stats, symbols)
            if block is not None:
                yield block

    return blocks(), stats


def _quote_block(batch: pa.RecordBatch, stats: QuoteStats, symbols: Symbols) -> QuoteBlock | None:
    n = batch.num_rows
    if n == 0:
        return None
    rows = np.arange(stats.rows, stats.rows + n, dtype=np.int64)
    stats.rows += n
    reason = np.full(n, "", dtype=object)
    ok = np.ones(n, dtype=bool)

    def fail(mask: np.ndarray, why: str) -> None:
        newly = mask & ok
        reason[newly] = why
        ok[newly] = False

    ts = _timestamps(batch.column("timestamp"), fail)
    sym = _symbol_ids(batch.column("symbol"), symbols)
    fail(sym < 0, SYMBOL_UNKNOWN)
    bid = _prices(batch.column("bid"), fail)
    ask = _prices(batch.column("ask"), fail)
    with np.errstate(invalid="ignore"):
        fail((bid <= 0) | (ask <= 0), PRICE_NOT_POSITIVE)
        fail(bid > ask, CROSSED)
    nan = np.full(n, np.nan)
    bid_size, ask_size = nan, nan
    if stats.has_sizes:
        bid_size = _sizes(batch.column("bid_size"), fail)
        ask_size = _sizes(batch.column("ask_size"), fail)
    stats.skipped.update(reason[~ok].tolist())
    stats.valid += int(ok.sum())
    if symbols.wanted:
        wanted = np.zeros(len(symbols.names) + 1, dtype=bool)
        wanted[list(symbols.wanted)] = True
        ok &= wanted[sym]
    else:
        ok[:] = False
    if not ok.any():
        return None
    keep = np.flatnonzero(ok)
    return QuoteBlock(
        rows[keep], ts[keep], sym[keep], bid[keep], ask[keep], bid_size[keep], ask_size[keep]
    )


def _cast_rows(column: pa.Array, to: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """The column cast to `to`, with a mask of the rows that cast; bad rows are null."""
    try:
        return column.cast(to), np.ones(len(column), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if len(column) <= _SMALLEST_SPLIT:
        values, good = [], []
        for i in range(len(column)):
            try:
                values.append(column.slice(i, 1).cast(to))
                good.append(True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values.append(pa.nulls(1, to))
                good.append(False)
        return pa.concat_arrays(values), np.array(good, dtype=bool)
    half = len(column) // 2
    left, left_ok = _cast_rows(column.slice(0, half), to)
    right, right_ok = _cast_rows(column.slice(half), to)
    return pa.concat_arrays([left, right]), np.concatenate([left_ok, right_ok])


def _as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column


def _timestamps(column: pa.Array, fail: Callable[[np.ndarray, str], None]) -> np.ndarray:
    column = _as_array(column)
    parsed, good = _cast_rows(column, UTC_NS)
    if not good.all():
        bad = np.flatnonzero(~good)
        _, naive = _cast_rows(column.take(pa.array(bad)), pa.timestamp("ns"))
        no_offset = np.zeros(len(column), dtype=bool)
        no_offset[bad[naive]] = True
        fail(no_offset, TIMESTAMP_NO_OFFSET)
        fail(~good, TIMESTAMP_UNPARSEABLE)
    return _numpy(parsed.cast(pa.int64()), 0)


def _numpy(array: pa.Array, null: float) -> np.ndarray:
    if array.null_count:
        array = array.fill_null(null)
    return array.to_numpy(zero_copy_only=False)


def _prices(column: pa.Array, fail: Callable[[np.ndarray, str], None]) -> np.ndarray:
    column = _as_array(column)
    parsed, good = _cast_rows(column, pa.float64())
    fail(~good, PRICE_UNPARSEABLE)
    values = _numpy(parsed, np.nan)
    fail(good & ~np.isfinite(values), PRICE_NOT_FINITE)
    fail(_inexact(column, values), PRICE_PRECISION)
    return values


def _inexact(column: pa.Array, values: np.ndarray) -> np.ndarray:
    """Rows whose double does not give back the decimal written (more than 15 digits)."""
    long = np.flatnonzero(pc.utf8_length(column).to_numpy(zero_copy_only=False) > 15)
    inexact = np.zeros(len(column), dtype=bool)
    for i in long:
        if not math.isfinite(values[i]):
            continue
        try:
            inexact[i] = Decimal(column[i].as_py()) != Decimal(repr(float(values[i])))
        except InvalidOperation:
            inexact[i] = True
    return inexact


def _sizes(column: pa.Array, fail: Callable[[np.ndarray, str], None]) -> np.ndarray:
    """A size may be left empty (unknown); written, it must be a finite number >= 0."""
    column = _as_array(column)
    empty = pc.equal(pc.utf8_trim_whitespace(column), "").to_numpy(zero_copy_only=False)
    if empty.any():
        column = pc.if_else(empty, "nan", column)
    parsed, good = _cast_rows(column, pa.float64())
    values = _numpy(parsed, np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~good | (~empty & ~(np.isfinite(values) & (values >= 0)))
    fail(bad, SIZE_INVALID)
    return np.where(bad, np.nan, values)


def _symbol_ids(column: pa.Array, symbols: Symbols) -> np.ndarray:
    encoded = _as_array(column).dictionary_encode()
    lookup = np.array([symbols.id_of(raw) for raw in encoded.dictionary.to_pylist()], np.int32)
    return lookup[encoded.indices.to_numpy(zero_copy_only=False)]


@dataclass(slots=True)
class OrderStats:
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def read_orders(path: Path, venue: str = "paper") -> tuple[list[Order], OrderStats]:
    """Every order of ORDERS.csv (it fits in memory), bad rows counted and skipped."""
    names = header(path, ORDER_COLUMNS, "orders")
    stats = OrderStats()
    skipped_lines: list[int] = []
    reader = _strings_reader(path, names, list(ORDER_COLUMNS), stats.skipped, skipped_lines)
    table = reader.read_all()
    line_numbers = _lines(table.num_rows, skipped_lines)
    stats.rows = table.num_rows + stats.skipped[FIELDS]
    bad_ts: dict[int, str] = {}

    def fail(mask: np.ndarray, why: str) -> None:
        for i in np.flatnonzero(mask):
            bad_ts.setdefault(int(i), why)

    ts = _timestamps(table.column("timestamp"), fail) if table.num_rows else np.empty(0)
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
    lines, line, gaps = [], 2, set(skipped)
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
