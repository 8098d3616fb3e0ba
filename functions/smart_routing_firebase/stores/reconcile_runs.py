"""A reconcile run's own documents, under reconcile_runs/{run id} (the run's tick to the
second, as scheduled_ticks names a tick; a collection of its own, since the strategy ticks fall
on the same minutes):

- the run itself: when its venue accounts' fan-out was started (its first page task
  enqueued), so a run delivered again enqueues nothing;
- page_tasks/{task id}: each page task's deliveries and what it enqueued;
- account_tasks/{task id}: each venue account task's deliveries and how the last one ended.

Every document carries `expire_at`, for a Firestore TTL policy to delete (docs/deploy.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client

from smart_routing.domain.identifiers import check_id
from smart_routing_firebase.stores.scheduled_ticks import RETAINED

RUNS = "reconcile_runs"
PAGE_TASKS, ACCOUNT_TASKS = "page_tasks", "account_tasks"


def run_path(run: str) -> str:
    return f"{RUNS}/{check_id(run, 'run id')}"


def task_path(run: str, kind: str, task_id: str) -> str:
    return f"{run_path(run)}/{kind}/{check_id(task_id, 'task id')}"


def accounts_fanned_out(db: Client, run: str) -> bool:
    """Whether the run's venue accounts' fan-out has been started."""
    snapshot = db.document(run_path(run)).get()
    return snapshot.exists and snapshot.get("accounts_fanned_out_at") is not None


def mark_accounts_fanned_out(db: Client, run: str, at: datetime, venue: str) -> None:
    db.document(run_path(run)).set(
        {"accounts_fanned_out_at": at, "venue": venue, "expire_at": at + RETAINED}, merge=True
    )


def record_task(
    db: Client, run: str, kind: str, task_id: str, fields: Mapping[str, Any],
    outcome: Mapping[str, int], at: datetime,
) -> None:  # fmt: skip
    """One more delivery of a page or account task, and what it did."""
    db.document(task_path(run, kind, task_id)).set(
        {**fields, "runs": firestore.Increment(1), "last_outcome": dict(outcome),
         "last_run_at": at, "expire_at": at + RETAINED},
        merge=True,
    )  # fmt: skip


def task_records(db: Client, run: str, kind: str) -> dict[str, dict[str, Any]]:
    """{task id: record} of the run's tasks of `kind` (for tests and benches)."""
    tasks = db.collection(f"{run_path(run)}/{kind}")
    return {doc.id: doc.to_dict() or {} for doc in tasks.stream()}
