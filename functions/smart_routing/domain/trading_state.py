"""Trading states, the kill switch: a tenant and each of its users trade `active`, `reducing`
(only orders that shrink an existing position) or `halted` (no new orders). An order trades
under the stricter of its tenant's and its user's state, and of the tenant's state on the
venue it goes to (which the venue circuit breaker sets)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"  # only orders that shrink an existing position
    HALTED = "halted"  # no new orders; cancels, expiries and reconciliation still run


class TradingScope(StrEnum):
    TENANT = "tenant"
    USER = "user"
    VENUE = "venue"  # the tenant's trading on one venue


_STRICTNESS = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@dataclass(frozen=True, slots=True)
class TradingStatus:
    """The state an order trades under, whose state it is, and why it was set."""

    state: TradingState = TradingState.ACTIVE
    scope: TradingScope = TradingScope.TENANT
    reason: str = ""
    venue: str | None = None  # scope venue: which
    # The tenant's states on venues that are not active, to bind once the venue is known.
    venues: tuple[TradingStatus, ...] = ()

    def describe(self) -> str:
        """'trading is halted for this tenant (market open chaos)'; 'trading is reducing on
        venue alpaca for this tenant (circuit breaker: ...)'."""
        why = f" ({self.reason})" if self.reason else ""
        if self.scope is TradingScope.VENUE:
            return f"trading is {self.state.value} on venue {self.venue} for this tenant{why}"
        return f"trading is {self.state.value} for this {self.scope.value}{why}"

    def on_venue(self, venue: str) -> TradingStatus:
        """The status an order on `venue` trades under: this one, or the tenant's state on
        that venue when it is stricter."""
        own = replace(self, venues=()) if self.venues else self
        for status in self.venues:
            if status.venue == venue:
                return stricter(own, status)
        return own


ACTIVE = TradingStatus()


def stricter(tenant: TradingStatus, user: TradingStatus) -> TradingStatus:
    """The status that binds: the stricter state; the tenant's on a tie."""
    return user if _STRICTNESS[user.state] > _STRICTNESS[tenant.state] else tenant
