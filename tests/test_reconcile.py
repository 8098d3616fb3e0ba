"""Each venue fill reaches the ledger exactly once, whatever the submission already recorded."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.fills import VenueFill
from smart_routing.domain.orders import AccountOwner, Order, OrderStatus
from smart_routing.execution.fill_rules import (
    FillVerdict,
    OrderFills,
    apply_fill,
    fill_trade_id,
    order_after,
    trade_for_fill,
)
from smart_routing.gate.fees import FeeSchedule

AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
OWNER = AccountOwner(tenant_id="t1", uid="u1")
AAPL = BuiltinInstruments().get_instrument("AAPL", AssetClass.EQUITY)


def order(qty=10, filled=0, price=None, status=OrderStatus.ACCEPTED):
    return Order(
        broker="alpaca", broker_order_id="v-1", client_order_id="sr-1", symbol="AAPL",
        asset_class=AssetClass.EQUITY, side="buy", qty=qty, order_type="limit",
        status=status, filled_qty=filled, filled_avg_price=price, submitted_at=AT,
        strategy_id="momentum",
    )  # fmt: skip


def state(submitted=0, seen=(), venue_filled=0, **kw):
    """An order whose submission recorded `submitted` in its own trade."""
    return OrderFills(OWNER, order(**kw), frozenset(seen), Decimal(venue_filled),
                      Decimal(submitted), Decimal(submitted))  # fmt: skip


def fill(fill_id="a1", qty=4, price="100.01", cum=None, fees=None):
    return VenueFill(
        venue="alpaca", fill_id=fill_id, broker_order_id="v-1", symbol="AAPL",
        asset_class=AssetClass.EQUITY, side="buy", qty=Decimal(qty), price=Decimal(price),
        cum_qty=None if cum is None else Decimal(cum), fees=fees, filled_at=AT,
    )  # fmt: skip


def test_a_fill_nobody_recorded_is_recorded_whole():
    outcome = apply_fill(state(), fill(qty=4, cum=4))
    assert (outcome.verdict, outcome.qty, outcome.excess) == (FillVerdict.RECORDED, 4, 0)
    assert outcome.state.recorded_qty == 4 and outcome.state.seen == {"a1"}


def test_the_fills_the_submission_recorded_add_nothing():
    submitted = state(submitted=10, filled=10, price=Decimal("100"))
    first = apply_fill(submitted, fill("a1", qty=6, cum=6))
    second = apply_fill(first.state, fill("a2", qty=4, cum=10))
    assert [first.verdict, second.verdict] == [FillVerdict.ALREADY_RECORDED] * 2
    assert first.qty == second.qty == 0
    assert second.state.seen == {"a1", "a2"}


def test_a_fill_straddling_what_was_recorded_adds_only_the_rest():
    outcome = apply_fill(state(submitted=5), fill(qty=5, cum=8))
    assert (outcome.verdict, outcome.qty) == (FillVerdict.RECORDED, 3)
    assert outcome.state.recorded_qty == 8


def test_fills_that_arrive_out_of_order_are_each_recorded_whole():
    later = apply_fill(state(), fill("a2", qty=6, cum=10))
    earlier = apply_fill(later.state, fill("a1", qty=4, cum=4))
    assert (later.qty, earlier.qty, earlier.state.recorded_qty) == (6, 4, 10)


def test_a_rerun_over_the_same_fill_changes_nothing():
    once = apply_fill(state(), fill(qty=4, cum=4))
    again = apply_fill(once.state, fill(qty=4, cum=4))
    assert (again.verdict, again.qty, again.state) == (FillVerdict.ALREADY_SEEN, 0, once.state)


def test_without_a_cumulative_qty_the_fills_seen_give_it():
    first = apply_fill(state(), fill("t1", qty=3))
    second = apply_fill(first.state, fill("t2", qty=3))
    assert (first.qty, second.qty, second.state.venue_filled_qty) == (3, 3, 6)


def test_a_fill_beyond_the_order_is_recorded_up_to_it_and_the_rest_held():
    outcome = apply_fill(state(submitted=8), fill(qty=4, cum=12))
    assert (outcome.verdict, outcome.qty, outcome.excess) == (FillVerdict.EXCEEDS_ORDER, 2, 2)
    assert outcome.state.recorded_qty == 10


def test_a_fill_trade_has_its_own_id_the_venue_fee_when_whole_and_the_model_else():
    whole = trade_for_fill(fill(fees=Decimal("0.07")), Decimal(4), state(), AAPL, FeeSchedule())
    assert whole.trade_id == "alpaca-a1" == fill_trade_id(fill())
    assert (whole.qty, whole.price, whole.notional, whole.fees) == (
        4,
        Decimal("100.01"),
        Decimal("400.04"),
        Decimal("0.07"),
    )
    assert whole.strategy_id == "momentum" and (whole.tenant_id, whole.uid) == ("t1", "u1")
    part = trade_for_fill(fill(fees=Decimal("0.07")), Decimal(3), state(), AAPL, FeeSchedule())
    assert part.qty == 3 and part.fees == 0  # buys of equities carry no regulatory fee


def test_fill_ids_that_cannot_be_document_ids_are_refused():
    with pytest.raises(ValueError, match="venue fill id"):
        fill_trade_id(fill(fill_id="a/b"))


def test_the_order_after_its_fills_averages_everything_recorded():
    before = state(submitted=2, filled=2, price=Decimal("100.00"))
    after = apply_fill(before, fill(qty=8, cum=10, price="100.05")).state
    done = order_after(before, after, [(Decimal(8), Decimal("100.05"))])
    assert done.status is OrderStatus.FILLED and done.filled_qty == 10
    assert done.filled_avg_price == Decimal("100.04")


def test_a_canceled_order_keeps_its_status_with_the_fill_that_raced_the_cancel():
    before = state(status=OrderStatus.CANCELED)
    after = apply_fill(before, fill(qty=4, cum=4)).state
    raced = order_after(before, after, [(Decimal(4), Decimal("100.01"))])
    assert raced.status is OrderStatus.CANCELED and raced.filled_qty == 4
