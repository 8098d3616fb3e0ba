"""Read, decide, write only if nothing moved: documents many requests update at once (a rate
bucket, a day's total, a venue's failures) are written in one batch whose every write is
guarded by what was read (its update time, or that it did not exist). A batch another request
beat is refused whole and the caller reads again after a jittered pause. Unlike a transaction
this holds no lock while it decides, so contenders never wait on one another (the emulator's
transactions deadlock under such bursts)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from google.cloud.firestore import Client, DocumentReference

from smart_routing_firebase.stores.one_commit import COMMIT_REFUSED

T = TypeVar("T")
ATTEMPTS = 40


class Contended(RuntimeError):
    """Every attempt found its documents moved by another request."""


class GuardedBatch:
    def __init__(self, db: Client) -> None:
        self.db = db
        self.batch = db.batch()
        self.writes = 0

    def put(self, ref: DocumentReference, seen: Any, data: dict[str, Any]) -> None:
        """Write `data`'s fields on `ref` if it is still as `seen` (a snapshot; absent: create
        it with `data`)."""
        if seen is None or not seen.exists:
            self.batch.create(ref, data)
        else:
            option = self.db.write_option(last_update_time=seen.update_time)
            self.batch.update(ref, data, option=option)
        self.writes += 1


def read_decide_write(db: Client, attempt: Callable[[GuardedBatch], T]) -> T:
    """Run `attempt` (reads, then stages guarded writes) and commit what it staged; again
    when the commit is refused. Raises Contended after ATTEMPTS tries."""
    for tries in range(ATTEMPTS):
        batch = GuardedBatch(db)
        outcome = attempt(batch)
        if not batch.writes:
            return outcome
        try:
            batch.batch.commit()
            return outcome
        except COMMIT_REFUSED:
            time.sleep(random.uniform(0, min(0.4, 0.01 * 2**tries)))
    raise Contended(f"the documents kept changing in {ATTEMPTS} attempts")
