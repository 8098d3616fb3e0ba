"""The scheduled reconciler per venue account, with Alpaca on the Broker API: a reconcile_venues
run enqueues its linked accounts' work on the reconcilevenueaccount queue (pages of links, one
task per account), which the tasks emulator runs against the functions emulator and the
Broker API fake. Every account's drift is written once a run, from one positions request; a
run delivered again adds no task; a task for an account no longer linked does nothing and says
why."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing_firebase.handlers.reconcile_venue_account import parse_task
from smart_routing_firebase.handlers.run_scheduled_strategies import schedule_tick
from smart_routing_firebase.platform.task_queue import MalformedTask
from smart_routing_firebase.reconciliation.account_fanout import (
    TASK_FUNCTION,
    account_task,
    page_task,
    run_account,
    run_id,
    run_page,
    start_fan_out,
)
from smart_routing_firebase.stores import paths, reconcile_runs
from smart_routing_firebase.stores.reconcile_runs import ACCOUNT_TASKS
from smart_routing_firebase.stores.venue_accounts import FirestoreLinkedAccounts
from tests.emulator_broker.conftest import KEYS
from tools.account_fanout import (
    VENUE,
    positions_requests,
    seed_links,
    unlink,
    wait_for_accounts,
)
from tools.emulator_client import run_scheduled
from tools.waiting import wait_until
from venues.alpaca.broker_api import AlpacaBrokerApi
from venues.settings import AlpacaBrokerSettings

FUNCTION = "reconcile_venues"
ACCOUNTS = 30
SYMBOL = "IBM"
RECORDED_WAIT_S = 10  # an account task's positions read to its record: well under a second


def now_tick() -> datetime:
    return schedule_tick(datetime.now(UTC))


def log_records(capsys) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]


@pytest.fixture
def broker_api(db, fakes) -> AlpacaBrokerApi:
    """The functions' Broker API adapter, in this process, on the fake."""
    _, broker = fakes
    settings = AlpacaBrokerSettings(api_key=KEYS["ALPACA_BROKER_API_KEY"],
                                    secret_key=KEYS["ALPACA_BROKER_SECRET_KEY"],
                                    url=broker.url)  # fmt: skip
    return AlpacaBrokerApi(settings, 2.0, FirestoreLinkedAccounts(db))


def test_a_run_reconciles_each_linked_account_once_in_a_task_of_its_own(db, fakes):
    _, broker = fakes
    # The emulator also runs the body at the current second whenever it starts a worker: this
    # test's runs are a minute or two back, so that none shares its run (its tick) with those.
    base = now_tick()
    run, later = base - timedelta(minutes=2), base - timedelta(minutes=1)
    tenant = f"fan-{uuid.uuid4().hex[:6]}"
    links = seed_links(db, broker, tenant, ACCOUNTS, SYMBOL)
    try:
        response = run_scheduled(FUNCTION, run)
        assert response.status_code == 200, response.text
        records = wait_for_accounts(db, run, links)

        assert all(record["runs"] == 1 for record in records.values())
        for n, (uid, account_id, link_path) in enumerate(links):
            report = db.document(paths.user_drift(VENUE, tenant, uid)).get().to_dict()
            # This run's, or a later one's (the emulator's own runs write it too).
            assert report["run"] >= run_id(run) and report["account_id"] == account_id
            assert report["drifted"] == ([SYMBOL] if n % 3 == 1 else []), uid
            assert records[link_path]["last_outcome"] == (
                {"drifted": 1} if n % 3 == 1 else {"in_step": 1}
            )
        assert_one_venue_request_per_account_task(db, broker, links)

        # Delivered again: the run finds its fan-out started and enqueues nothing; one that
        # died before recording it enqueues its first page again, which the queue refuses.
        assert run_scheduled(FUNCTION, run).status_code == 200
        assert start_fan_out(db, VENUE, run) == {"already_fanned_out": 1}
        db.document(reconcile_runs.run_path(run_id(run))).delete()
        assert start_fan_out(db, VENUE, run) == {"page_already_enqueued": 1}

        # The next run is the signal that the queue has drained: its tasks ran, and the
        # first run's did not run again.
        assert run_scheduled(FUNCTION, later).status_code == 200
        wait_for_accounts(db, later, links)
        again = reconcile_runs.task_records(db, run_id(run), ACCOUNT_TASKS)
        assert {path: again[task]["runs"] for task, path in _task_ids(run, links).items()} == {
            path: 1 for _, _, path in links
        }
        assert_one_venue_request_per_account_task(db, broker, links)
    finally:
        unlink(db, links)


def assert_one_venue_request_per_account_task(db, broker, links) -> None:
    """Every request the venue had for these accounts is one account task's positions read:
    as many as their tasks' deliveries over every run (the emulator's own runs included). A
    task of the emulator's own run may be between its read and its record: each account is
    awaited until the two agree (and are not 0)."""
    for _, account_id, link_path in links:
        recorded = wait_until(
            partial(_recorded_deliveries, db, broker, account_id, link_path), RECORDED_WAIT_S
        )
        asked = broker.server.requests_to(f"/v1/trading/accounts/{account_id}")
        asked += broker.server.requests_to(f"/v1/accounts/{account_id}")
        assert len(asked) == recorded, link_path  # nothing else asked of the account


