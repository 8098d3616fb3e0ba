"""The venue circuit breaker's rule: a tenant's venue that fails `threshold` times within
`window` (timeouts, 5xx, unknown outcomes) trips, and the tenant then trades `reducing` on it
until an admin restores it. Pure: the caller stores the failure times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class FailureCount:
    recent: list[datetime]  # to store: the failures within the window, this one last
    trips: bool


def count_failure(
    previous: Sequence[datetime], now: datetime, window: timedelta, threshold: int
) -> FailureCount:
    """Add a failure at `now` to those still within `window`; it trips at `threshold`."""
    recent = [at for at in previous if now - at < window] + [now]
    return FailureCount(recent, len(recent) >= threshold)
