"""With App Check enforced, a callable request with no App Check token or one that does not
verify is refused (401 unauthenticated) before the handler runs: nothing is claimed, placed,
recorded, changed, linked or unlinked, for a signed-in user and a tenant's admin alike."""

from __future__ import annotations

import uuid

import pytest
import requests

from smart_routing_firebase.platform.app_check import APP_NOT_VERIFIED
from tests.test_app_check import forged_token
from tools.emulator_client import FUNCTIONS_URL, new_admin, new_user

TOKENS = {"no token": None, "garbage": "not-a-token", "forged": forged_token()}


def call(function: str, data: dict, id_token: str, app_check: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {id_token}"}
    if app_check is not None:
        headers["X-Firebase-AppCheck"] = app_check
    return requests.post(
        f"{FUNCTIONS_URL}/{function}", json={"data": data}, headers=headers, timeout=90
    )


def refused(response: requests.Response) -> bool:
    return response.status_code == 401 and response.json() == {
        "error": {"status": "UNAUTHENTICATED", "message": APP_NOT_VERIFIED}
    }


def written_under(db, tenant_id: str) -> list[str]:
    return [
        f"{collection.id}/{document.id}"
        for collection in db.document(f"tenants/{tenant_id}").collections()
        for document in collection.stream()
    ]


@pytest.mark.parametrize("app_check", TOKENS.values(), ids=TOKENS.keys())
def test_execute_strategy_refuses_and_places_nothing(db, app_check):
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    user = new_user(tenant_id)
    order = {"strategy_id": "manual", "symbol": "AAPL", "qty": 1, "side": "buy",
             "idempotency_key": "app-check"}  # fmt: skip
    assert refused(call("execute_strategy", order, user.id_token, app_check))
    assert written_under(db, tenant_id) == []
    account = db.document(f"users/{user.uid}/portfolio/account").get()
    assert not account.exists


@pytest.mark.parametrize("app_check", TOKENS.values(), ids=TOKENS.keys())
def test_set_trading_state_refuses_and_changes_nothing(db, app_check):
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    admin = new_admin(tenant_id)
    change = {"scope": "tenant", "state": "halted", "reason": "no app check"}
    assert refused(call("set_trading_state", change, admin.id_token, app_check))
    assert written_under(db, tenant_id) == []


@pytest.mark.parametrize("app_check", TOKENS.values(), ids=TOKENS.keys())
def test_unlink_venue_account_refuses_and_unlinks_nothing(db, app_check):
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    admin, user = new_admin(tenant_id), new_user(tenant_id)
    account_id = str(uuid.uuid4())
    link = {"uid": user.uid, "tenant_id": tenant_id, "venue": "alpaca", "account_id": account_id}
    db.document(f"tenants/{tenant_id}/venue_accounts/{user.uid}").set(link)
    db.document(f"venue_account_owners/alpaca-{account_id}").set(link)
    data = {"uid": user.uid, "venue": "alpaca", "account_id": account_id}
    assert refused(call("unlink_venue_account", data, admin.id_token, app_check))
    assert written_under(db, tenant_id) == [f"venue_accounts/{user.uid}"]
    assert db.document(f"tenants/{tenant_id}/venue_accounts/{user.uid}").get().to_dict() == link
    assert db.document(f"venue_account_owners/alpaca-{account_id}").get().exists


@pytest.mark.parametrize("app_check", TOKENS.values(), ids=TOKENS.keys())
def test_link_venue_account_refuses_and_links_nothing(db, app_check):
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    admin, user = new_admin(tenant_id), new_user(tenant_id)
    account_id = str(uuid.uuid4())
    data = {"uid": user.uid, "venue": "alpaca", "account_id": account_id}
    assert refused(call("link_venue_account", data, admin.id_token, app_check))
    assert written_under(db, tenant_id) == []
    assert not db.document(f"venue_account_owners/alpaca-{account_id}").get().exists
