"""The replay's CSV files as text: the header checked, every column read as strings block by
block with rows of the wrong width counted, and the vectorised casts that judge each row.

A block whose column does not cast as a whole is split in halves until the bad rows are found,
so one bad row costs a few extra casts, and every row is judged by the same parser wherever it
sits. Timestamps are ISO 8601 with a UTC offset or Z, as Arrow parses them; one without an
offset is a bad row, never read as UTC.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

BLOCK_BYTES = (
    4 << 20
)  # text parsed at a time; the reader reads several ahead, so this bounds memory
_SMALLEST_SPLIT = 32  # below this many rows a failing block is cast row by row
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

# Marks the rows `mask` selects as skipped for a reason (the first reason a row gets stays).
Fail = Callable[[np.ndarray, str], None]


class ReplayInputError(ValueError):
    """A file the replay cannot read at all: missing, empty, without the needed columns."""


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


def strings_reader(
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


def cast_rows(column: pa.Array, to: pa.DataType) -> tuple[pa.Array, np.ndarray]:
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
    left, left_ok = cast_rows(column.slice(0, half), to)
    right, right_ok = cast_rows(column.slice(half), to)
    return pa.concat_arrays([left, right]), np.concatenate([left_ok, right_ok])


def as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column


def timestamps(column: pa.Array, fail: Fail) -> np.ndarray:
    """Nanoseconds since the epoch, UTC; a row without a UTC offset or unparseable fails."""
    column = as_array(column)
    parsed, good = cast_rows(column, UTC_NS)
    if not good.all():
        bad = np.flatnonzero(~good)
        _, naive = cast_rows(column.take(pa.array(bad)), pa.timestamp("ns"))
        no_offset = np.zeros(len(column), dtype=bool)
        no_offset[bad[naive]] = True
        fail(no_offset, TIMESTAMP_NO_OFFSET)
        fail(~good, TIMESTAMP_UNPARSEABLE)
    return to_numpy(parsed.cast(pa.int64()), 0)


def to_numpy(array: pa.Array, null: float) -> np.ndarray:
    if array.null_count:
        array = array.fill_null(null)
    return array.to_numpy(zero_copy_only=False)
