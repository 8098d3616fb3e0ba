"""The replay, start to end: read the orders, two passes over the quotes, fills and figures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from smart_routing.config import EngineConfig
from smart_routing.gate import GateAction, SmartRouter
from smart_routing.orders import OrderSide
from smart_routing.replay import accounting, scan
from smart_routing.replay.accounting import Outcome, Policy, Status
from smart_routing.replay.gatekeeper import ReplayGate, price, replay_router
from smart_routing.replay.impact import marketable_price
from smart_routing.replay.reading import (
    QUOTE_COLUMNS,
    Order,
    OrderStats,
    QuoteStats,
    Symbols,
    header,
    read_orders,
    read_quotes,
)

_NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Settings:
    policies: tuple[Policy, ...]
    horizon_s: float
    ttl_s: float


@dataclass(slots=True)
class ReplayResult:
    settings: Settings
    orders: list[Order]
    order_stats: OrderStats
    quote_stats: QuoteStats
    marks: list[accounting.OrderMarks]
    outcomes: dict[Policy, list[Outcome]]
    tallies: dict[Policy, accounting.PolicyTallies]
    gate_calls: int

    def summary(self) -> dict[str, object]:
        figures = {policy: t.figures() for policy, t in self.tallies.items()}
        return {
            "quotes": _counts(
                self.quote_stats.rows + self.quote_stats.skipped["wrong_number_of_fields"],
                self.quote_stats.valid,
                self.quote_stats.skipped,
            ),
            "orders": _counts(self.order_stats.rows, len(self.orders), self.order_stats.skipped),
            "settings": {
                "policies": [p.value for p in self.settings.policies],
                "horizon_s": self.settings.horizon_s,
                "ttl_s": self.settings.ttl_s,
            },
            "policies": {policy.value: f for policy, f in figures.items()},
            "saved_vs_market_bps": accounting.savings(figures),
        }


def _counts(rows: int, used: int, skipped: dict[str, int]) -> dict[str, object]:
    return {"rows": rows, "used": used, "skipped": dict(sorted(skipped.items()))}


def replay(
    quotes: Path, orders_path: Path, settings: Settings, config: EngineConfig
) -> ReplayResult:
    header(quotes, QUOTE_COLUMNS, "quotes")  # a bad quotes file fails before any work
    orders, order_stats = read_orders(orders_path)
    symbols = Symbols()
    lookups, pairs = _lookups(orders, symbols)
    blocks, quote_stats = read_quotes(quotes, symbols)
    spool = _spool(lookups, len(orders), settings)
    try:
        arrival = scan.arrivals(spool.record(blocks) if spool else blocks, lookups)
        return _finish(orders, order_stats, quote_stats, lookups, pairs, arrival, spool, symbols,
                       settings, config)  # fmt: skip
    finally:
        if spool is not None:
            spool.close()


def _spool(lookups: scan.Lookups, n: int, settings: Settings) -> scan.Spool | None:
    if settings.policies == (Policy.MARKET,):
        return None
    reach = round(max(settings.horizon_s, settings.ttl_s) * _NS_PER_S)
    return scan.Spool(scan.Lookups(lookups.sym[:n], lookups.ts[:n]), reach)


def _finish(
    orders: list[Order],
    order_stats: OrderStats,
    quote_stats: QuoteStats,
    lookups: scan.Lookups,
    pairs: dict[int, int],
    arrival: scan.Track,
    spool: scan.Spool | None,
    symbols: Symbols,
    settings: Settings,
    config: EngineConfig,
) -> ReplayResult:
    router = replay_router(config.routing, SmartRouter(config.routing, config.fees))
    gate = ReplayGate(router, orders)
    held, refused = _gate_at_arrival(gate, orders, arrival, settings.policies)
    marks_mid = [_mid(arrival, i) for i in range(len(orders))]
    limits = _limit_prices(orders, marks_mid)
    second = _pass2(spool, symbols, lookups, orders, arrival, held, limits, gate, settings)
    marks = []
    for i, order in enumerate(orders):
        pair_index = pairs.get(i)
        pair_mid = _mid(arrival, pair_index) if pair_index is not None else None
        _, rate = accounting.usd_rate(order, marks_mid[i], pair_mid)
        horizon_mid = _mid(second.horizon, i) if second is not None else marks_mid[i]
        marks.append(accounting.OrderMarks(mid=marks_mid[i], horizon_mid=horizon_mid, rate=rate))
    outcomes = {
        policy: [
            _outcome(policy, order, i, arrival, second, held, refused, limits)
            for i, order in enumerate(orders)
        ]
        for policy in settings.policies
    }
    return ReplayResult(
        settings=settings, orders=orders, order_stats=order_stats, quote_stats=quote_stats,
        marks=marks, outcomes=outcomes, tallies=accounting.tally(orders, marks, outcomes),
        gate_calls=gate.calls,
    )  # fmt: skip


def _lookups(orders: list[Order], symbols: Symbols) -> tuple[scan.Lookups, dict[int, int]]:
    """The orders, then one lookup per order whose currency converts through another pair."""
    sym = [symbols.want(order.symbol) for order in orders]
    ts = [order.ts for order in orders]
    pairs: dict[int, int] = {}
    for i, order in enumerate(orders):
        pair, _ = accounting.usd_rate(order, Decimal(1), None)
        if pair is not None and pair != order.symbol:
            pairs[i] = len(sym)
            sym.append(symbols.want(pair))
            ts.append(order.ts)
    lookups = scan.Lookups(np.array(sym, dtype=np.int32), np.array(ts, dtype=np.int64))
    return lookups, pairs


def _mid(track: scan.Track, i: int) -> Decimal | None:
    if track.row[i] == scan.NO_ROW:
        return None
    return (price(track.bid[i]) + price(track.ask[i])) / 2


def _gate_at_arrival(
    gate: ReplayGate, orders: list[Order], arrival: scan.Track, policies: tuple[Policy, ...]
) -> tuple[np.ndarray, dict[int, str]]:
    """Which orders the gate holds at their arrival quote, and which it refuses (why)."""
    held = np.zeros(len(orders), dtype=bool)
    refused: dict[int, str] = {}
    if not {Policy.WAIT, Policy.LIMIT} & set(policies):
        return held, refused
    for i, order in enumerate(orders):
        if arrival.row[i] == scan.NO_ROW:
            continue
        action, reason = gate.decide(
            i, order.ts, arrival.bid[i], arrival.ask[i], arrival.bid_size[i], arrival.ask_size[i]
        )
        if action is GateAction.WAIT:
            held[i] = True
        elif action is not GateAction.EXECUTE:
            refused[i] = reason
    return held, refused


def _limit_prices(orders: list[Order], mids: list[Decimal | None]) -> list[Decimal | None]:
    """The fallback's limit: the arrival mid to the tick on the passive side."""
    return [
        None if mid is None else order.spec.round_limit_price(mid, order.side)
        for order, mid in zip(orders, mids, strict=True)
    ]


