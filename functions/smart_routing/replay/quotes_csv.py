"""Reading QUOTES.csv: the quotes of the wanted symbols streamed in blocks, bad rows counted.

Quotes are streamed with pyarrow's CSV reader (the file may be far larger than memory) and
each block is validated with vectorised casts (csv_input).

Prices are read as binary doubles for the scan and turned back into the decimal that was
written (the double's shortest text) for the figures. That is exact up to 15 significant
digits; a price written with more is a bad row (`price_precision`) rather than a rounded one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.replay.csv_input import (
    CROSSED,
    PRICE_NOT_FINITE,
    PRICE_NOT_POSITIVE,
    PRICE_PRECISION,
    PRICE_UNPARSEABLE,
    SIZE_INVALID,
    SYMBOL_UNKNOWN,
    Fail,
    as_array,
    cast_rows,
    header,
    strings_reader,
    timestamps,
    to_numpy,
)

QUOTE_COLUMNS = ("timestamp", "symbol", "bid", "ask")
SIZE_COLUMNS = ("bid_size", "ask_size")
_EXACT_TEXT_LENGTH = 15  # a number written in at most 15 characters has <= 15 digits


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


def read_quotes(path: Path, symbols: Symbols) -> tuple[Iterator[QuoteBlock], QuoteStats]:
    """The quotes of the wanted symbols, block by block, and the counts (complete once the
    iterator is exhausted). Valid quotes of other symbols are counted as valid, then dropped."""
    names = header(path, QUOTE_COLUMNS, "quotes")
    stats = QuoteStats(has_sizes=all(name in names for name in SIZE_COLUMNS))
    columns = list(QUOTE_COLUMNS) + (list(SIZE_COLUMNS) if stats.has_sizes else [])
    reader = strings_reader(path, names, columns, stats.skipped)

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

    ts = timestamps(batch.column("timestamp"), fail)
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


def _prices(column: pa.Array, fail: Fail) -> np.ndarray:
    column = as_array(column)
    parsed, good = cast_rows(column, pa.float64())
    fail(~good, PRICE_UNPARSEABLE)
    values = to_numpy(parsed, np.nan)
    fail(good & ~np.isfinite(values), PRICE_NOT_FINITE)
    fail(_inexact(column, values), PRICE_PRECISION)
    return values


def _inexact(column: pa.Array, values: np.ndarray) -> np.ndarray:
    """Rows whose double does not give back the decimal written (more than 15 digits)."""
    lengths = pc.utf8_length(column).to_numpy(zero_copy_only=False)
    long = np.flatnonzero(lengths > _EXACT_TEXT_LENGTH)
    inexact = np.zeros(len(column), dtype=bool)
    for i in long:
        if not math.isfinite(values[i]):
            continue
        try:
            inexact[i] = Decimal(column[i].as_py()) != Decimal(repr(float(values[i])))
        except InvalidOperation:
            inexact[i] = True
    return inexact


def _sizes(column: pa.Array, fail: Fail) -> np.ndarray:
    """A size may be left empty (unknown); written, it must be a finite number >= 0."""
    column = as_array(column)
    empty = pc.equal(pc.utf8_trim_whitespace(column), "").to_numpy(zero_copy_only=False)
    if empty.any():
        column = pc.if_else(empty, "nan", column)
    parsed, good = cast_rows(column, pa.float64())
    values = to_numpy(parsed, np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~good | (~empty & ~(np.isfinite(values) & (values >= 0)))
    fail(bad, SIZE_INVALID)
    return np.where(bad, np.nan, values)


def _symbol_ids(column: pa.Array, symbols: Symbols) -> np.ndarray:
    encoded = as_array(column).dictionary_encode()
    lookup = np.array([symbols.id_of(raw) for raw in encoded.dictionary.to_pylist()], np.int32)
    return lookup[encoded.indices.to_numpy(zero_copy_only=False)]
