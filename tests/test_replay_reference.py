"""The streaming, vectorised replay against a plain reference on the generated sample: every
order's arrival, `wait` fill (the gate asked at every quote in turn), `limit` fill (exact
decimal comparisons) and horizon mid; the same answers with the rows shuffled; and the
pre-screen never dropping a quote the gate passes."""

from __future__ import annotations

import csv
import random
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from smart_routing.config.engine_config import load_config
from smart_routing.domain.orders import OrderSide
from smart_routing.gate.decision import GateAction
from smart_routing.gate.router import SmartRouter
from smart_routing.replay import csv_input, scan
from smart_routing.replay.accounting import Policy, Status
from smart_routing.replay.gatekeeper import ReplayGate, replay_router
from smart_routing.replay.orders_csv import read_orders
from smart_routing.replay.run import Settings, replay
from smart_routing.replay.sample import generate

HORIZON_S, TTL_S = 300, 60
NS = 1_000_000_000
# Stricter than the default 0.1%, so that many orders are held and both policies work.
ENV = {"EXEC_MAX_SPREAD_PCT": "0.0003", "EXEC_MAX_SPREAD_PCT_OPTIONS": "0.02"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sample")
    generate(directory, quotes=30_000, orders=200, seed=3)
    return directory


def quotes_of(path: Path) -> dict[str, list[tuple]]:
    """symbol -> [(ts, row, bid, ask, bid_size, ask_size)] in (ts, row) order."""
    by_symbol: dict[str, list[tuple]] = {}
    with path.open() as handle:
        for row, record in enumerate(csv.DictReader(handle)):
            moment = datetime.fromisoformat(record["timestamp"])
            ts = int(moment.timestamp()) * NS + moment.microsecond * 1000
            by_symbol.setdefault(record["symbol"], []).append((
                ts, row, Decimal(record["bid"]), Decimal(record["ask"]),
                float(record["bid_size"]), float(record["ask_size"]),
            ))  # fmt: skip
    for quotes in by_symbol.values():
        quotes.sort()
    return by_symbol


def reference(sample: Path) -> dict[object, list]:
    config = load_config(ENV, smart_routing_default=True)
    orders, _ = read_orders(sample / "ORDERS.csv")
    gate = ReplayGate(replay_router(config.routing, SmartRouter(config.routing)), orders)
    quotes = quotes_of(sample / "QUOTES.csv")
    answers: dict[Policy, list] = {p: [] for p in (Policy.WAIT, Policy.LIMIT)}
    horizon_mids: list[Decimal | None] = []
    for i, order in enumerate(orders):
        mine = quotes.get(order.symbol, [])
        before = [q for q in mine if q[0] <= order.ts]
        at_horizon = [q for q in mine if q[0] <= order.ts + HORIZON_S * NS]
        horizon_mids.append((at_horizon[-1][2] + at_horizon[-1][3]) / 2 if at_horizon else None)
        if not before:
            for policy in answers:
                answers[policy].append((Status.NO_QUOTE, None, None))
            continue
        arrival = before[-1]
        action, _ = gate.decide(i, order.ts, float(arrival[2]), float(arrival[3]), *arrival[4:])
        if action is GateAction.EXECUTE:
            for policy in answers:
                answers[policy].append((Status.FILLED, order.ts, None))
            continue
        assert action is GateAction.WAIT
        later = [q for q in mine if order.ts < q[0] <= order.ts + HORIZON_S * NS]
        passing = [q for q in later if gate.passes(i, q[0], float(q[2]), float(q[3]), *q[4:])]
        answers[Policy.WAIT].append(
            (Status.FILLED, passing[0][0], None) if passing else (Status.UNFILLED, None, None)
        )
        limit = order.spec.round_limit_price((arrival[2] + arrival[3]) / 2, order.side)
        buy = order.side is OrderSide.BUY
        touched = [
            q
            for q in later
            if q[0] <= order.ts + TTL_S * NS and (q[3] <= limit if buy else q[2] >= limit)
        ]
        answers[Policy.LIMIT].append(
            (Status.FILLED, touched[0][0], limit) if touched else (Status.UNFILLED, None, None)
        )
    return {**answers, "horizon_mid": horizon_mids}


def replayed(quotes: Path, orders: Path):
    settings = Settings(policies=tuple(Policy), horizon_s=HORIZON_S, ttl_s=TTL_S)
    return replay(quotes, orders, settings, load_config(ENV, smart_routing_default=True))


def test_the_replay_matches_a_plain_reference_order_by_order(sample: Path):
    result = replayed(sample / "QUOTES.csv", sample / "ORDERS.csv")
    expected = reference(sample)
    assert [m.horizon_mid for m in result.marks] == expected.pop("horizon_mid")
    for policy, answers in expected.items():
        got = [(o.status, o.ts, o.price) for o in result.outcomes[policy]]
        # The reference does not price marketable fills; compare those by status and time.
        got = [
            (s, t, p if expected_price is not None else None)
            for (s, t, p), (_, _, expected_price) in zip(got, answers, strict=True)
        ]
        assert got == answers, policy
    statuses = {o.status for o in result.outcomes[Policy.WAIT]}
    assert {Status.FILLED, Status.UNFILLED, Status.NO_QUOTE} <= statuses
    held = sum(o.ts not in (None, order.ts) for o, order in zip(
        result.outcomes[Policy.LIMIT], result.orders, strict=True))  # fmt: skip
    assert held > 5  # the sample exercises the limit path, not only marketable fills


def test_shuffled_rows_in_many_small_blocks_give_the_same_outcomes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Out of order and cut in blocks of a few hundred rows, every candidate is merged across
    blocks: the same fills, order by order."""
    original = replayed(sample / "QUOTES.csv", sample / "ORDERS.csv")
    monkeypatch.setattr(csv_input, "BLOCK_BYTES", 16 << 10)
    monkeypatch.setattr(scan, "SPOOL_ROWS", 300)
    lines = (sample / "QUOTES.csv").read_text().splitlines()
    body = lines[1:]
    random.Random(11).shuffle(body)
    shuffled = tmp_path / "QUOTES.csv"
    shuffled.write_text("\n".join([lines[0], *body]) + "\n")
    again = replayed(shuffled, sample / "ORDERS.csv")
    assert again.outcomes == original.outcomes and again.marks == original.marks
    assert again.summary()["policies"] == original.summary()["policies"]


def test_the_pre_screen_keeps_every_quote_the_gate_passes(sample: Path):
    config = load_config(ENV, smart_routing_default=True)
    orders, _ = read_orders(sample / "ORDERS.csv")
    gate = ReplayGate(replay_router(config.routing, SmartRouter(config.routing)), orders)
    one_per_symbol = {order.symbol: i for i, order in enumerate(orders)}
    passed = dropped = 0
    for symbol, quotes in quotes_of(sample / "QUOTES.csv").items():
        i = one_per_symbol[symbol]
        bound = gate.bounds[orders[i].asset_class]
        for ts, _, bid, ask, bid_size, ask_size in quotes:
            screened = float(ask - bid) * 2 <= bound * float(ask + bid)
            passes = gate.passes(i, ts, float(bid), float(ask), bid_size, ask_size)
            assert screened or not passes, (symbol, ts, bid, ask)
            passed += passes
            dropped += not screened
    assert passed > 1000 and dropped > 10  # both sides of the screen are exercised
