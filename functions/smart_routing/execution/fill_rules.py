"""Reconciliation: each venue fill recorded exactly once, as its own ledger trade.

An order's fills reach the ledger two ways: the submission records what filled at once (one
trade, id = the client_order_id), and the reconciler records each later venue fill (one trade,
id derived from the venue's fill id). The venue reports every fill, including those the
submission already recorded, so the order book keeps per order which venue fills were seen and
how much of the order the ledger holds; a fill adds to the ledger only the part of the order it
covers beyond that. A rerun over the same fills adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from smart_routing.domain.fills import VenueFill
from smart_routing.domain.identifiers import check_id
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import ZERO
from smart_routing.domain.orders import AccountOwner, Order, OrderStatus
from smart_routing.gate.fees import FeeSchedule
from smart_routing.portfolio.ledger import LedgerTrade, trade_from_fill


class FillVerdict(StrEnum):
    """What the reconciler did with one venue fill."""

    RECORDED = "recorded"  # a new ledger trade
    ALREADY_SEEN = "already_seen"  # this fill id was processed before: a rerun
    ALREADY_RECORDED = "already_recorded"  # the submission's own trade holds it
    EXCEEDS_ORDER = "exceeds_order"  # more than the order's qty: recorded up to it, rest held


@dataclass(frozen=True, slots=True)
class OrderFills:
    """What the order book knows of one order's fills."""

    owner: AccountOwner
    order: Order
    seen: frozenset[str]  # the venue fill ids processed
    venue_filled_qty: Decimal  # the order's filled qty as the processed fills tell it
    recorded_qty: Decimal  # how much of the order the ledger holds
    immediate_qty: Decimal = ZERO  # of which the submission's own trade holds the first part


@dataclass(frozen=True, slots=True)
class FillOutcome:
    verdict: FillVerdict
    qty: Decimal  # what to record now (0: nothing)
    excess: Decimal  # what the venue reported beyond the order's qty
    state: OrderFills


def apply_fill(state: OrderFills, fill: VenueFill) -> FillOutcome:
    """The part of `fill` the ledger does not hold yet, and the order's fills after it.

    A fill covers the order's quantity from (cum - qty) to cum; venue fills never overlap one
    another, so only the submission's trade (the order's first `immediate_qty`) can already
    hold part of it, whatever order the fills arrive in."""
    if fill.fill_id in state.seen:
        return FillOutcome(FillVerdict.ALREADY_SEEN, ZERO, ZERO, state)
    cum = fill.cum_qty if fill.cum_qty is not None else state.venue_filled_qty + fill.qty
    start = cum - fill.qty
    ordered = state.order.qty
    qty = max(ZERO, min(cum, ordered) - max(start, state.immediate_qty))
    excess = max(ZERO, cum - max(ordered, start))
    after = replace(
        state,
        seen=state.seen | {fill.fill_id},
        venue_filled_qty=max(state.venue_filled_qty, cum),
        recorded_qty=state.recorded_qty + qty,
    )
    if excess > 0:
        verdict = FillVerdict.EXCEEDS_ORDER
    elif qty > 0:
        verdict = FillVerdict.RECORDED
    else:
        verdict = FillVerdict.ALREADY_RECORDED
    return FillOutcome(verdict, qty, excess, after)


def fill_trade_id(fill: VenueFill) -> str:
    """The ledger trade id of a venue fill: the venue and its own fill id."""
    return check_id(f"{fill.venue}-{fill.fill_id}", "venue fill id")


def trade_for_fill(
    fill: VenueFill,
    qty: Decimal,
    state: OrderFills,
    spec: InstrumentSpec,
    fee_schedule: FeeSchedule,
) -> LedgerTrade:
    """The ledger trade of `qty` of `fill` (all of it, unless the submission recorded part).
    The venue's fee is kept when the whole fill is recorded; else the fee model's estimate."""
    whole = qty == fill.qty
    as_filled = state.order.model_copy(
        update={
            "filled_qty": qty,
            "filled_avg_price": fill.price,
            "fees": fill.fees if whole else None,
            "fee_currency": fill.fee_currency if whole else None,
            "fill_mid": fill.mid,
        }
    )
    return trade_from_fill(
        as_filled,
        spec=spec,
        fee_schedule=fee_schedule,
        tenant_id=state.owner.tenant_id,
        uid=state.owner.uid,
        strategy_id=state.order.strategy_id or "unknown",
        estimated_slippage=None,
        filled_at=fill.filled_at,
        trade_id=fill_trade_id(fill),
        arrival=state.order.arrival,
    )


def order_after(
    before: OrderFills, after: OrderFills, recorded: list[tuple[Decimal, Decimal]]
) -> Order:
    """The order once the ledger holds the `recorded` (qty, price) parts too: filled qty and
    average price over everything the ledger holds; a canceled or expired order keeps its
    status."""
    order = before.order
    if not recorded:
        return order
    paid = (order.filled_avg_price or ZERO) * before.recorded_qty + sum(q * p for q, p in recorded)
    filled = after.recorded_qty
    status = order.status
    if order.is_working:
        status = OrderStatus.FILLED if filled >= order.qty else OrderStatus.PARTIALLY_FILLED
    return order.model_copy(
        update={"filled_qty": filled, "filled_avg_price": paid / filled, "status": status}
    )
