"""Lowest-cost venue: when more than one configured venue lists an instrument, the gate runs on
each (its own instrument spec, quote, fees and account) and the order goes to the cheapest one
that would execute, by all-in crossing cost (spread or book walk, impact, fees: cost_model.py).

Ties go to the configured order. When none would execute, the first priced venue's decision
stands. Either way the decision lists every candidate, including those that do not list the
instrument. See docs/cost-model.md, "Lowest-cost venue".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from smart_routing.domain.errors import InstrumentUnavailable
from smart_routing.gate.decision import SmartRoutingDecision, VenueCandidate

# What a venue's gate run gave: its decision, or why it could not be priced.
Priced = tuple[str, SmartRoutingDecision | str]


def choose_venue(priced: Sequence[Priced]) -> tuple[str, SmartRoutingDecision]:
    """The chosen venue's name and its decision, carrying every candidate in configured order.

    Raises InstrumentUnavailable when no venue could be priced at all."""
    decisions = [(i, name, d) for i, (name, d) in enumerate(priced) if not isinstance(d, str)]
    if not decisions:
        reasons = "; ".join(f"{name}: {why}" for name, why in priced)
        raise InstrumentUnavailable(f"no configured venue lists it ({reasons})")
    executing = [entry for entry in decisions if entry[2].should_execute]
    if executing:
        index, name, decision = min(executing, key=lambda e: (_crossing_cost(e[2]), e[0]))
    else:
        index, name, decision = decisions[0]
    candidates = [_candidate(n, d, chosen=i == index) for i, (n, d) in enumerate(priced)]
    return name, decision.replaced(candidates=candidates)


def chosen_venue(decision: SmartRoutingDecision) -> str | None:
    """The venue the decision chose among candidates; None when only one venue was priced."""
    if decision.candidates is None:
        return None
    return next(c.venue for c in decision.candidates if c.chosen)


def _crossing_cost(decision: SmartRoutingDecision) -> Decimal:
    """An executing decision without a cost model (fail-open, no usable quote) ranks last."""
    model = decision.cost_model
    return model.crossing_cost_pct if model is not None else Decimal("Infinity")


def _candidate(name: str, outcome: SmartRoutingDecision | str, *, chosen: bool) -> VenueCandidate:
    if isinstance(outcome, str):
        return VenueCandidate(venue=name, reason=outcome)
    quote, model = outcome.quote, outcome.cost_model
    return VenueCandidate(
        venue=name,
        chosen=chosen,
        action=outcome.action.value,
        bid=quote.bid if quote is not None else None,
        ask=quote.ask if quote is not None else None,
        effective_spread_pct=model.effective_spread_pct if model is not None else None,
        fees_pct=model.fees_pct if model is not None else None,
        crossing_cost_pct=model.crossing_cost_pct if model is not None else None,
        reason=outcome.reason,
    )
