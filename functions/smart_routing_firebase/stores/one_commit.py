"""One execution, one Firestore commit.

Inside `one_commit(db)`, the stores do not write as they go: the paper account, its positions,
the order, the ledger trade and the idempotency claim's completion are staged in one batch and
committed together, so there is never a state in which cash moved and no ledger trade exists,
or the reverse. What the batch depends on is guarded by preconditions instead of a transaction:
the account is written only if it is unchanged since the gate read it (`last_update_time`, or
`exists=False` for a new one), and the order and the trade are created, never overwritten.

A commit refused by a precondition has written nothing, and the execution may run again: the
paper venue has no effect outside these documents, and a real venue is idempotent on the
client_order_id. Two refusals mean different things:

- the account moved since the gate read it (another order of the same user committed first):
  contention. The whole execution runs again in a new scope, on the account as it is now,
  after a jittered exponential backoff, until it commits or the contention budget
  (CONTENTION_BUDGET_S) is spent; then `CommitContended`: nothing was written, retry. So one
  user's orders that arrive together are serialized on their account document, each getting
  the answer of the commit that happened, never "unknown".
- something the execution creates exists (its order, its trade, its idempotency claim): the
  caller takes the stores' transactional path, which reads what exists and answers with it.

The scope is per request, held in a context variable so the engine and its ports stay unaware
of it; outside a scope every store writes at once, as before.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from google.api_core.exceptions import Aborted, AlreadyExists, Conflict, FailedPrecondition
from google.cloud.firestore import Client, DocumentReference

from smart_routing import logs
from smart_routing_firebase.stores import backoff

T = TypeVar("T")

# What a refused commit raises: a precondition failed, or a document to create exists. Which
# one is not told by the class (a new account is created, so a burst of a new user's first
# orders is refused with AlreadyExists): PendingCommit.guarded_moved reads the guarded
# documents again. Aborted (a transaction holds a document) is contention too.
COMMIT_REFUSED = (AlreadyExists, FailedPrecondition, Conflict, Aborted)

# How long one execution keeps retrying a contended commit: well inside the callable's 60 s
# timeout, and long enough for one user's burst of tens of orders to serialize.
CONTENTION_BUDGET_S = 20.0


class CommitContended(RuntimeError):
    """Other commits kept moving the account for the whole budget: nothing was written."""


class PendingCommit:
    """The writes of one execution, and the documents it read that those writes depend on."""

    def __init__(self, db: Client) -> None:
        self.db = db
        self._batch = db.batch()
        self._read: dict[str, Any] = {}  # path -> snapshot, for the preconditions
        # path -> (ref, the snapshot replace_if_unchanged wrote against, or None: created)
        self._guarded: dict[str, tuple[DocumentReference, Any | None]] = {}
        self.writes = 0

    def remember(self, snapshot: Any) -> None:
        self._read[snapshot.reference.path] = snapshot

    def read(self, ref: DocumentReference) -> Any | None:
        """The snapshot of `ref` already read in this scope, if any."""
        return self._read.get(ref.path)

    def read_together(
        self, refs: list[DocumentReference], also: list[DocumentReference]
    ) -> dict[str, Any]:
        """`refs` as this scope read them (path -> snapshot). Those not read yet are read in
        one round trip with `also`, what the execution will read next, which read() then
        gives without another."""
        missing = [ref for ref in refs if ref.path not in self._read]
        if missing:
            asked = {ref.path for ref in missing}
            extra = [ref for ref in also if ref.path not in self._read and ref.path not in asked]
            for snapshot in self.db.get_all(missing + extra):
                self.remember(snapshot)
        return {ref.path: self._read[ref.path] for ref in refs}

    def replace_if_unchanged(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        """Write `data` over `ref` only if it is as this scope read it (absent: create it)."""
        seen = self._read.get(ref.path)
        if seen is None or not seen.exists:
            self._batch.create(ref, data)
        else:
            option = self.db.write_option(last_update_time=seen.update_time)
            self._batch.update(ref, data, option=option)
        self._guarded[ref.path] = (ref, seen)
        self.writes += 1

    def guarded_moved(self) -> bool:
        """Whether a document written with replace_if_unchanged changed since this scope read
        it (or appeared, when it read none): one read, after a refused commit."""
        if not self._guarded:
            return False
        for now in self.db.get_all([ref for ref, _ in self._guarded.values()]):
            before = self._guarded[now.reference.path][1]
            if before is None or not before.exists:
                if now.exists:
                    return True
            elif not now.exists or now.update_time != before.update_time:
                return True
        return False

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


def commit_with_backoff(
    db: Client, work: Callable[[], T], budget_s: float | None = None
) -> T | None:
    """`work` in one commit, run again after each jittered pause while the commit is refused
    for contention: its result, or None when it was refused because a document it creates
    exists. Raises CommitContended when the budget runs out (nothing written)."""
    budget = CONTENTION_BUDGET_S if budget_s is None else budget_s
    attempts, reason = 0, ""
    for pause in itertools.chain([0.0], backoff.pauses(budget)):
        if attempts:
            logs.log_event(logs.LogEvent.COMMIT_RETRIED, reason=reason, attempt=attempts)
            time.sleep(pause)
        attempts += 1
        with one_commit(db) as commit:
            result = work()
        try:
            commit.commit()
            return result
        except COMMIT_REFUSED as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if not (isinstance(exc, Aborted) or commit.guarded_moved()):
                logs.log_event(logs.LogEvent.COMMIT_RETRIED, reason=reason)
                return None
    logs.log_event(
        logs.LogEvent.COMMIT_CONTENDED, severity="WARNING", attempts=attempts, budget_s=budget,
        reason=reason,
    )  # fmt: skip
    raise CommitContended(
        f"{attempts} commits in {budget:g} s were refused because other orders of this account "
        "committed first; nothing was placed"
    )


def run_in_one_commit(db: Client, work: Callable[[], T], budget_s: float | None = None) -> T:
    """`work` in one commit, retried on contention (commit_with_backoff); when something it
    creates exists, `work` again with every store writing at once on its transactional path,
    which reads what exists. Raises CommitContended as commit_with_backoff does."""
    result = commit_with_backoff(db, work, budget_s)
    return work() if result is None else result
