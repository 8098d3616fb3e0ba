"""The two streaming passes over the quotes: every figure a policy needs is an aggregate that
does not depend on the order the quotes come in, so each block is folded into per-order
"best so far" candidates and the file is never held whole.

Pass 1 finds each order's arrival quote (the latest at or before the order). Pass 2, knowing
the arrivals (and so each limit price), finds for each order:
- the last quote at or before the horizon (its mid values what an unfilled order missed);
- `wait`: the first quote in (t, t + horizon] the production gate lets through;
- `limit`: the first quote in (t, t + ttl] whose opposite side reaches the limit.

Ties: quotes are ordered by (timestamp, row in the file). Of several quotes with one
timestamp, the one written last is the latest ("at or before" picks it) and the one written
first is the first ("first after" picks it).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from smart_routing.replay.quotes_csv import QuoteBlock

NO_TS = np.iinfo(np.int64).min
NO_ROW = -1


class Track:
    """One candidate quote per order: the best offered so far, by (ts, row)."""

    def __init__(self, n: int, latest: bool) -> None:
        self.latest = latest  # keep the greatest (ts, row); else the smallest
        fill = NO_TS if latest else np.iinfo(np.int64).max
        self.ts = np.full(n, fill, dtype=np.int64)
        self.row = np.full(n, NO_ROW, dtype=np.int64)
        self.bid = np.full(n, np.nan)
        self.ask = np.full(n, np.nan)
        self.bid_size = np.full(n, np.nan)
        self.ask_size = np.full(n, np.nan)

    def head(self, n: int) -> Track:
        """A copy of the first n candidates."""
        copy = Track(n, self.latest)
        for name in ("ts", "row", "bid", "ask", "bid_size", "ask_size"):
            getattr(copy, name)[:] = getattr(self, name)[:n]
        return copy

    def better(self, orders: np.ndarray, ts: np.ndarray, row: np.ndarray) -> np.ndarray:
        """Whether (ts, row) beats each order's candidate."""
        best_ts, best_row = self.ts[orders], self.row[orders]
        if self.latest:
            return (ts > best_ts) | ((ts == best_ts) & (row > best_row))
        return (best_row == NO_ROW) | (ts < best_ts) | ((ts == best_ts) & (row < best_row))

    def offer(self, orders: np.ndarray, block: QuoteBlock, index: np.ndarray) -> None:
        """Quote `index[i]` of the block, for order `orders[i]`, where it is better."""
        win = self.better(orders, block.ts[index], block.row[index])
        orders, index = orders[win], index[win]
        self.ts[orders] = block.ts[index]
        self.row[orders] = block.row[index]
        self.bid[orders] = block.bid[index]
        self.ask[orders] = block.ask[index]
        self.bid_size[orders] = block.bid_size[index]
        self.ask_size[orders] = block.ask_size[index]


@dataclass(frozen=True, slots=True)
class Lookups:
    """Who asks about which symbol, when: order i is at ts[i] on symbol sym[i]."""

    sym: np.ndarray  # int32
    ts: np.ndarray  # int64 ns

    def by_symbol(self) -> dict[int, np.ndarray]:
        """Order indices of each symbol, by time."""
        ordered = np.lexsort((self.ts, self.sym))
        groups: dict[int, np.ndarray] = {}
        cuts = np.flatnonzero(np.diff(self.sym[ordered])) + 1
        for part in np.split(ordered, cuts):
            if len(part):
                groups[int(self.sym[part[0]])] = part
        return groups


def _symbol_runs(block: QuoteBlock) -> Iterable[tuple[int, np.ndarray]]:
    """The block's quote indices of each symbol, sorted by (ts, row)."""
    ordered = np.lexsort((block.row, block.ts, block.sym))
    cuts = np.flatnonzero(np.diff(block.sym[ordered])) + 1
    for part in np.split(ordered, cuts):
        if len(part):
            yield int(block.sym[part[0]]), part


def arrivals(blocks: Iterable[QuoteBlock], lookups: Lookups) -> Track:
    """Pass 1: the latest quote at or before each lookup's time."""
    track = Track(len(lookups.ts), latest=True)
    groups = lookups.by_symbol()
    for block in blocks:
        for symbol, run in _symbol_runs(block):
            orders = groups.get(symbol)
            if orders is not None:
                _latest_at(track, orders, lookups.ts[orders], block, run)
    return track


