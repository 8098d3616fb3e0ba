"""How often a reconcile run fans out to the linked venue accounts
(EXEC_RECONCILE_ACCOUNTS_EVERY_MIN): one run in N, the same runs on every instance; a run that
is not one of them enqueues nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smart_routing.domain.errors import ConfigError
from smart_routing_firebase.reconciliation.account_fanout import (
    accounts_due,
    accounts_every_min,
    start_fan_out,
)

HOUR = [datetime(2026, 12, 7, 14, 0, tzinfo=UTC) + timedelta(minutes=n) for n in range(60)]


def test_every_run_fans_out_unless_told_otherwise():
    assert accounts_every_min({}) == 1
    assert all(accounts_due(run, 1) for run in HOUR)


def test_one_run_in_n_fans_out_the_same_on_every_instance():
    assert accounts_every_min({"EXEC_RECONCILE_ACCOUNTS_EVERY_MIN": "5"}) == 5
    due = [run.minute for run in HOUR if accounts_due(run, 5)]
    assert due == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]
    assert [run.minute for run in HOUR if accounts_due(run, 7)] == [
        1,
        8,
        15,
        22,
        29,
        36,
        43,
        50,
        57,
    ]


@pytest.mark.parametrize("value", ["0", "-5", "2.5", "often"])
def test_a_cadence_that_is_not_a_whole_number_of_minutes_is_a_configuration_error(value):
    with pytest.raises(ConfigError, match="EXEC_RECONCILE_ACCOUNTS_EVERY_MIN"):
        accounts_every_min({"EXEC_RECONCILE_ACCOUNTS_EVERY_MIN": value})


def test_a_run_that_is_not_due_enqueues_nothing_and_reads_nothing():
    def enqueue(*_: object) -> str:
        raise AssertionError("a run not due enqueued a task")

    run = HOUR[3]  # 14:03, not one of every 5
    assert start_fan_out(None, "alpaca", run, enqueue, every_min=5) == {"not_due": 1}  # type: ignore[arg-type]
