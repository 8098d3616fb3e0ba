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

Some documents are moved by many requests that share nothing else (a tenant's rate shard).
A step that writes them is `retakeable`: when only its documents moved, that step alone is run
again on them as they are now and the same execution is committed again, so such contention
costs a read and a commit, not a whole execution.

The scope is per request, held in a context variable so the engine and its ports stay unaware
of it; outside a scope every store writes at once, as before.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from google.api_core.exceptions import Aborted, AlreadyExists, Conflict, FailedPrecondition
from google.cloud.firestore import Client, DocumentReference, WriteBatch

from smart_routing import logs
from smart_routing_firebase.stores import backoff

T = TypeVar("T")

# What a refused commit raises: a precondition failed, or a document to create exists. Which
# one is not told by the class (a new account is created, so a burst of a new user's first
# orders is refused with AlreadyExists): PendingCommit.moved reads the guarded
# documents again. Aborted (a transaction holds a document) is contention too.
COMMIT_REFUSED = (AlreadyExists, FailedPrecondition, Conflict, Aborted)

# How long one execution keeps retrying a contended commit: well inside the callable's 60 s
# timeout, and long enough for one user's burst of tens of orders to serialize.
CONTENTION_BUDGET_S = 20.0


class CommitContended(RuntimeError):
    """Other commits kept moving the account for the whole budget: nothing was written."""


@dataclass(frozen=True)
class _Write:
    path: str
    step: int | None  # the retakeable step that staged it (PendingCommit.retakeable)
    apply: Callable[[WriteBatch], Any]


class PendingCommit:
    """The writes of one execution, and the documents it read that those writes depend on."""

    def __init__(self, db: Client) -> None:
        self.db = db
        self._writes: list[_Write] = []
        self._read: dict[str, Any] = {}  # path -> snapshot, for the preconditions
        # path -> (ref, the snapshot replace_if_unchanged wrote against, or None: created)
        self._guarded: dict[str, tuple[DocumentReference, Any | None]] = {}
        self._steps: list[Callable[[], None]] = []
        self._step_reads: dict[int, set[str]] = {}
        self._staging: int | None = None  # the retakeable step running
        self._prefetch: list[DocumentReference] = []
        self._created: list[DocumentReference] = []  # by create(): refused if they exist

    @property
    def writes(self) -> int:
        return len(self._writes)

    def remember(self, snapshot: Any) -> None:
        self._read[snapshot.reference.path] = snapshot

    def read(self, ref: DocumentReference) -> Any | None:
        """The snapshot of `ref` already read in this scope, if any."""
        return self._read.get(ref.path)

    def prefetch(self, ref: DocumentReference) -> None:
        """Read `ref` in this scope's next round trip, whoever asks for it."""
        self._prefetch.append(ref)

    def read_together(
        self, refs: list[DocumentReference], also: list[DocumentReference]
    ) -> dict[str, Any]:
        """`refs` as this scope read them (path -> snapshot). Those not read yet are read in
        one round trip with `also`, what the execution will read next, and what was
        prefetched, which read() then gives without another."""
        if self._staging is not None:
            self._step_reads[self._staging].update(ref.path for ref in refs)
        missing = [ref for ref in refs if ref.path not in self._read]
        if missing:
            asked = {ref.path for ref in missing}
            extra = [
                ref for ref in [*also, *self._prefetch]
                if ref.path not in self._read and ref.path not in asked
            ]  # fmt: skip
            for snapshot in self.db.get_all(missing + extra):
                self.remember(snapshot)
        return {ref.path: self._read[ref.path] for ref in refs}

    def replace_if_unchanged(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        """Write `data` over `ref` only if it is as this scope read it (absent: create it)."""
        seen = self._read.get(ref.path)
        if seen is None or not seen.exists:
            self._stage(ref, lambda batch: batch.create(ref, data))
        else:
            option = self.db.write_option(last_update_time=seen.update_time)
            self._stage(ref, lambda batch: batch.update(ref, data, option=option))
        self._guarded[ref.path] = (ref, seen)

    def retakeable(self, step: Callable[[], None]) -> None:
        """Run `step`, which reads documents many requests update at once (a rate bucket) and
        stages guarded writes on them. A commit refused only because those moved runs `step`
        again on them as they are now (retake), not the whole execution."""
        self._steps.append(step)
        self._run_step(len(self._steps) - 1)

    def moved(self) -> set[str]:
        """The documents written with replace_if_unchanged that changed since this scope read
        them (or appeared, when it read none): one read, after a refused commit."""
        if not self._guarded:
            return set()
        changed = set()
        for now in self.db.get_all([ref for ref, _ in self._guarded.values()]):
            before = self._guarded[now.reference.path][1]
            if before is None or not before.exists:
                if now.exists:
                    changed.add(now.reference.path)
            elif not now.exists or now.update_time != before.update_time:
                changed.add(now.reference.path)
        return changed

    def retake(self, moved: set[str]) -> bool:
        """When every one of `moved` was written by a retakeable step, run those steps again
        on their documents read anew, and say so; else False: the execution must run again."""
        steps = {w.step for w in self._writes if w.path in moved}
        if not moved or None in steps:
            return False
        for step in sorted(s for s in steps if s is not None):
            staged = {w.path for w in self._writes if w.step == step}
            for path in self._step_reads.pop(step) | staged:
                self._read.pop(path, None)
                self._guarded.pop(path, None)
            self._writes = [w for w in self._writes if w.step != step]
            self._created = [ref for ref in self._created if ref.path not in staged]
            token = _current.set(self)  # the step stages in this commit, as it did first
            try:
                self._run_step(step)
            finally:
                _current.reset(token)
        return True

    def _run_step(self, step: int) -> None:
        self._staging = step
        self._step_reads[step] = set()
        try:
            self._steps[step]()
        finally:
            self._staging = None

    def create(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        self._created.append(ref)
        self._stage(ref, lambda batch: batch.create(ref, data))

    def landed(self) -> bool:
        """Whether every document this commit creates exists: after a refused commit whose
        created ids no other request uses (a keyless order's), its first send was applied
        and only the answer was lost (the client library sent it again, and that was refused
        by what the first wrote)."""
        return bool(self._created) and all(s.exists for s in self.db.get_all(self._created))

    def set(self, ref: DocumentReference, data: dict[str, Any], merge: bool = False) -> None:
        self._stage(ref, lambda batch: batch.set(ref, data, merge=merge))

    def update(self, ref: DocumentReference, data: dict[str, Any]) -> None:
        self._stage(ref, lambda batch: batch.update(ref, data))

    def delete(self, ref: DocumentReference) -> None:
        self._stage(ref, lambda batch: batch.delete(ref))

    def _stage(self, ref: DocumentReference, apply: Callable[[WriteBatch], Any]) -> None:
        self._writes.append(_Write(ref.path, self._staging, apply))

    def commit(self) -> None:
        if not self._writes:
            return
        batch = self.db.batch()
        for write in self._writes:
            write.apply(batch)
        batch.commit()


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
    db: Client, work: Callable[[], T], budget_s: float | None = None, own_ids: bool = False
) -> T | None:
    """`work` in one commit, run again after each jittered pause while the commit is refused
    for contention (when only a retakeable step's documents moved, that step alone is run
    again): its result, or None when it was refused because a document it creates exists.
    With `own_ids` (what `work` creates has ids no other request uses), a refused commit
    whose documents all exist is its own, applied: its result. Raises CommitContended when
    the budget runs out (nothing written)."""
    budget = CONTENTION_BUDGET_S if budget_s is None else budget_s
    attempts, reason = 0, ""
    commit: PendingCommit | None = None
    result: T | None = None
    for pause in itertools.chain([0.0], backoff.pauses(budget)):
        if attempts:
            logs.log_event(logs.LogEvent.COMMIT_RETRIED, reason=reason, attempt=attempts)
            time.sleep(pause)
        attempts += 1
        if commit is None:
            with one_commit(db) as commit:
                result = work()
        try:
            commit.commit()
            return result
        except COMMIT_REFUSED as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if own_ids and commit.landed():
                return result
            moved = set() if isinstance(exc, Aborted) else commit.moved()
            if not (isinstance(exc, Aborted) or moved):
                logs.log_event(logs.LogEvent.COMMIT_RETRIED, reason=reason)
                return None
            if not commit.retake(moved):
                commit = None  # run the execution again, on the documents as they are now
    logs.log_event(
        logs.LogEvent.COMMIT_CONTENDED, severity="WARNING", attempts=attempts, budget_s=budget,
        reason=reason,
    )  # fmt: skip
    raise CommitContended(
        f"{attempts} commits in {budget:g} s were refused because other writes to this "
        "account's documents came first or held them; nothing was placed"
    )


def run_in_one_commit(
    db: Client, work: Callable[[], T], budget_s: float | None = None, own_ids: bool = False
) -> T:
    """`work` in one commit, retried on contention (commit_with_backoff); when something it
    creates exists, `work` again with every store writing at once on its transactional path,
    which reads what exists. Raises CommitContended as commit_with_backoff does."""
    result = commit_with_backoff(db, work, budget_s, own_ids)
    return work() if result is None else result
