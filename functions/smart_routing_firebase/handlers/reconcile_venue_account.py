"""The reconcilevenueaccount task: one page of a reconcile run's venue account links, or one
linked account's work in that run (reconciliation/account_fanout.py).

A page task is `{"run", "venue", "after"}` (`after`: the last link path of the page before,
"" for the first); an account task is `{"run", "venue", "link", "account_id"}`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing_firebase.handlers.run_scheduled_strategies import schedule_tick
from smart_routing_firebase.platform.task_queue import MalformedTask
from smart_routing_firebase.reconciliation.account_fanout import run_account, run_page
from smart_routing_firebase.reconciliation.user_drift import per_user_venue
from smart_routing_firebase.stores import paths

PAGE_FIELDS = frozenset({"run", "venue", "after"})
ACCOUNT_FIELDS = frozenset({"run", "venue", "link", "account_id"})


def handle_account_task(data: Any) -> Counter[str]:
    """The task function's body, on the instance's services. Raises MalformedTask for a task
    that is not one of ours."""
    from smart_routing_firebase.platform.services import services

    run, fields = parse_task(data)
    svc = services()
    if "after" in fields:
        return run_page(svc.db, fields["venue"], run, fields["after"])
    return run_account(svc.db, per_user_venue(svc.venues), fields["venue"], run,
                       fields["link"], fields["account_id"])  # fmt: skip


def parse_task(data: Any) -> tuple[datetime, dict[str, str]]:
    """(the run's tick, the task's text fields), or MalformedTask saying what is wrong."""
    if not isinstance(data, dict) or set(data) not in (PAGE_FIELDS, ACCOUNT_FIELDS):
        raise MalformedTask(
            "the task's data must be an object of run, venue and after (a page), or of run, "
            "venue, link and account_id (an account)"
        )
    if not all(isinstance(value, str) for value in data.values()):
        raise MalformedTask("the task's fields must be text")
    try:
        run = datetime.fromisoformat(data["run"])
    except ValueError as exc:
        raise MalformedTask(f"run: {exc}") from exc
    for field in ("after", "link"):
        if data.get(field):
            check_link_path(data[field])
    return schedule_tick(run), dict(data)


def check_link_path(path: str) -> None:
    """A tenants/{tenant_id}/venue_accounts/{uid} path, else MalformedTask."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "tenants" or parts[2] != "venue_accounts":
        raise MalformedTask(f"{path!r} is not a tenants/{{tenant_id}}/venue_accounts/{{uid}} path")
    try:
        canonical = paths.venue_account(parts[1], parts[3])
    except InvalidIdentifier as exc:
        raise MalformedTask(f"{path!r}: {exc}") from exc
    if canonical != path:
        raise MalformedTask(f"{path!r} is not a venue account link's path")
