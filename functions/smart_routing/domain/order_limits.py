"""A tenant's own order limits (its settings document, written by the platform alone): caps on
an order's notional and on a user's notional per day, in the account currency, and overrides
of the order-rate limits the environment sets. Every field is optional: absent, the
environment's rate applies and the cap is off."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smart_routing.domain.money import format_money

PositiveRate = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PositiveMoney = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]

RATE_FIELDS = (
    "user_order_rate_per_s", "user_order_burst", "tenant_order_rate_per_s", "tenant_order_burst",
    "user_dry_run_rate_per_s", "user_dry_run_burst", "tenant_dry_run_rate_per_s",
    "tenant_dry_run_burst",
)  # fmt: skip


class UnreadableLimits(ValueError):
    """The tenant's limits document is malformed: its orders are refused (fail closed)."""


class TenantLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_order_notional: PositiveMoney | None = None
    max_user_daily_notional: PositiveMoney | None = None
    user_order_rate_per_s: PositiveRate | None = None
    user_order_burst: PositiveRate | None = None
    tenant_order_rate_per_s: PositiveRate | None = None
    tenant_order_burst: PositiveRate | None = None
    user_dry_run_rate_per_s: PositiveRate | None = None
    user_dry_run_burst: PositiveRate | None = None
    tenant_dry_run_rate_per_s: PositiveRate | None = None
    tenant_dry_run_burst: PositiveRate | None = None

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> TenantLimits:
        """The document's limits (None: no document, no limits of its own). Raises
        UnreadableLimits naming the field when one is not a positive number or unknown."""
        if data is None:
            return NO_TENANT_LIMITS
        clean = {k: v for k, v in data.items() if k not in ("updated_at", "updated_by")}
        try:
            return cls.model_validate(
                {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in clean.items()}
            )
        except (ValidationError, ArithmeticError) as exc:
            raise UnreadableLimits(f"the tenant's order limits are unreadable: {exc}") from exc

    def cap_problem(
        self, notional: Decimal, currency: str, day_total: Decimal | None = None
    ) -> str | None:
        """Why an order of `notional` (account currency) may not go out, or None. `day_total`:
        what the user's orders already used today (None: the daily cap is not checked)."""
        per_order = self.max_order_notional
        if per_order is not None and notional > per_order:
            return (
                f"order notional {format_money(notional, currency)} is above the tenant's "
                f"maximum of {format_money(per_order, currency)} per order"
            )
        per_day = self.max_user_daily_notional
        if per_day is not None and day_total is not None and day_total + notional > per_day:
            return (
                f"order notional {format_money(notional, currency)} would take the user's "
                f"notional today to {format_money(day_total + notional, currency)}, above the "
                f"tenant's maximum of {format_money(per_day, currency)} per user per day "
                f"({format_money(day_total, currency)} used)"
            )
        return None


NO_TENANT_LIMITS = TenantLimits()
