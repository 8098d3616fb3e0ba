"""The gate's pricing and cost checks: the price the order is sized at, what crossing costs at
this size (cost_model.py), the participation cap, then the spread threshold and the volatility
rule (docs/cost-model.md). With no usable quote the fail mode decides the cost check alone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from smart_routing.domain.money import ZERO, format_qty, round_money
from smart_routing.domain.orders import OrderSide
from smart_routing.gate.cost_model import size_cost
from smart_routing.gate.decision import CostCheck, GateAction, SmartRoutingDecision
from smart_routing.gate.draft import Draft
from smart_routing.gate.fees import estimate_fees
from smart_routing.gate.policy import FailMode
from smart_routing.market.quotes import Quote, has_prices
from smart_routing.market.spread import format_pct

_TWO = Decimal(2)
# What priced the size when the order pays the quoted spread and nothing more.
_AT_THE_TOUCH = "touch size"
_NO_DEPTH = "no depth shown; no volume for the impact model"
_NO_CONTEXT_RULE = "spread (volatility rule skipped: no market context)"


def price_from(draft: Draft, quote: Quote | None, usable_for_cost: bool, now: datetime) -> None:
    """The price the order is sized at: the limit, else the touch it would cross, else the
    touch of a reference quote (see `reference_quote`)."""
    fields, spec, side = draft.fields, draft.spec, draft.intent.side
    limit = fields.get("limit_price")
    spread = half = None
    if quote is not None and usable_for_cost:
        bid, ask = quote.bid, quote.ask
        fields["quote"] = quote
        # As spread.spread_pct and spread.estimate_slippage compute them, sharing the terms.
        difference, total = ask - bid, bid + ask
        spread = fields["spread_pct"] = difference * _TWO / total
        half = fields["estimated_slippage"] = difference / total
        fields["estimated_spread_cost"] = round_money(
            draft.qty * (difference / _TWO) * spec.multiplier, spec.quote_currency
        )
    if isinstance(limit, Decimal):
        draft.price = limit
    elif quote is not None and usable_for_cost:
        draft.price = quote.ask if side is OrderSide.BUY else quote.bid
    else:
        reference = reference_quote(draft, quote, now)
        if reference is not None:
            draft.price = reference.ask if side is OrderSide.BUY else reference.bid
            age_s = (now - reference.as_of).total_seconds()
            draft.price_note = f"sized at a quote {age_s:.0f}s old"
    if draft.price is not None:
        draft.notional = spec.notional(draft.qty, draft.price)
        draft.fees = estimate_fees(draft.rules.fees, spec, side, draft.qty, draft.price).amount
        fields.update(price=draft.price, notional=draft.notional, estimated_fees=draft.fees)
    if spread is not None and half is not None and quote is not None:
        draft.half = half
        draft.terms = _crossing_terms(draft, quote, spread, half)


def reference_quote(draft: Draft, quote: Quote | None, now: datetime) -> Quote | None:
    """With no usable quote, a price to size the order by, so its size and buying power are
    checked in either fail mode: the quote at hand when its prices are prices, else the last
    quote this instance found usable for the symbol; either no older than
    EXEC_REFERENCE_PRICE_MAX_AGE_S. None when there is none."""
    market = draft.market
    bound = draft.rules.policy.reference_price_max_age_s
    for candidate in (quote, market.last_quote if market is not None else None):
        if (
            candidate is not None
            and has_prices(candidate)
            and (now - candidate.as_of).total_seconds() <= bound
        ):
            return candidate
    return None


def _crossing_terms(draft: Draft, quote: Quote, spread: Decimal, half: Decimal) -> dict[str, Any]:
    """The cost model's terms for this size (cost_model.py): what crossing now costs. A size
    the touch holds pays the half-spread: Decimal arithmetic only; the book walk and the
    square-root impact are computed in floats."""
    market, qty, policy, side = draft.market, draft.qty, draft.rules.policy, draft.intent.side
    stats = book = None
    if market is not None:
        stats, book = market.stats, market.book
    touch = quote.ask_size if side is OrderSide.BUY else quote.bid_size
    if book is None and (
        (touch is not None and touch.is_finite() and qty <= touch)
        or (touch is None and (stats is None or stats.adv is None or not stats.sigma_daily))
    ):
        spread_cost, impact, effective = half, ZERO, spread
        depth = _NO_DEPTH if touch is None else _AT_THE_TOUCH
    else:
        cost = size_cost(
            half_spread=float(half),
            qty=float(qty),
            side=side,
            touch_size=float(touch) if touch is not None and touch.is_finite() else None,
            book=book,
            stats=stats,
            impact_y=policy.impact_y,
        )
        spread_cost = Decimal(repr(cost.spread_cost_pct))
        impact = Decimal(repr(cost.impact_pct))
        depth = cost.depth
        effective = 2 * (spread_cost + impact)
    fees, notional = draft.fees, draft.notional
    fees_pct = fees / notional if fees and notional else ZERO
    terms: dict[str, Any] = {
        "session": draft.fields["session"],
        "threshold_pct": draft.threshold.value,
        "spread_pct": spread,
        "spread_cost_pct": spread_cost,
        "impact_pct": impact,
        "fees_pct": fees_pct,
        "crossing_cost_pct": spread_cost + impact + fees_pct,
        "effective_spread_pct": effective,
        "depth": depth,
        "touch_size": touch if touch is not None and touch.is_finite() else None,
        "impact_y": policy.impact_y,
        "wait_interval_s": policy.wait_interval_s,
    }
    if market is not None:
        if stats is not None:
            terms.update(
                bars=stats.bars,
                adv=stats.adv,
                sigma_per_minute=stats.sigma_per_minute,
                sigma_daily=stats.sigma_daily,
            )
            if stats.adv:
                terms["participation"] = draft.share = qty / stats.adv
        terms["typical_spread_pct"] = market.typical_spread_pct
        terms["typical_source"] = market.typical_source
    return terms


def participation_check(draft: Draft) -> SmartRoutingDecision | None:
    """An order above EXEC_MAX_ADV_FRACTION of the average daily volume is rejected before the
    cost check, with smart routing on or off: no spread makes such a size cheap, so it is
    refused rather than held."""
    stats = draft.market.stats if draft.market is not None else None
    if stats is None or not stats.adv:
        return None
    cap = draft.rules.policy.max_adv_fraction
    share = draft.share if draft.share is not None else draft.qty / stats.adv
    if share <= cap:
        return None
    return draft.decision(
        GateAction.REJECT,
        f"qty {format_qty(draft.qty)} is {share:.2%} of the average daily volume of "
        f"{stats.adv:,.0f} {draft.spec.qty_unit()} (from {stats.bars} one-minute bars): "
        f"above the maximum EXEC_MAX_ADV_FRACTION of {format_pct(cap)}",
    )


def cost_check(draft: Draft, problem: str | None) -> SmartRoutingDecision | None:
    """WAIT when the effective spread is above the threshold; within it, the volatility rule."""
    terms = draft.terms
    if not draft.rules.enabled:
        draft.fields["cost_check"] = CostCheck.BYPASSED
        draft.cost_note = "cost check bypassed (smart routing off)"
        if terms is not None:
            terms.update(rule="bypassed (smart routing off)", verdict="execute")
        return None
    if problem is not None:
        return _unavailable(draft, problem)
    spread = draft.fields["spread_pct"]
    assert isinstance(spread, Decimal) and terms is not None
    limit = draft.threshold.value
    said = f"Spread {format_pct(spread)}"
    # The reason names the cause: the quoted spread itself, else the size's effective one.
    exceeded = spread > limit
    effective = terms["effective_spread_pct"]
    if not exceeded and effective is not spread and effective > limit:
        exceeded = True
        said = (
            f"Effective spread {effective:.2%} for {format_qty(draft.qty)} "
            f"{draft.spec.qty_unit()} (spread {format_pct(spread)}, {terms['depth']}, impact "
            f"{terms['impact_pct']:.2%})"
        )
    if exceeded:
        terms.update(rule="threshold", verdict="wait")
        draft.fields["cost_check"] = CostCheck.EXCEEDED
        return draft.decision(GateAction.WAIT, f"{said} exceeds {draft.bound}")
    draft.cost_note = f"{said} within {draft.bound}"
    return _volatility_check(draft, terms)


def _volatility_check(draft: Draft, terms: dict[str, Any]) -> SmartRoutingDecision | None:
    """Within the threshold: WAIT when waiting one interval is expected to cost less than
    crossing now. Without bars (no sigma) the spread rule alone decides, and says so."""
    market = draft.market
    stats = market.stats if market is not None else None
    if stats is None or stats.sigma_per_minute is None:
        terms["verdict"] = "execute"
        terms["rule"] = _NO_CONTEXT_RULE
        if market is not None:
            why = market.stats_error or f"{stats.bars if stats else 0} bars, too few"
            terms["rule"] = f"spread (volatility rule skipped: {why})"
        draft.fields["cost_check"] = CostCheck.PASSED
        return None
    assert market is not None
    # cost_model.py: waiting = crossing - half_spread_now + typical_half_spread + drift; with
    # no typical spread seen the wait meets the spread of now.
    drift = stats.sigma_per_minute * draft.rules.sqrt_interval
    crossing, typical = terms["crossing_cost_pct"], market.typical_spread_pct
    wait = crossing + drift
    if typical is not None:
        wait = wait - draft.half + typical / _TWO
    terms.update(drift_pct=drift, wait_cost_pct=wait, rule="volatility")
    if crossing > wait:
        terms["verdict"] = "wait"
        draft.fields["cost_check"] = CostCheck.EXCEEDED
        return draft.decision(
            GateAction.WAIT,
            f"{draft.cost_note}, but waiting {terms['wait_interval_s']:g}s is expected to cost "
            f"{wait:.3%} against {crossing:.3%} now (typical spread "
            f"{(market.typical_spread_pct or 0):.3%} in {terms['session']}, drift "
            f"{drift:.3%})",
        )
    terms["verdict"] = "execute"
    draft.fields["cost_check"] = CostCheck.PASSED
    return None


def _unavailable(draft: Draft, problem: str) -> SmartRoutingDecision | None:
    draft.fields["cost_check"] = CostCheck.UNAVAILABLE
    if draft.rules.policy.fail_mode is FailMode.CLOSED:
        return draft.decision(
            GateAction.WAIT, f"Quote unavailable ({problem}); fail-closed: order held"
        )
    draft.cost_note = f"Quote unavailable ({problem}); fail-open: cost check skipped"
    if draft.price_note:
        draft.cost_note = f"{draft.cost_note}, {draft.price_note}"
    return None
