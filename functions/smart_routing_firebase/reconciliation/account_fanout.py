"""A reconcile run's work per venue account (Alpaca's Broker API: one account per linked user),
fanned out on the reconcilevenueaccount task queue so the run's own time does not grow with
the number of accounts:

- the run enqueues one page task (its first page of links), in one run of every
  EXEC_RECONCILE_ACCOUNTS_EVERY_MIN (1: each);
- a page task lists up to PAGE_SIZE links of the venue after its cursor, in document order,
  enqueues the next page's task first (when its page was full), then one account task per
  link;
- an account task reads that account's positions at the venue (one request) and writes the
  user's drift report.

Every task id is derived from the run and what the task covers, so a run, page or account task
delivered again enqueues nothing new (the queue refuses an id it has seen, which counts as
done). A task whose run is more than MAX_TASK_AGE old does nothing (a queue that far behind
has newer runs' tasks for the same accounts), and so does an account task whose link is gone
or changed: each says why (`exec.reconcile_account_skipped`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.config.environment import env_positive
from smart_routing.domain.errors import ConfigError
from smart_routing_firebase.platform import task_queue
from smart_routing_firebase.reconciliation.user_drift import write_user_drift
from smart_routing_firebase.stores import reconcile_runs, scheduled_ticks
from smart_routing_firebase.stores.reconcile_runs import ACCOUNT_TASKS, PAGE_TASKS

# Task queue ids take letters, digits and hyphens only: the function's name has no "_".
TASK_FUNCTION = "reconcilevenueaccount"
PAGE_SIZE = 100  # links a page task lists and enqueues (about 0.3 s of enqueues)
MAX_TASK_AGE = timedelta(minutes=5)
ACCOUNTS_EVERY_MIN = "EXEC_RECONCILE_ACCOUNTS_EVERY_MIN"
ENQUEUE_FAILED = "enqueue_failed"
_ENQUEUE_WORKERS = 8  # firebase-admin's HTTP pool keeps 10 connections
Enqueue = Callable[[str, dict[str, Any], str, int], str]


class PageUnfinished(RuntimeError):
    """Some of the page's tasks were not enqueued: the queue delivers the page again."""


def run_id(run: datetime) -> str:
    """The run as a document id (`run`: its tick, UTC, whole seconds)."""
    return scheduled_ticks.tick_id(run)


def task_id(run: datetime, *covers: str) -> str:
    """One id per (run, what the task covers). The digest comes first: Cloud Tasks serves
    ids with a common prefix (a timestamp) more slowly."""
    digest = hashlib.sha256("\x1f".join([run.isoformat(), *covers]).encode()).hexdigest()
    return f"{digest[:32]}-{run_id(run)}"


def page_task(run: datetime, venue: str, after: str) -> tuple[str, dict[str, str]]:
    """(task id, payload) of the page of links after `after` ("" for the first)."""
    payload = {"run": run.isoformat(), "venue": venue, "after": after}
    return task_id(run, "page", venue, after), payload


def account_task(
    run: datetime, venue: str, link_path: str, account_id: str
) -> tuple[str, dict[str, str]]:
    """(task id, payload) of one linked account's work in the run."""
    payload = {"run": run.isoformat(), "venue": venue, "link": link_path,
               "account_id": account_id}  # fmt: skip
    return task_id(run, "account", venue, link_path), payload


def accounts_every_min(env: Mapping[str, str]) -> int:
    """EXEC_RECONCILE_ACCOUNTS_EVERY_MIN: every how many minutes a run fans out to the linked
    accounts (1: every run). One Cloud Tasks queue dispatches at most 500 tasks a second, so
    accounts / (60 * this) must stay under it (docs/scaling.md)."""
    every = env_positive(env, ACCOUNTS_EVERY_MIN, 1)
    if every != int(every):
        raise ConfigError(f"{ACCOUNTS_EVERY_MIN}={every:g} must be a whole number of minutes")
    return int(every)


