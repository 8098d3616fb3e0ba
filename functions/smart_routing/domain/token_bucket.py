"""The order-rate limit's arithmetic: a token bucket. It holds at most `burst` tokens, gains
`rate_per_s` a second, and an order takes one; an empty bucket refuses. Pure: the caller
stores the bucket (one document per user, shards per tenant) and passes the time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class BucketLimit:
    rate_per_s: float
    burst: float

    def __post_init__(self) -> None:
        for name in ("rate_per_s", "burst"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: {value!r} must be a finite number above 0")

    def shards(self, at_most: int) -> int:
        """How many shards to split into: `at_most`, fewer when the burst is smaller, so each
        shard holds at least one whole order."""
        return max(1, min(at_most, math.floor(self.burst)))

    def shard(self, shards: int) -> BucketLimit:
        """One of `shards` equal buckets that together allow this limit (each order takes a
        token from one shard, so the shards together never allow more than the whole)."""
        return BucketLimit(self.rate_per_s / shards, self.burst / shards)


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    at: datetime  # when `tokens` was counted


@dataclass(frozen=True, slots=True)
class Taken:
    allowed: bool
    bucket: Bucket  # to store: the bucket after this order
    retry_after_s: float  # 0 when allowed; else until a token is there


def take(bucket: Bucket | None, limit: BucketLimit, now: datetime) -> Taken:
    """Take one token at `now`. A bucket never used starts full. A clock behind the stored
    time (another instance's) adds nothing rather than taking tokens away."""
    tokens = limit.burst if bucket is None else refilled(bucket, limit, now)
    if tokens >= 1:
        return Taken(True, Bucket(tokens - 1, now), 0.0)
    return Taken(False, Bucket(tokens, now), (1 - tokens) / limit.rate_per_s)


def refilled(bucket: Bucket, limit: BucketLimit, now: datetime) -> float:
    elapsed = max(0.0, (now - bucket.at).total_seconds())
    return min(limit.burst, bucket.tokens + elapsed * limit.rate_per_s)
