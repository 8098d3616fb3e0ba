"""The unlink's rules without Firestore: which orders keep a link, how a refusal reads, when a
link may be ended, the callable's data and the error code of each refusal. (The unlink itself
runs on the emulators: tests/emulator_broker/test_unlink_on_emulators.py.)"""

from __future__ import annotations

import pytest
from firebase_functions.https_fn import FunctionsErrorCode, HttpsError

from smart_routing_firebase.handlers.unlink_venue_account import (
    REFUSALS,
    UnlinkVenueAccountPayload,
)
from smart_routing_firebase.platform.callable_data import payload_of
from smart_routing_firebase.stores.orders import CAN_STILL_FILL
from smart_routing_firebase.stores.venue_accounts import (
    UNLINKING,
    Unlink,
    UnlinkRefused,
    link_refusal,
    open_orders_refusal,
    still_open,
)

ACCOUNT = "5d1f0a6e-8a6b-4c3e-9d3e-2b7f1c0a9e11"
OTHER = "0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e"
UNLINK = Unlink("t1", "u1", "alpaca", ACCOUNT, by="admin")
LINK = {"uid": "u1", "tenant_id": "t1", "venue": "alpaca", "account_id": ACCOUNT}


def test_orders_that_can_still_fill_are_the_working_and_the_unresolved():
    assert {"submitting", "unknown", "new", "accepted", "partially_filled"} == CAN_STILL_FILL


@pytest.mark.parametrize("status", sorted(CAN_STILL_FILL))
def test_an_order_that_can_still_fill_at_the_venue_keeps_the_link(status):
    order = {"client_order_id": "c1", "status": status, "broker": "alpaca"}
    assert still_open([order], "alpaca") == [order]


@pytest.mark.parametrize("status", ["filled", "canceled", "expired", "rejected", "not_placed"])
def test_a_final_order_does_not(status):
    assert still_open([{"status": status, "broker": "alpaca"}], "alpaca") == []


def test_an_order_at_another_venue_does_not_but_one_naming_none_does():
    working = {"status": "accepted"}
    assert still_open([{**working, "broker": "paper"}, {**working, "broker": "oanda"}],
                      "alpaca") == []  # fmt: skip
    assert still_open([working], "alpaca") == [working]  # the safe side


def test_the_refusal_counts_the_orders_and_names_a_few():
    orders = [{"client_order_id": f"c{i}"} for i in (7, 1, 3, 2, 6, 5, 4)]
    refusal = open_orders_refusal(UNLINK, orders)
    assert refusal.why == UnlinkRefused.OPEN_ORDERS
    assert str(refusal) == (
        "u1 has 7 alpaca orders that can still fill (c1, c2, c3, c4, c5, …): cancel them or "
        "wait until they are filled or ended, then unlink; nothing was unlinked"
    )
    assert "has 1 alpaca order that" in str(open_orders_refusal(UNLINK, orders[:1]))


def test_a_link_may_be_ended_only_as_it_was_asked():
    assert link_refusal(LINK, UNLINK) is None
    for missing in (None, {**LINK, "venue": "oanda"}):
        refusal = link_refusal(missing, UNLINK)
        assert refusal is not None and refusal.why == UnlinkRefused.NO_LINK
        assert str(refusal) == "uid: u1 has no alpaca account linked"
    other = link_refusal({**LINK, "account_id": OTHER}, UNLINK)
    assert other is not None and other.why == UnlinkRefused.OTHER_ACCOUNT
    assert str(other) == (
        f"account_id: u1 is linked to alpaca account {OTHER}, not {ACCOUNT}: nothing was unlinked"
    )


def test_after_the_mark_a_link_changed_meanwhile_is_left_alone():
    marked = {**LINK, UNLINKING: "2026-12-07T00:00:00Z"}
    assert link_refusal(marked, UNLINK, marked=True) is None
    for changed in (LINK, None, {**marked, "account_id": OTHER}):  # relinked, ended, replaced
        refusal = link_refusal(changed, UNLINK, marked=True)
        assert refusal is not None and refusal.why == UnlinkRefused.CHANGED


def test_each_refusal_has_its_error_code():
    assert REFUSALS == {
        UnlinkRefused.NO_LINK: FunctionsErrorCode.NOT_FOUND,
        UnlinkRefused.OTHER_ACCOUNT: FunctionsErrorCode.FAILED_PRECONDITION,
        UnlinkRefused.OPEN_ORDERS: FunctionsErrorCode.FAILED_PRECONDITION,
        UnlinkRefused.CHANGED: FunctionsErrorCode.ABORTED,
    }


def test_the_data_takes_the_account_and_an_optional_reason():
    data = {"uid": "u1", "venue": "alpaca", "account_id": ACCOUNT}
    assert payload_of(UnlinkVenueAccountPayload, data).reason == ""
    assert payload_of(UnlinkVenueAccountPayload, {**data, "reason": "closed"}).reason == ("closed")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"uid": "u1", "venue": "alpaca"}, "account_id: Field required"),
        ({"uid": "u1", "venue": "oanda", "account_id": ACCOUNT}, "venue: Input should be 'alpaca'"),
        ({"uid": "u1", "venue": "alpaca", "account_id": ACCOUNT, "x": 1}, "x: unknown field"),
        ({"uid": "u1", "venue": "alpaca", "account_id": ACCOUNT, "reason": "r" * 501},
         "reason: String should have at most 500 characters"),
        (["u1"], "data must be an object"),
    ],
)  # fmt: skip
def test_bad_data_is_invalid_argument_naming_the_field(data, message):
    with pytest.raises(HttpsError) as refused:
        payload_of(UnlinkVenueAccountPayload, data)
    assert refused.value.code is FunctionsErrorCode.INVALID_ARGUMENT
    assert refused.value.message == message
