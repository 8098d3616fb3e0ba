"""One execution, one Firestore commit.

Inside `one_commit(db)`, the stores do not write as they go: the paper account, its positions,
the order, the ledger trade and the idempotency claim's completion are staged in one batch and
committed together, so there is never a state in which cash moved and no ledger trade exists,
or the reverse. What the batch depends on is guarded by preconditions instead of a transaction:
the account is written only if it is unchanged since the gate read it (`last_update_time`, or
`exists=False` for a new one), and the order and the trade are created, never overwritten.

A commit refused by a precondition (another order of the same user moved the account first, or
the order already exists) has written nothing; the caller runs the execution again without a
commit scope, on the stores' transactional path. The paper venue has no effect outside these
documents, and a real venue is idempotent on the client_order_id, so running it again is safe.

The scope is per request, held in a context variable so the engine and its ports stay unaware
of it; outside a scope every store writes at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from google.api_core.exceptions import Aborted, AlreadyExists, Conflict, FailedPrecondition
from google.cloud.firestore import Client, DocumentReference

from smart_routing import logs

T = TypeVar("T")

# What a refused commit raises: a precondition failed, or a document to create exists.
COMMIT_REFUSED = (AlreadyExists, FailedPrecondition, Conflict, Aborted)


class PendingCommit:
    """The writes of one execution, and the documents it read that those writes depend on."""

    def __init__(self, db: Client) -> None:
        self.db = db
        self._batch = db.batch()
        self._read: dict[str, Any] = {}  # path -> snapshot, for the preconditions
        self.writes = 0

    def remember(self, snapshot: Any) -> None:
        self._read[snapshot.reference.path] = snapshot

    def read(self, ref: DocumentReference) -> Any | None:
        """The snapshot of `ref` already read in this scope, if any."""
        return self._read.get(ref.path)

    def replace_if_unchanged(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        """Write `data` over `ref` only if it is as this scope read it (absent: create it)."""
        seen = self._read.get(ref.path)
        if seen is None or not seen.exists:
            self._batch.create(ref, data)
        else:
            option = self.db.write_option(last_update_time=seen.update_time)
            self._batch.update(ref, data, option=option)
        self.writes += 1

    def create(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        self._batch.create(ref, data)
        self.writes += 1

    def set(self, ref: DocumentReference, data: dict[str, Any], merge: bool = False) -> None:
        self._batch.set(ref, data, merge=merge)
        self.writes += 1

    def update(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        self._batch.update(ref, data)
        self.writes += 1

    def delete(self, ref: DocumentReference) -> None:
        self._batch.delete(ref)
        self.writes += 1

    def commit(self) -> None:
        if self.writes:
            self._batch.commit()


_current: ContextVar[PendingCommit | None] = ContextVar("pending_commit", default=None)


def pending() -> PendingCommit | None:
    """The commit the current execution stages its writes in, or None: write at once."""
    return _current.get()


@contextmanager
def one_commit(db: Client) -> Iterator[PendingCommit]:
    """Stage every store write made inside the block; the caller commits (or drops) them."""
    commit = PendingCommit(db)
    token = _current.set(commit)
    try:
        yield commit
    finally:
        _current.reset(token)


def attempt_in_one_commit(db: Client, work: Callable[[], T]) -> T | None:
    """Run `work` with its writes staged, and commit them: its result, or None when a
    precondition refused the commit (then nothing was written)."""
    with one_commit(db) as commit:
        result = work()
    try:
        commit.commit()
    except COMMIT_REFUSED as exc:
        logs.log_event(logs.LogEvent.COMMIT_RETRIED, reason=f"{type(exc).__name__}: {exc}")
        return None
    return result


def run_in_one_commit(db: Client, work: Callable[[], T]) -> T:
    """`work` in one commit; when that is refused, `work` again with every store writing at
    once on its transactional path, which sees what moved first."""
    result = attempt_in_one_commit(db, work)
    return work() if result is None else result
