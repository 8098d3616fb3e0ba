import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smart_routing.adapters.clock import FixedClock
from smart_routing.adapters.memory_portfolio import InMemoryPortfolio
from smart_routing.domain.identifiers import symbol_key
from smart_routing.domain.money import Money
from smart_routing.market.trading_calendar import trading_date
from smart_routing.portfolio.holding_term import HoldingTerm, holding_term
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.lots import (
    MAX_APPLIED,
    ListSource,
    LotState,
    TooLate,
    apply_to_lots,
    apply_trade,
)
from smart_routing.portfolio.mirror_checks import mirror_problem

START = FixedClock().now()


def trade(n, side, qty, price, symbol="AAPL", fees="0", uid="u1"):
    at = START + timedelta(minutes=n)
    qty, price = D(str(qty)), D(str(price))
    return LedgerTrade(
        trade_id=f"t{n}", tenant_id="tenant", uid=uid, symbol=symbol, asset_class="EQUITY",
        side=side, qty=qty, price=price, notional=qty * price, fees=D(str(fees)), currency="USD",
        estimated_slippage=0.0001, strategy_id="manual", timestamp=at,
        trading_date=trading_date("EQUITY", at), broker="paper", broker_order_id=f"p{n}",
        client_order_id=f"t{n}",
    )  # fmt: skip


def run(trades):
    """The lots and each trade's history record, the trades delivered in order."""
    state, history = deliver(trades)
    return state.lots, [history[t.trade_id] for t in trades]


def test_the_fifo_example_from_the_issue():
    lots, records = run(
        [trade(1, "buy", 1, 100), trade(2, "buy", 1, 110), trade(3, "sell", 1.5, 120)]
    )
    sell = records[-1]
    assert sell.cost_basis == D("155")
    assert sell.realized_gain == D("25")
    assert [(c.trade_id, c.qty) for c in sell.lots_consumed] == [("t1", 1), ("t2", D("0.5"))]
    assert [(lot.trade_id, lot.qty, lot.cost) for lot in lots] == [("t2", D("0.5"), D("55"))]
    assert sell.tax_lot_method == "FIFO"


def test_a_partial_sale_takes_its_share_to_the_cent_and_leaves_the_exact_rest():
    lots, records = run([trade(1, "buy", 3, "10.01"), trade(2, "sell", 1, 11)])
    assert records[-1].cost_basis == D("10.01")
    assert [(lot.qty, lot.cost) for lot in lots] == [(D(2), D("20.02"))]
    lots, records = run([trade(1, "buy", 3, 10, fees="0.01"), trade(2, "sell", 1, 11)])
    # 30.01 / 3 is not a whole number of cents: the sale takes 10.00, the lot keeps 20.01.
    assert records[-1].cost_basis == D("10.00")
    assert lots[0].cost == D("20.01")


def test_two_tenths_of_a_coin_are_exactly_two_tenths():
    lots, _ = run([trade(1, "buy", "0.1", 50_000, symbol="BTC/USD"),
                   trade(2, "buy", "0.1", 50_000, symbol="BTC/USD")])  # fmt: skip
    assert sum(lot.qty for lot in lots) == D("0.2")


def test_a_buy_records_its_cost_including_fees_and_no_gain():
    _, (record,) = run([trade(1, "buy", 2, 50, fees=1.0)])
    assert record.cost_basis == 101
    assert record.realized_gain is None
    assert record.notional == 100 and record.fees == 1.0


def test_sell_fees_reduce_the_gain():
    _, records = run([trade(1, "buy", 1, 100), trade(2, "sell", 1, 120, fees=2)])
    assert records[-1].realized_gain == D(18)


def test_selling_more_than_held_leaves_the_excess_unmatched():
    lots, records = run([trade(1, "buy", 1, 100), trade(2, "sell", 3, 120)])
    sell = records[-1]
    assert sell.unmatched_qty == D(2)
    assert sell.cost_basis == 100
    assert sell.realized_gain == D(20)
    assert lots == []


def test_the_record_carries_the_seed_schema():
    _, (record,) = run([trade(1, "buy", 0.5, 50_000, symbol="BTC/USD")])
    fields = record.model_dump(mode="json")
    seed_fields = {
        "symbol", "asset_class", "side", "qty", "price", "notional", "timestamp",
        "trading_date", "strategy_id", "estimated_slippage", "fees", "cost_basis",
        "tax_lot_method",
    }  # fmt: skip
    assert seed_fields <= set(fields)
    assert fields["notional"] == 25_000 and fields["trading_date"] == "2025-12-30"