def accounts_due(run: datetime, every_min: int) -> bool:
    """Whether the run at `run` (a whole minute) is one that fans out: one minute in
    `every_min`, counted from the epoch, so every instance agrees."""
    return int(run.timestamp() // 60) % every_min == 0


def start_fan_out(
    db: Client,
    venue: str,
    run: datetime,
    enqueue: Enqueue = task_queue.enqueue,
    every_min: int = 1,
) -> Counter[str]:
    """The run's part: its first page task, once per run (a run delivered again finds it
    recorded and enqueues nothing), when the run is one of the `every_min` that fan out.
    Raises when the enqueue failed."""
    if not accounts_due(run, every_min):
        return Counter(not_due=1)
    key = run_id(run)
    if reconcile_runs.accounts_fanned_out(db, key):
        return Counter(already_fanned_out=1)
    identity, payload = page_task(run, venue, "")
    outcome = enqueue(TASK_FUNCTION, payload, identity, 0)
    reconcile_runs.mark_accounts_fanned_out(db, key, datetime.now(UTC), venue)
    return Counter({f"page_{outcome}": 1})


def run_page(
    db: Client,
    venue: str,
    run: datetime,
    after: str,
    enqueue: Enqueue = task_queue.enqueue,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> Counter[str]:
    """One page of the venue's links: the next page's task, then each link's. Raises
    PageUnfinished when an enqueue failed (its retry adds only what is missing)."""
    tally: Counter[str] = Counter()
    if _too_old(run, now):
        return _skipped(tally, run, venue, f"page after {after or 'the start'}", _TOO_OLD)
    links, last = _page_of_links(db, venue, after, page_size)
    tally["links"] = len(links)
    tasks = []
    if last is not None:  # a full page: there may be more after it
        tasks.append(page_task(run, venue, last))
    tasks += [account_task(run, venue, path, account_id) for path, account_id in links]
    tally.update(_enqueue_all(tasks, enqueue))
    identity, _ = page_task(run, venue, after)
    reconcile_runs.record_task(db, run_id(run), PAGE_TASKS, identity,
                               {"venue": venue, "after": after}, tally,
                               datetime.now(UTC))  # fmt: skip
    logs.log_counts(logs.LogEvent.RECONCILE_SUMMARY, tally, scope="account_page", venue=venue,
                    run=run.isoformat(), after=after)  # fmt: skip
    if tally[ENQUEUE_FAILED]:
        raise PageUnfinished(f"{tally[ENQUEUE_FAILED]} tasks of the page were not enqueued")
    return tally


def run_account(
    db: Client,
    broker: Any,
    venue: str,
    run: datetime,
    link_path: str,
    account_id: str,
    now: datetime | None = None,
) -> Counter[str]:
    """One linked account's work: its positions at the venue against the user's record, as
    the user's drift report. `broker`: the per-user venue's adapter (AlpacaBrokerApi), or None
    when this deployment has none. A venue error raises: the queue delivers the task again."""
    tally: Counter[str] = Counter()
    who = f"{link_path} ({venue} account {account_id})"
    if _too_old(run, now):
        return _skipped(tally, run, venue, who, _TOO_OLD)
    if broker is None or broker.name != venue:
        return _skipped(tally, run, venue, who, f"this deployment has no per-user {venue} venue")
    link = db.document(link_path).get().to_dict()
    if link is None or link.get("venue") != venue:
        return _skipped(tally, run, venue, who, "the account is no longer linked")
    if link.get("account_id") != account_id:
        return _skipped(tally, run, venue, who,
                        f"the user is now linked to account {link.get('account_id')}")  # fmt: skip
    rows = write_user_drift(db, venue, broker, link, run_id(run))
    if rows is None:
        return _skipped(tally, run, venue, who, "the link was ended or changed meanwhile")
    tally["drifted" if any(row["difference"] != 0 for row in rows) else "in_step"] += 1
    identity, _ = account_task(run, venue, link_path, account_id)
    reconcile_runs.record_task(db, run_id(run), ACCOUNT_TASKS, identity,
                               {"venue": venue, "link": link_path, "account_id": account_id},
                               tally, datetime.now(UTC))  # fmt: skip
    logs.log_counts(logs.LogEvent.RECONCILE_SUMMARY, tally, scope="account", venue=venue,
                    run=run.isoformat(), link=link_path, account_id=account_id)  # fmt: skip
    return tally


_TOO_OLD = f"its run is more than {int(MAX_TASK_AGE.total_seconds() // 60)} minutes old"


def _too_old(run: datetime, now: datetime | None) -> bool:
    return (now or datetime.now(UTC)) - run > MAX_TASK_AGE


def _skipped(
    tally: Counter[str], run: datetime, venue: str, what: str, reason: str
) -> Counter[str]:
    logs.log_event(logs.LogEvent.RECONCILE_ACCOUNT_SKIPPED, venue=venue, run=run.isoformat(),
                   task=what, reason=reason)  # fmt: skip
    tally["skipped"] += 1
    return tally


def _page_of_links(
    db: Client, venue: str, after: str, page_size: int
) -> tuple[list[tuple[str, str]], str | None]:
    """(link path, account id) of up to `page_size` links at `venue` after `after`, and the
    last link's path when the page was full (None: nothing after it)."""
    query = (
        db.collection_group("venue_accounts")
        .where(filter=FieldFilter("venue", "==", venue))
        .order_by("__name__")
        .limit(page_size)
    )
    if after:
        query = query.start_after({"__name__": db.document(after)})
    snapshots = list(query.stream())
    links = []
    for snapshot in snapshots:
        account_id = (snapshot.to_dict() or {}).get("account_id")
        if isinstance(account_id, str) and account_id:
            links.append((snapshot.reference.path, account_id))
    last = snapshots[-1].reference.path if len(snapshots) == page_size else None
    return links, last


def _enqueue_all(tasks: list[tuple[str, dict[str, str]]], enqueue: Enqueue) -> Counter[str]:
    """Each task, a few enqueues at a time; a failed one is logged and counted."""

    def one(task: tuple[str, dict[str, str]]) -> str:
        identity, payload = task
        try:
            return enqueue(TASK_FUNCTION, payload, identity, 0)
        except Exception as exc:  # the page is delivered again; what was enqueued stays
            logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="ERROR", task_id=identity,
                           error=logs.redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
            return ENQUEUE_FAILED

    if not tasks:
        return Counter()
    with ThreadPoolExecutor(max_workers=min(_ENQUEUE_WORKERS, len(tasks))) as pool:
        return Counter(pool.map(one, tasks))