def _latest_at(
    track: Track, orders: np.ndarray, at: np.ndarray, block: QuoteBlock, run: np.ndarray
) -> None:
    j = np.searchsorted(block.ts[run], at, side="right") - 1
    has = j >= 0
    track.offer(orders[has], block, run[j[has]])


# The gate, asked about order i at a quote: True when it lets the order through there.
GateCheck = Callable[[int, int, float, float, float, float], bool]


@dataclass(slots=True)
class Pass2:
    horizon: Track
    wait: Track
    limit: Track
    gate_calls: int = 0


@dataclass(frozen=True, slots=True)
class Pass2Inputs:
    lookups: Lookups
    horizon_ns: int
    ttl_ns: int
    wait_open: np.ndarray  # bool: the gate held the order at its arrival quote
    limit_open: np.ndarray  # bool: a limit order was placed
    limit_price: np.ndarray  # float: the limit, for the scan (the figures use the exact one)
    buy: np.ndarray  # bool
    screen_bound: np.ndarray  # float per symbol id: spreads above never pass the gate


def pass2(
    blocks: Iterable[QuoteBlock], inputs: Pass2Inputs, gate: GateCheck, arrival: Track
) -> Pass2:
    """`arrival` seeds the horizon: the spool keeps only quotes after some order, and when no
    quote comes after the order the last one at the horizon is its arrival."""
    n = len(inputs.lookups.ts)
    result = Pass2(arrival.head(n), Track(n, latest=False), Track(n, latest=False))
    groups = inputs.lookups.by_symbol()
    for block in blocks:
        for symbol, run in _symbol_runs(block):
            orders = groups.get(symbol)
            if orders is None:
                continue
            at = inputs.lookups.ts[orders]
            _latest_at(result.horizon, orders, at + inputs.horizon_ns, block, run)
            bound = inputs.screen_bound[symbol]
            result.gate_calls += _first_passing(
                result.wait, inputs, orders, block, run, bound, gate
            )
            _first_touch(result.limit, inputs, orders, block, run)
    return result


def _first_passing(
    track: Track,
    inputs: Pass2Inputs,
    orders: np.ndarray,
    block: QuoteBlock,
    run: np.ndarray,
    bound: float,
    gate: GateCheck,
) -> int:
    """`wait`: the first quote after the order, within the horizon, that the gate passes.

    A vectorised pre-screen drops quotes whose spread is above `bound` (a margin above any
    threshold the gate applies); the survivors are confirmed by the gate itself, earliest
    first, stopping at the first it passes. Returns the number of gate calls."""
    orders = orders[inputs.wait_open[orders]]
    if not len(orders):
        return 0
    bid, ask = block.bid[run], block.ask[run]
    screened = run[(ask - bid) * 2 <= bound * (ask + bid)]
    if not len(screened):
        return 0
    ts, rows = block.ts[screened], block.row[screened]
    start = inputs.lookups.ts[orders]
    first = np.searchsorted(ts, start, side="right")
    last = np.searchsorted(ts, start + inputs.horizon_ns, side="right")
    has = first < last
    orders, first, last = orders[has], first[has], last[has]
    promising = track.better(orders, ts[first], rows[first])
    calls = 0
    for order, k, end in zip(
        orders[promising].tolist(), first[promising].tolist(), last[promising].tolist(), strict=True
    ):
        best = (int(track.ts[order]), int(track.row[order]))
        for m in range(k, end):
            if track.row[order] != NO_ROW and (int(ts[m]), int(rows[m])) >= best:
                break  # an earlier quote of another block already passed
            q = screened[m]
            calls += 1
            if gate(
                order, int(block.ts[q]), float(block.bid[q]), float(block.ask[q]),
                float(block.bid_size[q]), float(block.ask_size[q]),
            ):  # fmt: skip
                track.offer(np.array([order]), block, np.array([q]))
                break
    return calls