def test_mirroring_the_same_trade_twice_changes_nothing(log_records):
    portfolio = InMemoryPortfolio()
    buy = trade(1, "buy", 1, 100)
    assert portfolio.mirror(buy) is not None
    assert portfolio.mirror(buy) is None
    assert len(portfolio.history("u1")) == 1
    assert [lot.qty for lot in portfolio.lots("u1", "AAPL")] == [1]
    (written,) = [r for r in log_records() if r["event"] == "exec.portfolio_history_written"]
    assert (written["uid"], written["symbol"], written["qty"], written["price"]) == (
        "u1", "AAPL", 1, 100
    )  # fmt: skip


def test_lots_are_kept_per_user_and_symbol():
    portfolio = InMemoryPortfolio()
    portfolio.mirror(trade(1, "buy", 1, 100, uid="alice"))
    portfolio.mirror(trade(2, "buy", 1, 100, uid="bob", symbol="BTC/USD"))
    assert portfolio.lots("bob", "AAPL") == []
    assert len(portfolio.lots("bob", "BTC/USD")) == 1
    assert symbol_key("BTC/USD") == "BTC-USD"


# Delivery in any order: the lots and history always equal an in-order delivery's.


def deliver(trades):
    """Apply trades in the given order as the mirror does: the state, and history by id."""
    state, history = LotState(), {}
    for t in trades:
        update = apply_trade(state, t)
        if update is None:
            continue
        state = update.state
        history[t.trade_id] = update.record
        for trade_id, basis in update.revised.items():
            history[trade_id] = history[trade_id].model_copy(update=dict(basis))
    return state, history


def dated(n, side, qty, price, on, fees="0"):
    at = datetime.combine(on, time(15), tzinfo=UTC)
    qty, price = D(str(qty)), D(str(price))
    return LedgerTrade(
        trade_id=f"d{n}", tenant_id="tenant", uid="u1", symbol="AAPL", asset_class="EQUITY",
        side=side, qty=qty, price=price, notional=qty * price, fees=D(fees), currency="USD",
        estimated_slippage=None, strategy_id="manual", timestamp=at,
        trading_date=trading_date("EQUITY", at), broker="paper", broker_order_id=f"p{n}",
        client_order_id=f"d{n}",
    )  # fmt: skip


def test_a_sell_delivered_before_its_buy_ends_as_in_order():
    buy, sell = trade(1, "buy", 2, 100, fees=1), trade(2, "sell", 1, 120, fees=1)
    in_order = deliver([buy, sell])
    reversed_ = deliver([sell, buy])
    assert reversed_ == in_order
    state, history = reversed_
    assert [(lot.trade_id, lot.qty, lot.cost) for lot in state.lots] == [("t1", 1, D("100.50"))]
    assert history["t2"].cost_basis == D("100.50") and history["t2"].realized_gain == D("18.50")
    assert history["t2"].unmatched_qty == 0


def test_the_early_sell_is_unmatched_until_its_buy_arrives_then_revised():
    buy, sell = trade(1, "buy", 2, 100), trade(2, "sell", 1, 120)
    first = apply_trade(LotState(), sell)
    assert first.record.unmatched_qty == 1 and first.record.cost_basis == 0
    second = apply_trade(first.state, buy)
    assert second.record.trade_id == "t1" and second.record.cost_basis == 200
    assert set(second.revised) == {"t2"}
    revised = second.revised["t2"]
    assert (revised.cost_basis, revised.realized_gain, revised.unmatched_qty) == (100, 20, 0)
    assert [(c.trade_id, c.qty) for c in revised.lots_consumed] == [("t1", 1)]


def test_every_delivery_order_gives_the_same_lots_and_history():
    trades = [
        trade(1, "buy", 3, 100, fees="0.01"),
        trade(2, "sell", 1, 110),
        trade(3, "buy", 2, 90),
        trade(4, "sell", "2.5", 120, fees=1),
        trade(5, "sell", 2, 130),
    ]
    expected = deliver(trades)
    assert expected[1]["t5"].unmatched_qty == D("0.5")
    for order in itertools.permutations(trades):
        assert deliver(order) == expected


_TRADES = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 400), st.integers(1, 300)),
    min_size=1,
    max_size=8,
).map(lambda specs: [trade(n, side, D(q) / 100, p) for n, (side, q, p) in enumerate(specs)])


@given(_TRADES, st.randoms(use_true_random=False))
def test_any_delivery_order_with_any_repeats_equals_the_in_order_one(trades, random):
    delivered = trades + random.choices(trades, k=len(trades))
    random.shuffle(delivered)
    assert deliver(delivered) == deliver(trades)


def test_only_the_later_trades_whose_basis_changed_are_revised():
    # A late buy after both sells' lots were chosen changes neither of them.
    early = [trade(1, "buy", 5, 100), trade(2, "sell", 1, 110), trade(4, "sell", 1, 120)]
    state, _ = deliver(early)
    update = apply_trade(state, trade(3, "buy", 1, 90))
    assert update.revised == {}
    # Older than every lot: t2 now sells it; t4 still sells a share of t1, at the same cost.
    update = apply_trade(state, trade(0, "buy", 1, 80))
    assert set(update.revised) == {"t2"}


