"""A deterministic sample for the replay: QUOTES.csv and ORDERS.csv with the intraday spread
shapes each asset class is known for, over Friday 17 to Monday 20 April 2026 (no clock change
in New York, so New York is UTC-4 throughout).

- Equities (AAPL, MSFT, SPY) and their options quote 09:30-16:00 New York on weekdays. The
  spread is U-shaped: 10x its base at the open, decaying over ~15 minutes, 2.5x into
  the close. Options spreads are whole percents of the premium.
- Forex (EUR/USD, GBP/USD, USD/JPY) quotes from Sunday 17:00 to Friday 17:00 New York; the
  spread widens ~25x around the 17:00 rollover (16:55-17:15) and ~10x in the first hour
  after the Sunday open.
- Crypto (BTC/USD, ETH/USD) quotes around the clock, about 2.2x wider on the weekend.
Every spread also carries lognormal noise (sigma 0.35). Mids follow a random walk at the
class's volatility. Touch sizes are lognormal; some orders are larger than the touch.

Quotes are written symbol after symbol (each symbol in time order), so the file as a whole
is not in time order, as when per-symbol recordings are concatenated. A few orders name a
symbol that has no quotes (NVDA) to show the `no_quote` count. Same seed, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from smart_routing.domain.assets import AssetClass

START = datetime(2026, 4, 17, tzinfo=UTC)  # a Friday
DAYS = 4
NEW_YORK_OFFSET = timedelta(hours=-4)  # EDT, all through the sample's dates
_NS = 1_000_000_000
_MINUTE_NS = 60 * _NS
_YEAR_S = 365 * 24 * 3600
_SLICE = 500_000  # rows written at a time: bounds the generator's memory


@dataclass(frozen=True)
class SampleSymbol:
    symbol: str
    asset_class: AssetClass
    mid: float
    places: int  # the quote grid: 10**-places
    base_spread: float  # a fraction of the mid
    volatility: float  # annualised
    touch: float  # median touch size
    order_qty: float  # median order size
    qty_places: int
    weight: float  # share of the quotes


SYMBOLS = (
    SampleSymbol("AAPL", AssetClass.EQUITY, 200.0, 2, 0.00015, 0.25, 300, 60, 0, 1.5),
    SampleSymbol("MSFT", AssetClass.EQUITY, 420.0, 2, 0.0001, 0.22, 200, 40, 0, 1.5),
    SampleSymbol("SPY", AssetClass.EQUITY, 560.0, 2, 0.00004, 0.15, 800, 100, 0, 2.0),
    SampleSymbol("AAPL260619C00200000", AssetClass.OPTIONS, 12.0, 2, 0.02, 0.6, 40, 8, 0, 0.6),
    SampleSymbol("SPY260619P00550000", AssetClass.OPTIONS, 9.0, 2, 0.015, 0.5, 60, 10, 0, 0.6),
    SampleSymbol("EUR/USD", AssetClass.FOREX, 1.085, 5, 0.00007, 0.08, 2e6, 2e5, 0, 1.5),
    SampleSymbol("GBP/USD", AssetClass.FOREX, 1.27, 5, 0.0001, 0.09, 1e6, 1e5, 0, 1.0),
    SampleSymbol("USD/JPY", AssetClass.FOREX, 150.0, 3, 0.00008, 0.1, 2e6, 2e5, 0, 1.0),
    SampleSymbol("BTC/USD", AssetClass.CRYPTO, 65000.0, 2, 0.0004, 0.5, 1.5, 0.3, 4, 1.5),
    SampleSymbol("ETH/USD", AssetClass.CRYPTO, 3200.0, 2, 0.0005, 0.6, 20, 4, 3, 1.0),
)
NO_QUOTE_SYMBOL = "NVDA"
NO_QUOTE_SHARE = 0.01


def generate(directory: Path, quotes: int = 20_000, orders: int = 500, seed: int = 7) -> None:
    """Write QUOTES.csv and ORDERS.csv into `directory` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    weights = np.array([s.weight for s in SYMBOLS])
    counts = np.floor(quotes * weights / weights.sum()).astype(int)
    counts[0] += quotes - counts.sum()
    schema = pa.schema([(name, pa.string()) for name in _QUOTE_COLUMNS])
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with (directory / "QUOTES.csv").open("wb") as out:
        out.write((",".join(_QUOTE_COLUMNS) + "\n").encode())
        with pacsv.CSVWriter(out, schema, write_options=options) as writer:
            for spec, count in zip(SYMBOLS, counts.tolist(), strict=True):
                for table in _quotes(spec, count, rng):
                    writer.write_table(table)
    table = _orders(orders, rng)
    with (directory / "ORDERS.csv").open("wb") as out:
        out.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, out, write_options=options)


_QUOTE_COLUMNS = ("timestamp", "symbol", "bid", "ask", "bid_size", "ask_size")


def trading_intervals(asset_class: AssetClass) -> list[tuple[int, int]]:
    """[start, end) in ns since the epoch, UTC, when the class quotes during the sample."""
    day = timedelta(days=1)
    intervals = []
    for d in range(DAYS):
        if asset_class is AssetClass.CRYPTO:
            intervals.append((START + d * day, START + (d + 1) * day))
            continue
        midnight = START + d * day - NEW_YORK_OFFSET  # New York's midnight of that date
        weekday = (START + d * day).weekday()
        if asset_class is AssetClass.FOREX:
            begin, end = midnight, midnight + day
            if weekday == 4:  # Friday: until the 17:00 close
                end = midnight + timedelta(hours=17)
            elif weekday == 6:  # Sunday: from the 17:00 open
                begin = midnight + timedelta(hours=17)
            if weekday != 5:
                intervals.append((begin, end))
        elif weekday < 5:
            open_ = midnight + timedelta(hours=9, minutes=30)
            intervals.append((open_, open_ + timedelta(hours=6, minutes=30)))
    return [(_ns(a), _ns(b)) for a, b in intervals]


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * _NS


