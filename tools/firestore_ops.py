"""Counting the Firestore operations some work makes, as Firestore bills them: one write per
document a commit writes (create, update, set or delete; a server timestamp is part of its
write), one read per document a get or a query returns, and one for a document a get finds
missing or a query that returns nothing.

It wraps the methods of this process's Firestore client (`Client._firestore_api`), so it
counts what this process sends, on the real client path, and restores them on exit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class OperationCount:
    reads: int = 0
    writes: int = 0  # deletes included
    deletes: int = 0  # billed at the delete price
    commits: int = 0


@contextlib.contextmanager
def counting(db: Any) -> Iterator[OperationCount]:
    count, lock = OperationCount(), threading.Lock()
    api = db._firestore_api
    commit, batch_get, run_query = api.commit, api.batch_get_documents, api.run_query

    def add(reads: int = 0, writes: int = 0, deletes: int = 0, commits: int = 0) -> None:
        with lock:
            count.reads += reads
            count.writes += writes
            count.deletes += deletes
            count.commits += commits

    def counted_commit(*args: Any, **kwargs: Any) -> Any:
        writes = (kwargs.get("request") or args[0])["writes"]
        deletes = sum(1 for w in writes if getattr(w, "_pb", w).WhichOneof("operation") == "delete")
        add(writes=len(writes), deletes=deletes, commits=1)
        return commit(*args, **kwargs)

    def counted_batch_get(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for response in batch_get(*args, **kwargs):
            if response._pb.WhichOneof("result") is not None:  # found or missing
                add(reads=1)
            yield response

    def counted_run_query(*args: Any, **kwargs: Any) -> Iterator[Any]:
        returned = 0
        for response in run_query(*args, **kwargs):
            if response._pb.HasField("document"):
                returned += 1
                add(reads=1)
            yield response
        if not returned:
            add(reads=1)

    api.commit, api.batch_get_documents, api.run_query = (
        counted_commit, counted_batch_get, counted_run_query,
    )  # fmt: skip
    try:
        yield count
    finally:
        del api.commit, api.batch_get_documents, api.run_query