def _first_touch(
    track: Track, inputs: Pass2Inputs, orders: np.ndarray, block: QuoteBlock, run: np.ndarray
) -> None:
    """`limit`: the first quote after the order, within the TTL, whose ask is at or below a
    buy's limit (bid at or above a sell's)."""
    orders = orders[inputs.limit_open[orders]]
    if not len(orders):
        return
    ts = block.ts[run]
    start = inputs.lookups.ts[orders]
    lo = np.searchsorted(ts, start, side="right")
    hi = np.searchsorted(ts, start + inputs.ttl_ns, side="right")
    buy = inputs.buy[orders]
    for side_mask, values, limits in (
        (buy, block.ask[run], inputs.limit_price[orders]),
        (~buy, -block.bid[run], -inputs.limit_price[orders]),
    ):
        if not side_mask.any():
            continue
        pos = first_at_or_below(values, lo[side_mask], hi[side_mask], limits[side_mask])
        found = pos >= 0
        track.offer(orders[side_mask][found], block, run[pos[found]])


def first_at_or_below(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, limits: np.ndarray
) -> np.ndarray:
    """For each i, the first j in [lo[i], hi[i]) with values[j] <= limits[i], else -1.

    Binary lifting over a sparse table of range minima: level k holds the minimum of each run
    of 2**k values, and each query skips, from the largest run down, every run wholly above
    its limit. O((n + queries) log window), all vectorised."""
    widest = int((hi - lo).max(initial=0))
    if widest <= 0:
        return np.full(len(lo), -1, dtype=np.int64)
    levels = [values]
    while (2 << (len(levels) - 1)) <= widest:
        half = 1 << (len(levels) - 1)
        previous = levels[-1]
        levels.append(np.minimum(previous[:-half], previous[half:]))
    pos = lo.astype(np.int64)
    for k in range(len(levels) - 1, -1, -1):
        step = 1 << k
        fits = np.flatnonzero(pos + step <= hi)
        skip = fits[levels[k][pos[fits]] > limits[fits]]
        pos[skip] += step
    inside = pos < hi
    found = np.zeros(len(pos), dtype=bool)
    found[inside] = values[pos[inside]] <= limits[inside]
    return np.where(found, pos, -1)


SPOOL_DTYPE = np.dtype([
    ("row", "<i8"), ("ts", "<i8"), ("sym", "<i4"), ("bid", "<f8"), ("ask", "<f8"),
    ("bid_size", "<f8"), ("ask_size", "<f8"),
])  # fmt: skip
SPOOL_ROWS = 1 << 18  # rows read back at a time in pass 2


class Spool:
    """The quotes pass 2 needs, kept from pass 1 in binary in a temporary file: pass 2 then
    reads 52 bytes a quote instead of parsing and checking the CSV again. Only quotes within
    `reach_ns` after some order of their symbol are kept."""

    def __init__(self, lookups: Lookups, reach_ns: int) -> None:
        # Closed (and so deleted) by close(), which replay() calls in a finally.
        self.handle = tempfile.TemporaryFile(prefix="replay-spool-")  # noqa: SIM115
        self.reach_ns = reach_ns
        self.rows = 0
        self.starts = {s: np.sort(lookups.ts[orders]) for s, orders in lookups.by_symbol().items()}

    def record(self, blocks: Iterable[QuoteBlock]) -> Iterator[QuoteBlock]:
        """The blocks, unchanged, each written to the spool (the part pass 2 needs) first."""
        for block in blocks:
            keep = np.flatnonzero(self._needed(block))
            if len(keep):
                part = block.take(keep)
                records = np.empty(len(keep), dtype=SPOOL_DTYPE)
                for name in SPOOL_DTYPE.names or ():
                    records[name] = getattr(part, name)
                records.tofile(self.handle)
                self.rows += len(keep)
            yield block

    def _needed(self, block: QuoteBlock) -> np.ndarray:
        needed = np.zeros(len(block.ts), dtype=bool)
        for symbol, run in _symbol_runs(block):
            starts = self.starts.get(symbol)
            if starts is None:
                continue
            ts = block.ts[run]
            before = np.searchsorted(starts, ts, side="left") - 1  # the last order before
            has = before >= 0
            reach = np.zeros(len(run), dtype=bool)
            reach[has] = ts[has] - starts[before[has]] <= self.reach_ns
            needed[run] = reach
        return needed

    def blocks(self) -> Iterator[QuoteBlock]:
        self.handle.seek(0)
        while True:
            records = np.fromfile(self.handle, dtype=SPOOL_DTYPE, count=SPOOL_ROWS)
            if not len(records):
                return
            yield QuoteBlock(
                *(np.ascontiguousarray(records[name]) for name in QuoteBlock.__slots__)
            )

    def close(self) -> None:
        self.handle.close()
