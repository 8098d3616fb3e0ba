"""App Check off, as the emulators' env file sets it (EXEC_ENFORCE_APP_CHECK=false): a call
with no App Check token, or one that does not verify, runs (tests/emulator_app_check/ shows the
same calls refused with it on)."""

from __future__ import annotations

import pytest
import requests
from firebase_admin import auth

from tests.test_app_check import forged_token
from tools.emulator_client import FUNCTIONS_URL, new_user, sign_in

TOKENS = {"no token": None, "forged": forged_token()}


def call(function: str, data: dict, id_token: str, app_check: str | None) -> dict:
    headers = {"Authorization": f"Bearer {id_token}"}
    if app_check is not None:
        headers["X-Firebase-AppCheck"] = app_check
    response = requests.post(
        f"{FUNCTIONS_URL}/{function}", json={"data": data}, headers=headers, timeout=90
    )
    assert response.status_code == 200, response.text
    return response.json()["result"]


@pytest.mark.parametrize("app_check", TOKENS.values(), ids=TOKENS.keys())
def test_calls_run_without_a_valid_app_check_token(db, tenant_id, app_check):
    user = new_user(tenant_id)
    order = {"strategy_id": "manual", "symbol": "AAPL", "qty": 1, "side": "buy",
             "idempotency_key": "app-check-off"}  # fmt: skip
    filled = call("execute_strategy", order, user.id_token, app_check)
    assert filled["status"] == "filled"
    assert db.document(f"tenants/{tenant_id}/ledger_trades/{filled['trade_id']}").get().exists
    admin = new_user()
    auth.set_custom_user_claims(admin.uid, {"tenant_id": tenant_id, "role": "admin"})
    admin = sign_in(admin.email, admin.password)
    change = {"scope": "tenant", "state": "halted", "reason": "app check off"}
    assert call("set_trading_state", change, admin.id_token, app_check)["changed"] is True
    state = db.document(f"tenants/{tenant_id}/settings/trading_state").get().to_dict()
    assert state["state"] == "halted"
