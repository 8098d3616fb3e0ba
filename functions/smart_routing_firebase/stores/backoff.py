"""Waiting out contention on a document: jittered exponential backoff inside a time budget.

Firestore takes about one sustained write a second on one document; the orders of one user all
write that user's account, and the trades of one (user, symbol) its lots head. Writers that
collide retry after a random pause ("full jitter": uniform up to an exponentially growing
cap), so a burst spreads out and serializes instead of failing, and gives up only when the
budget is spent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from google.api_core.exceptions import Aborted

T = TypeVar("T")

FIRST_S = 0.01
CAP_S = 0.5


def pauses(budget_s: float, first_s: float = FIRST_S, cap_s: float = CAP_S) -> Iterator[float]:
    """The pauses to sleep between attempts, until the next one would end past the budget."""
    deadline = time.monotonic() + budget_s
    attempt = 0
    while True:
        attempt += 1
        pause = random.uniform(0, min(cap_s, first_s * 2**attempt))
        if time.monotonic() + pause > deadline:
            return
        yield pause


def is_contention(exc: BaseException) -> bool:
    """Aborted (another transaction holds a document), or a transaction that gave up after its
    attempts were all aborted (google-cloud-firestore raises ValueError from the last one)."""
    return isinstance(exc, Aborted) or (
        isinstance(exc, ValueError) and isinstance(exc.__cause__, Aborted)
    )


def retry_contended(run: Callable[[], T], budget_s: float) -> T:
    """`run` (a whole transaction) again after each pause while it fails for contention; the
    last attempt's error when the budget is spent."""
    for pause in pauses(budget_s):
        try:
            return run()
        except Exception as exc:
            if not is_contention(exc):
                raise
        time.sleep(pause)
    return run()
