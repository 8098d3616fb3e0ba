"""Trading states held in memory: the local runtime's and the tests' kill switch."""

from __future__ import annotations

from dataclasses import replace

from smart_routing.domain.orders import AccountOwner
from smart_routing.domain.trading_state import (
    ACTIVE,
    TradingScope,
    TradingState,
    TradingStatus,
    stricter,
)


class InMemoryTradingStates:
    def __init__(self) -> None:
        self._tenants: dict[str, TradingStatus] = {}
        self._users: dict[tuple[str, str], TradingStatus] = {}
        self._venues: dict[tuple[str, str], TradingStatus] = {}

    def set_tenant(self, tenant_id: str, state: TradingState, reason: str = "") -> None:
        self._tenants[tenant_id] = TradingStatus(state, TradingScope.TENANT, reason)

    def set_user(self, owner: AccountOwner, state: TradingState, reason: str = "") -> None:
        self._users[(owner.tenant_id, owner.uid)] = TradingStatus(state, TradingScope.USER, reason)

    def set_venue(self, tenant_id: str, venue: str, state: TradingState, reason: str = "") -> None:
        status = TradingStatus(state, TradingScope.VENUE, reason, venue)
        self._venues[(tenant_id, venue)] = status

    def status_of(self, owner: AccountOwner) -> TradingStatus:
        tenant = self._tenants.get(owner.tenant_id, ACTIVE)
        user = self._users.get((owner.tenant_id, owner.uid), ACTIVE)
        venues = tuple(
            status
            for (tenant_id, _), status in sorted(self._venues.items())
            if tenant_id == owner.tenant_id and status.state is not TradingState.ACTIVE
        )
        return replace(stricter(tenant, user), venues=venues)
