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
their own. A refused order writes nothing.

Inside a paper execution's one commit (stores/one_commit.py) the take is part of that commit:
the buckets are read in the round trip that reads the gate's documents, and written, guarded
as read, with the fill. An order whose commit is refused has taken nothing, and its run again
takes again; one user's orders already serialize on their account, so the user's bucket adds
no contention of its own."""

from __future__ import annotations

import random
from collections.abc import Callable
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
from smart_routing_firebase.stores.one_commit import PendingCommit, pending

# Reads the documents not read yet (path -> snapshot of every one asked for); stages a write
# guarded by what was read.
Read = Callable[[list[DocumentReference]], dict[str, Any]]
Put = Callable[[DocumentReference, dict[str, Any]], None]


@dataclass(frozen=True)
class RateRefusal:
    message: str
    retry_after_s: float


def take_order_token(
    db: Client, settings: OrderGuardSettings, tenant_id: str, uid: str, kind: OrderKind
) -> RateRefusal | None:
    """Take the order's token from the user's and the tenant's buckets: None when both had
    one, else why not (nothing taken). Raises UnreadableLimits on a malformed limits document.
    Inside a commit scope the writes are staged in it; outside, committed at once."""
    taking = _Take(db, settings, tenant_id, uid, kind)
    commit = pending()
    if commit is not None:
        return taking.decide(*_in_commit(db, commit, tenant_id, uid))

    def attempt(batch: GuardedBatch) -> RateRefusal | None:
        return taking.decide(*_in_batch(db, batch))

    try:
        return read_decide_write(db, attempt)
    except Contended:
        return RateRefusal(f"too many {_noun(kind)} at once; retry shortly", 1.0)


def _in_commit(db: Client, commit: PendingCommit, tenant_id: str, uid: str) -> tuple[Read, Put]:
    also = [db.document(path) for path in paths.paper_order_reads(tenant_id, uid)]
    return (lambda refs: commit.read_together(refs, also)), commit.replace_if_unchanged


def _in_batch(db: Client, batch: GuardedBatch) -> tuple[Read, Put]:
    found: dict[str, Any] = {}

    def read(refs: list[DocumentReference]) -> dict[str, Any]:
        missing = [ref for ref in refs if ref.path not in found]
        if missing:
            found.update({s.reference.path: s for s in db.get_all(missing)})
        return {ref.path: found[ref.path] for ref in refs}

    return read, lambda ref, data: batch.put(ref, found[ref.path], data)


@dataclass(frozen=True)
class _Take:
    db: Client
    settings: OrderGuardSettings
    tenant_id: str
    uid: str
    kind: OrderKind

    def decide(self, read: Read, put: Put) -> RateRefusal | None:
        limits_ref = self.db.document(paths.tenant_limits(self.tenant_id))
        user_ref = self.db.document(
            paths.user_rate_bucket(self.tenant_id, self.kind.value, self.uid)
        )
        first_pick = self._shards(self.settings.tenant_shards, pick=2)
        found = read([limits_ref, user_ref, *first_pick])
        limits_doc = found[limits_ref.path]
        tenant = TenantLimits.parse(limits_doc.to_dict() if limits_doc.exists else None)
        rates = self.settings.rates(self.kind, tenant)
        now = datetime.now(UTC)
        user = take(_bucket(found[user_ref.path]), rates.user, now)
        if not user.allowed:
            return _refusal("this user's", self.kind, rates.user, user)
        count = rates.tenant.shards(self.settings.tenant_shards)
        shard_limit = rates.tenant.shard(count)
        candidates = [ref for ref in first_pick if int(ref.id) < count] or self._shards(count, 2)
        ref, shard = _fuller(read, candidates, shard_limit, now)
        if not shard.allowed:  # both empty: look at every shard before refusing
            ref, shard = _fuller(read, self._shards(count), shard_limit, now)
        if not shard.allowed:
            return _refusal("this tenant's", self.kind, rates.tenant, shard)
        put(user_ref, _stored(user.bucket))
        put(ref, _stored(shard.bucket))
        return None

    def _shards(self, count: int, pick: int | None = None) -> list[DocumentReference]:
        numbers = range(count) if pick is None else random.sample(range(count), min(pick, count))
        return [
            self.db.document(paths.tenant_rate_shard(self.tenant_id, self.kind.value, n))
            for n in numbers
        ]


def _fuller(
    read: Read, refs: list[DocumentReference], limit: BucketLimit, now: datetime
) -> tuple[DocumentReference, Taken]:
    """The shard with the most tokens among `refs`, and its take."""
    found = read(refs)
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
