"""One poll loop for the tests and benches that wait on the emulators: each waits for a
positive signal, and fails saying what it last saw."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    read: Callable[[], T | None],
    timeout_s: float,
    interval_s: float = 0.2,
    describe: Callable[[T | None], str] = lambda last: f"last saw {last!r}",
) -> T:
    """Call `read` until it returns something truthy, and return that. After `timeout_s`
    fail with `describe` of the last value read."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout_s}s: {describe(value)}")
        time.sleep(interval_s)
        value = read()
    return value
