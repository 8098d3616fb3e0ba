"""The gate's decision: a value that says whether an intent becomes an order and why, with
everything that was weighed (instrument, quote, cost model, candidate venues)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from functools import cache
from typing import Any, Literal

from pydantic import TypeAdapter

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import Amount
from smart_routing.domain.orders import OrderSide
from smart_routing.gate.cost_model import CostModel
from smart_routing.market.conversion import Conversion
from smart_routing.market.quotes import Quote
from smart_routing.market.sessions import Session


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueCandidate:
    """One venue as the decision shows it. `action` is None when the venue could not be
    priced (it does not list the instrument, or its instrument data could not be read)."""

    venue: str
    chosen: bool = False
    action: str | None = None
    bid: Amount | None = None
    ask: Amount | None = None
    effective_spread_pct: Amount | None = None
    fees_pct: Amount | None = None
    crossing_cost_pct: Amount | None = None
    reason: str


class GateAction(StrEnum):
    EXECUTE = "execute"  # send it
    WAIT = "wait"  # the cost check held it back: nothing sent
    REJECT = "reject"  # instrument, size or account says no: nothing sent
    INVALID = "invalid"  # the request itself is wrong (a typed qty off the grid)


class CostCheck(StrEnum):
    PASSED = "passed"
    EXCEEDED = "exceeded"
    BYPASSED = "bypassed"  # smart routing is off
    UNAVAILABLE = "unavailable"  # no usable quote: the fail mode decided
    NOT_REACHED = "not_reached"  # an earlier check failed


@dataclass(frozen=True, kw_only=True)
class SmartRoutingDecision:
    """The gate's whole answer. `should_execute`, `reason`, `spread_pct`, `downgraded`,
    `symbol` and `asset_class` are the seed's fields; the rest say how it was reached.

    A value: frozen, so nothing changes it once the gate returns it; a variant (the limit
    fallback's, the chosen venue's with its candidates) is a new decision. A frozen dataclass
    rather than a pydantic model, because the gate builds one per order from parts that are
    already valid: `from_fields` makes it in one step, where validating (or setting) 31
    fields one by one would cost a third of the gate's budget.
    """

    should_execute: bool
    reason: str
    spread_pct: Amount | None
    downgraded: bool
    symbol: str
    asset_class: AssetClass
    action: GateAction
    cost_check: CostCheck
    side: OrderSide
    estimated_slippage: Amount | None = None
    threshold_pct: Amount
    threshold_source: str
    session: Session | None = None
    venue: str
    instrument: InstrumentSpec
    requested_qty: Amount
    qty: Amount
    limit_price: Amount | None = None
    currency: str
    price: Amount | None = None
    notional: Amount | None = None
    estimated_spread_cost: Amount | None = None
    estimated_fees: Amount | None = None
    account_currency: str | None = None
    conversion: Conversion | None = None
    notional_in_account_currency: Amount | None = None
    quote: Quote | None = None
    cost_model: CostModel | None = None
    # "limit": the cost check failed and the engine's limit fallback placed a passive limit
    # instead of waiting (see limit_fallback.py); None otherwise.
    fallback: str | None = None
    # The trading state ("reducing", "halted") that refused the order; None otherwise.
    trading_state: str | None = None
    # Every venue priced, when more than one lists the instrument (venue_selection.py).
    candidates: list[VenueCandidate] | None = None

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> SmartRoutingDecision:
        """The gate's fast path: the decision over `fields` (field names only, each already
        valid; left out, a field takes its default), which the caller hands over and never
        touches again."""
        decision = object.__new__(cls)
        object.__setattr__(decision, "__dict__", fields)
        return decision

    def replaced(self, **changes: Any) -> SmartRoutingDecision:
        """A new decision: this one with `changes` (dataclasses.replace, without re-setting
        every field one by one)."""
        return SmartRoutingDecision.from_fields({**self.__dict__, **changes})

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        include: set[str] | None = None,
        exclude: set[str] | None = None,
    ) -> dict[str, Any]:
        """As pydantic models dump: mode="json" gives JSON types (money as numbers)."""
        return _decision_adapter().dump_python(self, mode=mode, include=include, exclude=exclude)

    def log_fields(self) -> dict[str, object]:
        """Everything but the nested parts, as the log writer takes them (it writes Decimals
        as numbers and enums as their values): cheaper than a full dump on every decision."""
        return {name: getattr(self, name) for name in _LOG_FIELDS}


_NESTED = {"instrument", "quote", "conversion", "limit_price", "cost_model", "candidates"}
_LOG_FIELDS = tuple(
    field.name for field in fields(SmartRoutingDecision) if field.name not in _NESTED
)


@cache
def _decision_adapter() -> TypeAdapter[SmartRoutingDecision]:
    return TypeAdapter(SmartRoutingDecision)


def log_decision(decision: SmartRoutingDecision) -> None:
    """exec.smart_routing, once per decision; a warning when no usable quote existed."""
    severity = "WARNING" if decision.cost_check is CostCheck.UNAVAILABLE else "INFO"
    logs.log_event(logs.SMART_ROUTING, severity=severity, **decision.log_fields())
