"""The order guards' pure parts: the token bucket's arithmetic, its shards, the settings and a
tenant's own limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from smart_routing.config.order_guards import OrderKind, load_order_guards
from smart_routing.domain.errors import ConfigError
from smart_routing.domain.order_limits import TenantLimits, UnreadableLimits
from smart_routing.domain.token_bucket import Bucket, BucketLimit, take
from smart_routing.domain.venue_breaker import count_failure

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
USER = BucketLimit(rate_per_s=5, burst=10)


def burst(limit, count, at=T0, bucket=None):
    allowed = 0
    for _ in range(count):
        taken = take(bucket, limit, at)
        bucket, allowed = taken.bucket, allowed + taken.allowed
    return allowed, bucket


def test_a_new_bucket_allows_the_burst_then_refuses():
    allowed, bucket = burst(USER, 15)
    assert allowed == 10
    refused = take(bucket, USER, T0)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(0.2)


def test_tokens_come_back_at_the_rate_up_to_the_burst():
    _, empty = burst(USER, 10)
    assert burst(USER, 10, T0 + timedelta(seconds=1), empty)[0] == 5
    assert burst(USER, 30, T0 + timedelta(hours=1), empty)[0] == 10


def test_a_clock_behind_the_stored_time_adds_nothing_and_takes_nothing():
    stored = Bucket(tokens=3, at=T0)
    taken = take(stored, USER, T0 - timedelta(seconds=30))
    assert taken.allowed and taken.bucket.tokens == 2


def test_shards_together_allow_no_more_than_the_whole():
    tenant = BucketLimit(rate_per_s=100, burst=200)
    shard = tenant.shard(20)
    assert (shard.rate_per_s, shard.burst) == (5, 10)
    assert sum(burst(shard, 50)[0] for _ in range(20)) == 200
    small = BucketLimit(rate_per_s=1, burst=3)
    assert small.shards(20) == 3 and small.shard(3).burst == 1  # each holds one order
    assert BucketLimit(rate_per_s=1, burst=0.5).shards(20) == 1


@pytest.mark.parametrize("field", ["rate_per_s", "burst"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_a_limit_must_be_positive_and_finite(field, value):
    with pytest.raises(ValueError, match=field):
        BucketLimit(**{"rate_per_s": 1, "burst": 1, field: value})


def test_the_defaults_and_the_environment():
    guards = load_order_guards({})
    assert (guards.orders.user.rate_per_s, guards.orders.user.burst) == (5, 10)
    assert guards.orders.tenant.rate_per_s == 100 and guards.orders.tenant.burst == 200
    assert guards.dry_runs.user.rate_per_s > guards.orders.user.rate_per_s
    assert (guards.breaker_failures, guards.breaker_window_s) == (5, 300)
    env = {"EXEC_USER_ORDER_RATE_PER_S": "2", "EXEC_USER_ORDER_BURST": "3",
           "EXEC_TENANT_ORDER_RATE_PER_S": "50", "EXEC_VENUE_BREAKER_FAILURES": "3",
           "EXEC_VENUE_BREAKER_WINDOW_MIN": "1.5"}  # fmt: skip
    guards = load_order_guards(env)
    assert (guards.orders.user.rate_per_s, guards.orders.user.burst) == (2, 3)
    assert guards.orders.tenant.burst == 100
    assert (guards.breaker_failures, guards.breaker_window_s) == (3, 90)


@pytest.mark.parametrize(
    ("name", "value"),
    [("EXEC_USER_ORDER_RATE_PER_S", "0"), ("EXEC_USER_ORDER_BURST", "ten"),
     ("EXEC_TENANT_ORDER_RATE_SHARDS", "2.5"), ("EXEC_VENUE_BREAKER_FAILURES", "-1")],
)  # fmt: skip
def test_a_bad_setting_names_its_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        load_order_guards({name: value})


def test_a_tenants_document_overrides_the_rates():
    guards = load_order_guards({})
    tenant = TenantLimits.parse({"user_order_burst": 3, "user_dry_run_rate_per_s": 0.5})
    orders = guards.rates(OrderKind.ORDER, tenant)
    assert (orders.user.rate_per_s, orders.user.burst) == (5, 3)
    assert guards.rates(OrderKind.DRY_RUN, tenant).user.rate_per_s == 0.5
    assert guards.rates(OrderKind.ORDER, TenantLimits.parse(None)) == guards.orders


def test_the_caps_refuse_with_the_figures():
    limits = TenantLimits.parse({"max_order_notional": 1000, "max_user_daily_notional": 2500.5})
    assert limits.cap_problem(Decimal("1000"), "USD", Decimal("0")) is None
    assert limits.cap_problem(Decimal("1000.01"), "USD") == (
        "order notional 1,000.01 USD is above the tenant's maximum of 1,000.00 USD per order"
    )
    assert limits.cap_problem(Decimal("600"), "USD", Decimal("1900.5")) is None
    assert limits.cap_problem(Decimal("600"), "USD", Decimal("1901")) == (
        "order notional 600.00 USD would take the user's notional today to 2,501.00 USD, "
        "above the tenant's maximum of 2,500.50 USD per user per day (1,901.00 USD used)"
    )


@pytest.mark.parametrize(
    "data", [{"max_order_notional": -5}, {"max_order_notional": "lots"}, {"max_orders": 3},
             {"user_order_burst": 0}],
)  # fmt: skip
def test_an_unreadable_document_is_an_error(data):
    with pytest.raises(UnreadableLimits, match="order limits are unreadable"):
        TenantLimits.parse(data)


def test_the_breaker_trips_at_n_failures_within_m_minutes():
    window = timedelta(minutes=5)
    failures: list[datetime] = []
    for n in range(4):
        count = count_failure(failures, T0 + timedelta(minutes=n), window, threshold=5)
        assert not count.trips
        failures = count.recent
    # The first failure has left the window by minute 5: four remain, then a fifth trips.
    count = count_failure(failures, T0 + timedelta(minutes=5), window, threshold=5)
    assert not count.trips and len(count.recent) == 4
    assert count_failure(count.recent, T0 + timedelta(minutes=5, seconds=1), window, 5).trips