def test_a_duplicate_delivery_changes_nothing_whenever_it_comes():
    buy, sell = trade(1, "buy", 2, 100), trade(2, "sell", 1, 120)
    state, _ = deliver([buy, sell])
    assert apply_trade(state, buy) is None
    assert apply_trade(state, sell) is None
    assert deliver([sell, sell, buy, sell, buy]) == deliver([buy, sell])


def test_a_partial_lot_keeps_its_exact_rest_across_late_deliveries():
    trades = [trade(1, "buy", 3, 10, fees="0.01"), trade(2, "sell", 1, 11), trade(3, "sell", 1, 11)]
    state, history = deliver(list(reversed(trades)))
    assert [(lot.qty, lot.cost) for lot in state.lots] == [(1, D("10.01"))]
    assert [history[t].cost_basis for t in ("t2", "t3")] == [D("10.00"), D("10.00")]
    assert (state, history) == deliver(trades)


def test_a_lot_held_more_than_a_year_is_long_term():
    buy = dated(1, "buy", 3, 100, date(2024, 3, 1))
    sells = [
        dated(2, "sell", 1, 120, date(2025, 3, 1)),  # 365 days: exactly one year, short
        dated(3, "sell", 1, 120, date(2025, 3, 3)),  # after the anniversary: long
    ]
    _, history = deliver([buy, *sells])
    (short,), (long_,) = history["d2"].lots_consumed, history["d3"].lots_consumed
    assert short.term == HoldingTerm.SHORT and long_.term == HoldingTerm.LONG
    assert short.acquired_at == buy.timestamp


def test_the_holding_period_is_a_year_not_365_days():
    # 2024 is a leap year: a year from 2023-03-01 is 366 days.
    assert holding_term(date(2023, 3, 1), date(2024, 3, 1)) == HoldingTerm.SHORT
    assert holding_term(date(2023, 3, 1), date(2024, 3, 2)) == HoldingTerm.LONG
    assert holding_term(date(2024, 2, 29), date(2025, 2, 28)) == HoldingTerm.SHORT
    assert holding_term(date(2024, 2, 29), date(2025, 3, 1)) == HoldingTerm.LONG


def test_one_sale_across_lots_of_both_terms_names_each():
    trades = [
        dated(1, "buy", 1, 100, date(2023, 1, 3)),
        dated(2, "buy", 1, 100, date(2024, 6, 3)),
        dated(3, "sell", 2, 150, date(2024, 12, 2)),
    ]
    _, history = deliver(trades)
    assert [c.term for c in history["d3"].lots_consumed] == ["long", "short"]


def test_the_in_memory_portfolio_revises_history_for_a_late_buy():
    portfolio = InMemoryPortfolio()
    portfolio.mirror(trade(2, "sell", 1, 120))
    portfolio.mirror(trade(1, "buy", 1, 100))
    (sell,) = [r for r in portfolio.history("u1") if r.trade_id == "t2"]
    assert (sell.cost_basis, sell.realized_gain, sell.unmatched_qty) == (100, 20, 0)
    assert portfolio.lots("u1", "AAPL") == []


# What the mirror refuses.


def bad(**changes):
    return trade(1, "buy", 1, 100).model_copy(update=changes)


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        (bad(qty=D(0)), "qty and price must be positive"),
        (bad(qty=D(-1)), "qty and price must be positive"),
        (bad(price=D(0)), "qty and price must be positive"),
        (bad(qty=D("NaN")), "qty must be a finite number"),
        (bad(price=D("Infinity")), "price must be a finite number"),
        (bad(fees=Money(D(-1), "USD")), "notional and fees must not be negative"),
        (bad(tenant_id="other"), "tenant_id differs"),
        (bad(trade_id="t9"), "trade_id differs"),
        (bad(uid="x/y"), "uid must not contain '/'"),
        (bad(uid=".."), "uid must not be '..'"),
    ],
)
def test_the_mirror_refuses_what_it_cannot_apply(stored, reason):
    assert reason in mirror_problem(stored, "tenant", "t1")


def test_a_sound_trade_passes():
    assert mirror_problem(trade(1, "buy", 1, 100), "tenant", "t1") is None


def test_the_in_memory_portfolio_logs_a_refused_trade_and_keeps_nothing(log_records):
    portfolio = InMemoryPortfolio()
    assert portfolio.mirror(bad(qty=D(-1))) is None
    assert portfolio.history("u1") == [] and portfolio.lots("u1", "AAPL") == []
    (rejected,) = [r for r in log_records() if r["event"] == "exec.mirror_rejected"]
    assert rejected["severity"] == "ERROR" and rejected["trade_id"] == "t1"


