"""A tenant's notional caps held in memory: the local runtime's and the tests' OrderCaps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from smart_routing.domain.money import ZERO
from smart_routing.domain.order_limits import NO_TENANT_LIMITS, TenantLimits
from smart_routing.domain.orders import AccountOwner


class InMemoryOrderCaps:
    def __init__(self) -> None:
        self.limits: dict[str, TenantLimits] = {}
        self._totals: dict[tuple[str, str, date, str], Decimal] = {}
        self._counted: set[tuple[str, str, date, str]] = set()

    def used(self, owner: AccountOwner, day: date, currency: str) -> Decimal:
        return self._totals.get((owner.tenant_id, owner.uid, day, currency), ZERO)

    def admit(
        self,
        owner: AccountOwner,
        notional: Decimal,
        currency: str,
        client_order_id: str,
        day: date,
        reserve: bool,
    ) -> str | None:
        limits = self.limits.get(owner.tenant_id, NO_TENANT_LIMITS)
        order_key = (owner.tenant_id, owner.uid, day, client_order_id)
        if order_key in self._counted:
            return None
        used = self.used(owner, day, currency)
        problem = limits.cap_problem(notional, currency, used)
        if problem is None and reserve:
            self._totals[(owner.tenant_id, owner.uid, day, currency)] = used + notional
            self._counted.add(order_key)
        return problem
