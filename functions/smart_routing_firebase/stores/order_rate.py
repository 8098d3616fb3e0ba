"""The order-rate limits in Firestore, one limit for every instance together.

Each order takes a token from its user's bucket, tenants/{t}/rate_buckets/{kind}/users/{uid},
and from one shard of its tenant's, tenants/{t}/rate_buckets/{kind}/tenant_shards/{n}, in one
transaction that also reads the tenant's limits (stores/order_limits.py). The tenant's bucket
is split into `tenant_shards` equal buckets (fewer when its burst is smaller: each holds at
least one order), each with its share of the rate and burst, so its writes spread over that
many documents instead of one. An order reads two shards at random and takes from the fuller;
only when both are empty does it read every shard, and it is refused when all are. No shard
gives more than its share, so the tenant never exceeds its limit. `kind` is order or dry_run: dry
runs have a bucket, and limits, of their own. A refused order writes nothing."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.api_core.exceptions import Aborted
from google.cloud import firestore
from google.cloud.firestore import Client, Transaction

from smart_routing.config.order_guards import OrderGuardSettings, OrderKind
from smart_routing.domain.order_limits import TenantLimits, UnreadableLimits
from smart_routing.domain.token_bucket import Bucket, BucketLimit, Taken, refilled, take
from smart_routing_firebase.stores import paths

# Orders of one user at once contend on the user's document: let them queue, not fail.
MAX_ATTEMPTS = 30


@dataclass(frozen=True)
class RateRefusal:
    message: str
    retry_after_s: float


def take_order_token(
    db: Client, settings: OrderGuardSettings, tenant_id: str, uid: str, kind: OrderKind
) -> RateRefusal | None:
    """Take the order's token from the user's and the tenant's buckets: None when both had
    one, else why not (nothing taken). Raises UnreadableLimits on a malformed limits document."""
    limits_ref = db.document(paths.tenant_limits(tenant_id))
    user_ref = db.document(paths.user_rate_bucket(tenant_id, kind.value, uid))

    def shard_refs(count: int, pick: int | None = None) -> list[Any]:
        numbers = range(count) if pick is None else random.sample(range(count), min(pick, count))
        return [db.document(paths.tenant_rate_shard(tenant_id, kind.value, n)) for n in numbers]

    # Two random shards are read with the rest; the most a tenant's limit may split into.
    first_pick = shard_refs(settings.tenant_shards, pick=2)

    @firestore.transactional
    def run(transaction: Transaction) -> RateRefusal | None:
        found = _read(transaction, [limits_ref, user_ref, *first_pick])
        limits_doc = found.get(limits_ref.path)
        tenant = TenantLimits.parse(
            limits_doc.to_dict() if limits_doc is not None and limits_doc.exists else None
        )
        rates = settings.rates(kind, tenant)
        now = datetime.now(UTC)
        user = take(_bucket(found.get(user_ref.path)), rates.user, now)
        if not user.allowed:
            return _refusal("this user's", kind, rates.user, user)
        count = rates.tenant.shards(settings.tenant_shards)
        shard_limit = rates.tenant.shard(count)
        candidates = [ref for ref in first_pick if int(ref.id) < count] or shard_refs(count, 2)
        ref, shard = _fuller(transaction, candidates, found, shard_limit, now)
        if not shard.allowed:  # both empty: look at every shard before refusing
            ref, shard = _fuller(transaction, shard_refs(count), {}, shard_limit, now)
        if not shard.allowed:
            return _refusal("this tenant's", kind, rates.tenant, shard)
        transaction.set(user_ref, _stored(user.bucket))
        transaction.set(ref, _stored(shard.bucket))
        return None

    for attempt in range(MAX_ATTEMPTS):
        try:
            return run(db.transaction(max_attempts=1))
        except UnreadableLimits:
            raise
        except (Aborted, ValueError):  # contention: the library's ValueError wraps the abort
            # Jittered backoff: retrying at once, contenders keep aborting one another.
            time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))
    return RateRefusal(f"too many {_noun(kind)} at once; retry shortly", 1.0)


def _read(transaction: Transaction, refs: list[Any]) -> dict[str, Any]:
    return {s.reference.path: s for s in transaction.get_all(refs)}


def _fuller(
    transaction: Transaction,
    refs: list[Any],
    found: dict[str, Any],
    limit: BucketLimit,
    now: datetime,
) -> tuple[Any, Taken]:
    """The shard with the most tokens among `refs` (read unless in `found`), and its take."""
    missing = [ref for ref in refs if ref.path not in found]
    if missing:
        found = {**found, **_read(transaction, missing)}
    buckets = [(ref, _bucket(found.get(ref.path))) for ref in refs]
    ref, bucket = max(buckets, key=lambda rb: _tokens(rb[1], limit, now))
    return ref, take(bucket, limit, now)


def _bucket(snapshot: Any) -> Bucket | None:
    if snapshot is None or not snapshot.exists:
        return None
    data = snapshot.to_dict() or {}
    return Bucket(tokens=float(data["tokens"]), at=data["at"])


def _tokens(bucket: Bucket | None, limit: BucketLimit, now: datetime) -> float:
    return limit.burst if bucket is None else refilled(bucket, limit, now)


def _stored(bucket: Bucket) -> dict[str, Any]:
    return {"tokens": bucket.tokens, "at": bucket.at}


def _noun(kind: OrderKind) -> str:
    return "orders" if kind is OrderKind.ORDER else "dry runs"


def _refusal(whose: str, kind: OrderKind, limit: BucketLimit, taken: Taken) -> RateRefusal:
    return RateRefusal(
        f"too many {_noun(kind)}: {whose} limit is {limit.rate_per_s:g} a second "
        f"(bursts of {limit.burst:g}); retry in {taken.retry_after_s:.1f}s",
        taken.retry_after_s,
    )
