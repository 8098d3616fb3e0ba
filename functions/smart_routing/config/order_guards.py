"""The order guards' settings: the order-rate limits (per user and per tenant, dry runs apart),
how many shards hold a tenant's bucket, and the venue circuit breaker's N failures in M
minutes. The environment sets the platform's defaults; a tenant's limits document
(domain/order_limits.py) may override the rates for that tenant."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from smart_routing.config.environment import env_positive
from smart_routing.domain.errors import ConfigError
from smart_routing.domain.order_limits import TenantLimits
from smart_routing.domain.token_bucket import BucketLimit


class OrderKind(StrEnum):
    ORDER = "order"
    DRY_RUN = "dry_run"


@dataclass(frozen=True, slots=True)
class RateLimits:
    user: BucketLimit
    tenant: BucketLimit


@dataclass(frozen=True, slots=True)
class OrderGuardSettings:
    orders: RateLimits
    dry_runs: RateLimits
    tenant_shards: int = 20
    breaker_failures: int = 5
    breaker_window_s: float = 300.0

    def rates(self, kind: OrderKind, tenant: TenantLimits) -> RateLimits:
        """The limits for `kind`, with the tenant's own overrides applied."""
        base = self.orders if kind is OrderKind.ORDER else self.dry_runs
        prefix = "order" if kind is OrderKind.ORDER else "dry_run"

        def limit(scope: str, default: BucketLimit) -> BucketLimit:
            rate = getattr(tenant, f"{scope}_{prefix}_rate_per_s")
            burst = getattr(tenant, f"{scope}_{prefix}_burst")
            return replace(
                default,
                rate_per_s=rate if rate is not None else default.rate_per_s,
                burst=burst if burst is not None else default.burst,
            )

        return RateLimits(limit("user", base.user), limit("tenant", base.tenant))


def load_order_guards(environ: Mapping[str, str] | None = None) -> OrderGuardSettings:
    """Raises ConfigError naming the variable and its bad value."""
    env = os.environ if environ is None else environ
    return OrderGuardSettings(
        orders=_rates(env, "ORDER", user_rate=5, user_burst=10, tenant_rate=100),
        dry_runs=_rates(env, "DRY_RUN", user_rate=20, user_burst=40, tenant_rate=400),
        tenant_shards=_whole(env, "EXEC_TENANT_ORDER_RATE_SHARDS", 20),
        breaker_failures=_whole(env, "EXEC_VENUE_BREAKER_FAILURES", 5),
        breaker_window_s=60 * env_positive(env, "EXEC_VENUE_BREAKER_WINDOW_MIN", 5),
    )


def _rates(
    env: Mapping[str, str], kind: str, user_rate: float, user_burst: float, tenant_rate: float
) -> RateLimits:
    tenant = env_positive(env, f"EXEC_TENANT_{kind}_RATE_PER_S", tenant_rate)
    return RateLimits(
        user=BucketLimit(
            env_positive(env, f"EXEC_USER_{kind}_RATE_PER_S", user_rate),
            env_positive(env, f"EXEC_USER_{kind}_BURST", user_burst),
        ),
        # Two seconds of the tenant's rate at once unless set: the users' default ratio.
        tenant=BucketLimit(tenant, env_positive(env, f"EXEC_TENANT_{kind}_BURST", 2 * tenant)),
    )


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    number = env_positive(env, name, default)
    if number != int(number):
        raise ConfigError(f"{name}={number:g} must be a whole number")
    return int(number)
