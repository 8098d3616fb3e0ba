"""The backoff contended writes take (smart_routing_firebase/stores/backoff.py)."""

from __future__ import annotations

import itertools

from google.api_core.exceptions import Aborted, FailedPrecondition

from smart_routing_firebase.stores.backoff import CAP_S, FIRST_S, is_contention, pauses


def test_each_pause_is_jittered_under_a_cap_that_doubles_up_to_its_ceiling():
    for attempt, pause in enumerate(itertools.islice(pauses(budget_s=3600), 12), start=1):
        assert 0 <= pause <= min(CAP_S, FIRST_S * 2**attempt)


def test_no_pause_once_the_budget_is_spent():
    assert list(pauses(budget_s=0)) == []


def test_contention_is_an_aborted_commit_or_a_transaction_whose_attempts_all_aborted():
    assert is_contention(Aborted("lock contention"))
    gave_up = ValueError("Failed to commit transaction in 5 attempts.")
    gave_up.__cause__ = Aborted("lock contention")
    assert is_contention(gave_up)
    assert not is_contention(ValueError("qty: not a number"))
    assert not is_contention(FailedPrecondition("index missing"))
