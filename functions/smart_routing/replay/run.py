"""The replay, start to end: read the orders, two passes over the quotes, fills and figures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.orders import OrderSide
from smart_routing.gate.decision import GateAction
from smart_routing.gate.router import SmartRouter
from smart_routing.replay import accounting, scan
from smart_routing.replay.accounting import Outcome, Policy, Status
from smart_routing.replay.csv_input import header
from smart_routing.replay.gatekeeper import ReplayGate, price, replay_router
from smart_routing.replay.impact import marketable_price
from smart_routing.replay.orders_csv import Order, OrderStats, read_orders
from smart_routing.replay.quotes_csv import QUOTE_COLUMNS, QuoteStats, Symbols, read_quotes

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
    run = _Run(orders, settings, config)
    blocks, quote_stats = read_quotes(quotes, run.symbols)
    spool = run.spool()
    try:
        arrival = scan.arrivals(spool.record(blocks) if spool else blocks, run.lookups)
        outcomes, marks = run.decide(arrival, spool)
    finally:
        if spool is not None:
            spool.close()
    return ReplayResult(
        settings=settings, orders=orders, order_stats=order_stats, quote_stats=quote_stats,
        marks=marks, outcomes=outcomes, tallies=accounting.tally(orders, marks, outcomes),
        gate_calls=run.gate.calls,
    )  # fmt: skip


class _Run:
    """One replay's orders, what it looks up in the quotes, and the gate it asks."""

    def __init__(self, orders: list[Order], settings: Settings, config: EngineConfig) -> None:
        self.orders, self.settings = orders, settings
        self.symbols = Symbols()
        self.lookups, self.pairs = _lookups(orders, self.symbols)
        router = replay_router(config.routing, SmartRouter(config.routing, config.fees))
        self.gate = ReplayGate(router, orders)
        n = len(orders)
        self.order_lookups = scan.Lookups(self.lookups.sym[:n], self.lookups.ts[:n])

    def spool(self) -> scan.Spool | None:
        """Where pass 1 keeps the quotes pass 2 needs; None when only `market` is replayed."""
        if self.settings.policies == (Policy.MARKET,):
            return None
        reach = max(self.settings.horizon_s, self.settings.ttl_s)
        return scan.Spool(self.order_lookups, round(reach * _NS_PER_S))

    def decide(
        self, arrival: scan.Track, spool: scan.Spool | None
    ) -> tuple[dict[Policy, list[Outcome]], list[accounting.OrderMarks]]:
        """Each policy's outcome for each order, and what the orders are measured against."""
        held, refused = self._gate_at_arrival(arrival)
        mids = [_mid(arrival, i) for i in range(len(self.orders))]
        limits = [
            None if mid is None else order.spec.round_limit_price(mid, order.side)
            for order, mid in zip(self.orders, mids, strict=True)
        ]  # the fallback's limit: the arrival mid to the tick on the passive side
        second = None
        if spool is not None:
            inputs = self._pass2_inputs(held, limits)
            second = scan.pass2(spool.blocks(), inputs, self.gate.passes, arrival)
        marks = []
        for i, order in enumerate(self.orders):
            pair = self.pairs.get(i)
            _, rate = accounting.usd_rate(
                order, mids[i], None if pair is None else _mid(arrival, pair)
            )
            horizon_mid = mids[i] if second is None else _mid(second.horizon, i)
            marks.append(accounting.OrderMarks(mid=mids[i], horizon_mid=horizon_mid, rate=rate))
        outcomes = {
            policy: [
                _outcome(policy, order, i, arrival, second, held, refused, limits)
                for i, order in enumerate(self.orders)
            ]
            for policy in self.settings.policies
        }
        return outcomes, marks

    def _gate_at_arrival(self, arrival: scan.Track) -> tuple[np.ndarray, dict[int, str]]:
        """Which orders the gate holds at their arrival quote, and which it refuses (why)."""
        held = np.zeros(len(self.orders), dtype=bool)
        refused: dict[int, str] = {}
        if not {Policy.WAIT, Policy.LIMIT} & set(self.settings.policies):
            return held, refused
        for i, order in enumerate(self.orders):
            if arrival.row[i] == scan.NO_ROW:
                continue
            action, reason = self.gate.decide(
                i, order.ts, arrival.bid[i], arrival.ask[i], arrival.bid_size[i],
                arrival.ask_size[i],
            )  # fmt: skip
            if action is GateAction.WAIT:
                held[i] = True
            elif action is not GateAction.EXECUTE:
                refused[i] = reason
        return held, refused

    def _pass2_inputs(self, held: np.ndarray, limits: list[Decimal | None]) -> scan.Pass2Inputs:
        n, policies = len(self.orders), self.settings.policies
        none = np.zeros(n, dtype=bool)
        limit_price = np.array([np.nan if p is None else float(p) for p in limits])
        return scan.Pass2Inputs(
            lookups=self.order_lookups,
            horizon_ns=round(self.settings.horizon_s * _NS_PER_S),
            ttl_ns=round(self.settings.ttl_s * _NS_PER_S),
            wait_open=held if Policy.WAIT in policies else none,
            limit_open=(held & (limit_price > 0)) if Policy.LIMIT in policies else none,
            limit_price=limit_price,
            buy=np.array([o.side is OrderSide.BUY for o in self.orders], dtype=bool),
            screen_bound=np.array([self.gate.bounds[c] for c in self.symbols.classes] or [0.0]),
        )


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