def _pass2(
    spool: scan.Spool | None,
    symbols: Symbols,
    lookups: scan.Lookups,
    orders: list[Order],
    arrival: scan.Track,
    held: np.ndarray,
    limits: list[Decimal | None],
    gate: ReplayGate,
    settings: Settings,
) -> scan.Pass2 | None:
    if spool is None:
        return None
    n = len(orders)
    limit_open = held.copy() if Policy.LIMIT in settings.policies else np.zeros(n, dtype=bool)
    limit_price = np.array([float(p) if p is not None else np.nan for p in limits])
    limit_open &= limit_price > 0
    wait_open = held if Policy.WAIT in settings.policies else np.zeros(n, dtype=bool)
    bounds = np.array([gate.bounds[c] for c in symbols.classes] or [0.0])
    order_lookups = scan.Lookups(lookups.sym[:n], lookups.ts[:n])
    inputs = scan.Pass2Inputs(
        lookups=order_lookups, horizon_ns=round(settings.horizon_s * _NS_PER_S),
        ttl_ns=round(settings.ttl_s * _NS_PER_S), wait_open=wait_open, limit_open=limit_open,
        limit_price=limit_price, buy=np.array([o.side is OrderSide.BUY for o in orders]),
        screen_bound=bounds,
    )  # fmt: skip
    return scan.pass2(spool.blocks(), inputs, gate.passes, arrival)


def _outcome(
    policy: Policy,
    order: Order,
    i: int,
    arrival: scan.Track,
    second: scan.Pass2 | None,
    held: np.ndarray,
    refused: dict[int, str],
    limits: list[Decimal | None],
) -> Outcome:
    if arrival.row[i] == scan.NO_ROW:
        return Outcome(Status.NO_QUOTE, reason="no quote of the symbol at or before the order")
    if policy is Policy.MARKET or (not held[i] and i not in refused):
        return Outcome(Status.FILLED, ts=order.ts, price=_taken(order, arrival, i))
    if i in refused:
        return Outcome(Status.REJECTED, reason=refused[i])
    assert second is not None
    if policy is Policy.WAIT:
        if second.wait.row[i] == scan.NO_ROW:
            return Outcome(Status.UNFILLED, reason="the gate held it to the horizon")
        return Outcome(
            Status.FILLED, ts=int(second.wait.ts[i]), price=_taken(order, second.wait, i)
        )
    limit = limits[i]
    if limit is None or limit <= 0:
        return Outcome(Status.REJECTED, reason="the limit rounds to 0 on the tick")
    if second.limit.row[i] == scan.NO_ROW:
        return Outcome(Status.UNFILLED, reason="the limit was not reached within the ttl")
    return Outcome(Status.FILLED, ts=int(second.limit.ts[i]), price=limit)


def _taken(order: Order, track: scan.Track, i: int) -> Decimal:
    """A marketable fill at the quote `track` holds for order i (impact beyond the touch)."""
    size = track.ask_size[i] if order.side is OrderSide.BUY else track.bid_size[i]
    touch_size = None if size != size else price(size)
    return marketable_price(
        order.side, price(track.bid[i]), price(track.ask[i]), touch_size, order.qty
    )