def many_trades(count):
    """Buys of 2 and sells of 1, alternating: a long history in one symbol."""
    return [trade(n, "buy" if n % 2 else "sell", 2 if n % 2 else 1, 100 + n % 7)
            for n in range(1, count + 1)]  # fmt: skip


def test_a_long_history_keeps_a_bounded_log_and_the_same_lots():
    trades = many_trades(MAX_APPLIED + 75)
    state, _ = deliver(trades)
    assert len(state.applied) == MAX_APPLIED
    assert state.folded_through.trade_id == trades[74].trade_id
    # FIFO by hand over (trade, qty): what folding must not change.
    expected = []
    for t in trades:
        if t.side == "buy":
            expected.append([t.trade_id, t.qty])
            continue
        left = t.qty
        while left:
            take = min(left, expected[0][1])
            expected[0][1] -= take
            left -= take
            if not expected[0][1]:
                expected.pop(0)
    assert [[lot.trade_id, lot.qty] for lot in state.lots] == expected


def test_a_late_trade_within_the_log_still_lands_in_its_place():
    trades = many_trades(MAX_APPLIED + 75)
    late = trades[-10]
    shuffled = [t for t in trades if t is not late] + [late]
    state, history = deliver(shuffled)
    in_order_state, in_order_history = deliver(trades)
    assert state.lots == in_order_state.lots
    assert history[late.trade_id] == in_order_history[late.trade_id]


def test_a_trade_behind_the_fold_is_refused_not_misplaced(log_records):
    trades = many_trades(MAX_APPLIED + 75)
    portfolio = InMemoryPortfolio()
    for t in trades[1:]:
        portfolio.mirror(t)
    lots_before = portfolio.lots("u1", "AAPL")
    assert portfolio.mirror(trades[0]) is None
    assert portfolio.lots("u1", "AAPL") == lots_before
    (rejected,) = [r for r in log_records() if r["event"] == "exec.mirror_rejected"]
    assert rejected["trade_id"] == "t1" and "folded" in rejected["reason"]
    state = LotState()
    with pytest.raises(TooLate):
        for t in [*trades[1:], trades[0]]:
            update = apply_trade(state, t)
            state = update.state


# The lots are read only as far as a trade needs them.


class CountingSource(ListSource):
    """Counts the lots the store hands out."""

    def __init__(self, lots):
        super().__init__(lots)
        self.read = 0

    def after(self, lot, limit):
        page = super().after(lot, limit)
        self.read += len(page)
        return page

    def lot(self, trade_id):
        self.read += 1
        return super().lot(trade_id)


def buys(count, lot_qty=1):
    return [trade(n, "buy", lot_qty, 100 + n % 7) for n in range(1, count + 1)]


def test_a_buy_reads_no_lot_and_writes_its_own():
    state, _ = deliver(buys(300))
    source = CountingSource(state.lots)
    update = apply_to_lots(state, trade(301, "buy", 1, 100), source)
    assert source.read == 0
    assert list(update.lots) == ["t301"]
    assert (update.head.qty, update.head.open_lots) == (301, 301)


def test_a_sell_reads_only_the_oldest_lots_it_consumes():
    state, _ = deliver(buys(300))
    source = CountingSource(state.lots)
    update = apply_to_lots(state, trade(301, "sell", "3.5", 120), source)
    assert source.read <= 6
    assert update.lots == {
        "t1": None, "t2": None, "t3": None, "t4": state.lots[3].model_copy(
            update={"qty": D("0.5"), "cost": state.lots[3].cost / 2})
    }  # fmt: skip
    assert (update.head.qty, update.head.open_lots) == (D("296.5"), 297)
    assert update.head.cost == sum(lot.cost for lot in state.lots) - update.record.cost_basis


def test_a_late_trade_reads_what_the_later_trades_touched_not_every_lot():
    trades = [*buys(300), trade(301, "sell", 2, 120), trade(303, "sell", 1, 120)]
    state, _ = deliver(trades)
    source = CountingSource(state.lots)
    update = apply_to_lots(state, trade(302, "buy", 1, 90), source)
    assert source.read <= 8
    assert update.revised == {}
    in_order, _ = deliver([*trades[:-1], trade(302, "buy", 1, 90), trades[-1]])
    assert apply_trade(state, trade(302, "buy", 1, 90)).state == in_order


def test_the_head_totals_are_the_open_lots():
    trades = many_trades(MAX_APPLIED + 75)
    late = trades[:100] + trades[150:] + trades[100:150]
    for order in (trades, late):
        state, _ = deliver(order)
        assert state.qty == sum(lot.qty for lot in state.lots)
        assert state.cost == sum(lot.cost for lot in state.lots)
        assert state.open_lots == len(state.lots)
