"""The order guards' Firestore cost, on the Firestore emulator alone, in-process. Prints one
`BENCH name=value` line per figure.

order_rate_take_p50_ms     one order's token taken on its own, as a real venue's order takes
                           it before its key is claimed (stores/order_rate.py: the limits, the
                           user's bucket and two tenant shards read, one guarded batch of
                           two writes; a paper order takes it in its one commit instead),
                           60 orders of 60 users of one tenant one after another
order_rate_take_p90_ms     the same, 90th percentile
order_rate_burst_ms        20 orders of one user at once (the default burst is 10): the time
                           until every one has its answer, contention and retries included
order_rate_burst_allowed   how many of those 20 got a token: at most the burst (10) plus what
                           the rate (5/s) refilled while the burst ran
order_caps_admit_p50_ms    an order counted against the tenant's daily cap
                           (stores/order_limits.py: the limits read, the day's total and the
                           order's marker read, one guarded batch of two writes)
venue_failure_record_ms    one venue failure counted by the circuit breaker (below N)
"""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

from smart_routing.config.order_guards import OrderKind, load_order_guards
from smart_routing.domain.orders import AccountOwner
from tools.emulators import ROOT, client_environment, running_emulators

ORDERS = 60
BURST_CALLS = 20


def timed_ms(work) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def bench_rate(db) -> dict[str, float]:
    from smart_routing_firebase.stores.order_rate import take_order_token

    guards = load_order_guards({})  # the production defaults
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    take_order_token(db, guards, tenant, "warm-up", OrderKind.ORDER)
    times = sorted(
        timed_ms(lambda n=n: take_order_token(db, guards, tenant, f"u{n}", OrderKind.ORDER))
        for n in range(ORDERS)
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(BURST_CALLS) as pool:
        answers = list(pool.map(
            lambda _: take_order_token(db, guards, tenant, "bursty", OrderKind.ORDER),
            range(BURST_CALLS),
        ))  # fmt: skip
    burst_ms = (time.perf_counter() - started) * 1000
    return {
        "order_rate_take_p50_ms": statistics.median(times),
        "order_rate_take_p90_ms": times[int(len(times) * 0.9)],
        "order_rate_burst_ms": burst_ms,
        "order_rate_burst_allowed": float(sum(answer is None for answer in answers)),
    }


def bench_caps_and_breaker(db) -> dict[str, float]:
    from smart_routing_firebase.stores.order_limits import FirestoreOrderCaps
    from smart_routing_firebase.stores.venue_breaker import FirestoreVenueBreaker

    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    db.document(f"tenants/{tenant}/settings/limits").set({"max_user_daily_notional": 1e12})
    caps, owner = FirestoreOrderCaps(db), AccountOwner(tenant_id=tenant, uid="u1")
    day = datetime.now(UTC).date()
    admit = [
        timed_ms(lambda n=n: caps.admit(owner, Decimal("100"), "USD", f"o{n}", day, True))
        for n in range(ORDERS)
    ]
    breaker = FirestoreVenueBreaker(db, failures=ORDERS * 10, window_s=300)
    record = [
        timed_ms(lambda: breaker.record_failure(tenant, "alpaca", "bench")) for _ in range(20)
    ]
    return {
        "order_caps_admit_p50_ms": statistics.median(admit),
        "venue_failure_record_ms": statistics.median(record),
    }


def main() -> None:
    with (
        client_environment(),
        running_emulators(None, ROOT / ".cache" / "emulators-bench.log", only="firestore"),
    ):
        from smart_routing_firebase.platform.app import firestore_client

        db = firestore_client()
        figures = bench_rate(db) | bench_caps_and_breaker(db)
    for name, value in figures.items():
        print(f"BENCH {name}={value:.2f}")


if __name__ == "__main__":
    main()