def _recorded_deliveries(db, broker, account_id: str, link_path: str) -> int | None:
    """The account's recorded task deliveries, once they are its positions reads."""
    tasks = db.collection_group(ACCOUNT_TASKS).where(filter=FieldFilter("link", "==", link_path))
    recorded = sum(task.get("runs") for task in tasks.stream())
    return recorded if recorded == positions_requests(broker, account_id) else None


def _task_ids(run: datetime, links: list[tuple[str, str, str]]) -> dict[str, str]:
    return {account_task(run, VENUE, path, account)[0]: path for _, account, path in links}


def test_pages_of_links_enqueue_every_account_once_and_a_page_again_adds_nothing(db):
    """The pages in this process, with a queue that refuses an id it has seen, as Cloud Tasks
    does: 30 links in pages of 7."""
    venue = f"pages-{uuid.uuid4().hex[:6]}"  # a venue of its own: only this test's links
    tenant = f"pg-{uuid.uuid4().hex[:6]}"
    run = now_tick()
    links = [(paths.venue_account(tenant, f"u{n:02d}"), str(uuid.uuid4())) for n in range(30)]
    for path, account_id in links:
        db.document(path).set({"uid": path.rsplit("/", 1)[1], "tenant_id": tenant,
                               "venue": venue, "account_id": account_id})  # fmt: skip
    seen: dict[str, dict[str, str]] = {}

    def enqueue(function: str, payload: dict[str, str], task_id: str, delay_s: int) -> str:
        assert function == TASK_FUNCTION and parse_task(payload)[0] == run
        if task_id in seen:
            return "already_enqueued"
        seen[task_id] = payload
        return "enqueued"

    try:
        assert start_fan_out(db, venue, run, enqueue) == {"page_enqueued": 1}
        done: set[str] = set()
        while pending := [(t, p) for t, p in seen.items() if "after" in p and t not in done]:
            for task_id, payload in pending:
                done.add(task_id)
                run_page(db, venue, run, payload["after"], enqueue, page_size=7)
        pages_run = len(done)
        accounts = sorted((p["link"], p["account_id"]) for p in seen.values() if "link" in p)
        assert accounts == sorted(links) and pages_run == 5  # 7 + 7 + 7 + 7 + 2
        first_id, first_payload = account_task(run, venue, *links[0])
        assert seen[first_id] == first_payload
        # A page delivered again enqueues the same ids: the queue adds nothing.
        again = run_page(db, venue, run, links[6][0], enqueue, page_size=7)
        assert again == Counter(links=7, already_enqueued=8)
        assert page_task(run, venue, links[6][0])[0] in seen
    finally:
        for path, _ in links:
            db.document(path).delete()


def test_an_account_task_for_a_link_that_is_gone_or_changed_does_nothing_and_says_why(
    db, fakes, broker_api, capsys
):
    _, broker = fakes
    tenant = f"gone-{uuid.uuid4().hex[:6]}"
    (uid, account_id, link_path), (_, other_account, other_path) = seed_links(
        db, broker, tenant, 2, SYMBOL
    )
    run = now_tick()
    try:
        unlink(db, [(uid, account_id, link_path)])
        assert run_account(db, broker_api, VENUE, run, link_path, account_id) == {"skipped": 1}
        assert run_account(db, broker_api, VENUE, run, other_path, account_id) == {"skipped": 1}
        assert run_account(db, None, VENUE, run, other_path, other_account) == {"skipped": 1}
        stale = run - timedelta(minutes=6)
        assert run_account(db, broker_api, VENUE, stale, other_path, other_account) == {
            "skipped": 1
        }
        assert run_page(db, VENUE, stale, "", lambda *task: "enqueued") == {"skipped": 1}
        assert positions_requests(broker, account_id) == 0
        assert positions_requests(broker, other_account) == 0
        assert not db.document(paths.user_drift(VENUE, tenant, uid)).get().exists

        assert run_account(db, broker_api, VENUE, run, other_path, other_account) == {"drifted": 1}
        assert positions_requests(broker, other_account) == 1
    finally:
        unlink(db, [(uid, other_account, other_path)])
    skipped = [r for r in log_records(capsys) if r["event"] == "exec.reconcile_account_skipped"]
    assert [r["reason"] for r in skipped] == [
        "the account is no longer linked",
        f"the user is now linked to account {other_account}",
        "this deployment has no per-user alpaca venue",
        "its run is more than 5 minutes old",
        "its run is more than 5 minutes old",
    ]
    assert skipped[0]["task"] == f"{link_path} (alpaca account {account_id})"


def test_a_task_that_is_not_ours_is_refused():
    run = now_tick().isoformat()
    malformed = [
        None,
        {"run": run},
        {"run": run, "venue": "alpaca", "after": 3},
        {"run": "yesterday", "venue": "alpaca", "after": ""},
        {"run": run, "venue": "alpaca", "link": "users/x", "account_id": "a"},
    ]
    for data in malformed:
        with pytest.raises(MalformedTask):
            parse_task(data)