def _times(asset_class: AssetClass, count: int, rng: np.random.Generator) -> np.ndarray:
    intervals = np.array(trading_intervals(asset_class), dtype=np.int64)
    lengths = intervals[:, 1] - intervals[:, 0]
    offsets = np.sort(rng.integers(0, int(lengths.sum()), count, dtype=np.int64))
    offsets -= offsets % 1000  # microseconds, as written
    cumulative = np.concatenate([[0], np.cumsum(lengths)])
    which = np.searchsorted(cumulative, offsets, side="right") - 1
    return intervals[which, 0] + offsets - cumulative[which]


def spread_shape(asset_class: AssetClass, ts: np.ndarray) -> np.ndarray:
    """The spread's multiple of its base at each instant, before noise."""
    local = ts + int(NEW_YORK_OFFSET.total_seconds()) * _NS
    minute = (local // _MINUTE_NS) % (24 * 60)
    weekday = ((local // (24 * 60 * _MINUTE_NS)) + 3) % 7  # 1970-01-01 was a Thursday
    if asset_class in (AssetClass.EQUITY, AssetClass.OPTIONS):
        since_open = minute - (9 * 60 + 30)
        to_close = 16 * 60 - minute
        return 1 + 9 * np.exp(-since_open / 15) + 1.5 * np.exp(-to_close / 20)
    if asset_class is AssetClass.FOREX:
        rollover = (minute >= 16 * 60 + 55) & (minute < 17 * 60 + 15)
        sunday_open = (weekday == 6) & (minute >= 17 * 60) & (minute < 18 * 60)
        return np.where(rollover, 25.0, np.where(sunday_open, 10.0, 1.0))
    utc_weekday = ((ts // (24 * 60 * _MINUTE_NS)) + 3) % 7
    return np.where(utc_weekday >= 5, 2.2, 1.0)


def _quotes(spec: SampleSymbol, count: int, rng: np.random.Generator) -> list[pa.Table]:
    ts = _times(spec.asset_class, count, rng)
    seconds = np.diff(ts, prepend=ts[:1]) / _NS
    steps = rng.standard_normal(count) * spec.volatility * np.sqrt(seconds / _YEAR_S)
    mid = spec.mid * np.exp(np.cumsum(steps))
    spread = spec.base_spread * spread_shape(spec.asset_class, ts)
    spread *= np.exp(rng.normal(0, 0.35, count))
    scale = 10**spec.places
    width = np.maximum(1, np.rint(mid * spread * scale)).astype(np.int64)
    bid = np.rint(mid * scale).astype(np.int64) - width // 2
    ask = bid + width
    sizes = spec.touch * np.exp(rng.normal(0, 0.6, (2, count)))
    size_places = 0 if spec.touch >= 10 else 4
    tables = []
    for start in range(0, count, _SLICE):
        part = slice(start, start + _SLICE)
        tables.append(
            pa.table(
                {
                    "timestamp": _iso(ts[part]),
                    "symbol": pa.array([spec.symbol] * len(ts[part])),
                    "bid": _decimal_text(bid[part], spec.places),
                    "ask": _decimal_text(ask[part], spec.places),
                    "bid_size": _decimal_text(_grid(sizes[0, part], size_places), size_places),
                    "ask_size": _decimal_text(_grid(sizes[1, part], size_places), size_places),
                }
            )
        )
    return tables


def _grid(values: np.ndarray, places: int) -> np.ndarray:
    return np.maximum(1, np.rint(values * 10**places)).astype(np.int64)


def _decimal_text(units: np.ndarray, places: int) -> pa.Array:
    """units * 10**-places as the shortest decimal text (a correctly rounded double of a
    decimal with few digits prints back as that decimal)."""
    return pa.array(units / 10**places).cast(pa.string())


def _iso(ts: np.ndarray) -> pa.Array:
    text = np.datetime_as_string(ts.astype("datetime64[ns]"), unit="us")
    return pa.array(np.char.add(text, "Z"))


def _orders(count: int, rng: np.random.Generator) -> pa.Table:
    rows: dict[str, list[str]] = {name: [] for name in ("timestamp", "symbol", "side", "qty")}
    weights = np.array([s.weight for s in SYMBOLS])
    picks = rng.choice(len(SYMBOLS), size=count, p=weights / weights.sum())
    no_quote = rng.random(count) < NO_QUOTE_SHARE
    sides = rng.choice(["buy", "sell"], size=count)
    sizes = np.exp(rng.normal(0, 0.8, count))
    for i in range(count):
        spec = SYMBOLS[picks[i]]
        ts = _times(spec.asset_class, 1, rng)
        qty = max(10.0**-spec.qty_places, round(spec.order_qty * sizes[i], spec.qty_places))
        symbol = NO_QUOTE_SYMBOL if no_quote[i] else spec.symbol
        if no_quote[i]:
            qty = 10.0
        rows["timestamp"].append(str(_iso(ts)[0]))
        rows["symbol"].append(symbol)
        rows["side"].append(str(sides[i]))
        rows["qty"].append(f"{qty:.{spec.qty_places}f}" if not no_quote[i] else "10")
    return pa.table({name: pa.array(values, pa.string()) for name, values in rows.items()})
