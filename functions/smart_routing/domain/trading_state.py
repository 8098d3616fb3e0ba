"""Trading states, the kill switch: a tenant and each of its users trade `active`, `reducing`
(only orders that shrink an existing position) or `halted` (no new orders). An order trades
under the stricter of its tenant's and its user's state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"  # only orders that shrink an existing position
    HALTED = "halted"  # no new orders; cancels, expiries and reconciliation still run


class TradingScope(StrEnum):
    TENANT = "tenant"
    USER = "user"


_STRICTNESS = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@dataclass(frozen=True, slots=True)
class TradingStatus:
    """The state an order trades under, whose state it is, and why it was set."""

    state: TradingState = TradingState.ACTIVE
    scope: TradingScope = TradingScope.TENANT
    reason: str = ""

    def describe(self) -> str:
        """'trading is halted for this tenant (market open chaos)'."""
        why = f" ({self.reason})" if self.reason else ""
        return f"trading is {self.state.value} for this {self.scope.value}{why}"


ACTIVE = TradingStatus()


def stricter(tenant: TradingStatus, user: TradingStatus) -> TradingStatus:
    """The status that binds: the stricter state; the tenant's on a tie."""
    return user if _STRICTNESS[user.state] > _STRICTNESS[tenant.state] else tenant
