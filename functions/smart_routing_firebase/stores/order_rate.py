"""The order-rate limits in Firestore, one limit for every instance together.

Each order takes a token from its user's bucket, tenants/{t}/rate_buckets/{kind}/users/{uid},
and from one shard of its tenant's, tenants/{t}/rate_buckets/{kind}/tenant_shards/{n}, in one
guarded batch (stores/guarded_writes.py) decided on a read that also takes the tenant's limits
(stores/order_limits.py). The tenant's bucket is split into `tenant_shards` equal buckets
(fewer when its burst is smaller: each holds at least one order), each with its share of the
rate and burst, so its writes spread over that many documents instead of one. An order reads
two shards at random and takes from the fuller; only when both are empty does it read every
shard, and it is refused when all are. No shard gives more than its share, so the tenant
never exceeds its limit. `kind` is order or dry_run: dry runs have buckets, and limits, of
their own. A refused order writes nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.cloud.firestore import Client, DocumentReference

from smart_routing.config.order_guards import OrderGuardSettings, OrderKind
from smart_routing.domain.order_limits import TenantLimits
from smart_routing.domain.token_bucket import Bucket, BucketLimit, Taken, refilled, take
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.guarded_writes import (
    Contended,
    GuardedBatch,
    read_decide_write,
)


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

    def shard_refs(count: int, pick: int | None = None) -> list[DocumentReference]:
        numbers = range(count) if pick is None else random.sample(range(count), min(pick, count))
        return [db.document(paths.tenant_rate_shard(tenant_id, kind.value, n)) for n in numbers]

    def attempt(batch: GuardedBatch) -> RateRefusal | None:
        first_pick = shard_refs(settings.tenant_shards, pick=2)
        found = _read(db, [limits_ref, user_ref, *first_pick])
        limits_doc = found[limits_ref.path]
        tenant = TenantLimits.parse(limits_doc.to_dict() if limits_doc.exists else None)
        rates = settings.rates(kind, tenant)
        now = datetime.now(UTC)
        user = take(_bucket(found[user_ref.path]), rates.user, now)
        if not user.allowed:
            return _refusal("this user's", kind, rates.user, user)
        count = rates.tenant.shards(settings.tenant_shards)
        shard_limit = rates.tenant.shard(count)
        candidates = [ref for ref in first_pick if int(ref.id) < count] or shard_refs(count, 2)
        ref, shard = _fuller(db, candidates, found, shard_limit, now)
        if not shard.allowed:  # both empty: look at every shard before refusing
            ref, shard = _fuller(db, shard_refs(count), found, shard_limit, now)
        if not shard.allowed:
            return _refusal("this tenant's", kind, rates.tenant, shard)
        batch.put(user_ref, found[user_ref.path], _stored(user.bucket))
        batch.put(ref, found[ref.path], _stored(shard.bucket))
        return None

    try:
        return read_decide_write(db, attempt)
    except Contended:
        return RateRefusal(f"too many {_noun(kind)} at once; retry shortly", 1.0)


def _read(db: Client, refs: list[DocumentReference]) -> dict[str, Any]:
    return {s.reference.path: s for s in db.get_all(refs)}


def _fuller(
    db: Client,
    refs: list[DocumentReference],
    found: dict[str, Any],
    limit: BucketLimit,
    now: datetime,
) -> tuple[DocumentReference, Taken]:
    """The shard with the most tokens among `refs` (those not in `found` are read into it),
    and its take."""
    missing = [ref for ref in refs if ref.path not in found]
    if missing:
        found.update(_read(db, missing))
    buckets = [(ref, _bucket(found[ref.path])) for ref in refs]
    ref, bucket = max(buckets, key=lambda rb: _tokens(rb[1], limit, now))
    return ref, take(bucket, limit, now)


def _bucket(snapshot: Any) -> Bucket | None:
    if not snapshot.exists:
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
